"""Pooling layers: MaxPooling2D, AveragePooling2D and their global versions.

Pooling has no weights. ``padding="same"`` follows TensorFlow; average pooling
leaves padded cells out of the divisor, as Keras does.
"""

# N batch, H/W height/width, C channels

from __future__ import annotations

from .. import ops
from ..geometry import output_hw, padding_mode, standardize_tuple
from .base import Layer
from .._checks import check_ndim
from .core import check_data_format

__all__ = ["MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AvgPool2D",
           "GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAvgPool2D", "GlobalMaxPool2D"]


class _Pooling2D(Layer):
    _op_name = ""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format)
        self.pool_size = standardize_tuple(pool_size, 2, "pool_size")
        self.strides = self.pool_size if strides is None else standardize_tuple(strides, 2, "strides")
        self.padding = padding_mode(padding)

    def compute_output_shape(self, input_shape):
        check_ndim(input_shape, 4, self)
        hw = output_hw(input_shape[1:3], self.pool_size, self.strides, self.padding)
        if any(n is not None and n <= 0 for n in hw):
            raise ValueError(f"Layer '{self.name}': the pooling window {self.pool_size} is larger than the "
                             f"input {tuple(input_shape)} with padding='valid'. Use a smaller pool_size or "
                             "padding='same'.")
        return (input_shape[0], *hw, input_shape[3])

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)

    def call(self, inputs):
        check_ndim(inputs.shape, 4, self)
        op = getattr(ops, self._op_name)
        return op(inputs, pool_size=self.pool_size, strides=self.strides, padding=self.padding)

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling2D(_Pooling2D):
    """Maximum over each ``pool_size`` window; ``strides`` defaults to ``pool_size``.

    Examples
    --------
    >>> import numpy as np, kernelscope as ks
    >>> ks.layers.MaxPooling2D()(np.zeros((1, 28, 28, 6))).shape
    (1, 14, 14, 6)
    """

    _op_name = "max_pool2d"


class AveragePooling2D(_Pooling2D):
    """Mean over each ``pool_size`` window; ``strides`` defaults to ``pool_size``."""

    _op_name = "avg_pool2d"


class _GlobalPooling2D(Layer):
    _op_name = ""

    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format)
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        check_ndim(input_shape, 4, self)
        if self.keepdims:
            return (input_shape[0], 1, 1, input_shape[3])
        return (input_shape[0], input_shape[3])

    def build(self, input_shape) -> None:
        check_ndim(input_shape, 4, self)

    def call(self, inputs):
        check_ndim(inputs.shape, 4, self)
        return getattr(ops, self._op_name)(inputs, keepdims=self.keepdims)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over height and width: ``(N, H, W, C) -> (N, C)`` (``(N, 1, 1, C)`` with keepdims)."""

    _op_name = "global_avg_pool2d"


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Maximum over height and width: ``(N, H, W, C) -> (N, C)`` (``(N, 1, 1, C)`` with keepdims)."""

    _op_name = "global_max_pool2d"


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
