"""Convolution kernels: pure NumPy forward/backward pairs on NHWC arrays.

# N batch, H/W height/width, C channels, F filters, G groups, kh/kw kernel size,
# Ho/Wo output size, M = N*Ho*Wo output pixels, K = kh*kw*C//G receptive-field length.

Every function here takes explicit, already-validated arguments: ``strides``,
``dilation`` are pairs of ints, ``pads`` is ``((top, bottom), (left, right))``.
Argument checking lives in :mod:`kernelscope.ops.conv`.

How the work is laid out (why each choice was made; the timings behind them are in
benchmarks/PERF_NOTES.md, where they can be re-measured):

- forward: im2col (one copy of every receptive field into a contiguous (G, M, K)
  buffer) then one GEMM per group. 1x1 stride-1 unpadded kernels skip the copy.
  Per-offset GEMMs accumulating into the output lose: K=C is too short for BLAS
  and every offset re-reads and re-writes the output. The im2col buffer comes
  from :mod:`kernelscope._runtime.buffers` and goes back there once the backward
  pass has used it: a fresh large array page-faults on first touch. On the fast path
  the compiled im2col applies the zero padding while it copies (``_lazy_pad``; the
  cache's ``xp_pads``), so no padded copy of the input (or of dy, for the full
  convolution below) is made or held; it runs for every one-group convolution, padded or not
  (1.05-1.7x NumPy's copy on one core, benchmarks/PERF_NOTES.md).
- dW: cols^T @ dy, the columns recomputed chunk by chunk into a buffer that stays
  in cache, rather than held from the forward to the backward pass.
- dX, stride 1, F <= C: the input gradient of a stride-1 convolution is a "full"
  convolution of dy with the kernel flipped in space and with C and F swapped,
  so it reuses the forward path: one im2col of dy and one GEMM (on the fast path the direct
  one-channel loop or Winograd below, where they apply).
- dX otherwise (F > C, strides > 1, groups > 1): one GEMM per kernel offset,
  dy @ W[i, j]^T, added into a strided slice of the padded input gradient
  (``col2im_gemm``): with F > C the im2col of dy (kh*kw*F wide) outweighs the
  adds of C-wide slices, and materialising all of dy @ W^T first (classic
  col2im) writes and re-reads a buffer kh*kw times the input's size.
- dX on the fast path (numba), where the per-offset GEMMs would run (F > C or strides > 1,
  groups = 1): classic col2im after all, since a compiled loop makes it one pass: dy @ W^T as
  one wide GEMM (N = kh*kw*C) per chunk of samples into a pooled buffer, then each input pixel
  gathers its terms (``loops.col2im``), already cropped. On one core 1.25-1.4x faster than the
  per-offset GEMMs, with the same products added in the same order (equal to rounding: BLAS
  may round a dot product of the wide GEMM differently); against the full convolution
  (F <= C) it measured 0.9x, so that case keeps it (benchmarks/fast_kernels.py).
- 3x3, stride 1, undilated, ungrouped, padding 0-2, C >= 32, on the fast path: Winograd
  F(4x4, 3x3) (``_winograd_correlate``): numba input and output transforms around 36 GEMMs with
  K = C, 2.25x fewer multiplications; on one core 1.2-2.6x faster than im2col + GEMM from C = 32
  (benchmarks/winograd_probe.py). Its float32 error is 4-11e-6 of the output's largest value
  (im2col's: 5-6e-7), so it runs where no gradient depends on which cell of a max-pool window
  wins: the input gradient of a stride-1 convolution (the full convolution, which it makes the
  faster choice for F > C as well), and the forward pass when nothing records gradients
  (inference). Training's forward keeps im2col, whose columns the kernel gradient reuses.
- 3x3, stride 1, undilated, one input channel, on the fast path where rounding may differ (as for
  Winograd): a direct loop (``loops.conv3x3_one_channel``), the nine products of each pixel summed
  in registers for all filters at once, 2.2-2.5x faster than im2col + GEMM with K = 9 on one core.
  That is the forward of grayscale images' first layer at inference, and the input gradient (a
  full convolution of dy) of a stride-1 layer with one filter, such as an autoencoder's last.
- conv -> 2x2 max-pool at inference (``conv2d_max_pool_2x2_forward``, for the fused block): the
  direct loop or Winograd's output transform pools as it goes, the convolution never stored.
"""

from __future__ import annotations

import collections
import threading
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..geometry import output_hw, span as _span
from .._runtime import buffers, fast, parallel
from . import loops

__all__ = [
    "ConvCache",
    "ConvTransposeCache",
    "pad_or_crop",
    "im2col",
    "col2im_gemm",
    "add_bias_relu",
    "relu_bias_grad",
    "conv2d_forward",
    "conv2d_max_pool_2x2_forward",
    "conv2d_backward",
    "depthwise_conv2d_forward",
    "depthwise_conv2d_backward",
    "conv2d_transpose_forward",
    "conv2d_transpose_backward",
]


class ConvCache(NamedTuple):
    """What ``conv2d_backward`` and ``depthwise_conv2d_backward`` need: the padded input (the columns
    are recomputed from it). A depthwise convolution is the grouped one with ``groups`` = channels."""
    xp: np.ndarray
    kernel: np.ndarray
    x_shape: tuple
    pads: tuple
    strides: tuple
    dilation: tuple
    groups: int
    cols: object = None  # a buffers.Lease on the forward's (G, M, K) columns, kept for dW when small
    xp_pads: tuple = ((0, 0), (0, 0))  # zero padding still to apply to xp (the fast im2col pads as it copies)


class ConvTransposeCache(NamedTuple):
    """What ``conv2d_transpose_backward`` needs."""
    x: np.ndarray
    kernel: np.ndarray
    crops: tuple
    strides: tuple
    dilation: tuple


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
    out = np.empty((n, h + top + bottom, w + left + right, c), dtype=x.dtype)
    t, l = max(top, 0), max(left, 0)
    b, r = t + source.shape[1], l + source.shape[2]
    out[:, :t] = out[:, b:] = 0  # zero only the border: one pass over the array, not two
    out[:, t:b, :l] = out[:, t:b, r:] = 0
    parallel.copyto(out[:, t:b, l:r], source)
    return out


def _windows(xp: np.ndarray, kernel_hw, strides, dilation, out_hw) -> np.ndarray:
    """Read-only view (N, Ho, Wo, kh, kw, C) of every receptive field; nothing is copied."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel_hw, strides, dilation, out_hw
    view = sliding_window_view(xp, (_span(kh, dh), _span(kw, dw)), axis=(1, 2))
    view = view[:, :sh * (ho - 1) + 1:sh, :sw * (wo - 1) + 1:sw, :, ::dh, ::dw]
    return view.transpose(0, 1, 2, 4, 5, 3)


_NO_PADS = ((0, 0), (0, 0))
# The compiled im2col (one group, C-contiguous input) pads as it copies. On one core (AMD EPYC,
# benchmarks/fast_kernels.py) it runs 1.05-1.67x NumPy's pad-then-copy on the benchmark layers
# and 1.06-1.58x with C = 1-16 or unpadded, where NumPy's strided copy is cheapest.


def _lazy_pad(x: np.ndarray, pads, groups: int = 1) -> tuple:
    """``(xp, pads still to apply)``: on the fast path im2col pads while it copies, so no padded copy is
    made; otherwise (and for crops) the padded copy now."""
    pads = tuple(tuple(p) for p in pads)
    if (pads != _NO_PADS and groups == 1 and min(min(p) for p in pads) >= 0
            and x.flags.c_contiguous and fast.handles(x) and fast.compiled(loops.im2col) is not None):
        return x, pads
    return pad_or_crop(x, pads), _NO_PADS


def _padded_hw(xp: np.ndarray, pads) -> tuple:
    return xp.shape[1] + sum(pads[0]), xp.shape[2] + sum(pads[1])


def im2col(xp: np.ndarray, kernel_hw, strides, dilation, out_hw, groups: int = 1,
           out: np.ndarray | None = None, pads=_NO_PADS) -> np.ndarray:
    """Copy every receptive field of the padded input once: (G, M, K), rows in (kh, kw, C//G) order.

    ``out``, if given, is a contiguous array of G*M*K elements the columns are written into.
    ``pads`` ((top, bottom), (left, right), >= 0) is zero padding not yet applied to ``xp``.
    """
    plain = groups == 1 and xp.flags.c_contiguous and xp.size and fast.handles(xp)  # empty: NumPy's copy
    kernel = fast.compiled(loops.im2col) if plain else None
    if kernel is not None:  # one pass over the columns, reading the input in place, padding as it goes
        return _im2col_loop(kernel, xp, kernel_hw, strides, dilation, out_hw, out, pads)
    xp = pad_or_crop(xp, pads)
    windows = _windows(xp, kernel_hw, strides, dilation, out_hw)
    n, ho, wo, kh, kw, c = windows.shape
    split = windows.reshape(n, ho, wo, kh, kw, groups, c // groups)
    shape = (groups, n, ho, wo, kh, kw, c // groups)
    cols = np.empty(shape, dtype=xp.dtype) if out is None else out.reshape(shape)
    axis = 1 if n > 1 else 2  # split the copy over the cores by samples, or by output rows
    parallel.copyto(cols, split.transpose(5, 0, 1, 2, 3, 4, 6), axis=axis)
    return cols.reshape(groups, n * ho * wo, kh * kw * (c // groups))


def _im2col_loop(kernel, xp: np.ndarray, kernel_hw, strides, dilation, out_hw, out, pads) -> np.ndarray:
    n, (ho, wo), c = xp.shape[0], out_hw, xp.shape[3]
    k = kernel_hw[0] * kernel_hw[1] * c
    cols = np.empty((n * ho * wo, k), dtype=xp.dtype) if out is None else out.reshape(n * ho * wo, k)
    rows = ho * wo
    flat = xp.reshape(n, xp.shape[1], xp.shape[2] * c)  # (N, H, W*C): a view, xp is C-contiguous (N may be 0)

    def fill(part: slice) -> None:
        kernel(flat[part], c, *kernel_hw, *strides, *dilation, ho, wo, pads[0][0], pads[1][0],
               cols[part.start * rows:part.stop * rows])

    def fill_rows(part: slice) -> None:  # output rows part of the one sample: its top pad moves up
        kernel(flat, c, *kernel_hw, *strides, *dilation, part.stop - part.start, wo,
               pads[0][0] - part.start * strides[0], pads[1][0], cols[part.start * wo:part.stop * wo])

    if n == 1:  # one image (style transfer, a single prediction): split its output rows over the cores
        parallel.for_slices(fill_rows, ho, cols.nbytes)
    else:
        parallel.for_slices(fill, n, cols.nbytes)
    return cols[None]


def add_bias_relu(y: np.ndarray, bias: np.ndarray | None, relu: bool) -> None:
    """In place on an (N, ..., F) output: ``y += bias``, then ``max(y, 0)`` if ``relu``; split over the cores."""
    plain = (bias is not None and bias.dtype == y.dtype and bias.shape == y.shape[-1:] and y.flags.c_contiguous
             and y.size and fast.handles(y))  # an empty batch: nothing to loop over (and no shape to reshape to)
    kernel = fast.compiled(loops.bias_relu) if plain else None
    if kernel is not None:  # one pass instead of two
        flat = y.reshape(len(y), -1, y.shape[-1])
        parallel.for_slices(lambda part: kernel(flat[part].reshape(-1, y.shape[-1]), bias, relu), len(y), y.nbytes)
        return

    def finish(part: slice) -> None:
        if bias is not None:
            y[part] += bias
        if relu:
            np.maximum(y[part], 0, out=y[part])

    parallel.for_slices(finish, len(y), y.nbytes)


def relu_bias_grad(g: np.ndarray, y: np.ndarray, need_db: bool) -> tuple:
    """The backward of ``add_bias_relu(y, bias, relu=True)``: (g * (y > 0), its sum over all but the last axis or None).

    With the fast path, one loop makes both (bit-identical: same multiplications, rows added in
    NumPy's order; single-threaded, as NumPy's sum is, so the order never depends on the cores).
    """
    plain = (need_db and g.shape == y.shape and g.dtype == y.dtype and g.flags.c_contiguous and y.flags.c_contiguous
             and g.ndim >= 2 and g.size and fast.handles(g))
    kernel = fast.compiled(loops.relu_bias_grad) if plain else None
    g_in = np.empty_like(g)
    if kernel is not None:
        db = np.empty(g.shape[-1], dtype=g.dtype)
        kernel(g.reshape(-1, g.shape[-1]), y.reshape(-1, g.shape[-1]), g_in.reshape(-1, g.shape[-1]), db)
        return g_in, db
    parallel.for_slices(lambda part: np.multiply(g[part], y[part] > 0, out=g_in[part]), len(g), g.nbytes)
    return g_in, (g_in.sum(axis=tuple(range(g.ndim - 1))) if need_db else None)


def _grouped(a2d: np.ndarray, groups: int) -> np.ndarray:
    """(M, G*X) -> strided view (G, M, X): each group's columns as one matrix."""
    return a2d.reshape(a2d.shape[0], groups, a2d.shape[1] // groups).transpose(1, 0, 2)


def _output_hw(padded_hw, kernel_hw, strides, dilation) -> tuple:
    return output_hw(padded_hw, kernel_hw, strides, "valid", dilation)


# im2col columns of one chunk of samples. Training steps of lenet28, cifar32 and resnet-block
# took the same time (within noise) with 2 MB to 32 MB chunks or the whole batch at once;
# 8 MB keeps the peak memory close to PyTorch's.
_CHUNK_BYTES = 8 * 2**20
# Columns up to this size are made in one piece by the forward pass and kept for dW (one GEMM,
# no second im2col); larger ones are recomputed chunk by chunk in the backward pass.
_KEEP_COLS_BYTES = 16 * 2**20


# dX as a full convolution when F <= this * C, else as per-offset GEMMs (see the module docstring).
_FULL_CONV_MAX_RATIO = 1


def _sample_chunks(n: int, bytes_per_sample: int) -> list:
    """Slices of the batch axis, each holding about ``_CHUNK_BYTES`` of im2col columns."""
    parts = -(-n // max(1, _CHUNK_BYTES // max(bytes_per_sample, 1)))  # equal sizes: no 1-sample tail
    return [slice(n * i // parts, n * (i + 1) // parts) for i in range(parts)]


def _chunks_with_buffer(n: int, elements_per_sample: int, dtype) -> tuple:
    """``(chunks, lease)``: :func:`_sample_chunks` and one pooled buffer that holds the largest chunk."""
    dtype = np.dtype(dtype)
    chunks = _sample_chunks(n, elements_per_sample * dtype.itemsize)
    largest = max((part.stop - part.start for part in chunks), default=0)  # an empty batch has no chunks
    return chunks, buffers.lease(largest * elements_per_sample, dtype)


def _is_pointwise(kernel_hw, strides, pads) -> bool:
    """1x1, stride 1, unpadded: the input pixels already are the im2col rows."""
    return tuple(kernel_hw) == (1, 1) and tuple(strides) == (1, 1) and not any(any(p) for p in pads)


def _chunked_cols(xp: np.ndarray, kernel_hw, strides, dilation, out_hw, groups: int, pads=_NO_PADS):
    """Yield ``(samples, cols)``: the (G, m, K) im2col columns of each chunk of samples.

    Every chunk is copied into the same pooled buffer, so a chunk's ``cols`` is only
    valid until the next one is produced.
    """
    n, c = xp.shape[0], xp.shape[3]
    rows, k = out_hw[0] * out_hw[1], kernel_hw[0] * kernel_hw[1] * (c // groups)
    chunks, held = _chunks_with_buffer(n, groups * rows * k, xp.dtype)
    for samples in chunks:
        size = groups * (samples.stop - samples.start) * rows * k
        yield samples, im2col(xp[samples], kernel_hw, strides, dilation, out_hw, groups, held.array[:size], pads)


def _correlate(xp: np.ndarray, kernel: np.ndarray, strides, dilation, out_hw, groups: int,
               keep_cols: bool = False, pads=_NO_PADS, free_rounding: bool = False,
               reuse_kernel: bool = True) -> tuple:
    """(N, Ho, Wo, F) cross-correlation of ``xp`` padded by ``pads``: im2col @ kernel, chunk by chunk,
    or with ``free_rounding`` (and not ``keep_cols``) by the direct one-channel loop or Winograd
    F(4x4, 3x3) where they apply (they round differently from im2col + GEMM).

    Returns ``(y, kept)``: with ``keep_cols`` and columns of at most ``_KEEP_COLS_BYTES``, they are
    made in one piece and ``kept`` is the lease holding them (for the kernel gradient), else None.
    """
    if free_rounding and not keep_cols:
        y = _reassociated_correlate(xp, kernel, strides, dilation, groups, pads, out_hw, False, reuse_kernel)
        if y is not None:
            return y, None
    kh, kw, cg, f = kernel.shape
    n, (ho, wo) = xp.shape[0], out_hw
    w_g = _grouped(kernel.reshape(kh * kw * cg, f), groups)  # (G, K, F//G)
    if _is_pointwise((kh, kw), strides, pads):
        y = np.matmul(_grouped(xp.reshape(-1, groups * cg), groups), w_g)
        return (y[0] if groups == 1 else y.transpose(1, 0, 2)).reshape(n, ho, wo, f), None
    y = np.empty((n, ho * wo, groups, f // groups), dtype=np.result_type(xp, kernel))
    size = n * ho * wo * kh * kw * cg * groups
    kept = buffers.lease(size, xp.dtype) if keep_cols and size * xp.itemsize <= _KEEP_COLS_BYTES else None
    chunks = ([(slice(0, n), im2col(xp, (kh, kw), strides, dilation, out_hw, groups, kept.array, pads))]
              if kept is not None else _chunked_cols(xp, (kh, kw), strides, dilation, out_hw, groups, pads))
    for samples, cols in chunks:
        out = y[samples].reshape(-1, groups, f // groups)  # a view: whole samples are contiguous
        if groups == 1:
            np.matmul(cols[0], w_g[0], out=out[:, 0])
        else:
            np.matmul(cols, w_g, out=out.transpose(1, 0, 2))
    return y.reshape(n, ho, wo, f), kept


def _reassociated_correlate(xp: np.ndarray, kernel: np.ndarray, strides, dilation, groups: int, pads, out_hw,
                            pooled: bool, reuse_kernel: bool = True) -> np.ndarray | None:
    """The correlation (or with ``pooled`` its 2x2 max-pool) by an algorithm that rounds differently
    from im2col + GEMM, where one takes it: the direct one-channel loop, else Winograd; else None."""
    if not _loop_dtypes(xp, kernel):
        return None
    direct = _one_channel_loop(loops.conv3x3_one_channel_max_pool if pooled else loops.conv3x3_one_channel,
                               kernel.shape, strides, dilation, groups)
    if direct is not None:
        return _direct_correlate(direct, xp, kernel, pads, out_hw, pooled)
    transforms = _winograd_kernels(kernel.shape, strides, dilation, groups, pads, out_hw, pooled)
    if transforms is not None:
        return _winograd_correlate(transforms, xp, kernel, pads, out_hw, reuse_kernel, pooled)
    return None


def _one_channel_loop(fn, kernel_shape, strides, dilation, groups: int):
    """Compiled ``fn`` (``loops.conv3x3_one_channel`` or its max-pool variant) if it takes a correlation
    with this (kh, kw, C, F) kernel and geometry: 3x3 on one input channel, stride 1, undilated,
    ungrouped (its dtypes checked by ``_loop_dtypes``); else None. Any pads or crops: the caller
    applies them first."""
    if not (tuple(kernel_shape[:3]) == (3, 3, 1) and tuple(strides) == (1, 1) and tuple(dilation) == (1, 1)
            and groups == 1):
        return None
    return fast.compiled(fn)


def _direct_correlate(loop, xp: np.ndarray, kernel: np.ndarray, pads, out_hw, pooled: bool) -> np.ndarray:
    """Run a direct one-channel ``loop`` over the samples, split over the cores (one image runs on one
    core): the correlation (N, Ho, Wo, F), or with ``pooled`` its 2x2 max-pool (N, Ho // 2, Wo // 2, F)."""
    xp = np.ascontiguousarray(pad_or_crop(xp, pads))  # pads or crops; one channel: 1/F of the output's size
    kernel = np.ascontiguousarray(kernel)
    n, f, (ho, wo) = xp.shape[0], kernel.shape[3], out_hw
    y = np.empty((n, ho // 2, wo // 2, f) if pooled else (n, ho, wo, f), dtype=xp.dtype)
    parallel.for_slices(lambda part: loop(xp[part], kernel, y[part]), n, n * ho * wo * f * xp.itemsize)
    return y


def conv2d_max_pool_2x2_forward(x: np.ndarray, kernel: np.ndarray, strides=(1, 1), pads=_NO_PADS,
                                dilation=(1, 1), groups: int = 1) -> np.ndarray | None:
    """The 2x2, stride-2 max-pool of the correlation, pooled as it is computed, where the direct
    one-channel loop or Winograd takes the convolution (else None: the caller convolves, then pools).

    For inference only: their sums round differently from im2col + GEMM, which can move a window's
    winner, and nothing is kept for a backward pass.
    """
    out_hw = _output_hw(_padded_hw(x, pads), kernel.shape[:2], strides, dilation)
    if min(out_hw) < 2:
        return None
    return _reassociated_correlate(x, kernel, strides, dilation, groups, pads, out_hw, True)


# Winograd F(4x4, 3x3)'s kernel transform G (Lavin and Gray, 2016); the input and output ones are
# written out in loops.winograd_input / winograd_output.
_WINOGRAD_G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
                        [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])
# From this many input channels Winograd measured faster than im2col + GEMM (1.24x at C = 32, 1.6-2.6x
# at 64-128, one core); below it the 36 GEMMs with K = C are too short for BLAS.
_WINOGRAD_MIN_CHANNELS = 32
# And where at least this share of its 4x4 output tiles' pixels are kept: lenet28's 13x13 input gradient
# (66%) took 0.76x the time of the gather, its 11x11 forward (84%) 1.17x that of im2col.
_WINOGRAD_MIN_TILE_USE = 0.75


def _loop_dtypes(data: np.ndarray, kernel: np.ndarray) -> bool:
    """Whether the Winograd transforms and the direct loops take these arrays: one dtype, and one the
    loop kernels handle."""
    return data.dtype == kernel.dtype and fast.handles(data)


def _winograd_kernels(kernel_shape, strides, dilation, groups: int, pads, out_hw, pooled: bool = False):
    """``(input, output)`` compiled Winograd transforms if a correlation with this (kh, kw, C, F) kernel,
    this geometry and output size can take them (its dtypes checked by ``_loop_dtypes``), else None.
    With ``pooled`` the output transform is the one that max-pools 2x2 as it goes."""
    tiles = -(-out_hw[0] // 4) * -(-out_hw[1] // 4)
    if not (fast.winograd_enabled() and tuple(kernel_shape[:2]) == (3, 3) and tuple(strides) == (1, 1)
            and tuple(dilation) == (1, 1) and groups == 1 and kernel_shape[2] >= _WINOGRAD_MIN_CHANNELS
            and out_hw[0] * out_hw[1] >= _WINOGRAD_MIN_TILE_USE * 16 * tiles
            and all(0 <= p <= 2 for pair in pads for p in pair)):
        return None
    output = loops.winograd_output_max_pool if pooled else loops.winograd_output
    transforms = fast.compiled(loops.winograd_input), fast.compiled(output)
    return None if None in transforms else transforms


# Transformed kernels of recent calls: predict's batches (and both batch-split workers) reuse their
# layers' kernels, and the transform took 0.15-0.9 ms a call (C = 32-128), the comparison that
# proves a kernel unchanged 5-20 us. Keyed by address, shape and dtype, checked bit for bit; the
# least recently used go first once the entries (a copy of the kernel and U, 5x its size) pass 64 MB.
# Only forwards use it: the input gradient's flipped kernel is a fresh array each step.
_U_CACHE: collections.OrderedDict = collections.OrderedDict()
_U_CACHE_BYTES = 64 * 2**20
_U_CACHE_LOCK = threading.Lock()


def _cached_transformed_kernel(kernel: np.ndarray) -> np.ndarray:
    """``_winograd_transformed_kernel(kernel)``, reused while the kernel's bits are those it was made from."""
    kernel = np.ascontiguousarray(kernel)
    key = (kernel.__array_interface__["data"][0], kernel.shape, kernel.dtype.str)
    bits = kernel.view(np.uint8).reshape(-1)
    with _U_CACHE_LOCK:
        entry = _U_CACHE.get(key)
        if entry is not None:
            _U_CACHE.move_to_end(key)
    if entry is not None and np.array_equal(entry[0], bits):
        return entry[1]
    bits = bits.copy()  # U is made from these bytes, even if another thread writes the kernel meanwhile
    u = _winograd_transformed_kernel(bits.view(kernel.dtype).reshape(kernel.shape))
    u.flags.writeable = False  # shared by every later call: read-only
    if bits.nbytes + u.nbytes <= _U_CACHE_BYTES:
        with _U_CACHE_LOCK:
            _U_CACHE[key] = (bits, u)
            _U_CACHE.move_to_end(key)
            while sum(b.nbytes + v.nbytes for b, v in _U_CACHE.values()) > _U_CACHE_BYTES:
                _U_CACHE.popitem(last=False)
    return u


def _winograd_transformed_kernel(kernel: np.ndarray) -> np.ndarray:
    """(3, 3, C, F) -> (36, C, F): G g G^T for every (C, F) pair, as two small GEMMs in float64."""
    c, f = kernel.shape[2:]
    rows = np.matmul(_WINOGRAD_G, kernel.astype(np.float64).reshape(3, 3 * c * f)).reshape(6, 3, c * f)
    return np.matmul(_WINOGRAD_G, rows).reshape(36, c, f).astype(kernel.dtype)


def _winograd_correlate(transforms, xp: np.ndarray, kernel: np.ndarray, pads, out_hw,
                        reuse_kernel: bool = True, pooled: bool = False) -> np.ndarray:
    """(N, Ho, Wo, F) 3x3 correlation of ``xp`` zero-padded by ``pads``, by Winograd F(4x4, 3x3); with
    ``pooled`` (and the pooling output transform) its 2x2 max-pool, (N, Ho // 2, Wo // 2, F).

    Per chunk of samples: the input transform into V (36, tiles, C), the 36 GEMMs V[o] @ U[o]
    into M (36, tiles, F), both in one pooled buffer, and the output transform into y.
    """
    input_fn, output_fn = transforms
    n, c, f = xp.shape[0], xp.shape[3], kernel.shape[3]
    (ho, wo), top, left = out_hw, pads[0][0], pads[1][0]
    th, tw = -(-ho // 4), -(-wo // 4)
    u = _cached_transformed_kernel(kernel) if reuse_kernel else _winograd_transformed_kernel(kernel)
    y = np.empty((n, ho // 2, wo // 2, f) if pooled else (n, ho, wo, f), dtype=xp.dtype)
    chunks, held = _chunks_with_buffer(n, 36 * th * tw * (c + f), xp.dtype)
    xp = np.ascontiguousarray(xp)  # one compiled signature: the loops take C-contiguous arrays
    for samples in chunks:
        x_chunk, y_chunk = xp[samples], y[samples]
        tiles = (samples.stop - samples.start) * th * tw
        v = held.array[:36 * tiles * c].reshape(36, tiles, c)
        m = held.array[36 * tiles * c:36 * tiles * (c + f)].reshape(36, tiles, f)
        parallel.for_slices(lambda part: input_fn(x_chunk, top, left, th, tw, part.start, part.stop, v),
                            len(x_chunk), v.nbytes)
        np.matmul(v, u, out=m)
        parallel.for_slices(lambda part: output_fn(m, th, tw, part.start, part.stop, y_chunk),
                            len(y_chunk), m.nbytes)
    return y


def conv2d_forward(x: np.ndarray, kernel: np.ndarray, strides=(1, 1), pads=((0, 0), (0, 0)),
                   dilation=(1, 1), groups: int = 1, keep_cols: bool = False, free_rounding: bool = False) -> tuple:
    """Cross-correlate NHWC ``x`` with a (kh, kw, C//G, F) ``kernel``; return ``(y, cache)``.

    ``y`` has shape (N, Ho, Wo, F); ``cache`` keeps the padded input for ``conv2d_backward``,
    which recomputes the im2col columns chunk by chunk rather than holding all of them
    (kh*kw times the input's size) from the forward to the backward pass, unless
    ``keep_cols`` (the kernel gradient will be asked for) and they take at most
    ``_KEEP_COLS_BYTES``: then the cache holds them and dW is one GEMM on them.
    ``free_rounding`` allows the direct one-channel loop and Winograd F(4x4, 3x3) where they apply
    (see the module docstring): their sums round differently from im2col + GEMM, which can move a
    max-pool's winner, so callers allow them when no gradient is recorded.
    """
    kh, kw = kernel.shape[:2]
    xp, lazy = _lazy_pad(x, pads, groups)
    out_hw = _output_hw(_padded_hw(xp, lazy), (kh, kw), strides, dilation)
    y, kept = _correlate(xp, kernel, tuple(strides), tuple(dilation), out_hw, groups, keep_cols, lazy, free_rounding)
    return y, ConvCache(xp, kernel, x.shape, pads, tuple(strides), tuple(dilation), groups, kept, lazy)


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
            source = part.reshape(groups, n, ho, wo, cg).transpose(1, 2, 3, 0, 4)
            parallel.for_slices(lambda s: np.add(target[s], source[s], out=target[s]), n, part.nbytes)
    return dxp


def _gathered_input_grad(kernel_fn, dy: np.ndarray, kernel: np.ndarray, x_shape, pads, strides,
                         dilation) -> np.ndarray:
    """dx of an ungrouped convolution as dy @ W^T (one GEMM per chunk of samples, N = kh*kw*C wide)
    into the columns buffer, then the compiled ``col2im`` gathering each input pixel's terms.

    The fast path's replacement for ``col2im_gemm``: one wide GEMM instead of kh*kw narrow ones
    (N = C), and one pass writing dx, already cropped, instead of kh*kw strided adds.
    """
    n, ho, wo, f = dy.shape
    kh, kw, c, _ = kernel.shape
    dtype = np.result_type(dy, kernel)
    rows, k = ho * wo, kh * kw * c
    dy2d = np.ascontiguousarray(dy, dtype=dtype).reshape(n * rows, f)
    w_t = kernel.astype(dtype, copy=False).reshape(k, f).T  # (F, K): BLAS takes the transpose as is
    dx = np.empty(x_shape, dtype=dtype)
    (top, _), (left, _) = pads
    chunks, held = _chunks_with_buffer(n, rows * k, dtype)
    for samples in chunks:
        cols = held.array[:(samples.stop - samples.start) * rows * k].reshape(-1, k)
        np.matmul(dy2d[samples.start * rows:samples.stop * rows], w_t, out=cols)
        dx_chunk = dx[samples]

        def gather(part: slice, cols=cols, dx_chunk=dx_chunk) -> None:
            kernel_fn(cols[part.start * rows:part.stop * rows], kh, kw, *strides, *dilation, top, left, ho, wo,
                      dx_chunk[part])

        parallel.for_slices(gather, samples.stop - samples.start, cols.nbytes)
    return dx


def _kernel_grad(xp: np.ndarray, dy: np.ndarray, kernel_shape, strides, dilation, groups: int,
                 kept=None, pads=_NO_PADS) -> np.ndarray:
    """dW = cols^T @ dy: on the forward's ``kept`` columns, else summed over chunks of samples (recomputed)."""
    kh, kw, cg, f = kernel_shape
    n, ho, wo, _ = dy.shape
    dy_g = _grouped(dy.reshape(n * ho * wo, f), groups)  # (G, M, F//G)
    if _is_pointwise((kh, kw), strides, pads):
        dw_g = np.matmul(_grouped(xp.reshape(-1, groups * cg), groups).transpose(0, 2, 1), dy_g)
    elif kept is not None:
        cols = kept.array.reshape(groups, n * ho * wo, kh * kw * cg)
        dw_g = np.matmul(cols[0].T, dy_g[0])[None] if groups == 1 else np.matmul(cols.transpose(0, 2, 1), dy_g)
    else:
        dw_g = np.zeros((groups, kh * kw * cg, f // groups), dtype=np.result_type(xp, dy))
        part = np.empty_like(dw_g)
        for samples, cols in _chunked_cols(xp, (kh, kw), strides, dilation, (ho, wo), groups, pads):
            rows = slice(samples.start * ho * wo, samples.stop * ho * wo)
            if groups == 1:  # a 2-D matmul passes the transpose to BLAS (~20% faster than 3-D)
                dw_g[0] += np.matmul(cols[0].T, dy_g[0, rows], out=part[0])
            else:
                dw_g += np.matmul(cols.transpose(0, 2, 1), dy_g[:, rows], out=part)
    return dw_g.transpose(1, 0, 2).reshape(kernel_shape)


def conv2d_backward(dy: np.ndarray, cache: ConvCache, need_dx: bool = True, need_dw: bool = True) -> tuple:
    """Gradients ``(dx, dw)`` of ``conv2d_forward``; an entry is None when not asked for."""
    kernel, groups, strides = cache.kernel, cache.groups, cache.strides
    n, ho, wo, f = dy.shape
    dx = dw = None
    if need_dw:
        dw = _kernel_grad(cache.xp, dy, kernel.shape, strides, cache.dilation, groups, cache.cols, cache.xp_pads)
    full_conv = groups == 1 and strides == (1, 1) and (f <= _FULL_CONV_MAX_RATIO * kernel.shape[2]
                                                      or _full_conv_takes_winograd(dy, kernel, cache))
    gather = (fast.compiled(loops.col2im) if need_dx and groups == 1 and not full_conv and fast.handles(dy, kernel)
              else None)
    if gather is not None:
        dx = _gathered_input_grad(gather, dy, kernel, cache.x_shape, cache.pads, strides, cache.dilation)
    elif need_dx and full_conv:
        dx = _full_conv_input_grad(dy, kernel, cache.pads, cache.dilation)
    elif need_dx:
        (top, bottom), (left, right) = cache.pads
        _, h, w, c = cache.x_shape
        padded = (n, h + top + bottom, w + left + right, c)
        dxp = col2im_gemm(dy, kernel, padded, strides, cache.dilation, groups)
        dx = dxp[:, top:top + h, left:left + w]
    return dx, dw


def _full_conv_pads(kernel_hw, pads, dilation) -> tuple:
    """dy's padding in the full convolution: span - 1 on each side, less the forward's own padding."""
    (top, bottom), (left, right) = pads
    span_h, span_w = _span(kernel_hw[0], dilation[0]), _span(kernel_hw[1], dilation[1])
    return (span_h - 1 - top, span_h - 1 - bottom), (span_w - 1 - left, span_w - 1 - right)


def _full_conv_takes_winograd(dy: np.ndarray, kernel: np.ndarray, cache: ConvCache) -> bool:
    """Whether the full convolution giving dx would run as Winograd (then it beats the gather for F > C too)."""
    kh, kw, c, f = kernel.shape
    dy_pads = _full_conv_pads((kh, kw), cache.pads, cache.dilation)
    return (_loop_dtypes(dy, kernel)
            and _winograd_kernels((kh, kw, f, c), (1, 1), cache.dilation, 1, dy_pads, cache.x_shape[1:3]) is not None)


def _full_conv_input_grad(dy: np.ndarray, kernel: np.ndarray, pads, dilation) -> np.ndarray:
    """Input gradient of a stride-1, ungrouped convolution, as a convolution of ``dy``.

    x[p] feeds y[p - i*d] through W[i], so dx[p] = sum_i dy[p - i*d] W[i]^T: a correlation of
    dy, zero-padded by span-1 on each side (less the forward's own padding, which is cropped
    away), with the kernel flipped in space and transposed to (kh, kw, F, C).
    """
    kh, kw = kernel.shape[:2]
    flipped = np.ascontiguousarray(kernel[::-1, ::-1].transpose(0, 1, 3, 2))
    dyp, lazy = _lazy_pad(np.ascontiguousarray(dy), _full_conv_pads((kh, kw), pads, dilation))
    out_hw = _output_hw(_padded_hw(dyp, lazy), (kh, kw), (1, 1), dilation)
    return _correlate(dyp, flipped, (1, 1), dilation, out_hw, 1, pads=lazy, free_rounding=True, reuse_kernel=False)[0]


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
    return y.reshape(n, ho, wo, c * m), ConvCache(xp, kernel, x.shape, pads, tuple(strides), tuple(dilation), c)


def depthwise_conv2d_backward(dy: np.ndarray, cache: ConvCache, need_dx: bool = True,
                              need_dw: bool = True) -> tuple:
    """Gradients ``(dx, dw)`` of ``depthwise_conv2d_forward``."""
    kernel, xp, strides, dilation = cache.kernel, cache.xp, cache.strides, cache.dilation
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
        (top, bottom), (left, right) = cache.pads
        _, h, w, _ = cache.x_shape
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
    return y, ConvTransposeCache(x, kernel, crops, tuple(strides), tuple(dilation))


def conv2d_transpose_backward(dy: np.ndarray, cache: ConvTransposeCache, need_dx: bool = True,
                              need_dw: bool = True) -> tuple:
    """Gradients ``(dx, dw)`` of ``conv2d_transpose_forward``: a plain convolution of ``dy``."""
    x, kernel = cache.x, cache.kernel
    n, h, w, c = x.shape
    kh, kw, _, _ = kernel.shape
    dy_full = pad_or_crop(dy, cache.crops)
    cols = im2col(dy_full, (kh, kw), cache.strides, cache.dilation, (h, w))[0]  # (M, kh*kw*F)
    dx = dw = None
    if need_dx:
        dx = (cols @ kernel.reshape(-1, c)).reshape(n, h, w, c)
    if need_dw:
        dw = (cols.T @ x.reshape(n * h * w, c)).reshape(kernel.shape)
    return dx, dw
