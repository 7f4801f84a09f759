"""Dense, and the small helpers every layer family shares (argument checks,
activation and initializer (de)serialization, input-shape checks)."""

from __future__ import annotations

from .. import initializers, ops, regularizers
from .._checks import check_ndim
from ..geometry import is_int
from .base import Layer

__all__ = ["Dense"]


# ------------------------------------------------------------------ helpers
def batchless(shape) -> tuple:
    """``shape`` with the batch dimension shown as None, as Keras prints it."""
    return (None,) + tuple(shape[1:])


def check_last_axis(layer: Layer, shape, expected: int, what: str) -> None:
    """Catch an input whose last axis differs from the size the weights were built for."""
    if shape[-1] != expected:
        built = layer._build_shapes
        raise ValueError(
            f"Layer '{layer.name}' expects inputs with {expected} {what} on the last axis, built from "
            f"input shape {batchless(built) if built else '(unknown)'}. Received: input of shape {tuple(shape)}.")


def mark_built(layer: Layer, input_shape) -> None:
    """Make a direct ``layer.build(shape)`` count, so the first call does not build again."""
    layer.built = True
    layer._build_shapes = tuple(input_shape)


def known_last_axis(layer: Layer, shape, what: str) -> int:
    if shape[-1] is None:
        raise ValueError(f"The last dimension ({what}) of the inputs to layer '{layer.name}' must be "
                         f"known to build its weights. Received: input_shape={tuple(shape)}.")
    return int(shape[-1])


def positive_int(value, name: str) -> int:
    if not is_int(value) or value <= 0:
        raise ValueError(f"Invalid value for argument `{name}`. Expected a strictly positive integer. "
                         f"Received: {name}={value!r}.")
    return int(value)


def check_data_format(data_format) -> str:
    if data_format not in (None, "channels_last"):
        raise ValueError('kernelscope is channels-last only: `data_format` must be None or "channels_last". '
                         f"Received: data_format={data_format!r}.")
    return "channels_last"


def get_activation(identifier):
    """(callable or None, name for the config). None and "linear" mean no activation."""
    if identifier is None or identifier == "linear":
        return None, "linear"
    if isinstance(identifier, str):
        return ops.activations.get(identifier), identifier
    if callable(identifier):
        return identifier, getattr(identifier, "__name__", identifier)
    raise TypeError(f"Could not interpret activation function identifier: {identifier!r}. "
                    "Expected a name such as 'relu', a callable or None.")


def serialize_initializer(init):
    return initializers.serialize(init) if isinstance(init, initializers.Initializer) else init


def serialize_regularizer(reg):
    return regularizers.serialize(reg) if isinstance(reg, regularizers.Regularizer) else reg


def weight_config(layer, *prefixes: str, regularized: bool = True) -> dict:
    """Keras's config entries of the weights named by ``prefixes``: ``{p}_initializer``, and with
    ``regularized`` ``{p}_regularizer`` and ``{p}_constraint`` (None: kernelscope refuses constraints)."""
    config = {f"{p}_initializer": serialize_initializer(getattr(layer, f"{p}_initializer")) for p in prefixes}
    if regularized:
        config.update({f"{p}_regularizer": serialize_regularizer(getattr(layer, f"{p}_regularizer"))
                       for p in prefixes})
        config.update({f"{p}_constraint": None for p in prefixes})
    return config


def check_unsupported(**kwargs) -> None:
    """Keras config keys kernelscope accepts only with their default (None)."""
    for name, value in kwargs.items():
        if value is not None:
            raise NotImplementedError(f"`{name}` is not supported by kernelscope yet. Received: {name}={value!r}.")


# -------------------------------------------------------------------- Dense
class Dense(Layer):
    """Fully connected layer: ``activation(inputs @ kernel + bias)`` on the last axis.

    Parameters
    ----------
    units : int
        Output size (neurons).
    activation : str, callable or None
    use_bias : bool
    kernel_initializer, bias_initializer : str, dict or Initializer
    kernel_regularizer, bias_regularizer : str, dict or Regularizer, optional

    Kernel shape ``(in_features, units)`` as in Keras; N-D inputs ``(..., in)``
    give ``(..., units)``. Parameters: ``in * units + units``.

    Examples
    --------
    >>> import numpy as np, kernelscope as ks
    >>> ks.layers.Dense(10)(np.zeros((2, 1600))).shape
    (2, 10)
    """

    def __init__(self, units, activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        check_unsupported(activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                          bias_constraint=bias_constraint)
        self.units = positive_int(units, "units")
        self.activation, self._activation_name = get_activation(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def build(self, input_shape) -> None:
        check_ndim(input_shape, 2, self, minimum=True)
        in_features = known_last_axis(self, input_shape, "features")
        self.kernel = self.add_weight((in_features, self.units), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight((self.units,), self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer)
        mark_built(self, input_shape)

    def _check_input(self, inputs) -> None:
        check_last_axis(self, inputs.shape, self.kernel.shape[0], "features")

    def call(self, inputs):
        self._check_input(inputs)
        outputs = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        return outputs if self.activation is None else self.activation(outputs)

    def compute_output_shape(self, input_shape):
        check_ndim(input_shape, 2, self, minimum=True)
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "activation": self._activation_name,
                "use_bias": self.use_bias, **weight_config(self, "kernel", "bias"), "activity_regularizer": None}


_KERAS2_CORE = ("Activation", "ActivityRegularization", "Dropout", "Flatten", "Lambda", "Masking", "Permute",
                "RepeatVector", "Reshape", "SpatialDropout2D")


def __getattr__(name: str):
    # keras.layers.core was Keras 2's module: Dense is here, its other layers get a hint naming kernelscope.layers
    from .._keras2 import removed_module

    removed_module("layers.core", "kernelscope.layers", name, names=_KERAS2_CORE)
