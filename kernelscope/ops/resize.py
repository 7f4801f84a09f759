"""Differentiable padding, cropping and upsampling (Keras ``ZeroPadding2D``,
``Cropping2D``, ``UpSampling2D``)."""

from __future__ import annotations

import numbers

from .._checks import check_allocation, check_ndim, normalize_tuple
from ..autograd import Tensor, as_tensor, make_result
from ..kernels import resize as K

__all__ = ["pad", "zero_pad2d", "crop2d", "upsample2d"]

_LAYOUT = "(batch, height, width, channels)"
_INTERPOLATIONS = ("nearest", "bilinear")


def _is_count(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0


def _is_pair(v) -> bool:
    return isinstance(v, (tuple, list)) and len(v) == 2 and all(_is_count(i) for i in v)


def _pad_width(pad_width, ndim: int) -> tuple:
    """NumPy-style pad_width -> one (before, after) pair per axis."""
    if _is_count(pad_width):
        return ((int(pad_width),) * 2,) * ndim
    if _is_pair(pad_width):
        return (tuple(int(v) for v in pad_width),) * ndim
    if isinstance(pad_width, (tuple, list)) and len(pad_width) in (1, ndim) and all(map(_is_pair, pad_width)):
        pairs = tuple(tuple(int(v) for v in p) for p in pad_width)
        return pairs * ndim if len(pairs) == 1 else pairs
    raise ValueError(f"`pad_width` must be a non-negative int, a (before, after) pair, or one "
                     f"(before, after) pair per axis ({ndim} for this input). Received: pad_width={pad_width!r}.")


def _pairs_2d(value, name: str) -> tuple:
    """Keras's int / (h, w) / ((top, bottom), (left, right)) -> ((top, bottom), (left, right))."""
    if _is_count(value):
        return ((int(value),) * 2,) * 2
    if _is_pair(value):
        return ((int(value[0]),) * 2, (int(value[1]),) * 2)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(map(_is_pair, value)):
        return tuple(tuple(int(v) for v in p) for p in value)
    raise ValueError(f"`{name}` must be a non-negative int, a pair (symmetric_height, symmetric_width) "
                     f"or ((top, bottom), (left, right)). Received: {name}={value!r}.")


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(x, pad_width, mode: str = "constant", constant_values=None) -> Tensor:
    """Pad NumPy style (``np.pad``), as ``keras.ops.pad``.

    ``pad_width`` is an int, one (before, after) pair for every axis, or one pair per axis.
    ``mode`` is "constant" (with ``constant_values``, default 0), "edge", "reflect",
    "symmetric" or "wrap"; NumPy's statistical modes ("mean", "linear_ramp"...) are refused.

    Examples
    --------
    >>> pad([[1.0, 2.0]], ((0, 0), (1, 1))).numpy()
    array([[0., 1., 2., 0.]], dtype=float32)
    """
    x = as_tensor(x)
    widths = _pad_width(pad_width, x.ndim)
    if mode not in _PAD_MODES:
        raise ValueError(f"`mode` must be one of {_PAD_MODES}. Received: mode={mode!r}.")
    if mode != "constant":
        if constant_values is not None:
            raise ValueError("Argument `constant_values` can only be provided when `mode == 'constant'`. "
                             f"Received: mode={mode!r}.")
        from .shapes import pad_with_mode

        return pad_with_mode(x, widths, mode)
    check_allocation([n + sum(p) for n, p in zip(x.shape, widths)], "pad_width", pad_width,
                     f"a padded output (input shape {tuple(x.shape)})", input_shape=x.shape)
    value = 0.0 if constant_values is None else constant_values
    y = K.pad_forward(x.data, widths, value)
    shape = x.shape
    return make_result(y, (x,), lambda g: (K.pad_backward(g, widths, shape),))


def zero_pad2d(x, padding=1) -> Tensor:
    """Zero rows and columns around each NHWC image (Keras ``ZeroPadding2D``).

    ``padding`` is an int, ``(symmetric_height, symmetric_width)`` or
    ``((top, bottom), (left, right))``.
    """
    x = as_tensor(x)
    check_ndim(x, 4, "x", _LAYOUT)
    (top, bottom), (left, right) = _pairs_2d(padding, "padding")
    n, h, w, c = x.shape
    check_allocation((n, h + top + bottom, w + left + right, c), "padding", padding,
                     f"a padded output (input shape {tuple(x.shape)})", input_shape=x.shape)
    return pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))


def crop2d(x, cropping=0) -> Tensor:
    """Remove rows and columns at the borders of each NHWC image (Keras ``Cropping2D``).

    ``cropping`` takes the same forms as ``zero_pad2d``'s ``padding``.
    """
    x = as_tensor(x)
    check_ndim(x, 4, "x", _LAYOUT)
    cropping = _pairs_2d(cropping, "cropping")
    if any(sum(c) >= n for c, n in zip(cropping, x.shape[1:3])):
        raise ValueError(f"`cropping` must leave at least one row and one column: it removes "
                         f"{tuple(sum(c) for c in cropping)} (rows, columns) from an input of height and "
                         f"width {tuple(x.shape[1:3])}. Received: cropping={cropping!r}.")
    y = K.crop2d_forward(x.data, cropping)
    return make_result(y, (x,), lambda g: (K.crop2d_backward(g, cropping),))


def upsample2d(x, size=2, interpolation: str = "nearest") -> Tensor:
    """Enlarge each NHWC image by integer factors (Keras ``UpSampling2D``).

    Parameters
    ----------
    x : Tensor or array_like, shape (N, H, W, C)
    size : int or tuple of 2 ints
        Factors (sh, sw); the output is (N, H * sh, W * sw, C).
    interpolation : {"nearest", "bilinear"}
        "nearest" repeats rows and columns; "bilinear" matches ``tf.image.resize``
        (half-pixel centres), i.e. PyTorch's ``interpolate(align_corners=False)``.
    """
    x = as_tensor(x)
    check_ndim(x, 4, "x", _LAYOUT)
    size = normalize_tuple(size, 2, "size")
    n, h, w, c = x.shape
    check_allocation((n, h * size[0], w * size[1], c), "size", size,
                     f"an upsampled output (input shape {tuple(x.shape)})", input_shape=x.shape)
    mode = interpolation.lower() if isinstance(interpolation, str) else None
    if mode not in _INTERPOLATIONS:
        raise ValueError(f"`interpolation` must be one of {_INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation!r}.")
    if mode == "nearest":
        forward, backward = K.upsample_nearest_forward, K.upsample_nearest_backward
    else:
        forward, backward = K.upsample_bilinear_forward, K.upsample_bilinear_backward
    return make_result(forward(x.data, size), (x,), lambda g: (backward(g, size),))


from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), __all__)
