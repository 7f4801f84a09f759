"""Output shapes of layers that do not say them: run ``call`` on stand-in data.

Keras 3 traces ``call`` on symbolic tensors (``compute_output_spec``). kernelscope
has no symbolic backend, so it runs ``call`` on small concrete stand-ins instead:
every KerasTensor argument becomes an array of its shape, with each unknown
dimension (``None``) given a size. When there are unknown dimensions the call runs
twice with different sizes, and an output dimension that changes between the two
runs is unknown (``None``) in the result. Weights are restored afterwards and
every layer runs in inference mode (``training=False``), so the stand-in runs leave no trace
(no moving statistics updated, no random numbers drawn).
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["is_shape", "infer_output_spec", "shapes_to_tensors"]

# (batch, any other unknown dimension) sizes of the two runs; multiples of 16, so that
# down- and up-sampling stacks (U-Nets) concatenate cleanly on both runs.
_STAND_IN_SIZES = ((2, 32), (3, 48))


def is_shape(value) -> bool:
    """True for one shape: a tuple or list of ints and None (``()`` included)."""
    return isinstance(value, (tuple, list)) and all(
        d is None or (isinstance(d, numbers.Integral) and not isinstance(d, bool)) for d in value)


def shapes_to_tensors(shapes, make):
    """Map a structure of shapes (one shape, list/tuple or dict of them) through ``make(shape)``."""
    if is_shape(shapes):
        return make(tuple(shapes))
    if isinstance(shapes, dict):
        return {key: shapes_to_tensors(value, make) for key, value in shapes.items()}
    if isinstance(shapes, (list, tuple)):
        return type(shapes)(shapes_to_tensors(value, make) for value in shapes)
    raise TypeError(f"compute_output_shape must return a shape tuple, or a list, tuple or dict of them. "
                    f"Received: {shapes!r}.")


def _stand_in(tensor, trial: int) -> np.ndarray:
    batch, other = _STAND_IN_SIZES[trial]
    shape = tuple((batch if axis == 0 else other) if d is None else d for axis, d in enumerate(tensor.shape))
    if tensor.dtype.kind in "biu":  # indices: 1 is valid for any table of two or more rows
        return np.ones(shape, tensor.dtype)
    rng = np.random.default_rng(trial)  # values away from 0, so no log(0) or x/0 in the stand-in run
    return rng.uniform(0.1, 1.0, shape).astype(tensor.dtype)


def _run(layer, args, kwargs, trial: int, keras_tensor_type):
    from ..autograd import Tensor, no_grad
    from .base import _map_structure, training_scope

    def substitute(x):
        return Tensor(_stand_in(x, trial)) if isinstance(x, keras_tensor_type) else x

    call_args = _map_structure(substitute, list(args))
    call_kwargs = {key: _map_structure(substitute, value) for key, value in kwargs.items() if key != "training"}
    if layer._call_takes_training:
        call_kwargs["training"] = False
    with no_grad(), np.errstate(all="ignore"), training_scope(False):
        return layer.call(*call_args, **call_kwargs)


def _leaf_spec(a, b) -> tuple:
    shape_a = tuple(np.shape(a))
    shape_b = shape_a if b is None else tuple(np.shape(b))
    if len(shape_a) != len(shape_b):
        raise ValueError(f"the output rank depends on the input size ({shape_a} vs {shape_b})")
    shape = tuple(x if x == y else None for x, y in zip(shape_a, shape_b))
    dtype = getattr(a, "dtype", None)
    return shape, np.dtype(dtype if dtype is not None else np.asarray(a).dtype)


def infer_output_spec(layer, args, kwargs, keras_tensor_type):
    """The structure of ``(shape, dtype)`` pairs ``layer.call(*args, **kwargs)`` returns.

    ``args``/``kwargs`` hold KerasTensors where tensors go. Raises ValueError naming the
    layer when ``call`` fails on the stand-ins (give the layer a ``compute_output_shape``).
    """
    from .base import _flatten, _map_structure

    tensors = [x for x in _flatten([list(args), kwargs]) if isinstance(x, keras_tensor_type)]
    unknown = any(d is None for t in tensors for d in t.shape)
    snapshot = [(w, w.data.copy()) for w in layer.weights]
    try:
        outs = [_run(layer, args, kwargs, trial, keras_tensor_type) for trial in ((0, 1) if unknown else (0,))]
    except Exception as err:  # noqa: BLE001 - any failure of user code gets the same advice
        shapes = [t.shape for t in tensors]
        raise ValueError(f"Could not infer the output shape of layer '{layer.name}' ({type(layer).__name__}) "
                         f"by running its `call` on stand-in inputs of shapes {shapes} (unknown dimensions "
                         f"tried as {_STAND_IN_SIZES[0]} and {_STAND_IN_SIZES[1]}): {type(err).__name__}: "
                         f"{err}. Implement `compute_output_shape(input_shape)` on the layer.") from err
    finally:
        for weight, value in snapshot:
            weight.data[...] = value
    second = iter(_flatten(outs[1])) if len(outs) > 1 else None
    try:
        return _map_structure(lambda a: _leaf_spec(a, None if second is None else next(second)), outs[0])
    except ValueError as err:
        raise ValueError(f"Could not infer the output shape of layer '{layer.name}': {err}. Implement "
                         "`compute_output_shape(input_shape)` on the layer.") from err
