"""Activation layers: Activation, ReLU, LeakyReLU, Softmax (no weights)."""

from __future__ import annotations

import numbers

from .. import ops
from .base import Layer
from .core import get_activation

__all__ = ["Activation", "ReLU", "LeakyReLU", "Softmax"]


class _Elementwise(Layer):
    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class Activation(_Elementwise):
    """Apply an activation function by name (``"relu"``) or callable.

    Examples
    --------
    >>> import numpy as np, kernelscope as ks
    >>> ks.layers.Activation("relu")(np.array([[-1.0, 2.0]])).numpy()
    array([[0., 2.]], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation, self._activation_name = get_activation(activation)

    def call(self, inputs):
        return inputs if self.activation is None else self.activation(inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": self._activation_name}


def _non_negative(value, name: str, layer: str, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} of a {layer} layer cannot be None or a negative value. "
                         f"Expected a non-negative float. Received: {name}={value!r}.")
    return float(value)


class ReLU(_Elementwise):
    """``max_value``-capped ReLU with a leak below ``threshold``:
    ``x`` if threshold <= x < max_value, ``max_value`` above, ``negative_slope * (x - threshold)`` below."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _non_negative(max_value, "max_value", "ReLU", allow_none=True)
        self.negative_slope = _non_negative(negative_slope, "negative_slope", "ReLU")
        self.threshold = _non_negative(threshold, "threshold", "ReLU")

    def call(self, inputs):
        return ops.relu(inputs, negative_slope=self.negative_slope, max_value=self.max_value,
                        threshold=self.threshold)

    def get_config(self) -> dict:
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(_Elementwise):
    """``x`` for x >= 0, ``negative_slope * x`` below; Keras 3's default slope is 0.3."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:  # the Keras 2 name, still accepted by Keras 3
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = _non_negative(negative_slope, "negative_slope", "LeakyReLU")

    def call(self, inputs):
        return ops.leaky_relu(inputs, negative_slope=self.negative_slope)

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class Softmax(_Elementwise):
    """Softmax along ``axis`` (the last by default)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
            raise ValueError(f"`axis` must be an integer. Received: axis={axis!r}.")
        self.axis = int(axis)

    def call(self, inputs):
        return ops.softmax(inputs, axis=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
