"""The Layer base class, symbolic tensors for the functional API, and Input.

A layer is thin, as in Keras: ``__init__`` checks and stores hyper-parameters,
``build(input_shape)`` creates weights with ``add_weight``, ``call`` is a few
lines of ``ks.ops``, ``compute_output_shape`` and ``get_config`` describe it.

Calling a layer on a :class:`KerasTensor` (what ``ks.Input`` returns) records a
:class:`Node` and returns new KerasTensors: that is how functional models are
wired. Calling it on arrays or Tensors runs it eagerly.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np

from ..autograd import Tensor, as_tensor

__all__ = ["Layer", "Variable", "KerasTensor", "Node", "Input", "InputLayer", "LAYER_REGISTRY",
           "unique_name", "clear_session"]

# class name -> class, for deserialization (``from_config``); filled by __init_subclass__.
LAYER_REGISTRY: dict[str, type] = {}
_name_counts: dict[str, int] = {}


def clear_session() -> None:
    """Reset automatic layer names (``conv2d``, ``conv2d_1``, ...) as Keras's clear_session does."""
    _name_counts.clear()


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """``prefix`` the first time, then ``prefix_1``, ``prefix_2``, ... (Keras's scheme)."""
    count = _name_counts.get(prefix, 0)
    _name_counts[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def _standardize_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype("float32" if dtype is None else dtype)
    except TypeError:
        raise TypeError("Layer `dtype` must be a floating-point type such as 'float32' or 'float64'. "
                        f"Received: dtype={dtype!r}.") from None
    if dt.kind != "f":
        raise TypeError(f"Layer `dtype` must be a floating-point type. Received: dtype={dtype!r}.")
    return dt


class Variable(Tensor):
    """A layer weight: a leaf Tensor with a name and a ``trainable`` flag."""

    __slots__ = ("trainable", "regularizer", "constraint")

    def __init__(self, value, name: str, trainable: bool = True, regularizer=None, constraint=None):
        super().__init__(np.asarray(value), requires_grad=trainable, name=name)
        self.trainable = trainable
        self.regularizer = regularizer
        self.constraint = constraint

    def assign(self, value) -> None:
        """Overwrite the values in place (shape and dtype are kept)."""
        value = np.asarray(value.data if isinstance(value, Tensor) else value)
        if value.shape != self.data.shape:
            raise ValueError(f"Cannot assign to variable '{self.name}' of shape {self.data.shape} "
                             f"a value of shape {value.shape}.")
        self.data[...] = value

    def numpy(self) -> np.ndarray:
        return self.data

    def __repr__(self) -> str:
        return f"<Variable '{self.name}' shape={self.data.shape} dtype={self.data.dtype}>"


class KerasTensor:
    """A symbolic tensor: a shape (batch dimension ``None``), a dtype and the layer that made it."""

    def __init__(self, shape: tuple, dtype="float32", name: str | None = None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.name = name
        # (layer, node_index, tensor_index), as Keras's ``_keras_history``
        self._keras_history = history

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


class Node:
    """One call of a layer in a functional graph: which KerasTensors went in and came out."""

    def __init__(self, layer: "Layer", inputs: list, outputs: list, call_kwargs: dict):
        self.layer = layer
        self.input_tensors = inputs
        self.output_tensors = outputs
        self.call_kwargs = call_kwargs

    @property
    def parent_nodes(self) -> list:
        parents = []
        for t in self.input_tensors:
            layer, node_index, _ = t._keras_history
            parents.append(layer._inbound_nodes[node_index])
        return parents


def _flatten(structure) -> list:
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in _flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in structure for leaf in _flatten(structure[key])]
    return [structure]


def _map_structure(fn, structure):
    if isinstance(structure, (list, tuple)):
        return type(structure)(_map_structure(fn, s) for s in structure)
    if isinstance(structure, dict):
        return {k: _map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


def _shape_of(x) -> tuple:
    return tuple(x.shape)


class Layer:
    """Base class of every layer.

    Parameters
    ----------
    name : str, optional
        Unique name; by default the snake-cased class name, numbered (``conv2d_1``).
    trainable : bool
        Whether the layer's weights are updated by training.
    dtype : str or numpy dtype
        Weight and computation dtype, float32 by default.
    input_shape : tuple, optional
        Shape without the batch dimension, accepted on the first layer of a
        ``Sequential`` as in Keras.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        LAYER_REGISTRY.setdefault(cls.__name__, cls)
        cls._call_takes_training = "training" in inspect.signature(cls.call).parameters

    def __init__(self, name: str | None = None, trainable: bool = True, dtype=None,
                 input_shape: tuple | None = None, **kwargs):
        if kwargs:
            unknown = ", ".join(sorted(kwargs))
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s): {unknown}.")
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"`name` must be a non-empty string. Received: name={name!r}.")
        self.name = name or unique_name(_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype = _standardize_dtype(dtype)
        self._input_shape_arg = None if input_shape is None else tuple(input_shape)
        self.built = False
        self._weights: list[Variable] = []
        self._inbound_nodes: list[Node] = []
        self._build_shapes = None

    # ----------------------------------------------------------- trainability
    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self._sublayers():
            layer.trainable = value
        for w in self._weights:
            w.requires_grad = self._trainable and w.trainable

    def _sublayers(self) -> list:
        """Layers owned by this one (nested models, wrappers). Override where there are any."""
        return []

    # ----------------------------------------------------------------- weights
    def add_weight(self, shape, initializer="zeros", name: str | None = None, trainable: bool = True,
                   regularizer=None, constraint=None, dtype=None) -> Variable:
        """Create a weight with an initializer (name, callable or array) and track it."""
        from .. import initializers
        from .._safe_load import charge_allocation

        shape = tuple(int(s) for s in shape)
        dtype = _standardize_dtype(dtype or self.dtype)
        init = initializers.get(initializer)
        # a model rebuilt from a file may not ask for more weight bytes than the file holds
        charge_allocation(shape, dtype, f"weight '{name}' of layer '{self.name}'")
        value = np.asarray(init(shape, dtype=dtype), dtype=dtype)
        var = Variable(value, name=name or f"weight_{len(self._weights)}", trainable=trainable,
                       regularizer=regularizer, constraint=constraint)
        var.requires_grad = trainable and self._trainable
        self._weights.append(var)
        return var

    @property
    def weights(self) -> list:
        own = list(self._weights)
        for layer in self._sublayers():
            own.extend(w for w in layer.weights if all(w is not o for o in own))
        return own

    @property
    def trainable_weights(self) -> list:
        if not self.trainable:
            return []
        own = [w for w in self._weights if w.trainable]
        for layer in self._sublayers():
            own.extend(w for w in layer.trainable_weights if all(w is not o for o in own))
        return own

    @property
    def non_trainable_weights(self) -> list:
        trainable = self.trainable_weights
        return [w for w in self.weights if all(w is not t for t in trainable)]

    @property
    def variables(self) -> list:
        return self.weights

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"Layer '{self.name}' is not built yet, so it has no weights to count. "
                             "Call it on an input or build it first.")
        return int(sum(w.data.size for w in self.weights))

    def get_weights(self) -> list:
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights) -> None:
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"Layer '{self.name}' expects {len(own)} weight arrays "
                             f"({', '.join(w.name for w in own) or 'none'}). Received: {len(weights)} arrays.")
        converted = []  # every array checked and converted before any is assigned
        for var, value in zip(own, weights):
            value = np.asarray(value)
            if value.shape != var.data.shape:
                raise ValueError(f"Layer '{self.name}' weight '{var.name}' has shape {var.data.shape}. "
                                 f"Received: an array of shape {value.shape}.")
            converted.append(np.asarray(value, dtype=var.data.dtype))
        for var, value in zip(own, converted):
            var.assign(value)

    @property
    def losses(self) -> list:
        """Regularization penalties of the current weights, as Tensors (for the training loss)."""
        out = [w.regularizer(w) for w in self._weights if w.regularizer is not None and w.requires_grad]
        for layer in self._sublayers():
            out.extend(layer.losses)
        return out

    # ------------------------------------------------------------------ build
    def build(self, input_shape) -> None:
        """Create weights for ``input_shape`` (batch dimension included, may be None)."""
        self.built = True

    def _maybe_build(self, input_shapes) -> None:
        if not self.built:
            self.build(input_shapes)
            self.built = True
            self._build_shapes = input_shapes

    def compute_output_shape(self, input_shape):
        """Output shape for ``input_shape``; the default runs ``call`` on zeros."""
        def concrete(shape):
            if any(d is None for d in shape[1:]):
                raise NotImplementedError(
                    f"{type(self).__name__} must implement compute_output_shape for unknown spatial sizes.")
            return np.zeros((1,) + tuple(shape[1:]), dtype=self.dtype)

        from ..autograd import no_grad

        dummy = _map_structure(concrete, input_shape) if _is_shape_structure(input_shape) else concrete(input_shape)
        with no_grad():
            out = self.call(dummy)
        return _map_structure(lambda t: (None,) + tuple(t.shape[1:]), out)

    # ------------------------------------------------------------------- call
    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.call is not implemented.")

    def __call__(self, inputs, *args, training=None, **kwargs):
        flat = _flatten(inputs)
        if any(isinstance(x, KerasTensor) for x in flat):
            return self._symbolic_call(inputs, *args, training=training, **kwargs)
        inputs = _map_structure(lambda x: x if isinstance(x, Tensor) else self._convert_input(x), inputs)
        self._maybe_build(_map_structure(_shape_of, inputs))
        if self._call_takes_training:
            kwargs["training"] = bool(training)
        return self.call(inputs, *args, **kwargs)

    def _convert_input(self, x) -> Tensor:
        array = np.asarray(x)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"Layer '{self.name}' received input of non-numeric dtype {array.dtype}.")
        return Tensor(array.astype(self.dtype, copy=False))

    def _symbolic_call(self, inputs, *args, training=None, **kwargs):
        flat = _flatten(inputs)
        if not all(isinstance(x, KerasTensor) for x in flat):
            raise TypeError(f"Layer '{self.name}' was called on a mix of symbolic (ks.Input) and concrete "
                            "tensors; in a functional model every input must come from ks.Input.")
        input_shapes = _map_structure(lambda t: t.shape, inputs)
        if not self.built:
            self._maybe_build(input_shapes)
        elif isinstance(inputs, KerasTensor) and hasattr(self, "_check_input"):
            # a layer reused on a new symbolic input must fail now, not at the first fit
            self._check_input(inputs)
        output_shapes = self.compute_output_shape(input_shapes)
        node_index = len(self._inbound_nodes)
        if _is_shape_structure(output_shapes):
            outputs = [KerasTensor(s, self.dtype, name=self.name, history=(self, node_index, i))
                       for i, s in enumerate(output_shapes)]
            result = outputs
        else:
            outputs = [KerasTensor(output_shapes, self.dtype, name=self.name, history=(self, node_index, 0))]
            result = outputs[0]
        if training is not None:
            kwargs["training"] = training
        self._inbound_nodes.append(Node(self, flat, outputs, {"args": args, **kwargs}))
        return result

    # -------------------------------------------------------- shapes, config
    @property
    def input(self):
        return self._node_tensors("input_tensors")

    @property
    def output(self):
        return self._node_tensors("output_tensors")

    def _node_tensors(self, attr: str):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer '{self.name}' has not been called on a symbolic input, "
                                 f"so it has no {attr.split('_')[0]}.")
        tensors = getattr(self._inbound_nodes[0], attr)
        return tensors[0] if len(tensors) == 1 else tensors

    @property
    def output_shape(self):
        out = self.output
        return out.shape if isinstance(out, KerasTensor) else [t.shape for t in out]

    @property
    def input_shape(self):
        inp = self.input
        return inp.shape if isinstance(inp, KerasTensor) else [t.shape for t in inp]

    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}
        if self._input_shape_arg is not None:
            config["input_shape"] = list(self._input_shape_arg)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def get_build_config(self):
        return None if self._build_shapes is None else {"input_shape": self._build_shapes}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _is_shape_structure(shape) -> bool:
    """True for a list/tuple of shapes, False for a single shape tuple."""
    return isinstance(shape, (list, tuple)) and len(shape) > 0 and all(
        isinstance(s, (list, tuple)) for s in shape)


class InputLayer(Layer):
    """The layer behind ``ks.Input``: holds the input's shape and passes data through."""

    def __init__(self, shape=None, batch_size: int | None = None, dtype=None, name: str | None = None,
                 input_shape=None, batch_shape=None, **kwargs):
        shape = shape if shape is not None else input_shape
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype, **kwargs)
        if batch_shape is not None:
            batch_shape = tuple(batch_shape)
        elif shape is not None:
            if isinstance(shape, int):
                shape = (shape,)
            if not isinstance(shape, (tuple, list)) or not all(d is None or (isinstance(d, (int, np.integer))
                                                                            and d > 0) for d in shape):
                raise ValueError(f"`shape` must be a tuple of positive integers (or None), without the batch "
                                 f"dimension. Received: shape={shape!r}.")
            batch_shape = (batch_size,) + tuple(shape)
        else:
            raise ValueError("InputLayer needs `shape` (without the batch dimension). Received: shape=None.")
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self.built = True
        tensor = KerasTensor(self.batch_shape, self.dtype, name=self.name, history=(self, 0, 0))
        self._inbound_nodes.append(Node(self, [], [tensor], {}))

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype.name, "name": self.name}


def Input(shape=None, batch_size: int | None = None, dtype=None, name: str | None = None,
          batch_shape=None) -> KerasTensor:
    """A symbolic input for a functional model: ``x = ks.Input(shape=(28, 28, 1))``."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape)
    return layer._inbound_nodes[0].output_tensors[0]
