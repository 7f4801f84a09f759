"""The Model base class: a Layer that owns layers, trains and saves.

``ks.Model(inputs, outputs)`` returns a :class:`~kernelscope.models.functional.Functional`
model (as in Keras 3); subclassing ``ks.Model`` and writing ``call`` also works,
layers assigned as attributes are tracked.
"""

from __future__ import annotations

import inspect

import numpy as np

from .._keras2 import install_model_hints
from ..layers.base import InputLayer, KerasTensor, Layer
from .training import Trainer

__all__ = ["Model", "adjust_input_rank", "call_layer", "check_input_shape"]


class Model(Trainer, Layer):
    """A group of layers with training and saving (``fit``, ``evaluate``, ``predict``, ``save``).

    ``Model(inputs, outputs, name=None)`` builds a functional model; subclasses
    define ``__init__`` (creating layers) and ``call``.
    """

    def __new__(cls, *args, **kwargs):
        from .functional import Functional

        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            return Functional.__new__(Functional)
        # class CustomModel(ks.Model) called as CustomModel(inputs, outputs): Keras 3's test for it. Keras tests
        # the arguments that reach Model.__init__, so VAE(encoder, decoder) whose __init__ names its own two
        # arguments stays a subclassed model: only an __init__ that can pass (inputs, outputs) on is swapped.
        functional_args = len(args) == 2 or (len(args) == 1 and "outputs" in kwargs) or (
            "inputs" in kwargs and "outputs" in kwargs)
        if cls is not Model and functional_args and not issubclass(cls, Functional) and _forwards_inputs(cls):
            return super().__new__(_functional_subclass(cls))
        return super().__new__(cls)

    def __init__(self, *args, name: str | None = None, trainable: bool = True, dtype=None, **kwargs):
        if args:
            raise TypeError(f"{type(self).__name__} got unexpected positional arguments; to build a functional "
                            "model pass `inputs` and `outputs`: ks.Model(inputs, outputs).")
        Layer.__init__(self, name=name, trainable=trainable, dtype=dtype, **kwargs)
        Trainer.__init__(self)

    def __setattr__(self, key, value):
        # Layers are tracked by Layer.__setattr__; Metric objects assigned as public attributes
        # join model.metrics (so fit resets them each epoch, as Keras 3 tracks them).
        from ..metrics.base import Metric

        if isinstance(value, Metric) and not key.startswith("_"):
            tracked = self.__dict__.setdefault("_tracked_metrics", [])
            if all(value is not t for t in tracked):
                tracked.append(value)
        super().__setattr__(key, value)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        """Rebuild from ``get_config()``, as Keras 3's ``Model.from_config``: a functional config (its
        ``layers``, ``input_layers`` and ``output_layers``) is replayed as a functional model when the class
        can be one; any other config goes to the class's constructor."""
        from .functional import Functional
        from ..saving.serialization import functional_from_config

        functional_keys = ("name", "layers", "input_layers", "output_layers")
        revivable = cls in (Model, Functional) or _forwards_inputs(cls)
        if all(key in config for key in functional_keys) and revivable:
            return functional_from_config(Functional if cls is Model else cls, config, custom_objects)
        try:
            return cls(**config)
        except TypeError as error:
            raise TypeError(f"Unable to revive model {cls.__name__} from its config: {error}. A subclassed model "
                            "with its own __init__ arguments must implement get_config() and from_config().") from None

    # ---------------------------------------------------------------- layers
    @property
    def layers(self) -> list:
        """The model's layers (for a functional model, including its InputLayers)."""
        return list(self.__dict__.get("_tracked_layers", []))

    # Subclassed models learn their output shapes from one probe call (see Trainer._build_for).
    def _input_specs(self) -> list:
        return []

    def _output_specs(self) -> list:
        return list(self.__dict__.get("_probed_outputs", []))

    @property
    def input(self):
        """The model's symbolic input (a list when it has several), as in Keras."""
        return _one_or_list(self._input_specs(), self.name, "input")

    @property
    def output(self):
        """The model's symbolic output (a list when it has several), as in Keras."""
        return _one_or_list(self._output_specs(), self.name, "output")

    @property
    def input_names(self) -> list:
        return ["input"]

    @property
    def output_names(self) -> list:
        n = len(self._output_specs())
        return ["output"] if n <= 1 else [f"output_{i}" for i in range(n)]

    def _sublayers(self) -> list:
        return [layer for layer in self.layers if not isinstance(layer, InputLayer)]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by ``name`` or by position ``index`` in ``model.layers``."""
        layers = self.layers
        if index is not None and name is not None:
            raise ValueError(f"Provide only `name` or only `index`. Received: name={name!r}, index={index!r}.")
        if index is not None:
            if not isinstance(index, (int, np.integer)) or not -len(layers) <= index < len(layers):
                raise ValueError(f"`index` must be an integer in [0, {len(layers)}) for model '{self.name}' with "
                                 f"{len(layers)} layers. Received: index={index!r}.")
            return layers[int(index)]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            names = ", ".join(layer.name for layer in layers)
            raise ValueError(f"No such layer: '{name}'. Model '{self.name}' has layers: {names}.")
        raise ValueError("Provide either a layer `name` or an `index`. Received: name=None, index=None.")

    def set_weights(self, weights) -> None:
        if not self.built:
            raise ValueError(f"Model '{self.name}' is not built yet, so it has no weights to set. "
                             "Build it (give the first layer an input shape, call it, or fit it) first.")
        super().set_weights(weights)

    # ------------------------------------------------------------ inspection
    def summary(self, line_length: int | None = None, positions=None, print_fn=None,
                expand_nested: bool = False, show_trainable: bool = False, layer_range=None) -> None:
        """Print a Keras-3-style table of layers, output shapes and parameter counts.

        ``expand_nested=True`` and ``layer_range`` are refused: nested models show as one row.
        """
        from .summary import print_summary

        if expand_nested:
            raise ValueError("summary(expand_nested=True) is not supported: a nested model is shown as one row. "
                             f"Call summary() on the nested model itself. Received: expand_nested={expand_nested!r}.")
        if layer_range is not None:
            raise ValueError("summary(layer_range=...) is not supported; the whole model is shown. "
                             f"Received: layer_range={layer_range!r}.")

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      show_trainable=show_trainable)

    # ---------------------------------------------------------------- saving
    def save(self, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
        """Save architecture, weights, compile settings and optimizer state to a Keras 3 ``.keras`` file.

        Keras 3 (``keras.saving.load_model``) opens the file. It is written next
        to its destination and renamed into place, so a failed save keeps the old file.
        """
        from ..saving import save_model

        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        """Save the weights atomically: Keras 3's layout for ``x.weights.h5``, NumPy arrays for ``x.npz``."""
        from ..saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath) -> None:
        """Load weights from a ``.weights.h5``, ``.keras``, legacy Keras ``.h5`` or ``.npz`` file (Keras's or ours)."""
        from ..saving import load_weights

        load_weights(self, filepath)

    def to_json(self, **kwargs) -> str:
        """The architecture as a JSON string."""
        import json

        from ..saving.serialization import serialize_layer

        return json.dumps(serialize_layer(self), **kwargs)

    def __reduce_ex__(self, protocol):
        """Pickle through the saved file (architecture, weights, compile, optimizer), as Keras 3 does."""
        from .pickling import reduce_model

        return reduce_model(self, protocol)

    def __copy__(self):
        from .pickling import copy_model

        return copy_model(self)

    def __deepcopy__(self, memo):
        from .pickling import copy_model

        return copy_model(self, memo)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


_FUNCTIONAL_SUBCLASSES: dict = {}


def _forwards_inputs(cls: type) -> bool:
    """Whether ``cls.__init__`` takes ``(inputs, outputs)`` first or passes ``*args, **kwargs`` on."""
    init = inspect.signature(cls.__init__).parameters
    return list(init)[1:3] == ["inputs", "outputs"] or (
        any(p.kind == p.VAR_POSITIONAL for p in init.values()) and any(p.kind == p.VAR_KEYWORD for p in init.values()))


def _functional_subclass(cls: type) -> type:
    """``cls`` with Functional behind it, so its ``super().__init__(inputs, outputs)`` builds a graph (Keras 3)."""
    from .functional import Functional

    if cls not in _FUNCTIONAL_SUBCLASSES:
        _FUNCTIONAL_SUBCLASSES[cls] = type(cls.__name__, (cls, Functional),
                                           {"__module__": cls.__module__, "__qualname__": cls.__qualname__})
    return _FUNCTIONAL_SUBCLASSES[cls]


def _one_or_list(specs: list, name: str, what: str):
    if not specs:
        raise AttributeError(f"Model '{name}' has no defined {what} yet: build it (give the first layer "
                             f"an input shape, use ks.Input, or call it on data) first.")
    return specs[0] if len(specs) == 1 else list(specs)


def check_input_shape(model_name: str, index: int, spec: KerasTensor, value) -> None:
    """Compare a concrete input with the declared ``ks.Input`` shape (None matches anything)."""
    shape = tuple(value.shape)
    expected = spec.shape
    if len(shape) != len(expected) or any(e is not None and e != s for e, s in zip(expected, shape)):
        raise ValueError(f"Input {index} of model '{model_name}' is incompatible with the model: expected "
                         f"shape={expected}, received shape={shape} (layer '{spec.name}').")


def adjust_input_rank(spec: KerasTensor, value):
    """Add or drop a trailing axis of size 1 where Keras 3's Functional does (``_adjust_input_rank``):
    ``(n, 28, 28)`` into ``Input((28, 28, 1))`` gets its channel axis, ``(n, 10, 1)`` into
    ``Input((10,))`` loses it. Any other rank mismatch is left for the shape check to report."""
    shape = getattr(value, "shape", None)
    if shape is None:
        return value
    if len(shape) == len(spec.shape) - 1 and spec.shape[-1] == 1:
        return value[..., None]
    if len(shape) == len(spec.shape) + 1 and shape[-1] == 1:
        return value[..., 0]
    return value


def call_layer(layer: Layer, inputs, training, args=(), kwargs=None):
    """Call ``layer`` eagerly; a shape or type error gets the layer's name and input shapes."""
    kwargs = dict(kwargs or {})
    if kwargs.get("training") is None:
        kwargs["training"] = training
    try:
        return layer(inputs, *args, **kwargs)
    except (ValueError, TypeError) as err:
        if getattr(err, "_ks_layer", None) is not None:
            raise
        shapes = [tuple(x.shape) for x in (inputs if isinstance(inputs, (list, tuple)) else [inputs])]
        shape_text = shapes[0] if len(shapes) == 1 else shapes
        kind = TypeError if isinstance(err, TypeError) else ValueError
        wrapped = kind(f"Layer '{layer.name}' ({type(layer).__name__}) failed on input of shape "
                            f"{shape_text}: {err}")
        wrapped._ks_layer = layer.name
        raise wrapped from err


def unique_layer_names(layers, model_name: str) -> None:
    seen = set()
    for layer in layers:
        if layer.name in seen:
            raise ValueError(f"The name '{layer.name}' is used {sum(l.name == layer.name for l in layers)} times "
                             f"in model '{model_name}'. All layer names should be unique.")
        seen.add(layer.name)


install_model_hints(Model)  # fit_generator, predict_classes, ...: errors naming the Keras 3 call
