"""Sequential: a plain stack of layers, each feeding the next.

As in Keras 3 the model is built as soon as its input shape is known: from an
``ks.Input`` (or InputLayer) first, from the first layer's ``input_shape``
argument, from ``build(input_shape)``, or lazily from the first batch it is
called, fitted or evaluated on.
"""

from __future__ import annotations

import numpy as np

from ..layers.base import InputLayer, KerasTensor, Layer
from . import fusion
from .model import Model, adjust_input_rank, call_layer, check_input_shape

__all__ = ["Sequential"]


class Sequential(Model):
    """``ks.Sequential([layer, ...])``: layers applied one after the other.

    Parameters
    ----------
    layers : list of Layer, optional
        May start with ``ks.Input(shape)`` or an InputLayer.
    name : str, optional

    Examples
    --------
    >>> import kernelscope as ks
    >>> model = ks.Sequential([ks.Input((4,)), ks.layers.Dense(3)])
    >>> model.count_params()
    15
    """

    def __init__(self, layers=None, trainable: bool = True, name: str | None = None, **kwargs):
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        self._stack: list[Layer] = []
        self._input_kt = None
        self._output_kts: list = []
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------- stacking
    @property
    def layers(self) -> list:
        """The added layers, without the InputLayer (as in Keras)."""
        stack = self._stack
        return stack[1:] if stack and isinstance(stack[0], InputLayer) else list(stack)

    def add(self, layer) -> None:
        """Append a layer (or ``ks.Input(...)`` as the first item)."""
        if isinstance(layer, KerasTensor):
            if layer._keras_history is None or not isinstance(layer._keras_history[0], InputLayer):
                raise TypeError("Only a KerasTensor made by ks.Input can be added to a Sequential model. "
                                f"Received: {layer!r}.")
            layer = layer._keras_history[0]
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a Layer instance. Received: {layer!r} "
                            f"of type {type(layer).__name__}.")
        if isinstance(layer, InputLayer) and self._stack:
            raise ValueError(f"An InputLayer can only be the first layer of Sequential model '{self.name}'. "
                             f"Received: {layer.name} after {len(self._stack)} layer(s).")
        if any(layer.name == l.name for l in self._stack):
            raise ValueError(f"All layers added to a Sequential model should have unique names. Name "
                             f"'{layer.name}' is already the name of a layer in model '{self.name}'.")
        if not self._stack:
            self.dtype = layer.dtype
            if not isinstance(layer, InputLayer) and layer._input_shape_arg is not None:
                self._stack.append(InputLayer(shape=layer._input_shape_arg, dtype=layer.dtype))
        self._stack.append(layer)
        if self.built and self._input_kt is not None:
            self._extend_graph([layer])
        elif isinstance(self._stack[0], InputLayer):
            self.build(self._stack[0].batch_shape)

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self.layers:
            raise ValueError(f"There are no layers to pop in Sequential model '{self.name}'.")
        layer = self._stack.pop()
        if self._output_kts:
            self._output_kts = self._output_kts[:len(self.layers)]
        return layer

    # ---------------------------------------------------------------- build
    def build(self, input_shape=None) -> None:
        """Create every layer's weights for ``input_shape`` (batch dimension included, may be None)."""
        if input_shape is None:
            if not (self._stack and isinstance(self._stack[0], InputLayer)):
                raise ValueError(self._unbuilt_message("build() needs an `input_shape`"))
            input_shape = self._stack[0].batch_shape
        input_shape = tuple(None if d is None else int(d) for d in input_shape)
        if self._stack and isinstance(self._stack[0], InputLayer):
            first = self._stack[0]
            if tuple(first.batch_shape[1:]) != input_shape[1:] and all(d is not None for d in first.batch_shape[1:]):
                raise ValueError(f"Sequential model '{self.name}' was declared with input shape "
                                 f"{first.batch_shape}, so it cannot be built for input shape {input_shape}.")
        else:
            self._stack.insert(0, InputLayer(batch_shape=(None,) + input_shape[1:], dtype=self.dtype))
        self._input_kt = self._stack[0]._inbound_nodes[0].output_tensors[0]
        self._output_kts = []
        self._extend_graph(self.layers)
        self.built = True
        self._build_shapes = self._input_kt.shape

    def _extend_graph(self, layers) -> None:
        x = self._output_kts[-1] if self._output_kts else self._input_kt
        for layer in layers:
            try:
                x = layer(x)
            except (ValueError, TypeError) as err:
                kind = TypeError if isinstance(err, TypeError) else ValueError
                raise kind(f"Layer '{layer.name}' ({type(layer).__name__}) of Sequential model '{self.name}' "
                           f"cannot take input of shape {x.shape}: {err}") from err
            if not isinstance(x, KerasTensor):
                raise ValueError(f"Layer '{layer.name}' returns several outputs; a Sequential model needs "
                                 "single-output layers. Use the functional API (ks.Model) instead.")
            self._output_kts.append(x)

    def _unbuilt_message(self, what: str) -> str:
        return (f"Sequential model '{self.name}' has not been built: {what}, but it has no input shape and was "
                "never called or trained, so its weights do not exist yet. Start it with ks.Input(shape=...), "
                "give its first layer `input_shape=`, call model.build((None, ...)) or fit it first.")

    # ------------------------------------------------------------ specs/call
    @property
    def inputs(self) -> list:
        return [self._input_kt] if self._input_kt is not None else []

    @property
    def outputs(self) -> list:
        return [self._output_kts[-1]] if self._output_kts else []

    def _input_specs(self) -> list:
        return self.inputs

    def _output_specs(self) -> list:
        return self.outputs

    @property
    def input_names(self) -> list:
        return [self._stack[0].name] if self._stack else []

    @property
    def output_names(self) -> list:
        return [self.layers[-1].name] if self.layers else []

    def _maybe_build(self, input_shapes) -> None:
        if not self.built:
            if isinstance(input_shapes, list):
                raise ValueError(f"Sequential model '{self.name}' takes a single input. "
                                 f"Received: {len(input_shapes)} inputs.")
            self.build((None,) + tuple(input_shapes[1:]))

    def call(self, inputs, training=None):
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 1:
                raise ValueError(f"Sequential model '{self.name}' takes a single input. "
                                 f"Received: {len(inputs)} inputs.")
            inputs = inputs[0]
        if self._input_kt is not None:
            inputs = adjust_input_rank(self._input_kt, inputs)
            check_input_shape(self.name, 0, self._input_kt, inputs)
        x, layers, i = inputs, self.layers, 0
        while i < len(layers):
            if i + 1 < len(layers) and fusion.fusable(layers[i], layers[i + 1], x):
                x = fusion.call_conv_relu_max_pool(layers[i], layers[i + 1], x, training)
                i += 2
            else:
                x = call_layer(layers[i], x, training)
                i += 1
        return x

    def compute_output_shape(self, input_shape):
        if not self.built:
            self.build((None,) + tuple(input_shape[1:]))
        shape = tuple(input_shape)
        if not self._output_kts or shape == self._input_kt.shape:
            return self._output_kts[-1].shape if self._output_kts else shape
        check_input_shape(self.name, 0, self._input_kt, KerasTensor(shape))
        for layer in self.layers:  # other sizes than built for: propagate them (Keras's shape inference)
            shape = layer.compute_output_shape(shape)
        return shape

    def _layer_output_shape(self, layer):
        for l, kt in zip(self.layers, self._output_kts):
            if l is layer:
                return kt.shape
        return None

    # --------------------------------------------------------------- config
    def get_config(self) -> dict:
        from ..saving.serialization import serialize_layer

        config = {"name": self.name, "trainable": self.trainable, "dtype": np.dtype(self.dtype).name,
                  "layers": [serialize_layer(layer) for layer in self._stack]}
        if self.built and self._input_kt is not None:
            config["build_input_shape"] = list(self._input_kt.shape)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        from ..saving.serialization import deserialize_layer

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config.get("layers", []):
            model.add(deserialize_layer(layer_config, custom_objects))
        if not model.built and config.get("build_input_shape") is not None:
            model.build(tuple(config["build_input_shape"]))
        return model
