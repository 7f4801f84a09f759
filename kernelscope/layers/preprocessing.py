"""Preprocessing layers: Rescaling, Normalization and the image augmentation layers
RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomCrop, RandomContrast,
RandomBrightness.

Augmentation layers change their input when called in training mode, which is their
default as in Keras 3: called directly they augment; inside ``predict``/``evaluate`` or a
model called with ``training=False`` they pass images through (RandomCrop still resizes
to its target size at inference, as Keras does). Each
draws from its own generator, made once at construction from ``seed``. They
transform data, not weights, so their output carries no gradient.
"""

# N batch, H/W height/width, C channels

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import rng as _rng
from ..autograd import Tensor
from .base import Layer, Variable
from .core import mark_built, positive_int

__all__ = ["Rescaling", "Normalization", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
           "RandomCrop", "RandomContrast", "RandomBrightness"]

_EPSILON = 1e-7  # Keras's backend.epsilon(): floor for the standard deviation


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _number_or_list(value, name: str):
    if isinstance(value, (list, tuple)) and value and all(_is_number(v) for v in value):
        return [float(v) for v in value]
    if not _is_number(value):
        raise ValueError(f"`{name}` must be a number. Received: {name}={value!r}.")
    return float(value)


class Rescaling(Layer):
    """``inputs * scale + offset``, e.g. ``Rescaling(1/255)`` maps pixels to [0, 1]."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = _number_or_list(scale, "scale"), _number_or_list(offset, "offset")

    def call(self, inputs):
        # a list holds one value per channel (last axis), as Keras's EfficientNet stem uses
        scale, offset = (np.asarray(v, inputs.dtype) if isinstance(v, list) else v for v in (self.scale, self.offset))
        return inputs * scale + offset

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Normalization(Layer):
    """Feature-wise ``(x - mean) / sqrt(variance)``, with mean/variance given or learned by ``adapt``.

    Parameters
    ----------
    axis : int, tuple of ints or None
        Axes that keep their own statistics (the last, channels, by default); None: one scalar.
    mean, variance : float or array, optional
        Fixed statistics; otherwise call ``adapt(data)``.
    invert : bool
        Apply the inverse, ``x * sqrt(variance) + mean``.

    Adapted statistics are the non-trainable weights ``mean``, ``variance`` and
    ``count`` (2 * features + 1 parameters, as Keras counts them).
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.axis = () if axis is None else (int(axis),) if isinstance(axis, numbers.Integral) else tuple(axis)
        if (mean is None) != (variance is None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be set. "
                             f"Received: mean={mean} and variance={variance}.")
        if mean is not None and np.shape(mean) != np.shape(variance):
            raise ValueError("When setting values directly, `mean` and `variance` must have the same shape. "
                             f"Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}.")
        self.input_mean, self.input_variance, self.invert = mean, variance, bool(invert)

    def build(self, input_shape) -> None:
        ndim = len(input_shape)
        if any(not -ndim <= a < ndim for a in self.axis):
            raise ValueError("All `axis` values must be in the range [-ndim, ndim). "
                             f"Received inputs with ndim={ndim}, while axis={self.axis}.")
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        if any(input_shape[d] is None for d in self._keep_axis):
            raise ValueError(f"All `axis` values to be kept must have a known shape. Received axis={self.axis}, "
                             f"inputs.shape={tuple(input_shape)}.")
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axis else 1 for d in range(ndim))
        stats_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(stats_shape, "zeros", name="mean", trainable=False)
            self.adapt_variance = self.add_weight(stats_shape, "ones", name="variance", trainable=False)
            # Keras keeps an int64 `count` weight for compatibility with older saved models.
            self.count = Variable(np.zeros((), np.int64), name="count", trainable=False)
            self._weights.append(self.count)
        mark_built(self, input_shape)

    def _stats(self) -> tuple:
        if self.input_mean is not None:
            mean = np.broadcast_to(np.asarray(self.input_mean, self.dtype), self._mean_target())
            var = np.broadcast_to(np.asarray(self.input_variance, self.dtype), self._mean_target())
            return mean.reshape(self._broadcast_shape), var.reshape(self._broadcast_shape)
        return (self.adapt_mean.data.reshape(self._broadcast_shape),
                self.adapt_variance.data.reshape(self._broadcast_shape))

    def _mean_target(self) -> tuple:
        return tuple(self._broadcast_shape[d] for d in self._keep_axis)

    def adapt(self, data) -> None:
        """Compute the mean and variance of ``data``.

        ``data`` is one array-like (an array, a Tensor, nested lists of numbers: one batch),
        or a list, tuple or iterator of arrays (each a batch). The ``count`` weight becomes
        the number of values each statistic was computed from (as tf.keras 2 did; Keras 3
        leaves it 0).
        """
        batches = _adapt_batches(data)
        if self.input_mean is not None:
            raise ValueError(f"Layer '{self.name}' was given `mean` and `variance`; it cannot be adapted.")
        if not self.built:
            self._maybe_build((None,) + batches[0].shape[1:])
        total_mean = total_var = None
        count = 0
        for batch in batches:
            self._check_batch(batch)
            batch = batch.astype(np.float64)
            batch_mean, batch_var = batch.mean(axis=self._reduce_axis), batch.var(axis=self._reduce_axis)
            batch_count = math.prod(batch.shape[d] for d in self._reduce_axis)
            if total_mean is None:
                total_mean, total_var, count = batch_mean, batch_var, batch_count
                continue
            # pooled variance of two groups (the lack-of-fit sum of squares, as Keras combines batches)
            count += batch_count
            w = batch_count / count
            new_mean = total_mean * (1 - w) + batch_mean * w
            total_var = ((total_var + (total_mean - new_mean) ** 2) * (1 - w)
                         + (batch_var + (batch_mean - new_mean) ** 2) * w)
            total_mean = new_mean
        self.adapt_mean.assign(np.asarray(total_mean, self.dtype))
        self.adapt_variance.assign(np.asarray(total_var, self.dtype))
        self.count.assign(np.asarray(count, np.int64))

    def _check_batch(self, batch: np.ndarray) -> None:
        expected = self._broadcast_shape
        if batch.ndim != len(expected) or any(batch.shape[d] != expected[d] for d in self._keep_axis):
            shape = tuple(None if d in self._reduce_axis else n for d, n in enumerate(expected))
            raise ValueError(f"`data` must have shape {shape} (None: any size), as the layer was built for. "
                             f"Received: data.shape={batch.shape}.")
        if batch.size == 0:
            raise ValueError(f"`data` must contain at least one sample. Received: data.shape={batch.shape}.")
        if not np.isfinite(batch).all():
            raise ValueError("`data` must hold finite numbers, with no NaN or infinity (the mean and variance "
                             f"would be NaN). Received: data with {int(batch.size - np.isfinite(batch).sum())} "
                             "NaN or infinite value(s).")

    def call(self, inputs):
        mean, var = self._stats()
        std = np.maximum(np.sqrt(var), _EPSILON).astype(inputs.dtype)
        mean = mean.astype(inputs.dtype)
        if self.invert:
            return inputs * Tensor(std) + Tensor(mean)
        return (inputs - Tensor(mean)) / Tensor(std)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        as_list = (lambda v: None if v is None else np.asarray(v).tolist())
        return {**super().get_config(), "axis": None if self.axis == () else self.axis, "invert": self.invert,
                "mean": as_list(self.input_mean), "variance": as_list(self.input_variance)}


def _adapt_batches(data) -> list:
    """``adapt``'s input as a list of numeric arrays of rank >= 1, one per batch."""
    if isinstance(data, (np.ndarray, Tensor, str, bytes)) or not hasattr(data, "__iter__"):
        data = [data]
    elif isinstance(data, (list, tuple)) and not all(hasattr(b, "shape") for b in data):
        data = [data]  # nested lists of numbers: one array-like, not one batch per row
    batches = [np.asarray(b.data if isinstance(b, Tensor) else b) for b in data]
    if not batches:
        raise ValueError("adapt() received an empty iterable (no batches). Expected at least one batch.")
    for batch in batches:
        if batch.dtype.kind not in "biuf":
            raise TypeError(f"`data` must hold numbers (an array of int or float values). Received: "
                            f"data with dtype={batch.dtype}.")
        if batch.ndim == 0:
            raise ValueError(f"`data` must be an array of rank >= 1, with samples on the first axis. "
                             f"Received: a scalar, data={batch.item()!r}.")
    return batches


# ---------------------------------------------------------------- sampling
def _fold(coord: np.ndarray, n: int, fill_mode: str) -> np.ndarray:
    """Map continuous coordinates outside [0, n-1] back inside, per ``fill_mode``."""
    if fill_mode == "reflect":  # d c b a | a b c d | d c b a
        t = np.mod(coord + 0.5, 2 * n)
        coord = np.where(t < n, t, 2 * n - t) - 0.5
    elif fill_mode == "wrap":
        coord = np.mod(coord, n)
    return np.clip(coord, 0, n - 1) if fill_mode != "constant" else coord


def _sample(images: np.ndarray, ys: np.ndarray, xs: np.ndarray, interpolation: str, fill_mode: str,
            fill_value: float) -> np.ndarray:
    """Read ``images`` (N, H, W, C) at input coordinates ``ys``, ``xs`` of shape (N, Ho, Wo)."""
    n, h, w, _ = images.shape
    ys, xs = _fold(ys, h, fill_mode), _fold(xs, w, fill_mode)
    batch = np.arange(n)[:, None, None]

    def read(yi, xi):
        inside = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)
        values = images[batch, np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)]
        return np.where(inside[..., None], values, fill_value)

    if interpolation == "nearest":
        return read(np.floor(ys + 0.5).astype(np.int64), np.floor(xs + 0.5).astype(np.int64))
    y0, x0 = np.floor(ys), np.floor(xs)
    wy, wx = (ys - y0)[..., None], (xs - x0)[..., None]
    y0, x0 = y0.astype(np.int64), x0.astype(np.int64)
    top = read(y0, x0) * (1 - wx) + read(y0, x0 + 1) * wx
    bottom = read(y0 + 1, x0) * (1 - wx) + read(y0 + 1, x0 + 1) * wx
    return top * (1 - wy) + bottom * wy


def _affine(images: np.ndarray, matrices: np.ndarray, shifts: np.ndarray, interpolation: str,
            fill_mode: str, fill_value: float) -> np.ndarray:
    """Output offset (x, y) from the centre reads input offset ``matrix @ (x, y) + shift``."""
    n, h, w, _ = images.shape
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    yo, xo = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")
    m = matrices[:, :, :, None, None]
    xs = m[:, 0, 0] * xo + m[:, 0, 1] * yo + shifts[:, 0, None, None] + cx
    ys = m[:, 1, 0] * xo + m[:, 1, 1] * yo + shifts[:, 1, None, None] + cy
    return _sample(images, ys, xs, interpolation, fill_mode, fill_value).astype(images.dtype)


def _resize_bilinear(images: np.ndarray, size: tuple) -> np.ndarray:
    """Bilinear resize with half-pixel centres (TensorFlow's ``resize``, no antialiasing)."""
    n, h, w, _ = images.shape
    ys = np.clip((np.arange(size[0]) + 0.5) * (h / size[0]) - 0.5, 0, h - 1)
    xs = np.clip((np.arange(size[1]) + 0.5) * (w / size[1]) - 0.5, 0, w - 1)
    grid_y, grid_x = np.meshgrid(ys, xs, indexing="ij")
    shape = (n,) + grid_y.shape
    out = _sample(images, np.broadcast_to(grid_y, shape), np.broadcast_to(grid_x, shape), "bilinear", "nearest", 0.0)
    return out.astype(images.dtype)


def aspect_window(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """The largest centred window of ``images`` (N, H, W, C) with the aspect ratio height:width
    (Keras's ``crop_to_aspect_ratio``)."""
    h, w = images.shape[1:3]
    crop_h = max(min(h, int(w * height / width)), 1)
    crop_w = max(min(w, int(h * width / height)), 1)
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    return images[:, top:top + crop_h, left:left + crop_w]


def _factor_range(value, name: str, low: float = -1.0, high: float = 1.0) -> tuple:
    """A number f -> (-f, f); a pair -> sorted pair; each within [low, high]."""
    message = (f"The `{name}` argument should be a number (or a list of two numbers) in the range "
               f"[{low}, {high}]. Received: {name}={value!r}.")
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        pair = (-abs(float(value)), abs(float(value)))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value):
        pair = tuple(sorted(float(v) for v in value))
    else:
        raise ValueError(message)
    if pair[0] < low or pair[1] > high:
        raise ValueError(message)
    return pair


class _RandomImageLayer(Layer):
    """Base of the augmentation layers: seeding, rank-3/4 inputs, training switch."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._generator = _rng.make_rng(seed)

    # Keras 3's default: called directly (``augment(images)``, ``dataset.map(augment)``) the layer
    # augments; inside predict/evaluate, or a model called with training=False, it does not.
    def call(self, inputs, training=True):
        data = np.asarray(inputs.data)
        if data.ndim not in (3, 4):
            raise ValueError("Expected image tensor to have rank 3 (single image) or 4 (batch of images). "
                             f"Received: data.shape={data.shape}.")
        batched = data if data.ndim == 4 else data[None]
        out = self._transform(batched, bool(training))
        if out is batched:
            return inputs
        return Tensor(out if data.ndim == 4 else out[0])

    def _transform(self, images: np.ndarray, training: bool) -> np.ndarray:
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        seed = self.seed if self.seed is None or isinstance(self.seed, (int, np.integer)) else None
        return {**super().get_config(), "seed": seed}


class _GeometricLayer(_RandomImageLayer):
    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if fill_mode not in ("reflect", "wrap", "constant", "nearest"):
            raise ValueError("Unknown `fill_mode` " f"{fill_mode!r}. Expected one of "
                             "('reflect', 'wrap', 'constant', 'nearest').")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"Unknown `interpolation` {interpolation!r}. Expected 'nearest' or 'bilinear'.")
        if not _is_number(fill_value):
            raise ValueError(f"`fill_value` must be a number (the value of pixels outside the image with "
                             f"fill_mode='constant'). Received: fill_value={fill_value!r}.")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, float(fill_value)

    def _apply(self, images, matrices, shifts):
        return _affine(images, matrices, shifts, self.interpolation, self.fill_mode, self.fill_value)

    def get_config(self) -> dict:
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}


class RandomFlip(_RandomImageLayer):
    """Flip each image left-right and/or up-down with probability 1/2 (training only)."""

    _MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mode not in self._MODES:
            raise ValueError(f"RandomFlip layer {self.name} received an unknown mode argument {mode!r}. "
                             f"Expected one of {self._MODES}.")
        self.mode = mode

    def _transform(self, images, training):
        if not training:
            return images
        out = images
        n = images.shape[0]
        if "horizontal" in self.mode:
            flip = self._generator.random(n) < 0.5
            out = np.where(flip[:, None, None, None], out[:, :, ::-1], out)
        if "vertical" in self.mode:
            flip = self._generator.random(n) < 0.5
            out = np.where(flip[:, None, None, None], out[:, ::-1], out)
        return out

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


class RandomRotation(_GeometricLayer):
    """Rotate each image by ``factor * 2*pi`` radians, drawn in [lower, upper]; positive is
    counter-clockwise."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = _factor_range(factor, "factor")

    def _transform(self, images, training):
        if not training:
            return images
        angles = self._generator.uniform(*self.factor, size=images.shape[0]) * 2 * np.pi
        c, s = np.cos(angles), np.sin(angles)
        matrices = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], 1)
        return self._apply(images, matrices, np.zeros((images.shape[0], 2)))

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_GeometricLayer):
    """Zoom each image by ``1 + U(lower, upper)``: positive values zoom out, negative zoom in.
    ``width_factor=None`` keeps the aspect ratio (the height zoom is used for both axes)."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor = _factor_range(height_factor, "height_factor")
        self.width_factor = None if width_factor is None else _factor_range(width_factor, "width_factor")

    def _transform(self, images, training):
        if not training:
            return images
        n = images.shape[0]
        zy = 1.0 + self._generator.uniform(*self.height_factor, size=n)
        zx = zy if self.width_factor is None else 1.0 + self._generator.uniform(*self.width_factor, size=n)
        matrices = np.zeros((n, 2, 2))
        matrices[:, 0, 0], matrices[:, 1, 1] = zx, zy
        return self._apply(images, matrices, np.zeros((n, 2)))

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomTranslation(_GeometricLayer):
    """Shift each image by ``U(lower, upper)`` times its height / width."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor = _factor_range(height_factor, "height_factor")
        self.width_factor = _factor_range(width_factor, "width_factor")

    def _transform(self, images, training):
        if not training:
            return images
        n, h, w, _ = images.shape
        dy = self._generator.uniform(*self.height_factor, size=n) * h
        dx = self._generator.uniform(*self.width_factor, size=n) * w
        matrices = np.broadcast_to(np.eye(2), (n, 2, 2))
        return self._apply(images, matrices, np.stack([-dx, -dy], axis=1))

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomCrop(_RandomImageLayer):
    """Crop the batch to ``(height, width)`` at one random position (training). At inference, or
    when the image is not larger than the target, the largest centred window with the target aspect
    ratio is cropped and resized to the target size, as Keras does."""

    def __init__(self, height, width, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.height, self.width = positive_int(height, "height"), positive_int(width, "width")

    def _transform(self, images, training):
        h, w = images.shape[1:3]
        if training and h > self.height and w > self.width:
            top = int(self._generator.integers(0, h - self.height + 1))
            left = int(self._generator.integers(0, w - self.width + 1))
            return images[:, top:top + self.height, left:left + self.width]
        window = aspect_window(images, self.height, self.width)
        if window.shape[1:3] == (self.height, self.width):
            return window
        return _resize_bilinear(window, (self.height, self.width))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width}


def _value_range(value_range) -> tuple:
    if not (isinstance(value_range, (tuple, list)) and len(value_range) == 2
            and all(_is_number(v) for v in value_range) and value_range[0] < value_range[1]):
        raise ValueError("`value_range` must be a pair of numbers (low, high) with low < high. "
                         f"Received: value_range={value_range!r}.")
    return tuple(value_range)


class RandomContrast(_RandomImageLayer):
    """Scale each image's deviation from its per-channel mean by a factor in
    ``[1 - lower, 1 + upper]``, then clip to ``value_range`` (training only)."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if isinstance(factor, numbers.Real) and not isinstance(factor, bool) and 0 <= factor <= 1:
            self.factor = (float(factor), float(factor))  # Keras documents lower = upper for one number
        else:
            self.factor = _factor_range(factor, "factor", 0.0, 1.0)
        self.value_range = _value_range(value_range)

    def _transform(self, images, training):
        if not training:
            return images
        n = images.shape[0]
        factors = self._generator.uniform(1.0 - self.factor[0], 1.0 + self.factor[1], size=(n, 1, 1, 1))
        mean = images.mean(axis=(1, 2), keepdims=True)
        out = (images - mean) * factors.astype(images.dtype) + mean
        return np.clip(out, *self.value_range).astype(images.dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomBrightness(_RandomImageLayer):
    """Add ``U(lower, upper) * (high - low)`` to each image (one shift for all its pixels and
    channels), then clip to ``value_range = (low, high)`` (training only). ``factor`` f means
    (-f, f); each bound lies in [-1, 1]."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _factor_range(factor, "factor")
        self.value_range = _value_range(value_range)

    def _transform(self, images, training):
        if not training:
            return images
        low, high = self.value_range
        delta = self._generator.uniform(*self.factor, size=(images.shape[0], 1, 1, 1)) * (high - low)
        return np.clip(images + delta.astype(images.dtype), low, high).astype(images.dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}
