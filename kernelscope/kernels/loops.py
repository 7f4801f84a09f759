"""Loop kernels for the memory-bound passes, compiled by numba in ``kernelscope[fast]``.

# N batch, H/W height/width, C channels, F filters, Ho/Wo output size

Plain Python over NumPy arrays, written for ``numba.njit``: each makes one pass where the
NumPy version makes several (measured in benchmarks/PERF_NOTES.md). They are never run
uncompiled (far too slow); ``kernelscope._runtime.fast.compiled`` returns None without
numba and the caller takes its NumPy path. Each matches that path exactly: same
comparisons, same tie and NaN rules, same additions.

Indices in the inner loops are unsigned (``range(np.uint64(n))``, offsets cast once checked to be
>= 0): numba wraps a signed index (``a[i]`` with ``i < 0`` means ``a[n + i]``), and that check
in an inner loop kept it from vectorising: on an AMD EPYC im2col ran at 0.54-0.94x NumPy's copy
with signed indices and 1.05-1.67x with unsigned ones (benchmarks/fast_kernels.py,
PERF_NOTES.md). Mixing uint64 with int64 arithmetic gives float64 in numba (and an index error
at compile time), so the casts are explicit and kept to whole expressions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["max_pool_2x2_forward", "max_pool_2x2_backward", "im2col", "col2im", "winograd_input",
           "winograd_output", "winograd_output_max_pool", "conv3x3_one_channel", "conv3x3_one_channel_max_pool",
           "bias_relu", "relu_bias_grad", "adam"]


def max_pool_2x2_forward(x, y, winner):
    """y = max of each 2x2 tile; ``winner`` (0-3, row-major) is its first maximum, or its first NaN."""
    n, ho, wo, c = y.shape
    for s in range(n):
        for i in range(ho):
            for j in range(wo):
                for k in range(np.uint64(c)):
                    a, b = x[s, 2 * i, 2 * j, k], x[s, 2 * i, 2 * j + 1, k]
                    p, q = x[s, 2 * i + 1, 2 * j, k], x[s, 2 * i + 1, 2 * j + 1, k]
                    top, top_w = (a, 0) if (a >= b or a != a) else (b, 1)  # a != a: a NaN wins and propagates
                    low, low_w = (p, 2) if (p >= q or p != p) else (q, 3)
                    if top >= low or top != top:
                        y[s, i, j, k], winner[s, i, j, k] = top, top_w
                    else:
                        y[s, i, j, k], winner[s, i, j, k] = low, low_w


def max_pool_2x2_backward(dy, winner, dx):
    """dx: each tile's dy at its winner, zero elsewhere (an odd last row/column included).

    Each dx row is written in one sequential pass (its top or bottom cells of each tile): writing
    a tile's four cells at once (two rows of dx per loop) measured 5-9x slower, not vectorised.
    """
    n, ho, wo, c = dy.shape
    h, w = dx.shape[1], dx.shape[2]
    zero = dx.dtype.type(0)
    for s in range(n):
        for i in range(ho):
            grads, winners = dy[s, i].reshape(-1), winner[s, i].reshape(-1)
            for half in range(2):  # dx row 2i (winners 0, 1), then 2i + 1 (winners 2, 3)
                row = dx[s, 2 * i + half].reshape(-1)
                first, second = np.uint8(2 * half), np.uint8(2 * half + 1)
                for j in range(wo):
                    at, left = np.uint64(j * c), np.uint64(2 * j * c)
                    right = left + np.uint64(c)
                    for k in range(np.uint64(c)):
                        g, win = grads[at + k], winners[at + k]
                        row[left + k] = g if win == first else zero
                        row[right + k] = g if win == second else zero
                for j in range(2 * wo, w):  # an odd last column
                    for k in range(np.uint64(c)):
                        dx[s, 2 * i + half, j, k] = zero
        for i in range(2 * ho, h):  # an odd last row
            for j in range(w):
                for k in range(np.uint64(c)):
                    dx[s, i, j, k] = zero


def im2col(xp, c, kh, kw, sh, sw, dh, dw, ho, wo, top, left, out):
    """out[(s*Ho + i)*Wo + j, (p*kw + q)*C + k] = xp[s, i*sh + p*dh - top, (j*sw + q*dw - left)*C + k] (one
    group; ``xp`` is the NHWC input viewed as (N, H, W*C)), 0 where that falls outside: the zero padding
    (``top``/``left`` before, as many after as the output size reaches) is applied while copying, not
    by a padded copy first. With dw = 1 a kernel row's kw*C values are one contiguous run."""
    n, h, wc = xp.shape
    w = wc // c
    run = kw * c
    width = out.shape[1]
    src, dst = xp.reshape(-1), out.reshape(-1)  # flat: one unsigned offset per run
    zero = out.dtype.type(0)
    for s in range(n):
        for i in range(ho):
            y0 = i * sh - top
            for j in range(wo):
                row = (s * ho + i) * wo + j
                x0 = j * sw - left
                inside = 0 <= x0 and x0 + (kw - 1) * dw < w
                for p in range(kh):
                    y = y0 + p * dh
                    base = np.uint64(row * width + p * run)
                    if not 0 <= y < h:
                        for m in range(np.uint64(run)):
                            dst[base + m] = zero
                    elif inside and dw == 1:
                        start = np.uint64((s * h + y) * wc + x0 * c)
                        for m in range(np.uint64(run)):
                            dst[base + m] = src[start + m]
                    else:
                        for q in range(kw):
                            x = x0 + q * dw
                            at = base + np.uint64(q * c)
                            if 0 <= x < w:
                                start = np.uint64((s * h + y) * wc + x * c)
                                for k in range(np.uint64(c)):
                                    dst[at + k] = src[start + k]
                            else:
                                for k in range(np.uint64(c)):
                                    dst[at + k] = zero


def col2im(cols, kh, kw, sh, sw, dh, dw, top, left, ho, wo, dx):
    """The adjoint of ``im2col`` with the padding cropped: dx[s, y, x, k] = the sum, over the
    kernel offsets (p, q) in row-major order, of cols[(s*Ho + i)*Wo + j, (p*kw + q)*C + k] for
    the output pixel (i, j) that read input pixel (y, x) through offset (p, q)
    (y + top = i*sh + p*dh, x + left = j*sw + q*dw). Each dx pixel gathers its terms, so slices
    of the batch may run in parallel; the sum starts at 0 and adds the offsets in the order
    of ``col2im_gemm``'s per-offset adds.
    """
    n, h, w, c = dx.shape
    zero = dx.dtype.type(0)
    for s in range(n):
        for y in range(h):
            for x in range(w):
                for k in range(np.uint64(c)):
                    dx[s, y, x, k] = zero
                for p in range(kh):
                    ty = y + top - p * dh
                    if ty < 0 or ty % sh != 0 or ty // sh >= ho:
                        continue
                    for q in range(kw):
                        tx = x + left - q * dw
                        if tx < 0 or tx % sw != 0 or tx // sw >= wo:
                            continue
                        row = (s * ho + ty // sh) * wo + tx // sw
                        base = np.uint64((p * kw + q) * c)
                        for k in range(np.uint64(c)):
                            dx[s, y, x, k] += cols[row, base + k]


# Winograd F(4x4, 3x3) (Lavin and Gray, 2016): a 3x3 correlation computed tile by tile as
# A^T [(G g G^T) * (B^T d B)] A, d a 6x6 input tile, each 4x4 output tile from 36 products per
# channel pair instead of 144. The B^T and A^T products are written out inside the loops: the same
# formulas in helpers returning tuples, or a loop bound of min(4, ...) instead of a break, measured
# 2-5x slower (they keep numba from vectorising over channels; benchmarks/winograd_probe.py). With
# float32 data the integer constants make the arithmetic float64, rounded once when stored.


def winograd_input(x, top, left, th, tw, first, last, v):
    """v[6*i + j, (s*th + a)*tw + b, k] = (B^T d B)[i, j] for the 6x6 tile d of channel k whose corner
    is x[s, 4a - top, 4b - left] (zero outside x: the padding), for samples first <= s < last.

    Each loop over the channels stores one row (of t or v): six stores per loop, as in the output
    transform, measured 1.0-1.6x slower here (benchmarks/fast_kernels.py).
    """
    n, h, w, c = x.shape
    d = np.empty((6, 6, c), x.dtype)
    t = np.empty((6, 6, c), x.dtype)
    uc = np.uint64(c)
    for s in range(first, last):
        for a in range(th):
            for b in range(tw):
                tile = (s * th + a) * tw + b
                for i in range(6):
                    yy = a * 4 - top + i
                    for j in range(6):
                        xx = b * 4 - left + j
                        dd = d[i, j]
                        if 0 <= yy < h and 0 <= xx < w:
                            src = x[s, yy, xx]
                            for k in range(uc):
                                dd[k] = src[k]
                        else:
                            for k in range(uc):
                                dd[k] = 0
                for j in range(6):  # t = B^T d, one output row per loop
                    d0, d1, d2, d3, d4, d5 = d[0, j], d[1, j], d[2, j], d[3, j], d[4, j], d[5, j]
                    r = t[0, j]
                    for k in range(uc):
                        r[k] = 4 * d0[k] - 5 * d2[k] + d4[k]
                    r = t[1, j]
                    for k in range(uc):
                        r[k] = -4 * d1[k] - 4 * d2[k] + d3[k] + d4[k]
                    r = t[2, j]
                    for k in range(uc):
                        r[k] = 4 * d1[k] - 4 * d2[k] - d3[k] + d4[k]
                    r = t[3, j]
                    for k in range(uc):
                        r[k] = -2 * d1[k] - d2[k] + 2 * d3[k] + d4[k]
                    r = t[4, j]
                    for k in range(uc):
                        r[k] = 2 * d1[k] - d2[k] - 2 * d3[k] + d4[k]
                    r = t[5, j]
                    for k in range(uc):
                        r[k] = 4 * d1[k] - 5 * d3[k] + d5[k]
                for i in range(6):  # v = t B
                    d0, d1, d2, d3, d4, d5 = t[i, 0], t[i, 1], t[i, 2], t[i, 3], t[i, 4], t[i, 5]
                    r = v[6 * i, tile]
                    for k in range(uc):
                        r[k] = 4 * d0[k] - 5 * d2[k] + d4[k]
                    r = v[6 * i + 1, tile]
                    for k in range(uc):
                        r[k] = -4 * d1[k] - 4 * d2[k] + d3[k] + d4[k]
                    r = v[6 * i + 2, tile]
                    for k in range(uc):
                        r[k] = 4 * d1[k] - 4 * d2[k] - d3[k] + d4[k]
                    r = v[6 * i + 3, tile]
                    for k in range(uc):
                        r[k] = -2 * d1[k] - d2[k] + 2 * d3[k] + d4[k]
                    r = v[6 * i + 4, tile]
                    for k in range(uc):
                        r[k] = 2 * d1[k] - d2[k] - 2 * d3[k] + d4[k]
                    r = v[6 * i + 5, tile]
                    for k in range(uc):
                        r[k] = 4 * d1[k] - 5 * d3[k] + d5[k]


def winograd_output(m, th, tw, first, last, y):
    """y[s, 4a:4a+4, 4b:4b+4, k] = A^T M A for the 6x6 product tile M = m[:, (s*th + a)*tw + b, k],
    cropped to y, for samples first <= s < last."""
    n, h, w, f = y.shape
    t = np.empty((4, 6, f), m.dtype)
    for s in range(first, last):
        for a in range(th):
            for b in range(tw):
                tile = (s * th + a) * tw + b
                for j in range(6):  # t = A^T M
                    for k in range(np.uint64(f)):
                        m0, m1, m2 = m[j, tile, k], m[6 + j, tile, k], m[12 + j, tile, k]
                        m3, m4, m5 = m[18 + j, tile, k], m[24 + j, tile, k], m[30 + j, tile, k]
                        t[0, j, k] = m0 + m1 + m2 + m3 + m4
                        t[1, j, k] = m1 - m2 + 2 * m3 - 2 * m4
                        t[2, j, k] = m1 + m2 + 4 * m3 + 4 * m4
                        t[3, j, k] = m1 - m2 + 8 * m3 - 8 * m4 + m5
                for i in range(4):  # y tile = t A
                    yy, xx = a * 4 + i, b * 4
                    if yy >= h:
                        break
                    for k in range(np.uint64(f)):
                        m0, m1, m2, m3, m4, m5 = t[i, 0, k], t[i, 1, k], t[i, 2, k], t[i, 3, k], t[i, 4, k], t[i, 5, k]
                        y[s, yy, xx, k] = m0 + m1 + m2 + m3 + m4
                        if xx + 1 < w:
                            y[s, yy, xx + 1, k] = m1 - m2 + 2 * m3 - 2 * m4
                        if xx + 2 < w:
                            y[s, yy, xx + 2, k] = m1 + m2 + 4 * m3 + 4 * m4
                        if xx + 3 < w:
                            y[s, yy, xx + 3, k] = m1 - m2 + 8 * m3 - 8 * m4 + m5


def winograd_output_max_pool(m, th, tw, first, last, y):
    """y = the 2x2, stride-2 max-pool of ``winograd_output(m, ...)`` (y of shape (N, Ho // 2, Wo // 2, F)),
    without storing the convolution: each 4x4 tile holds four whole pool windows.

    The tile's cells are computed by ``winograd_output``'s expressions into a scratch array of y's
    dtype (so rounded as y's would be) and pooled as ``max_pool_2x2_forward`` does (first maximum, a
    NaN propagates): bit-identical to the two passes in turn.
    """
    n, ph, pw, f = y.shape
    t = np.empty((4, 6, f), m.dtype)
    cells = np.empty((2, 4, f), y.dtype)  # two rows of the output tile: one row of pool windows
    for s in range(first, last):
        for a in range(th):
            for b in range(tw):
                tile = (s * th + a) * tw + b
                for j in range(6):  # t = A^T M, as in winograd_output
                    for k in range(np.uint64(f)):
                        m0, m1, m2 = m[j, tile, k], m[6 + j, tile, k], m[12 + j, tile, k]
                        m3, m4, m5 = m[18 + j, tile, k], m[24 + j, tile, k], m[30 + j, tile, k]
                        t[0, j, k] = m0 + m1 + m2 + m3 + m4
                        t[1, j, k] = m1 - m2 + 2 * m3 - 2 * m4
                        t[2, j, k] = m1 + m2 + 4 * m3 + 4 * m4
                        t[3, j, k] = m1 - m2 + 8 * m3 - 8 * m4 + m5
                for half in range(2):
                    yy, xx = 2 * a + half, 2 * b
                    if yy >= ph:
                        break
                    for i in range(2):  # the tile's rows 2*half and 2*half + 1 (t A)
                        for k in range(np.uint64(f)):
                            m0, m1, m2 = t[2 * half + i, 0, k], t[2 * half + i, 1, k], t[2 * half + i, 2, k]
                            m3, m4, m5 = t[2 * half + i, 3, k], t[2 * half + i, 4, k], t[2 * half + i, 5, k]
                            cells[i, 0, k] = m0 + m1 + m2 + m3 + m4
                            cells[i, 1, k] = m1 - m2 + 2 * m3 - 2 * m4
                            cells[i, 2, k] = m1 + m2 + 4 * m3 + 4 * m4
                            cells[i, 3, k] = m1 - m2 + 8 * m3 - 8 * m4 + m5
                    for q in range(2):  # the windows of columns 4b, 4b + 1 and 4b + 2, 4b + 3
                        if xx + q >= pw:
                            break
                        for k in range(np.uint64(f)):
                            p0, p1 = cells[0, 2 * q, k], cells[0, 2 * q + 1, k]
                            p2, p3 = cells[1, 2 * q, k], cells[1, 2 * q + 1, k]
                            top = p0 if (p0 >= p1 or p0 != p0) else p1
                            low = p2 if (p2 >= p3 or p2 != p2) else p3
                            y[s, yy, xx + q, k] = top if (top >= low or top != top) else low


def conv3x3_one_channel(x, w, y):
    """y[s, r, c] = sum over the 3x3 window of x[s, r + i, c + j, 0] * w[i, j, 0] (all F filters at once).

    ``x`` (N, Ho + 2, Wo + 2, 1) is the already padded one-channel input. The nine products of a
    pixel are one expression over the filters, the nine kernel rows hoisted: the sum stays in
    registers and each output value is stored once. With K = 9 im2col + GEMM is bound by writing
    and re-reading the columns; this runs 2.2-2.5x faster on one core. Written out here and in
    ``conv3x3_one_channel_max_pool`` (same expression, so the same bits): an njit helper per pixel
    measured 1.6x slower, and accumulating tap by tap or channel by channel (any C) was no faster at
    C = 1-2 and lost from C = 3.
    """
    n, ho, wo, f = y.shape
    uf = np.uint64(f)
    wf = w.reshape(9, f)
    w0, w1, w2, w3, w4, w5, w6, w7, w8 = wf[0], wf[1], wf[2], wf[3], wf[4], wf[5], wf[6], wf[7], wf[8]
    for s in range(n):
        xs = x[s, :, :, 0]
        for r in range(ho):
            for c in range(wo):
                a0, a1, a2 = xs[r, c], xs[r, c + 1], xs[r, c + 2]
                b0, b1, b2 = xs[r + 1, c], xs[r + 1, c + 1], xs[r + 1, c + 2]
                c0, c1, c2 = xs[r + 2, c], xs[r + 2, c + 1], xs[r + 2, c + 2]
                row = y[s, r, c]
                for k in range(uf):
                    row[k] = (a0 * w0[k] + a1 * w1[k] + a2 * w2[k] + b0 * w3[k] + b1 * w4[k] + b2 * w5[k]
                              + c0 * w6[k] + c1 * w7[k] + c2 * w8[k])


def conv3x3_one_channel_max_pool(x, w, y):
    """y = the 2x2, stride-2 max-pool of ``conv3x3_one_channel(x, w)``, without storing the convolution.

    ``y`` is (N, Ho // 2, Wo // 2, F) (an odd last row or column of the convolution is dropped, as
    by the pool). Each window's four sums are those of ``conv3x3_one_channel``, bit for bit, and
    its maximum follows ``max_pool_2x2_forward`` (first maximum, a NaN propagates).
    """
    n, ph, pw, f = y.shape
    uf = np.uint64(f)
    wf = w.reshape(9, f)
    w0, w1, w2, w3, w4, w5, w6, w7, w8 = wf[0], wf[1], wf[2], wf[3], wf[4], wf[5], wf[6], wf[7], wf[8]
    window = np.empty((4, f), y.dtype)
    for s in range(n):
        xs = x[s, :, :, 0]
        for i in range(ph):
            for j in range(pw):
                for q in range(4):  # the window's cells in row-major order
                    r, c = 2 * i + q // 2, 2 * j + q % 2
                    a0, a1, a2 = xs[r, c], xs[r, c + 1], xs[r, c + 2]
                    b0, b1, b2 = xs[r + 1, c], xs[r + 1, c + 1], xs[r + 1, c + 2]
                    c0, c1, c2 = xs[r + 2, c], xs[r + 2, c + 1], xs[r + 2, c + 2]
                    row = window[q]
                    for k in range(uf):
                        row[k] = (a0 * w0[k] + a1 * w1[k] + a2 * w2[k] + b0 * w3[k] + b1 * w4[k] + b2 * w5[k]
                                  + c0 * w6[k] + c1 * w7[k] + c2 * w8[k])
                out, t0, t1, t2, t3 = y[s, i, j], window[0], window[1], window[2], window[3]
                for k in range(uf):
                    a, b, p, d = t0[k], t1[k], t2[k], t3[k]
                    top = a if (a >= b or a != a) else b
                    low = p if (p >= d or p != p) else d
                    out[k] = top if (top >= low or top != top) else low


def bias_relu(y, bias, relu):
    """In place on a (M, F) array: y += bias, then max(y, 0) if ``relu`` (NaN stays NaN, as np.maximum)."""
    m, f = y.shape
    zero = y.dtype.type(0)
    for r in range(m):
        for k in range(np.uint64(f)):
            v = y[r, k] + bias[k]
            y[r, k] = zero if (relu and v < zero) else v


def relu_bias_grad(g, y, g_in, db):
    """On (M, F) arrays: g_in = g * (y > 0) and db = g_in summed over the rows, in one pass.

    The mask multiplies (g * 1 or g * 0, as NumPy's g * bool: a negative g masked gives -0.0,
    an infinite or NaN one NaN), and db adds the rows in order, first row first, as NumPy's
    ``sum(axis=0)`` of a C-contiguous array does (its pairwise summation runs only along a
    contiguous reduced axis), so both outputs are bit-identical to the NumPy path.
    """
    m, f = g.shape
    one, zero = g.dtype.type(1), g.dtype.type(0)
    for k in range(np.uint64(f)):
        v = g[0, k] * (one if y[0, k] > zero else zero)
        g_in[0, k] = v
        db[k] = v
    for r in range(1, m):
        for k in range(np.uint64(f)):
            v = g[r, k] * (one if y[r, k] > zero else zero)
            g_in[r, k] = v
            db[k] += v


def adam(var, grad, m, v, one_minus_beta_1, one_minus_beta_2, epsilon, alpha):
    """One Adam step in place on flat arrays, each operation in the order and dtype of the NumPy path."""
    for i in range(np.uint64(var.size)):
        g = grad[i]
        m[i] += (g - m[i]) * one_minus_beta_1
        v[i] += (g * g - v[i]) * one_minus_beta_2
        var[i] -= m[i] / (np.sqrt(v[i]) + epsilon) * alpha
