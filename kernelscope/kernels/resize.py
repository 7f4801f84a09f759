"""Constant padding, cropping and upsampling kernels.

Bilinear upsampling samples the input at half-pixel centres, as
``tf.image.resize(method="bilinear")`` (what Keras 3's ``UpSampling2D`` calls) and
``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)`` do:
output row ``o`` reads input coordinate ``(o + 0.5) / scale - 0.5``, clamped to the
edge. Each axis is resampled on its own (the filter is separable).
"""

# N batch, H/W height/width, C channels, sh/sw upsampling factors

from __future__ import annotations

import numpy as np

__all__ = [
    "pad_forward",
    "pad_backward",
    "crop2d_forward",
    "crop2d_backward",
    "upsample_nearest_forward",
    "upsample_nearest_backward",
    "upsample_bilinear_forward",
    "upsample_bilinear_backward",
]


def _unpad_index(pad_width: tuple, shape: tuple) -> tuple:
    return tuple(slice(before, before + n) for (before, _), n in zip(pad_width, shape))


# ------------------------------------------------------------ pad and crop
def pad_forward(x: np.ndarray, pad_width: tuple, value: float = 0.0) -> np.ndarray:
    """Constant padding; ``pad_width`` holds one (before, after) pair per axis."""
    return np.pad(x, pad_width, constant_values=value)


def pad_backward(dy: np.ndarray, pad_width: tuple, x_shape: tuple) -> np.ndarray:
    return dy[_unpad_index(pad_width, x_shape)]


def crop2d_forward(x: np.ndarray, cropping: tuple) -> np.ndarray:
    """Remove ``((top, bottom), (left, right))`` rows and columns of an NHWC array (a view)."""
    (top, bottom), (left, right) = cropping
    return x[:, top:x.shape[1] - bottom, left:x.shape[2] - right]


def crop2d_backward(dy: np.ndarray, cropping: tuple) -> np.ndarray:
    return np.pad(dy, ((0, 0), *cropping, (0, 0)))


# ---------------------------------------------------------------- nearest
def upsample_nearest_forward(x: np.ndarray, size: tuple) -> np.ndarray:
    """Repeat every row ``sh`` times and every column ``sw`` times."""
    n, h, w, c = x.shape
    sh, sw = size
    return np.broadcast_to(x[:, :, None, :, None, :], (n, h, sh, w, sw, c)).reshape(n, h * sh, w * sw, c)


def upsample_nearest_backward(dy: np.ndarray, size: tuple) -> np.ndarray:
    n, ho, wo, c = dy.shape
    sh, sw = size
    return dy.reshape(n, ho // sh, sh, wo // sw, sw, c).sum(axis=(2, 4))


# --------------------------------------------------------------- bilinear
# For an integer factor s, output o = i*s + r reads input coordinate i + d_r with
# d_r = (2r + 1 - s) / (2s) in (-0.5, 0.5): each phase r blends cell i with its
# next (d_r > 0) or previous (d_r < 0) neighbour by |d_r|. At the borders the
# neighbour is the cell itself, which is the edge clamping of the half-pixel rule.
# Looping over the s phases keeps every read and write a strided slice.
def _phase_offsets(scale: int) -> list:
    return [(2 * r + 1 - scale) / (2 * scale) for r in range(scale)]


def _along(axis: int, ndim: int, index: slice) -> tuple:
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


def _resample(x: np.ndarray, axis: int, scale: int) -> np.ndarray:
    shape = list(x.shape)
    shape[axis] *= scale
    out = np.empty(shape, dtype=x.dtype)
    step = np.diff(x, axis=axis)  # x[i + 1] - x[i]
    head, tail = _along(axis, x.ndim, slice(None, -1)), _along(axis, x.ndim, slice(1, None))
    for r, d in enumerate(_phase_offsets(scale)):
        phase = out[_along(axis, x.ndim, slice(r, None, scale))]
        phase[...] = x
        if d > 0:
            phase[head] += x.dtype.type(d) * step
        elif d < 0:
            phase[tail] -= x.dtype.type(-d) * step
    return out


def _resample_backward(g: np.ndarray, axis: int, scale: int) -> np.ndarray:
    shape = list(g.shape)
    shape[axis] //= scale
    dx = np.zeros(shape, dtype=g.dtype)
    shape[axis] -= 1
    dstep = np.zeros(shape, dtype=g.dtype)
    head, tail = _along(axis, g.ndim, slice(None, -1)), _along(axis, g.ndim, slice(1, None))
    for r, d in enumerate(_phase_offsets(scale)):
        phase = g[_along(axis, g.ndim, slice(r, None, scale))]
        dx += phase
        if d > 0:
            dstep += g.dtype.type(d) * phase[head]
        elif d < 0:
            dstep -= g.dtype.type(-d) * phase[tail]
    dx[tail] += dstep  # adjoint of step = x[1:] - x[:-1]
    dx[head] -= dstep
    return dx


def upsample_bilinear_forward(x: np.ndarray, size: tuple) -> np.ndarray:
    """Bilinear resize of an NHWC array to (H * sh, W * sw), half-pixel centres."""
    return _resample(_resample(x, 1, size[0]), 2, size[1])


def upsample_bilinear_backward(dy: np.ndarray, size: tuple) -> np.ndarray:
    return _resample_backward(_resample_backward(dy, 2, size[1]), 1, size[0])
