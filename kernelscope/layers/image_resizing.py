"""Resizing and CenterCrop: images to a fixed height and width, in training and inference alike.

Both are preprocessing layers, as in Keras 3: they change data, not weights, and their
output carries no gradient. Resizing uses half-pixel centres without antialiasing (Keras's
default, ``antialias=False``): ``bilinear`` equals ``torch.nn.functional.interpolate(...,
mode="bilinear", align_corners=False)``, ``nearest`` equals its ``"nearest-exact"`` mode.
"""

# N batch, H/W height/width, C channels

from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from .base import Layer
from .core import check_data_format, positive_int
from .preprocessing import _is_number, _sample, aspect_window

__all__ = ["Resizing", "CenterCrop", "resize_images"]

_INTERPOLATIONS = ("bilinear", "nearest")
_KERAS_ONLY = ("bicubic", "lanczos3", "lanczos5", "area")


def _source_coords(n_in: int, n_out: int) -> np.ndarray:
    return (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5


def resize_images(images: np.ndarray, size: tuple, interpolation: str = "bilinear") -> np.ndarray:
    """Resize ``images`` (N, H, W, C) to ``size`` = (height, width), half-pixel centres."""
    n, h, w, _ = images.shape
    ys, xs = _source_coords(h, size[0]), _source_coords(w, size[1])
    if interpolation == "nearest":
        rows = np.minimum(np.floor(ys + 0.5).astype(np.int64), h - 1)
        cols = np.minimum(np.floor(xs + 0.5).astype(np.int64), w - 1)
        return images[:, rows][:, :, cols]
    grid_y, grid_x = np.meshgrid(np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1), indexing="ij")
    shape = (n,) + grid_y.shape
    out = _sample(images, np.broadcast_to(grid_y, shape), np.broadcast_to(grid_x, shape), "bilinear",
                  "nearest", 0.0)
    return out.astype(images.dtype)


def _pad_to_aspect(images: np.ndarray, height: int, width: int, fill_value: float) -> np.ndarray:
    """Pad ``images`` evenly with ``fill_value`` to the aspect ratio height:width (Keras's layout)."""
    n, h, w, c = images.shape
    pad_h = max(h, int(w * height / width))
    pad_w = max(w, int(h * width / height))
    top, left = (pad_h - h) // 2, (pad_w - w) // 2
    out = np.full((n, h + 2 * top, w + 2 * left, c), fill_value, dtype=images.dtype)
    out[:, top:top + h, left:left + w] = images
    return out


class _FixedSizeImageLayer(Layer):
    """Rank-3 or rank-4 images in, (height, width) out; the work is ``_resize``."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = positive_int(height, "height"), positive_int(width, "width")
        self.data_format = check_data_format(data_format)

    def call(self, inputs):
        data = np.asarray(inputs.data)
        if data.ndim not in (3, 4):
            raise ValueError("Expected image tensor to have rank 3 (single image) or 4 (batch of images). "
                             f"Received: data.shape={data.shape}.")
        out = self._resize(data if data.ndim == 4 else data[None])
        return Tensor(out if data.ndim == 4 else out[0])

    def _resize(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        if len(input_shape) not in (3, 4):
            raise ValueError("Expected image tensor to have rank 3 (single image) or 4 (batch of images). "
                             f"Received: input_shape={tuple(input_shape)}.")
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width, "data_format": self.data_format}


class Resizing(_FixedSizeImageLayer):
    """Resize images to ``(height, width)``.

    Parameters
    ----------
    height, width : int
    interpolation : {"bilinear", "nearest"}
        Keras's "bicubic", "lanczos3", "lanczos5" and "area" are refused.
    crop_to_aspect_ratio : bool
        First crop the largest centred window with the target aspect ratio (no distortion).
    pad_to_aspect_ratio : bool
        First pad evenly with ``fill_value`` to the target aspect ratio (no distortion).
    fill_mode : {"constant"}
    fill_value : float
    antialias : bool
        Only False (Keras's default) is implemented.

    Examples
    --------
    >>> import numpy as np, kernelscope as ks
    >>> ks.layers.Resizing(2, 2)(np.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0].numpy()
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio: bool = False,
                 pad_to_aspect_ratio: bool = False, fill_mode="constant", fill_value=0.0, antialias: bool = False,
                 data_format=None, **kwargs):
        super().__init__(height, width, data_format=data_format, **kwargs)
        if interpolation not in _INTERPOLATIONS:
            hint = " (a Keras mode kernelscope does not implement)" if interpolation in _KERAS_ONLY else ""
            raise ValueError(f"`interpolation` must be one of {_INTERPOLATIONS}{hint}. "
                             f"Received: interpolation={interpolation!r}.")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`. Received: "
                             "crop_to_aspect_ratio=True, pad_to_aspect_ratio=True.")
        if fill_mode != "constant":
            raise ValueError(f"`fill_mode` must be 'constant' (the only mode Keras's Resizing pads with). "
                             f"Received: fill_mode={fill_mode!r}.")
        if not _is_number(fill_value):
            raise ValueError(f"`fill_value` must be a number. Received: fill_value={fill_value!r}.")
        if antialias:
            raise ValueError("`antialias=True` is not implemented by kernelscope; resize without it "
                             "(Keras's default). Received: antialias=True.")
        self.interpolation, self.fill_mode, self.fill_value = interpolation, fill_mode, float(fill_value)
        self.crop_to_aspect_ratio, self.pad_to_aspect_ratio = bool(crop_to_aspect_ratio), bool(pad_to_aspect_ratio)

    def _resize(self, images):
        if self.crop_to_aspect_ratio:
            images = aspect_window(images, self.height, self.width)
        elif self.pad_to_aspect_ratio:
            images = _pad_to_aspect(images, self.height, self.width, self.fill_value)
        return resize_images(images, (self.height, self.width), self.interpolation)

    def get_config(self) -> dict:
        return {**super().get_config(), "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio, "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value, "antialias": False}


class CenterCrop(_FixedSizeImageLayer):
    """Crop the centre ``(height, width)`` of each image. An image smaller than that on either axis
    is cropped to the target aspect ratio and resized (bilinear) instead, as Keras does."""

    def _resize(self, images):
        h, w = images.shape[1:3]
        if h >= self.height and w >= self.width:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            return images[:, top:top + self.height, left:left + self.width]
        return resize_images(aspect_window(images, self.height, self.width), (self.height, self.width))
