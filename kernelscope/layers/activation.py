"""Activation layers: Activation, ReLU, LeakyReLU, ELU, Softmax (no weights) and PReLU (a learned slope)."""

from __future__ import annotations

import numbers

from .. import initializers, ops, regularizers
from .._checks import check_axis, check_number
from .base import Layer
from .core import check_unsupported, get_activation, mark_built, weight_config

__all__ = ["Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax"]


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
        self.axis = check_axis(axis)

    def call(self, inputs):
        return ops.softmax(inputs, axis=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class ELU(_Elementwise):
    """Exponential linear unit: ``x`` for x > 0, ``alpha * (exp(x) - 1)`` below."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = check_number(alpha, "alpha", "of an ELU layer must be a number")

    def call(self, inputs):
        return ops.elu(inputs, alpha=self.alpha)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(_Elementwise):
    """Parametric ReLU: ``x`` for x >= 0, ``alpha * x`` below, with ``alpha`` learned.

    Parameters
    ----------
    alpha_initializer : str, dict or Initializer
        Keras's default, ``"Zeros"``, starts as a plain ReLU.
    alpha_regularizer : optional
    shared_axes : int or list of ints, optional
        Axes (1 = the first after the batch) sharing one slope, e.g. ``[1, 2]`` for one
        slope per channel of (N, H, W, C) feature maps.

    ``alpha`` has the input's shape without the batch axis, 1 on shared axes.
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        check_unsupported(alpha_constraint=alpha_constraint)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        if shared_axes is not None and not isinstance(shared_axes, (list, tuple)):
            shared_axes = [shared_axes]
        if shared_axes is not None and not all(isinstance(a, numbers.Integral) and not isinstance(a, bool)
                                               and a >= 1 for a in shared_axes):
            raise ValueError("`shared_axes` must be axes of the input after the batch axis (integers >= 1). "
                             f"Received: shared_axes={shared_axes!r}.")
        self.shared_axes = None if shared_axes is None else [int(a) for a in shared_axes]

    def build(self, input_shape) -> None:
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if axis >= len(input_shape):
                raise ValueError(f"`shared_axes` {self.shared_axes} of layer '{self.name}' is out of range for "
                                 f"inputs of shape {tuple(input_shape)}.")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"Layer '{self.name}' needs known sizes on the axes that get their own slope "
                             f"(share the others with `shared_axes`). Received: input_shape={tuple(input_shape)}.")
        self.alpha = self.add_weight(tuple(shape), self.alpha_initializer, name="alpha",
                                     regularizer=self.alpha_regularizer)
        mark_built(self, input_shape)

    def call(self, inputs):
        return ops.relu(inputs) - self.alpha * ops.relu(-inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), **weight_config(self, "alpha"), "shared_axes": self.shared_axes}
