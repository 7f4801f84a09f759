"""Prototype Winograd F(4x4, 3x3) forward (numba transforms + 36 batched GEMMs) against the
library's fast-path im2col convolution, one BLAS thread: the measurement behind PERF_NOTES' Winograd
entry. Not library code. Run: python benchmarks/winograd_probe.py (needs numba and threadpoolctl)."""
import numpy as np, numba, time
from threadpoolctl import threadpool_limits

@numba.njit(cache=False, nogil=True, fastmath=False)
def input_transform(x, top, left, th, tw, V):
    # x (N,H,W,C); V (36, N*th*tw, C)
    n, h, w, c = x.shape
    d = np.empty((6, 6, c), x.dtype)
    t = np.empty((6, 6, c), x.dtype)
    for s in range(n):
        for a in range(th):
            for b in range(tw):
                tile = (s * th + a) * tw + b
                y0 = a * 4 - top
                x0 = b * 4 - left
                for i in range(6):
                    yy = y0 + i
                    for j in range(6):
                        xx = x0 + j
                        if 0 <= yy < h and 0 <= xx < w:
                            for k in range(c):
                                d[i, j, k] = x[s, yy, xx, k]
                        else:
                            for k in range(c):
                                d[i, j, k] = 0
                # t = B^T d  (over rows)
                for j in range(6):
                    for k in range(c):
                        d0, d1, d2, d3, d4, d5 = d[0, j, k], d[1, j, k], d[2, j, k], d[3, j, k], d[4, j, k], d[5, j, k]
                        t[0, j, k] = 4 * d0 - 5 * d2 + d4
                        t[1, j, k] = -4 * d1 - 4 * d2 + d3 + d4
                        t[2, j, k] = 4 * d1 - 4 * d2 - d3 + d4
                        t[3, j, k] = -2 * d1 - d2 + 2 * d3 + d4
                        t[4, j, k] = 2 * d1 - d2 - 2 * d3 + d4
                        t[5, j, k] = 4 * d1 - 5 * d3 + d5
                for i in range(6):
                    for k in range(c):
                        d0, d1, d2, d3, d4, d5 = t[i, 0, k], t[i, 1, k], t[i, 2, k], t[i, 3, k], t[i, 4, k], t[i, 5, k]
                        V[i * 6 + 0, tile, k] = 4 * d0 - 5 * d2 + d4
                        V[i * 6 + 1, tile, k] = -4 * d1 - 4 * d2 + d3 + d4
                        V[i * 6 + 2, tile, k] = 4 * d1 - 4 * d2 - d3 + d4
                        V[i * 6 + 3, tile, k] = -2 * d1 - d2 + 2 * d3 + d4
                        V[i * 6 + 4, tile, k] = 2 * d1 - d2 - 2 * d3 + d4
                        V[i * 6 + 5, tile, k] = 4 * d1 - 5 * d3 + d5

@numba.njit(cache=False, nogil=True)
def output_transform(M, th, tw, y):
    n, h, w, f = y.shape
    t = np.empty((4, 6, f), M.dtype)
    for s in range(n):
        for a in range(th):
            for b in range(tw):
                tile = (s * th + a) * tw + b
                for j in range(6):
                    for k in range(f):
                        m0, m1, m2, m3, m4, m5 = M[j, tile, k], M[6 + j, tile, k], M[12 + j, tile, k], M[18 + j, tile, k], M[24 + j, tile, k], M[30 + j, tile, k]
                        t[0, j, k] = m0 + m1 + m2 + m3 + m4
                        t[1, j, k] = m1 - m2 + 2 * m3 - 2 * m4
                        t[2, j, k] = m1 + m2 + 4 * m3 + 4 * m4
                        t[3, j, k] = m1 - m2 + 8 * m3 - 8 * m4 + m5
                for i in range(4):
                    yy = a * 4 + i
                    if yy >= h:
                        break
                    for k in range(f):
                        m0, m1, m2, m3, m4, m5 = t[i, 0, k], t[i, 1, k], t[i, 2, k], t[i, 3, k], t[i, 4, k], t[i, 5, k]
                        v0 = m0 + m1 + m2 + m3 + m4
                        v1 = m1 - m2 + 2 * m3 - 2 * m4
                        v2 = m1 + m2 + 4 * m3 + 4 * m4
                        v3 = m1 - m2 + 8 * m3 - 8 * m4 + m5
                        xx = b * 4
                        y[s, yy, xx, k] = v0
                        if xx + 1 < w: y[s, yy, xx + 1, k] = v1
                        if xx + 2 < w: y[s, yy, xx + 2, k] = v2
                        if xx + 3 < w: y[s, yy, xx + 3, k] = v3

G = np.array([[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6], [1/24, 1/12, 1/6], [1/24, -1/12, 1/6], [0, 0, 1]])

def kernel_transform(w):
    # w (3,3,C,F) -> U (36, C, F)
    u = np.einsum('ai,ijcf,bj->abcf', G, w.astype(np.float64), G)
    return u.reshape(36, *w.shape[2:]).astype(w.dtype)

def wino_conv(x, w, top=1, left=1):
    n, h, ww, c = x.shape
    f = w.shape[3]
    th, tw = -(-h // 4), -(-ww // 4)
    V = np.empty((36, n * th * tw, c), x.dtype)
    input_transform(x, top, left, th, tw, V)
    U = kernel_transform(w)
    M = np.matmul(V, U)
    y = np.empty((n, h, ww, f), x.dtype)
    output_transform(M, th, tw, y)
    return y

if __name__ == "__main__":
    import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    from kernelscope.kernels import conv as kc
    rng = np.random.default_rng(0)
    with threadpool_limits(1):
        for (n, h, c, f) in [(32, 32, 32, 32), (32, 16, 32, 64), (32, 16, 64, 64), (64, 16, 64, 64), (32, 8, 128, 128)]:
            x = rng.standard_normal((n, h, h, c)).astype(np.float32)
            w = (rng.standard_normal((3, 3, c, f)) / np.sqrt(9 * c)).astype(np.float32)
            ref, _ = kc.conv2d_forward(x.astype(np.float64), w.astype(np.float64), pads=((1, 1), (1, 1)))
            y = wino_conv(x, w)
            yi, _ = kc.conv2d_forward(x, w, pads=((1, 1), (1, 1)))
            err_w = np.abs(y - ref).max() / np.abs(ref).max(); err_i = np.abs(yi - ref).max() / np.abs(ref).max()
            def t(fn, r=15):
                ts = []
                for _ in range(r):
                    t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
                return np.median(ts) * 1e3
            tw_ = t(lambda: wino_conv(x, w)); ti = t(lambda: kc.conv2d_forward(x, w, pads=((1, 1), (1, 1))))
            print(f"N{n} {h}x{h} C{c} F{f}: wino {tw_:.2f} ms im2col {ti:.2f} ms  ratio {ti/tw_:.2f}  err wino {err_w:.1e} im2col {err_i:.1e}")
