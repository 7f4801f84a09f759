"""Convolution kernels: pure NumPy forward/backward pairs on NHWC arrays.

# N batch, H/W height/width, C channels, F filters, G groups, kh/kw kernel size,
# Ho/Wo output size, M = N*Ho*Wo output pixels, K = kh*kw*C//G receptive-field length.

Every function here takes explicit, already-validated arguments: ``strides``,
``dilation`` are pairs of ints, ``pads`` is ``((top, bottom), (left, right))``.
Argument checking lives in :mod:`kernelscope.ops.conv`.

How the work is laid out (alternatives timed on x=(64, 32, 32, 32), kernel 3x3x32x64,
"same", float32, 2 cores, OpenBLAS):

- forward: im2col (one copy of every receptive field into a contiguous (G, M, K)
  buffer) then one GEMM per group. 1x1 stride-1 unpadded kernels skip the copy.
  Nine per-offset GEMMs accumulating into the output were ~2.3x slower (K=C is
  too short for BLAS and every offset re-reads and re-writes the output).
- dW: cols^T @ dy, reusing the forward's cols.
- dX: one GEMM per kernel offset, dy @ W[i, j]^T, added into a strided slice of
  the padded input gradient. Materialising all of dy @ W^T first (classic
  col2im) was ~1.5x slower: it writes and re-reads a buffer kh*kw times the
  input's size.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "pad_or_crop",
    "im2col",
    "col2im_gemm",
    "conv2d_forward",
    "conv2d_backward",
    "depthwise_conv2d_forward",
    "depthwise_conv2d_backward",
    "conv2d_transpose_forward",
    "conv2d_transpose_backward",
]


def _span(k: int, d: int) -> int:
    """Extent of a dilated kernel: d*(k-1) + 1."""
    return d * (k - 1) + 1


def _offset_slice(i: int, d: int, s: int, n_out: int) -> slice:
    """Input rows touched by kernel row ``i`` over all ``n_out`` output rows."""
    return slice(i * d, i * d + s * (n_out - 1) + 1, s)


def pad_or_crop(x: np.ndarray, pads) -> np.ndarray:
    """Zero-pad H and W of an NHWC array by ``((top, bottom), (left, right))``; negative entries crop."""
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return x
    n, h, w, c = x.shape
    source = x[:, max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
    out = np.zeros((n, h + top + bottom, w + left + right, c), dtype=x.dtype)
    t, l = max(top, 0), max(left, 0)
    out[:, t:t + source.shape[1], l:l + source.shape[2]] = source
    return out


def _windows(xp: np.ndarray, kernel_hw, strides, dilation, out_hw) -> np.ndarray:
    """Read-only view (N, Ho, Wo, kh, kw, C) of every receptive field; nothing is copied."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel_hw, strides, dilation, out_hw
    view = sliding_window_view(xp, (_span(kh, dh), _span(kw, dw)), axis=(1, 2))
    view = view[:, :sh * (ho - 1) + 1:sh, :sw * (wo - 1) + 1:sw, :, ::dh, ::dw]
    return view.transpose(0, 1, 2, 4, 5, 3)


def im2col(xp: np.ndarray, kernel_hw, strides, dilation, out_hw, groups: int = 1) -> np.ndarray:
    """Copy every receptive field of the padded input once: (G, M, K), rows in (kh, kw, C//G) order."""
    windows = _windows(xp, kernel_hw, strides, dilation, out_hw)
    n, ho, wo, kh, kw, c = windows.shape
    split = windows.reshape(n, ho, wo, kh, kw, groups, c // groups)
    cols = np.empty((groups, n, ho, wo, kh, kw, c // groups), dtype=xp.dtype)
    np.copyto(cols, split.transpose(5, 0, 1, 2, 3, 4, 6))
    return cols.reshape(groups, n * ho * wo, kh * kw * (c // groups))


def _grouped(a2d: np.ndarray, groups: int) -> np.ndarray:
    """(M, G*X) -> strided view (G, M, X): each group's columns as one matrix."""
    return a2d.reshape(a2d.shape[0], groups, -1).transpose(1, 0, 2)


def _output_hw(padded_hw, kernel_hw, strides, dilation) -> tuple:
    return tuple((n - _span(k, d)) // s + 1 for n, k, s, d in zip(padded_hw, kernel_hw, strides, dilation))


def conv2d_forward(x: np.ndarray, kernel: np.ndarray, strides=(1, 1), pads=((0, 0), (0, 0)),
                   dilation=(1, 1), groups: int = 1) -> tuple:
    """Cross-correlate NHWC ``x`` with a (kh, kw, C//G, F) ``kernel``; return ``(y, cache)``.

    ``y`` has shape (N, Ho, Wo, F); ``cache`` holds the im2col buffer for ``conv2d_backward``.
    """
    kh, kw, cg, f = kernel.shape
    xp = pad_or_crop(x, pads)
    n = xp.shape[0]
    ho, wo = _output_hw(xp.shape[1:3], (kh, kw), strides, dilation)
    if kh == kw == 1 and tuple(strides) == (1, 1) and xp is x:
        cols = _grouped(x.reshape(n * ho * wo, groups * cg), groups)  # pointwise: no im2col copy
    else:
        cols = im2col(xp, (kh, kw), strides, dilation, (ho, wo), groups)
    y = np.matmul(cols, _grouped(kernel.reshape(kh * kw * cg, f), groups))  # (G, M, F//G)
    y = y[0] if groups == 1 else y.transpose(1, 0, 2)
    cache = {"cols": cols, "kernel": kernel, "x_shape": x.shape, "pads": pads,
             "strides": tuple(strides), "dilation": tuple(dilation), "groups": groups}
    return y.reshape(n, ho, wo, f), cache


def col2im_gemm(dy: np.ndarray, kernel: np.ndarray, padded_shape, strides, dilation,
                groups: int = 1) -> np.ndarray:
    """Gradient of a convolution w.r.t. its padded input: sum over offsets of dy @ W[i, j]^T.

    One GEMM per kernel offset, added into a strided slice of the (padded_shape) result;
    this is also the forward pass of the transposed convolution.
    """
    n, ho, wo, f = dy.shape
    kh, kw, cg, _ = kernel.shape
    dy_g = _grouped(dy.reshape(n * ho * wo, f), groups)  # (G, M, F//G)
    kernel_t = kernel.reshape(kh, kw, cg, groups, f // groups).transpose(0, 1, 3, 4, 2)
    dtype = np.result_type(dy, kernel)
    dxp = np.zeros(padded_shape, dtype=dtype)
    part = np.empty((groups, n * ho * wo, cg), dtype=dtype)  # reused: one allocation, not kh*kw
    for i in range(kh):
        rows = _offset_slice(i, dilation[0], strides[0], ho)
        for j in range(kw):
            np.matmul(dy_g, kernel_t[i, j], out=part)
            target = dxp[:, rows, _offset_slice(j, dilation[1], strides[1], wo)]
            target = target.reshape(n, ho, wo, groups, cg)  # splitting the last axis stays a view
            target += part.reshape(groups, n, ho, wo, cg).transpose(1, 2, 3, 0, 4)
    return dxp


def conv2d_backward(dy: np.ndarray, cache: dict, need_dx: bool = True, need_dw: bool = True) -> tuple:
    """Gradients ``(dx, dw)`` of ``conv2d_forward``; an entry is None when not asked for."""
    kernel, groups = cache["kernel"], cache["groups"]
    n, ho, wo, f = dy.shape
    dx = dw = None
    if need_dw:
        dy_g = _grouped(dy.reshape(n * ho * wo, f), groups)
        dw_g = np.matmul(cache["cols"].transpose(0, 2, 1), dy_g)  # (G, K, F//G)
        dw = dw_g.transpose(1, 0, 2).reshape(kernel.shape)
    if need_dx:
        (top, bottom), (left, right) = cache["pads"]
        _, h, w, c = cache["x_shape"]
        padded = (n, h + top + bottom, w + left + right, c)
        dxp = col2im_gemm(dy, kernel, padded, cache["strides"], cache["dilation"], groups)
        dx = dxp[:, top:top + h, left:left + w]
    return dx, dw


def depthwise_conv2d_forward(x: np.ndarray, kernel: np.ndarray, strides=(1, 1),
                             pads=((0, 0), (0, 0)), dilation=(1, 1)) -> tuple:
    """Depthwise convolution with a (kh, kw, C, multiplier) kernel; output channel c*multiplier + m.

    Each channel has its own K-long filter, far too small for BLAS, so this loops over the
    kh*kw offsets with broadcast multiply-adds instead of a GEMM.
    """
    kh, kw, c, m = kernel.shape
    xp = pad_or_crop(x, pads)
    n = xp.shape[0]
    ho, wo = _output_hw(xp.shape[1:3], (kh, kw), strides, dilation)
    windows = _windows(xp, (kh, kw), strides, dilation, (ho, wo))
    dtype = np.result_type(x, kernel)
    y = np.empty((n, ho, wo, c, m), dtype=dtype)
    product = np.empty_like(y)
    for index, (i, j) in enumerate(np.ndindex(kh, kw)):
        np.multiply(windows[:, :, :, i, j, :, None], kernel[i, j], out=product if index else y)
        if index:
            y += product
    cache = {"xp": xp, "kernel": kernel, "x_shape": x.shape, "pads": pads,
             "strides": tuple(strides), "dilation": tuple(dilation)}
    return y.reshape(n, ho, wo, c * m), cache


def depthwise_conv2d_backward(dy: np.ndarray, cache: dict, need_dx: bool = True,
                              need_dw: bool = True) -> tuple:
    """Gradients ``(dx, dw)`` of ``depthwise_conv2d_forward``."""
    kernel, xp = cache["kernel"], cache["xp"]
    strides, dilation = cache["strides"], cache["dilation"]
    kh, kw, c, m = kernel.shape
    n, ho, wo, _ = dy.shape
    dy5 = dy.reshape(n, ho, wo, c, m)
    dx = dw = None
    if need_dw:
        windows = _windows(xp, (kh, kw), strides, dilation, (ho, wo))
        dw = np.empty(kernel.shape, dtype=np.result_type(dy, xp))
        for i, j in np.ndindex(kh, kw):
            dw[i, j] = np.einsum("nhwc,nhwcm->cm", windows[:, :, :, i, j], dy5)
    if need_dx:
        (top, bottom), (left, right) = cache["pads"]
        _, h, w, _ = cache["x_shape"]
        dxp = np.zeros((n, h + top + bottom, w + left + right, c), dtype=np.result_type(dy, kernel))
        for i, j in np.ndindex(kh, kw):
            rows = _offset_slice(i, dilation[0], strides[0], ho)
            cols = _offset_slice(j, dilation[1], strides[1], wo)
            if m == 1:
                dxp[:, rows, cols] += dy5[..., 0] * kernel[i, j, :, 0]
            else:
                dxp[:, rows, cols] += np.einsum("nhwcm,cm->nhwc", dy5, kernel[i, j])
        dx = dxp[:, top:top + h, left:left + w]
    return dx, dw


def conv2d_transpose_forward(x: np.ndarray, kernel: np.ndarray, strides=(1, 1),
                             crops=((0, 0), (0, 0)), dilation=(1, 1)) -> tuple:
    """Transposed convolution with a Keras (kh, kw, F, C) kernel; return ``(y, cache)``.

    The "full" result has (H-1)*s + d*(k-1) + 1 rows; ``crops`` ((top, bottom), (left, right))
    are then removed from it (a negative crop appends zero rows/columns instead).
    """
    n, h, w, _ = x.shape
    kh, kw, f, _ = kernel.shape
    full = (n, (h - 1) * strides[0] + _span(kh, dilation[0]), (w - 1) * strides[1] + _span(kw, dilation[1]), f)
    # The transposed convolution is the input-gradient of a convolution whose kernel is (kh, kw, F, C).
    y_full = col2im_gemm(x, kernel, full, strides, dilation, groups=1)
    (top, bottom), (left, right) = crops
    y = pad_or_crop(y_full, ((-top, -bottom), (-left, -right)))
    cache = {"x": x, "kernel": kernel, "crops": crops, "strides": tuple(strides), "dilation": tuple(dilation)}
    return y, cache


def conv2d_transpose_backward(dy: np.ndarray, cache: dict, need_dx: bool = True,
                              need_dw: bool = True) -> tuple:
    """Gradients ``(dx, dw)`` of ``conv2d_transpose_forward``: a plain convolution of ``dy``."""
    x, kernel = cache["x"], cache["kernel"]
    n, h, w, c = x.shape
    kh, kw, _, _ = kernel.shape
    dy_full = pad_or_crop(dy, cache["crops"])
    cols = im2col(dy_full, (kh, kw), cache["strides"], cache["dilation"], (h, w))[0]  # (M, kh*kw*F)
    dx = dw = None
    if need_dx:
        dx = (cols @ kernel.reshape(-1, c)).reshape(n, h, w, c)
    if need_dw:
        dw = (cols.T @ x.reshape(n * h * w, c)).reshape(kernel.shape)
    return dx, dw
