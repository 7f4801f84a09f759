"""The Layer base class, symbolic tensors for the functional API, and Input.

A layer is thin, as in Keras: ``__init__`` checks and stores hyper-parameters,
``build(input_shape)`` creates weights with ``add_weight``, ``call`` is a few
lines of ``ks.ops``, ``compute_output_shape`` and ``get_config`` describe it.

Calling a layer on a :class:`KerasTensor` (what ``ks.Input`` returns) records a
:class:`Node` and returns new KerasTensors: that is how functional models are
wired. Calling it on arrays or Tensors runs it eagerly.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import itertools
import re

import numpy as np

from .._keras2 import check_layer_kwargs
from .._tree import flatten as _flatten
from .._tree import map_structure as _map_structure
from ..autograd import Tensor
from ..variables import Variable  # defined on its own as ks.Variable; imported here for layers

__all__ = ["Layer", "Variable", "KerasTensor", "Node", "Input", "InputLayer", "LAYER_REGISTRY",
           "unique_name", "clear_session"]

# ``training`` of the layer call in progress, inherited by the layers it calls without one
_OUTER_TRAINING: contextvars.ContextVar = contextvars.ContextVar("kernelscope_training", default=None)
# class name -> class, for deserialization (``from_config``); filled by __init_subclass__.
LAYER_REGISTRY: dict[str, type] = {}
_name_counts: dict[str, int] = {}


def clear_session() -> None:
    """Reset automatic layer names (``conv2d``, ``conv2d_1``, ...) as Keras's clear_session does."""
    _name_counts.clear()


@contextlib.contextmanager
def training_scope(training):
    """Layers called inside the block without ``training`` get this value (stand-in runs use False)."""
    token = _OUTER_TRAINING.set(training)
    try:
        yield
    finally:
        _OUTER_TRAINING.reset(token)


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
        from ..backend import floatx

        dt = np.dtype(floatx() if dtype is None else dtype)
    except TypeError:
        raise TypeError("Layer `dtype` must be a floating-point type such as 'float32' or 'float64'. "
                        f"Received: dtype={dtype!r}.") from None
    if dt.kind != "f":
        raise TypeError(f"Layer `dtype` must be a floating-point type. Received: dtype={dtype!r}.")
    return dt


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

    def __getitem__(self, key):
        return _symbolic_op("get_item", self, key)


def _symbolic_op(name: str, *args):
    from .. import ops

    return getattr(ops, name)(*args)


def _binary(name: str, reflected: bool):
    if reflected:
        return lambda self, other: _symbolic_op(name, other, self)
    return lambda self, other: _symbolic_op(name, self, other)


# Arithmetic records ks.ops nodes, as Keras's KerasTensor operators do (x + 1, x[:, 0], ...):
# __add__ and __radd__ call ops.add, and so on.
for _dunder, _name in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("truediv", "divide"),
                       ("pow", "power"), ("matmul", "matmul")):
    setattr(KerasTensor, f"__{_dunder}__", _binary(_name, reflected=False))
    setattr(KerasTensor, f"__r{_dunder}__", _binary(_name, reflected=True))
KerasTensor.__neg__ = lambda self: _symbolic_op("negative", self)
KerasTensor.__abs__ = lambda self: _symbolic_op("absolute", self)
del _dunder, _name


class Node:
    """One call of a layer in a functional graph: which KerasTensors went in and came out."""

    def __init__(self, layer: "Layer", inputs: list, outputs: list, call_kwargs: dict, arguments=None):
        self.layer = layer
        self.input_tensors = inputs
        self.output_tensors = outputs
        self.call_kwargs = call_kwargs
        # (args, kwargs) of the call with its KerasTensors in place: replayed with values in
        # their stead, so a layer called as layer(a, b) or layer(x, mask=m) is called so again
        self.arguments = arguments

    @property
    def parent_nodes(self) -> list:
        parents = []
        for t in self.input_tensors:
            layer, node_index, _ = t._keras_history
            parents.append(layer._inbound_nodes[node_index])
        return parents


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
        params = inspect.signature(cls.call).parameters
        cls._call_takes_training = "training" in params
        default = params["training"].default if "training" in params else None
        cls._call_training_default = None if default is inspect.Parameter.empty else default

    def __new__(cls, *args, **kwargs):
        check_layer_kwargs(cls, kwargs)  # Keras 1/2 keywords get a hint before argument binding fails
        return super().__new__(cls)

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

    def __setattr__(self, key, value):
        # Layers assigned as attributes (private names and lists/tuples/dicts of layers too) are owned
        # sub-layers, as Keras 3's tracker makes them: their weights train, their losses count.
        if isinstance(value, (Layer, list, tuple, dict)) and key != "_tracked_layers":
            found = [v for v in _flatten(value) if isinstance(v, Layer) and v is not self]
            if found:
                tracked = self.__dict__.setdefault("_tracked_layers", [])
                tracked.extend(v for v in found if all(v is not t for t in tracked))
        object.__setattr__(self, key, value)

    def _sublayers(self) -> list:
        """Layers owned by this one: those assigned as attributes (models list their graph's instead)."""
        return list(self.__dict__.get("_tracked_layers", []))

    # ----------------------------------------------------------------- weights
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable: bool = True, autocast: bool = True,
                   regularizer=None, constraint=None, aggregation: str = "none",
                   overwrite_with_gradient: bool = False, name: str | None = None) -> Variable:
        """Create a weight and track it, with Keras 3's arguments (see layers/weight_options.py).

        ``initializer`` is a name, an initializer, a callable or an array (default
        ``"glorot_uniform"``, as Keras); ``shape`` defaults to a scalar.
        """
        from .. import initializers, regularizers
        from .._safe_load import charge_allocation
        from .weight_options import check_weight_options, weight_shape

        if isinstance(shape, str):
            raise ValueError(f"`name` must be passed as a keyword argument. Received: add_weight('{shape}', ...). "
                             f"Use: add_weight(shape=..., name='{shape}').")
        if isinstance(name, (tuple, list)) or (name is not None and not isinstance(name, str)):
            raise TypeError(f"`name` must be a string. Received: name={name!r}.")
        shape = weight_shape(shape)
        dtype = _standardize_dtype(dtype or self.dtype)
        constraint = check_weight_options(trainable, autocast, constraint, overwrite_with_gradient)
        init = initializers.get("glorot_uniform" if initializer is None else initializer)
        # a model rebuilt from a file may not ask for more weight bytes than the file holds
        charge_allocation(shape, dtype, f"weight '{name}' of layer '{self.name}'")
        value = np.asarray(init(shape, dtype=dtype), dtype=dtype)
        var = Variable(value, name=name or f"weight_{len(self._weights)}", trainable=bool(trainable),
                       autocast=autocast, aggregation=aggregation, regularizer=regularizers.get(regularizer),
                       constraint=constraint)
        var.overwrite_with_gradient = bool(overwrite_with_gradient)
        var.requires_grad = bool(trainable) and self._trainable
        self._weights.append(var)
        return var

    def add_loss(self, loss) -> None:
        """Add a loss term (a Tensor, a number, or a list of them) during ``call``, as Keras 3.

        The terms join ``layer.losses`` (and a model's training loss) until the next
        outermost call of a layer or model that contains this one clears them.
        """
        for term in loss if isinstance(loss, (list, tuple)) else [loss]:
            if not isinstance(term, Tensor):
                array = np.asarray(term)
                if array.dtype.kind not in "biuf":
                    raise TypeError(f"add_loss() takes a Tensor or a number. Received: {type(term).__name__}.")
                term = Tensor(array.astype(self.dtype))
            self.__dict__.setdefault("_added_losses", []).append(term)

    def _clear_losses(self) -> None:
        self.__dict__["_added_losses"] = []
        for layer in self._sublayers():
            layer._clear_losses()

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

    @property
    def trainable_variables(self) -> list:
        """The trainable weights (Keras 3's name, as a custom train_step uses it)."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list:
        return self.non_trainable_weights

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
        """Regularization penalties of the current weights and the ``add_loss`` terms of the last call."""
        out = [w.regularizer(w) for w in self._weights if w.regularizer is not None and w.requires_grad]
        out.extend(self.__dict__.get("_added_losses", []))
        for layer in self._sublayers():
            out.extend(t for t in layer.losses if all(t is not o for o in out))
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
        """Output shape(s) for ``input_shape``; the default runs ``call`` on stand-in data
        (see :mod:`kernelscope.layers.symbolic`), unknown dimensions included."""
        from .symbolic import infer_output_spec, shapes_to_tensors

        inputs = shapes_to_tensors(input_shape, lambda s: KerasTensor(s, self.dtype))
        spec = infer_output_spec(self, (inputs,), {}, KerasTensor)
        return _map_structure_specs(lambda shape, dtype: shape, spec)

    # ------------------------------------------------------------------- call
    def call(self, inputs, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.call is not implemented.")

    def __call__(self, *args, training=None, **kwargs):
        args = self._positional_inputs(args, kwargs)
        if any(isinstance(x, KerasTensor) for x in _flatten([list(args), kwargs])):
            return self._symbolic_call(args, kwargs, training)
        inputs = _map_structure(lambda x: x if isinstance(x, Tensor) else self._convert_input(x), args[0])
        rest = _map_structure(_array_to_tensor, list(args[1:]))
        kwargs = {k: _map_structure(_array_to_tensor, v) for k, v in kwargs.items()}
        self._maybe_build(_map_structure(_shape_of, inputs))
        # Keras 3's order: the explicit argument, else the enclosing layer call's, else the default
        if training is None:
            training = _OUTER_TRAINING.get()
        if training is None and self._call_takes_training:
            training = self._default_training()
        if self._call_takes_training:
            kwargs["training"] = training
        from .weight_options import call_depth

        depth = getattr(call_depth, "value", 0)
        if depth == 0:  # the outermost call starts a new forward: last forward's add_loss terms go (Keras 3)
            self._clear_losses()
        call_depth.value = depth + 1
        try:
            with training_scope(training):
                return self.call(inputs, *rest, **kwargs)
        finally:
            call_depth.value = depth

    def _default_training(self):
        """``training`` when neither the caller nor an enclosing call gives one: the default of
        ``call``'s ``training`` argument (augmentation layers' is True, as in Keras 3)."""
        return self._call_training_default

    def _positional_inputs(self, args: tuple, kwargs: dict) -> tuple:
        """``args``, with the first argument of ``call`` taken from ``kwargs`` when passed by name."""
        if args:
            return args
        params = [p for p in inspect.signature(self.call).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if params and params[0].name in kwargs:
            return (kwargs.pop(params[0].name),)
        raise TypeError(f"Layer '{self.name}' must be called on at least one input (positional, or by the "
                        f"name of the first argument of its `call`). Received: keyword arguments {sorted(kwargs)}.")

    def _convert_input(self, x) -> Tensor:
        array = np.asarray(x)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"Layer '{self.name}' received input of non-numeric dtype {array.dtype}.")
        return Tensor(array.astype(self.dtype, copy=False))

    def _symbolic_call(self, args: tuple, kwargs: dict, training):
        flat = [x for x in _flatten([list(args), kwargs]) if isinstance(x, (KerasTensor, Tensor, np.ndarray))]
        if not all(isinstance(x, KerasTensor) for x in flat):
            raise TypeError(f"Layer '{self.name}' was called on a mix of symbolic (ks.Input) and concrete "
                            "tensors; in a functional model every input must come from ks.Input.")
        inputs = args[0]
        if not self.built:
            self._maybe_build(_map_structure(lambda t: t.shape, inputs))
        elif isinstance(inputs, KerasTensor) and hasattr(self, "_check_input"):
            # a layer reused on a new symbolic input must fail now, not at the first fit
            self._check_input(inputs)
        if training is not None:
            kwargs = {**kwargs, "training": training}
        node_index = len(self._inbound_nodes)
        counter = itertools.count()

        def make(shape, dtype):
            return KerasTensor(shape, dtype, name=self.name, history=(self, node_index, next(counter)))

        result = _map_structure_specs(make, self._output_spec(args, kwargs))
        outputs = [t for t in _flatten(result) if isinstance(t, KerasTensor)]
        call_kwargs = {key: value for key, value in kwargs.items() if key != "training" or value is not None}
        self._inbound_nodes.append(Node(self, flat, outputs, {"args": tuple(args[1:]), **call_kwargs},
                                        arguments=(tuple(args), dict(kwargs))))
        return result

    def _output_spec(self, args: tuple, kwargs: dict):
        """The ``(shape, dtype)`` structure a call on these KerasTensor arguments returns.

        A ``compute_output_spec(*args, **kwargs)`` written as in Keras 3 (returning
        KerasTensors) answers first; then ``compute_output_shape`` when the layer overrides
        it and only the first argument holds tensors; otherwise ``call`` runs on stand-in
        data, which covers ``layer(a, b)`` and keyword tensors.
        """
        from .symbolic import infer_output_spec, shapes_to_tensors

        if hasattr(self, "compute_output_spec"):
            spec = self.compute_output_spec(*args, **{k: v for k, v in kwargs.items() if k != "training"})
            return _map_structure(lambda t: (tuple(t.shape), np.dtype(t.dtype)), spec)
        own = type(self).compute_output_shape is not Layer.compute_output_shape
        others = [x for x in _flatten([list(args[1:]), kwargs]) if isinstance(x, KerasTensor)]
        if own and not others:
            shapes = self.compute_output_shape(_map_structure(lambda t: t.shape, args[0]))
            return shapes_to_tensors(shapes, lambda s: (s, self.dtype))
        return infer_output_spec(self, args, kwargs, KerasTensor)

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


def _array_to_tensor(x):
    return Tensor(x) if isinstance(x, np.ndarray) else x


def _is_spec(value) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], np.dtype)


def _map_structure_specs(fn, structure):
    """Apply ``fn(shape, dtype)`` to each ``(shape, dtype)`` leaf of an output-spec structure."""
    if _is_spec(structure):
        return fn(*structure)
    if isinstance(structure, dict):
        return {k: _map_structure_specs(fn, v) for k, v in structure.items()}
    return type(structure)(_map_structure_specs(fn, v) for v in structure)


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
