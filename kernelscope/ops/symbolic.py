"""The one dispatch point between ``ks.ops`` and the functional API.

In Keras 3, a ``keras.ops`` function called on a symbolic KerasTensor (what
``ks.Input`` returns) records an operation in the graph instead of computing.
:func:`keras_op` gives every public ``ks.ops`` function that behaviour: when an
argument (or an item of a list argument) is a KerasTensor, the call becomes an
:class:`OpLayer` node that runs the same function on real tensors when the model
runs; otherwise the function runs as is. Constants in the call (numbers, arrays,
keyword arguments) are kept in the layer.
"""

from __future__ import annotations

import functools
import inspect
from typing import Callable

__all__ = ["keras_op", "export", "OpLayer"]

_wrapped: dict[Callable, Callable] = {}
# Functions that answer about a KerasTensor directly (its shape, dtype) rather than record an op.
_DIRECT = {"shape", "dtype", "size", "ndim", "is_tensor", "convert_to_numpy", "get"}
_layer_class = None


def _keras_tensor_type():
    from ..layers.base import KerasTensor

    return KerasTensor


def _is_symbolic(value, kt) -> bool:
    if isinstance(value, kt):
        return True
    return isinstance(value, (list, tuple)) and any(isinstance(v, kt) for v in value)


def keras_op(fn: Callable) -> Callable:
    """Make ``fn`` record an :class:`OpLayer` node when called on KerasTensors (idempotent)."""
    if fn in _wrapped or getattr(fn, "_keras_op", False):
        return _wrapped.get(fn, fn)

    @functools.wraps(fn)
    def op(*args, **kwargs):
        kt = _keras_tensor_type()
        if any(_is_symbolic(a, kt) for a in args) or any(_is_symbolic(v, kt) for v in kwargs.values()):
            return _record(fn, args, kwargs, kt)
        return fn(*args, **kwargs)

    op._keras_op = True
    _wrapped[fn] = op
    return op


def export(namespace: dict, names) -> None:
    """Replace the public functions ``names`` of a ``ks.ops`` namespace by their dispatching versions."""
    for name in names:
        value = namespace.get(name)
        if inspect.isfunction(value) and name not in _DIRECT:
            namespace[name] = keras_op(value)


# ------------------------------------------------------------- recording
class _Slot:
    """Where the i-th symbolic input goes back into the call's arguments."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


def _template(value, found: list, kt):
    if isinstance(value, kt):
        found.append(value)
        return _Slot(len(found) - 1)
    if isinstance(value, (list, tuple)) and any(isinstance(v, kt) for v in value):
        return type(value)(_template(v, found, kt) for v in value)
    return value


def _fill(value, tensors: list):
    if isinstance(value, _Slot):
        return tensors[value.index]
    if isinstance(value, (list, tuple)) and any(isinstance(v, _Slot) for v in value):
        return type(value)(_fill(v, tensors) for v in value)
    return value


def _record(fn: Callable, args: tuple, kwargs: dict, kt):
    found: list = []
    args = tuple(_template(a, found, kt) for a in args)
    kwargs = {k: _template(v, found, kt) for k, v in kwargs.items()}
    layer = _op_layer_class()(fn, args, kwargs)
    return layer(found[0] if len(found) == 1 else found)  # shapes and dtypes from Layer's stand-in runs


def _op_layer_class():
    global _layer_class
    if _layer_class is None:
        _layer_class = _define_op_layer()
    return _layer_class


def _define_op_layer():
    # Defined on first use: layers import ks.ops, so ks.ops cannot import layers at load time.
    from ..layers.base import Layer, unique_name

    class OpLayer(Layer):
        """A ``ks.ops`` call recorded in a functional graph; runs the op on the node's inputs."""

        def __init__(self, fn: Callable, args: tuple, kwargs: dict):
            super().__init__(name=unique_name(fn.__name__))
            self.fn, self.op_args, self.op_kwargs = fn, args, kwargs

        def call(self, inputs):
            tensors = inputs if isinstance(inputs, list) else [inputs]
            args = tuple(_fill(a, tensors) for a in self.op_args)
            return self.fn(*args, **{k: _fill(v, tensors) for k, v in self.op_kwargs.items()})

        # Output shapes (and dtypes) come from Layer's stand-in runs (kernelscope.layers.symbolic),
        # which vary the unknown sizes between two runs, as for any layer without compute_output_shape.

        def get_config(self) -> dict:
            raise NotImplementedError(
                f"The model applies `ks.ops.{self.fn.__name__}` directly to a symbolic tensor (layer "
                f"'{self.name}'); such an op has no saved form. Wrap the computation in a Layer subclass "
                "(with get_config) to save the model, or save its weights with save_weights().")

    return OpLayer


def __getattr__(name: str):
    if name == "OpLayer":
        return _op_layer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
