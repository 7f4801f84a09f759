"""Shape-changing layers: Flatten, Reshape, ZeroPadding2D, Cropping2D, UpSampling2D."""

# N batch, H/W height/width, C channels

from __future__ import annotations

import math
import numbers

from .. import ops
from .._checks import normalize_tuple
from .base import Layer
from .._checks import check_ndim
from .core import check_data_format

__all__ = ["Flatten", "Reshape", "ZeroPadding2D", "Cropping2D", "UpSampling2D"]


class Flatten(Layer):
    """Flatten everything but the batch axis: ``(N, H, W, C) -> (N, H*W*C)``.

    Examples
    --------
    >>> import numpy as np, kernelscope as ks
    >>> ks.layers.Flatten()(np.zeros((2, 5, 5, 64))).shape
    (2, 1600)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format)

    def call(self, inputs):
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshape the non-batch axes to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, numbers.Integral):
            target_shape = (target_shape,)
        if (not isinstance(target_shape, (tuple, list)) or not all(
                isinstance(d, numbers.Integral) and not isinstance(d, bool) and (d > 0 or d == -1)
                for d in target_shape) or list(target_shape).count(-1) > 1):
            raise ValueError("`target_shape` must be a tuple of positive integers, with at most one -1. "
                             f"Received: target_shape={target_shape!r}.")
        self.target_shape = tuple(int(d) for d in target_shape)

    def _resolve(self, input_shape) -> tuple:
        rest = input_shape[1:]
        if any(d is None for d in rest):
            return tuple(None if d == -1 else d for d in self.target_shape)
        total, known = math.prod(rest), math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if known == 0 or total % known:
                self._size_error(input_shape)
            return tuple(total // known if d == -1 else d for d in self.target_shape)
        if total != known:
            self._size_error(input_shape)
        return self.target_shape

    def _size_error(self, input_shape):
        raise ValueError(f"The total size of the tensor must be unchanged. Received: input_shape="
                         f"{tuple(input_shape)}, target_shape={self.target_shape}.")

    def build(self, input_shape) -> None:
        self._resolve(input_shape)

    def call(self, inputs):
        return inputs.reshape((inputs.shape[0],) + self._resolve(inputs.shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": self.target_shape}


def _pairs_2d(value, name: str, description: str) -> tuple:
    """An int, (sym_h, sym_w) or ((top, bottom), (left, right)) -> ((top, bottom), (left, right))."""
    def is_count(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0

    if is_count(value):
        return ((int(value),) * 2,) * 2
    if isinstance(value, (tuple, list)) and len(value) == 2:
        if all(is_count(v) for v in value):
            return tuple((int(v), int(v)) for v in value)
        if all(isinstance(v, (tuple, list)) and len(v) == 2 and all(is_count(u) for u in v) for v in value):
            return tuple((int(v[0]), int(v[1])) for v in value)
    raise ValueError(f"`{name}` should be either a non-negative int, a tuple of 2 ints (symmetric_height_"
                     f"{description}, symmetric_width_{description}), or a tuple of 2 tuples of 2 ints "
                     f"(({'top'}_{description}, bottom_{description}), (left_{description}, "
                     f"right_{description})). Received: {name}={value!r}.")


class ZeroPadding2D(Layer):
    """Add rows and columns of zeros around each image (the slides' "padding p")."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format)
        self.padding = _pairs_2d(padding, "padding", "pad")

    def call(self, inputs):
        check_ndim(inputs.shape, 4, self)
        return ops.zero_pad2d(inputs, self.padding)

    def compute_output_shape(self, input_shape):
        check_ndim(input_shape, 4, self)
        hw = tuple(None if n is None else n + sum(p) for n, p in zip(input_shape[1:3], self.padding))
        return (input_shape[0], *hw, input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class Cropping2D(Layer):
    """Remove rows and columns from the image borders."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format)
        self.cropping = _pairs_2d(cropping, "cropping", "crop")

    def compute_output_shape(self, input_shape):
        check_ndim(input_shape, 4, self)
        hw = []
        for n, crop in zip(input_shape[1:3], self.cropping):
            if n is not None and sum(crop) >= n:
                raise ValueError("Values in `cropping` argument should be smaller than the corresponding "
                                 f"spatial dimension of the input. Received: input_shape={tuple(input_shape)}, "
                                 f"cropping={self.cropping}.")
            hw.append(None if n is None else n - sum(crop))
        return (input_shape[0], *hw, input_shape[3])

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)

    def call(self, inputs):
        _, h, w, _ = self.compute_output_shape(inputs.shape)
        (top, _), (left, _) = self.cropping
        return inputs[:, top:top + h, left:left + w, :]

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}


class UpSampling2D(Layer):
    """Repeat rows and columns ``size`` times ("nearest") or interpolate ("bilinear")."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format)
        self.size = normalize_tuple(size, 2, "size")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError('`interpolation` must be "nearest" or "bilinear". '
                             f"Received: interpolation={interpolation!r}.")
        self.interpolation = interpolation

    def call(self, inputs):
        check_ndim(inputs.shape, 4, self)
        return ops.upsample2d(inputs, size=self.size, interpolation=self.interpolation)

    def compute_output_shape(self, input_shape):
        check_ndim(input_shape, 4, self)
        hw = tuple(None if n is None else n * s for n, s in zip(input_shape[1:3], self.size))
        return (input_shape[0], *hw, input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}
