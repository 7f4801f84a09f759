"""``keras.ops.image``: differentiable ``resize`` of channels-last images.

Resizing is separable: each spatial axis is multiplied by an ``(out, in)``
interpolation matrix, so the backward pass is the transposed matrices.
"bilinear" samples at half-pixel centres, input coordinate
``(o + 0.5) * in / out - 0.5`` clamped to the edge, as ``tf.image.resize``
and ``torch.nn.functional.interpolate(align_corners=False)``; "nearest"
reads ``floor((o + 0.5) * in / out)`` (torch's "nearest-exact").
"""

from __future__ import annotations

import numpy as np

from .._checks import check_choice
from ..autograd import Tensor, as_tensor, make_result

__all__ = ["resize", "rgb_to_grayscale"]

_SUPPORTED = ("bilinear", "nearest")
_KERAS_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")


def _interpolation_matrix(n_in: int, n_out: int, interpolation: str, dtype) -> np.ndarray:
    scale = n_in / n_out
    rows = np.arange(n_out)
    matrix = np.zeros((n_out, n_in), dtype=np.float64)
    if interpolation == "nearest":
        matrix[rows, np.minimum(np.floor((rows + 0.5) * scale).astype(int), n_in - 1)] = 1.0
        return matrix.astype(dtype)
    coord = np.clip((rows + 0.5) * scale - 0.5, 0, n_in - 1)
    low = np.floor(coord).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    frac = coord - low
    np.add.at(matrix, (rows, low), 1 - frac)
    np.add.at(matrix, (rows, high), frac)
    return matrix.astype(dtype)


def _resample(x: Tensor, size: tuple, interpolation: str) -> Tensor:
    """Resize the (N, H, W, C) tensor ``x`` to ``size`` with one matrix per axis."""
    rows = _interpolation_matrix(x.shape[1], size[0], interpolation, x.dtype)
    cols = _interpolation_matrix(x.shape[2], size[1], interpolation, x.dtype)
    out = np.einsum("oh,nhwc,pw->nopc", rows, x.data, cols, optimize=True)
    return make_result(out, (x,), lambda g: (np.einsum("oh,nopc,pw->nhwc", rows, g, cols, optimize=True),))


def _aspect_box(height: int, width: int, target: tuple, crop: bool) -> tuple:
    """Keras's centred box (start_h, start_w, box_h, box_w) for crop_ or pad_to_aspect_ratio."""
    th, tw = target
    box_h, box_w = int(float(width * th) / tw), int(float(height * tw) / th)
    if crop:
        box_h, box_w = max(min(height, box_h), 1), max(min(width, box_w), 1)
        return int(float(height - box_h) / 2), int(float(width - box_w) / 2), box_h, box_w
    box_h, box_w = max(height, box_h), max(width, box_w)
    return int(float(box_h - height) / 2), int(float(box_w - width) / 2), box_h, box_w


def _check(size, interpolation, antialias, crop_to_aspect_ratio, pad_to_aspect_ratio, fill_mode) -> tuple:
    check_choice(interpolation, _KERAS_INTERPOLATIONS, "interpolation")
    if interpolation not in _SUPPORTED:
        raise ValueError(f"kernelscope's resize supports interpolation {_SUPPORTED}. "
                         f"Received: interpolation={interpolation!r}.")
    if antialias:
        raise ValueError("antialias=True is not supported: kernelscope resizes without an antialiasing filter. "
                         "Received: antialias=True.")
    if fill_mode != "constant":
        raise ValueError("Invalid value for argument `fill_mode`. Only `'constant'` is supported. "
                         f"Received: fill_mode={fill_mode}")
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.")
    if not hasattr(size, "__len__") or len(size) != 2 or any(int(s) != s or s < 1 for s in size):
        raise ValueError(f"Argument `size` must be a tuple of two elements (height, width). Received: size={size}")
    return int(size[0]), int(size[1])


def resize(images, size, interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False, fill_mode: str = "constant",
           fill_value: float = 0.0, data_format=None) -> Tensor:
    """Resize a channels-last image ``(H, W, C)`` or batch ``(N, H, W, C)`` to ``size = (height, width)``.

    ``crop_to_aspect_ratio`` takes the largest centred crop of the target aspect
    ratio first; ``pad_to_aspect_ratio`` pads to it with ``fill_value`` instead.
    Differentiable with respect to ``images``.

    Examples
    --------
    >>> resize(np.ones((1, 4, 4, 3)), (2, 2)).shape
    (1, 2, 2, 3)
    """
    from ..backend import standardize_data_format

    standardize_data_format(data_format)
    size = _check(size, interpolation, antialias, crop_to_aspect_ratio, pad_to_aspect_ratio, fill_mode)
    x = as_tensor(images)
    if x.ndim not in (3, 4):
        raise ValueError("Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
                         f"Received input with shape: images.shape={x.shape}")
    batch = x if x.ndim == 4 else x.reshape((1,) + x.shape)
    if x.dtype.kind != "f":
        from ..backend import floatx

        batch = Tensor._constant(batch.data.astype(floatx()))
    height, width = batch.shape[1:3]
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        top, left, box_h, box_w = _aspect_box(height, width, size, crop_to_aspect_ratio)
        if crop_to_aspect_ratio:
            batch = batch[:, top:top + box_h, left:left + box_w, :]
        else:
            from .resize import pad

            widths = ((0, 0), (top, box_h - height - top), (left, box_w - width - left), (0, 0))
            batch = pad(batch, widths, constant_values=fill_value)
    out = _resample(batch, size, interpolation)
    return out if x.ndim == 4 else out.reshape(out.shape[1:])



def rgb_to_grayscale(images, data_format=None) -> Tensor:
    """Luma ``0.2989 R + 0.5870 G + 0.1140 B``, keeping a channel axis of size 1 (as Keras)."""
    from ..backend import standardize_data_format
    from .linalg import tensordot

    standardize_data_format(data_format)
    x = as_tensor(images)
    if x.ndim not in (3, 4) or x.shape[-1] != 3:
        raise ValueError(f"`rgb_to_grayscale` needs RGB images of rank 3 or 4 with 3 channels last. "
                         f"Received: images.shape={x.shape}")
    weights = np.array([0.2989, 0.5870, 0.1140], dtype=x.dtype if x.dtype.kind == "f" else np.float32)
    gray = tensordot(x, weights, axes=([-1], [0]))
    return gray.reshape(gray.shape + (1,))


from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), __all__)
