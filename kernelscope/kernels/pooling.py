"""Pooling kernels: max and average over 2-D windows, and their global versions.

Every forward returns ``(y, cache)`` and the matching backward maps ``(dy, cache)``
to ``dx``. Padding is explicit ``((top, bottom), (left, right))``, already resolved
(TensorFlow's "same" split lives in ``kernelscope/geometry.py``). Max pooling pads with
-inf; average pooling leaves padded cells out of the divisor, as Keras does.

Two paths: windows that tile the input without overlap (the common 2x2, stride 2)
reshape to ``(N, Ho, ph, Wo, pw, C)``; anything else reduces strided views, rows
then columns (max and sum are separable over a rectangle: ph + pw passes instead
of ph * pw). Loops run over window offsets, never over pixels.
"""

# N batch, H/W height/width, C channels, ph/pw pool height/width, sh/sw strides,
# Ho/Wo output height/width

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..geometry import output_hw
from .._runtime import fast, parallel
from . import loops

__all__ = [
    "MaxPoolCache",
    "AvgPoolCache",
    "GlobalAvgPoolCache",
    "GlobalMaxPoolCache",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
    "global_avg_pool2d_forward",
    "global_avg_pool2d_backward",
    "global_max_pool2d_forward",
    "global_max_pool2d_backward",
]


def _output_hw(x_shape: tuple, pool: tuple, strides: tuple, pads: tuple) -> tuple:
    return output_hw(x_shape[1:3], pool, strides, pads)


def _tiles(pool: tuple, strides: tuple, pads: tuple) -> bool:
    """Windows sit side by side with no overlap and no padding: the reshape path applies."""
    return tuple(pool) == tuple(strides) and not any(any(p) for p in pads)


def _tile_view(x: np.ndarray, pool: tuple, out_hw: tuple) -> np.ndarray:
    """(N, Ho, ph, Wo, pw, C) view of the rows/columns the windows cover (any remainder dropped)."""
    (ph, pw), (ho, wo) = pool, out_hw
    return x[:, :ho * ph, :wo * pw].reshape(x.shape[0], ho, ph, wo, pw, x.shape[3])


def _tile_reduce(x: np.ndarray, pool: tuple, out_hw: tuple, combine) -> np.ndarray:
    """(N, Ho, Wo, C) max or sum (``combine`` = np.maximum / np.add) over non-overlapping windows.

    One ufunc pass per window offset, each half of the batch on its own core: ~2x faster
    than ``tile_view.max(axis=(2, 4))``, whose reduction over two strided axes is slow.
    """
    tiles = _tile_view(x, pool, out_hw)
    y = np.empty((x.shape[0], *out_hw, x.shape[3]), dtype=x.dtype)

    def reduce(part: slice) -> None:
        cells = [tiles[part, :, i, :, j] for i in range(pool[0]) for j in range(pool[1])]
        np.copyto(y[part], cells[0])
        for cell in cells[1:]:
            combine(y[part], cell, out=y[part])

    parallel.for_slices(reduce, len(x), x.nbytes)
    return y


def _pad_hw(x: np.ndarray, pads: tuple, value: float) -> np.ndarray:
    if not any(any(p) for p in pads):
        return x
    return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=value)


def _taps(offset: int, stride: int, count: int) -> slice:
    """Cells at window offset ``offset`` for each of ``count`` windows along one axis."""
    return slice(offset, offset + stride * (count - 1) + 1, stride)


def _offset_cells(a: np.ndarray, i: int, j: int, strides: tuple, out_hw: tuple) -> np.ndarray:
    """(N, Ho, Wo, C) view: the cell at window offset (i, j) of every window."""
    return a[:, _taps(i, strides[0], out_hw[0]), _taps(j, strides[1], out_hw[1])]


def _separable(xp: np.ndarray, pool: tuple, strides: tuple, out_hw: tuple, combine) -> np.ndarray:
    """Reduce every window with ``combine`` (np.maximum or np.add): rows first, then columns.

    A rectangle's max (or sum) is the max (or sum) of its row results, so this costs
    ph + pw strided passes instead of ph * pw.
    """
    rows = xp[:, _taps(0, strides[0], out_hw[0])].copy()
    for i in range(1, pool[0]):
        combine(rows, xp[:, _taps(i, strides[0], out_hw[0])], out=rows)
    out = rows[:, :, _taps(0, strides[1], out_hw[1])].copy()
    for j in range(1, pool[1]):
        combine(out, rows[:, :, _taps(j, strides[1], out_hw[1])], out=out)
    return out


def _crop_hw(dxp: np.ndarray, pads: tuple, x_shape: tuple) -> np.ndarray:
    (top, _), (left, _) = pads
    return dxp[:, top:top + x_shape[1], left:left + x_shape[2]]


# ------------------------------------------------------------ backward caches
class MaxPoolCache(NamedTuple):
    x: np.ndarray
    y: np.ndarray
    pool: tuple
    strides: tuple
    pads: tuple
    row_maxima: tuple | None  # the 2x2 path's two row maxima, else None
    winner: np.ndarray | None = None  # the fast 2x2 path's winning cell (0-3) per window, else None


class AvgPoolCache(NamedTuple):
    x_shape: tuple
    counts: np.ndarray | None  # cells per window when padding leaves some out, else None
    pool: tuple
    strides: tuple
    pads: tuple


class GlobalAvgPoolCache(NamedTuple):
    x_shape: tuple


class GlobalMaxPoolCache(NamedTuple):
    x_shape: tuple
    where: np.ndarray  # the first argmax of each (sample, channel)


# ---------------------------------------------------------------- max pooling
def max_pool2d_forward(x: np.ndarray, pool: tuple, strides: tuple, pads: tuple) -> tuple:
    """Max over each ``pool`` window; returns ``(y, cache)``, y of shape (N, Ho, Wo, C)."""
    out_hw = _output_hw(x.shape, pool, strides, pads)
    if _is_2x2(pool, strides, pads):
        return _max_pool_2x2_forward(x, out_hw)
    if _tiles(pool, strides, pads):
        y = _tile_reduce(x, pool, out_hw, np.maximum)
    else:
        y = _separable(_pad_hw(x, pads, -np.inf), pool, strides, out_hw, np.maximum)
    return y, MaxPoolCache(x, y, pool, strides, pads, None)


def _is_2x2(pool: tuple, strides: tuple, pads: tuple) -> bool:
    """The everyday MaxPooling2D(): 2x2 windows, stride 2, no padding."""
    return tuple(pool) == tuple(strides) == (2, 2) and not any(any(p) for p in pads)


def _cells_2x2(x: np.ndarray, out_hw: tuple) -> tuple:
    """The four (N, Ho, Wo, C) views (top-left, top-right, bottom-left, bottom-right) of 2x2 tiles."""
    tiles = _tile_view(x, (2, 2), out_hw)
    return tuple(tiles[:, :, i, :, j] for i in (0, 1) for j in (0, 1))


def _max_pool_2x2_forward(x: np.ndarray, out_hw: tuple) -> tuple:
    """y = max(max(a, b), max(c, d)) for each window [[a, b], [c, d]]; the two row maxima are
    kept for the backward pass, which reads the winning cell off three comparisons."""
    shape = (x.shape[0], *out_hw, x.shape[3])
    kernel = fast.compiled(loops.max_pool_2x2_forward) if x.flags.c_contiguous and fast.handles(x) else None
    if kernel is not None:  # one pass, the winner kept as one byte per output
        y, winner = np.empty(shape, dtype=x.dtype), np.empty(shape, dtype=np.uint8)
        parallel.for_slices(lambda part: kernel(x[part], y[part], winner[part]), len(x), x.nbytes)
        return y, MaxPoolCache(x, y, (2, 2), (2, 2), ((0, 0), (0, 0)), None, winner)
    a, b, c, d = _cells_2x2(x, out_hw)
    top, bottom, y = (np.empty(shape, dtype=x.dtype) for _ in range(3))

    def reduce(part: slice) -> None:
        np.maximum(a[part], b[part], out=top[part])
        np.maximum(c[part], d[part], out=bottom[part])
        np.maximum(top[part], bottom[part], out=y[part])

    parallel.for_slices(reduce, len(x), x.nbytes)
    return y, MaxPoolCache(x, y, (2, 2), (2, 2), ((0, 0), (0, 0)), (top, bottom))


def _max_pool_2x2_backward(dy: np.ndarray, x: np.ndarray, row_maxima: tuple) -> np.ndarray:
    """Route dy to each window's first maximum in row-major order, like torch's max_pool2d.

    The top row wins when max(a, b) >= max(c, d) (a tie goes to the earlier row), and within
    a row the left cell wins when it is >= the right one. Masks are multiplied, then the
    other cell of each pair gets the difference: 9 passes over dy-sized arrays where the
    general routing takes 14. Only for finite values: NaN windows and non-finite dy take
    the general path, which routes them exactly.
    """
    top, bottom = row_maxima
    out_hw = dy.shape[1:3]
    dx = np.empty(x.shape, dtype=dy.dtype)
    dx[:, 2 * out_hw[0]:] = 0  # an odd last row/column belongs to no window
    dx[:, :, 2 * out_hw[1]:] = 0
    a, b, c, d = _cells_2x2(x, out_hw)
    da, db, dc, dd = _cells_2x2(dx, out_hw)

    def route(part: slice) -> None:
        g = dy[part]
        to_top = np.multiply(g, top[part] >= bottom[part])
        to_bottom = np.subtract(g, to_top)
        np.multiply(to_top, a[part] >= b[part], out=da[part])
        np.subtract(to_top, da[part], out=db[part])
        np.multiply(to_bottom, c[part] >= d[part], out=dc[part])
        np.subtract(to_bottom, dc[part], out=dd[part])

    parallel.for_slices(route, len(x), x.nbytes)
    return dx


def _route_to_first_max(cells, targets, dy: np.ndarray, y: np.ndarray, pool: tuple, overlap: bool) -> None:
    """Add dy, per window, into ``targets(i, j)`` at the first maximum in row-major order.

    ``cells(i, j)`` / ``targets(i, j)`` view the input / its gradient at window offset
    (i, j) for every window. Like torch's max_pool2d, ties send the whole gradient to
    one cell; a NaN window sends it to its first NaN, the cell that produced the output.
    Work buffers are allocated once: fresh large arrays per offset cost page faults.
    """
    y_nan = np.isnan(y)
    has_nan = bool(y_nan.any())
    taken, hit = np.zeros(y.shape, dtype=bool), np.empty(y.shape, dtype=bool)
    part = np.empty_like(dy) if overlap else None
    offsets = [(i, j) for i in range(pool[0]) for j in range(pool[1])]
    for k, (i, j) in enumerate(offsets):
        cell = cells(i, j)
        np.equal(cell, y, out=hit)
        if has_nan:
            hit |= y_nan & np.isnan(cell)
        if k:
            np.greater(hit, taken, out=hit)  # a maximum not already claimed by an earlier cell
        if k < len(offsets) - 1:
            np.logical_or(taken, hit, out=taken)
        chosen = part if overlap else targets(i, j)
        chosen[...] = 0
        np.copyto(chosen, dy, where=hit)  # not dy * hit: an infinite dy would put NaN (inf * 0) elsewhere
        if overlap:
            target = targets(i, j)
            target += part


def _route_to_winner(dy: np.ndarray, winner: np.ndarray, x_shape: tuple) -> np.ndarray:
    """dx with each 2x2 tile's dy at its ``winner`` cell (0-3, row-major) and 0 elsewhere; needs neither x nor y."""
    dx = np.zeros(x_shape, dtype=dy.dtype)
    cells = _cells_2x2(dx, dy.shape[1:3])
    for k, cell in enumerate(cells):
        np.copyto(cell, dy, where=winner == k)
    return dx


def max_pool2d_backward(dy: np.ndarray, cache: MaxPoolCache) -> np.ndarray:
    """Gradient of :func:`max_pool2d_forward`: dy goes to each window's first maximum."""
    x, y, pool, strides, pads, row_maxima, winner = cache
    out_hw = y.shape[1:3]
    kernel = None if winner is None or not fast.handles(dy) else fast.compiled(loops.max_pool_2x2_backward)
    if kernel is not None:
        dx = np.empty(x.shape, dtype=dy.dtype)
        dy = np.ascontiguousarray(dy)
        parallel.for_slices(lambda part: kernel(dy[part], winner[part], dx[part]), len(x), x.nbytes)
        return dx
    if winner is not None:  # the fast path's forward, switched off since: the same routing in NumPy
        return _route_to_winner(dy, winner, x.shape)
    if row_maxima is not None and np.isfinite(np.sum(y)) and np.isfinite(np.sum(dy)):
        return _max_pool_2x2_backward(dy, x, row_maxima)
    if _tiles(pool, strides, pads):
        dx = np.zeros(x.shape, dtype=dy.dtype)
        dx_tiles = _tile_view(dx, pool, out_hw)  # a view: dx is contiguous, cropped rows stay 0
        x_tiles = _tile_view(x, pool, out_hw)

        def route(part: slice) -> None:  # samples are independent: one slice of the batch per core
            x_part, dx_part = x_tiles[part], dx_tiles[part]
            _route_to_first_max(lambda i, j: x_part[:, :, i, :, j], lambda i, j: dx_part[:, :, i, :, j],
                                dy[part], y[part], pool, overlap=False)

        parallel.for_slices(route, len(x), x.nbytes)
        return dx
    xp = _pad_hw(x, pads, -np.inf)
    dxp = np.zeros(xp.shape, dtype=dy.dtype)
    overlap = strides[0] < pool[0] or strides[1] < pool[1]
    _route_to_first_max(lambda i, j: _offset_cells(xp, i, j, strides, out_hw),
                        lambda i, j: _offset_cells(dxp, i, j, strides, out_hw), dy, y, pool, overlap)
    return _crop_hw(dxp, pads, x.shape)


# ------------------------------------------------------------ average pooling
def _window_counts(x_shape: tuple, pool: tuple, strides: tuple, pads: tuple, out_hw: tuple, dtype) -> np.ndarray:
    """(Ho, Wo, 1) number of real (unpadded) cells in each window: the "same" divisor."""
    counts = []
    for n, f, s, (before, _), m in zip(x_shape[1:3], pool, strides, pads, out_hw):
        start = np.arange(m) * s - before
        counts.append(np.minimum(start + f, n) - np.maximum(start, 0))
    return np.multiply.outer(counts[0], counts[1]).astype(dtype)[:, :, None]


def avg_pool2d_forward(x: np.ndarray, pool: tuple, strides: tuple, pads: tuple) -> tuple:
    """Mean over each ``pool`` window, padded cells excluded; returns ``(y, cache)``."""
    out_hw = _output_hw(x.shape, pool, strides, pads)
    if _tiles(pool, strides, pads):
        y = _tile_reduce(x, pool, out_hw, np.add)
        y *= np.asarray(1.0 / (pool[0] * pool[1]), dtype=y.dtype)
        return y, AvgPoolCache(x.shape, None, pool, strides, pads)
    counts = _window_counts(x.shape, pool, strides, pads, out_hw, x.dtype)
    window_sums = _separable(_pad_hw(x, pads, 0), pool, strides, out_hw, np.add)
    return window_sums / counts, AvgPoolCache(x.shape, counts, pool, strides, pads)


def avg_pool2d_backward(dy: np.ndarray, cache: AvgPoolCache) -> np.ndarray:
    """Gradient of :func:`avg_pool2d_forward`: each cell gets dy / divisor of every window holding it."""
    x_shape, counts, pool, strides, pads = cache
    (n, h, w, c), (ho, wo) = x_shape, dy.shape[1:3]
    if counts is None:
        dx = np.zeros(x_shape, dtype=dy.dtype)
        _tile_view(dx, pool, (ho, wo))[...] = (dy / (pool[0] * pool[1]))[:, :, None, :, None, :]
        return dx
    share = dy / counts
    # adjoint of the separable sum: spread over columns, then over rows
    rows = np.zeros((n, ho, w + sum(pads[1]), c), dtype=dy.dtype)
    for j in range(pool[1]):
        rows[:, :, _taps(j, strides[1], wo)] += share
    dxp = np.zeros((n, h + sum(pads[0]), rows.shape[2], c), dtype=dy.dtype)
    for i in range(pool[0]):
        dxp[:, _taps(i, strides[0], ho)] += rows
    return _crop_hw(dxp, pads, x_shape)


# ------------------------------------------------------------- global pooling
def global_avg_pool2d_forward(x: np.ndarray) -> tuple:
    """Mean over height and width: (N, H, W, C) -> (N, C)."""
    return x.mean(axis=(1, 2)), GlobalAvgPoolCache(x.shape)


def global_avg_pool2d_backward(dy: np.ndarray, cache: GlobalAvgPoolCache) -> np.ndarray:
    n, h, w, c = cache.x_shape
    return np.broadcast_to((dy / (h * w))[:, None, None, :], cache.x_shape).copy()


def global_max_pool2d_forward(x: np.ndarray) -> tuple:
    """Max over height and width: (N, H, W, C) -> (N, C); the cache keeps the first argmax."""
    flat = x.reshape(x.shape[0], -1, x.shape[3])
    where = np.argmax(flat, axis=1)  # first maximum in row-major order, as torch routes ties
    y = np.take_along_axis(flat, where[:, None, :], axis=1)[:, 0]
    return y, GlobalMaxPoolCache(x.shape, where)


def global_max_pool2d_backward(dy: np.ndarray, cache: GlobalMaxPoolCache) -> np.ndarray:
    shape, where = cache
    dx = np.zeros((shape[0], shape[1] * shape[2], shape[3]), dtype=dy.dtype)
    np.put_along_axis(dx, where[:, None, :], dy[:, None, :], axis=1)
    return dx.reshape(shape)
