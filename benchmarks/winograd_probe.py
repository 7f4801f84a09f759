"""Prototype Winograd F(4x4, 3x3) forward against the library's fast-path im2col convolution:
the measurement behind the Winograd entry of PERF_NOTES.md. Not library code.

numba input and output transforms around 36 batched GEMMs (V @ U), on one core as a batch-split
worker runs (single-threaded BLAS, inside ``workers.run``); medians in ms, the split of the
prototype's time per part, and each path's error (max |y - y64| / max |y64|) against the float64
convolution (the im2col path, which the suite checks against PyTorch). Needs numba.

    python benchmarks/winograd_probe.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numba  # noqa: E402
import numpy as np  # noqa: E402

from fast_kernels import per_pass_ms  # noqa: E402
from kernelscope._runtime import blas, workers  # noqa: E402
from kernelscope.kernels import conv as K  # noqa: E402

# (N, H = W, C, F), 3x3 "same": the cifar32 layers with C >= 32 on a 32-sample worker slice, and larger
CASES = [(32, 32, 32, 32), (32, 16, 32, 64), (32, 16, 64, 64), (64, 16, 64, 64), (32, 8, 128, 128)]
SAME = ((1, 1), (1, 1))
# Lavin and Gray's F(4x4, 3x3) kernel transform; the data (B^T) and output (A^T) ones are written out below
G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
              [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])


# The transforms are written out inside the loops: the same formulas in small njit helpers returning
# tuples measured 1.2x (inputs) to 4.9x (outputs) slower, the tuples keeping numba from vectorising
# over channels. numba's integer constants make the float32 arithmetic float64, rounded once when stored.
@numba.njit(nogil=True)
def input_transform(x, top, left, th, tw, v):
    """v[6*i + j, tile, k] = (B^T d B)[i, j] of each 6x6 input tile d (zero outside x), tiles every 4 pixels."""
    n, h, w, c = x.shape
    d = np.empty((6, 6, c), x.dtype)
    t = np.empty((6, 6, c), x.dtype)
    for s in range(n):
        for a in range(th):
            for b in range(tw):
                tile = (s * th + a) * tw + b
                for i in range(6):
                    yy = a * 4 - top + i
                    for j in range(6):
                        xx = b * 4 - left + j
                        if 0 <= yy < h and 0 <= xx < w:
                            for k in range(c):
                                d[i, j, k] = x[s, yy, xx, k]
                        else:
                            for k in range(c):
                                d[i, j, k] = 0
                for j in range(6):  # t = B^T d
                    for k in range(c):
                        d0, d1, d2, d3, d4, d5 = d[0, j, k], d[1, j, k], d[2, j, k], d[3, j, k], d[4, j, k], d[5, j, k]
                        t[0, j, k] = 4 * d0 - 5 * d2 + d4
                        t[1, j, k] = -4 * d1 - 4 * d2 + d3 + d4
                        t[2, j, k] = 4 * d1 - 4 * d2 - d3 + d4
                        t[3, j, k] = -2 * d1 - d2 + 2 * d3 + d4
                        t[4, j, k] = 2 * d1 - d2 - 2 * d3 + d4
                        t[5, j, k] = 4 * d1 - 5 * d3 + d5
                for i in range(6):  # v = t B
                    for k in range(c):
                        d0, d1, d2, d3, d4, d5 = t[i, 0, k], t[i, 1, k], t[i, 2, k], t[i, 3, k], t[i, 4, k], t[i, 5, k]
                        v[6 * i, tile, k] = 4 * d0 - 5 * d2 + d4
                        v[6 * i + 1, tile, k] = -4 * d1 - 4 * d2 + d3 + d4
                        v[6 * i + 2, tile, k] = 4 * d1 - 4 * d2 - d3 + d4
                        v[6 * i + 3, tile, k] = -2 * d1 - d2 + 2 * d3 + d4
                        v[6 * i + 4, tile, k] = 2 * d1 - d2 - 2 * d3 + d4
                        v[6 * i + 5, tile, k] = 4 * d1 - 5 * d3 + d5


@numba.njit(nogil=True)
def output_transform(m, th, tw, y):
    """y's 4x4 tile of each product tile: A^T m A, cropped to y."""
    n, h, w, f = y.shape
    t = np.empty((4, 6, f), m.dtype)
    for s in range(n):
        for a in range(th):
            for b in range(tw):
                tile = (s * th + a) * tw + b
                for j in range(6):  # t = A^T m
                    for k in range(f):
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
                    for k in range(f):
                        m0, m1, m2, m3, m4, m5 = t[i, 0, k], t[i, 1, k], t[i, 2, k], t[i, 3, k], t[i, 4, k], t[i, 5, k]
                        y[s, yy, xx, k] = m0 + m1 + m2 + m3 + m4
                        if xx + 1 < w:
                            y[s, yy, xx + 1, k] = m1 - m2 + 2 * m3 - 2 * m4
                        if xx + 2 < w:
                            y[s, yy, xx + 2, k] = m1 + m2 + 4 * m3 + 4 * m4
                        if xx + 3 < w:
                            y[s, yy, xx + 3, k] = m1 - m2 + 8 * m3 - 8 * m4 + m5


def kernel_transform(kernel):
    """(3, 3, C, F) kernel -> U (36, C, F) = G g G^T per (C, F) pair, computed in float64."""
    u = np.einsum("ai,ijcf,bj->abcf", G, kernel.astype(np.float64), G)
    return u.reshape(36, *kernel.shape[2:]).astype(kernel.dtype)


class Winograd:
    """The prototype "same" 3x3 convolution, its three parts callable apart for the split."""

    def __init__(self, x, kernel):
        n, h, w, c = x.shape
        self.x, self.kernel, self.th, self.tw = x, kernel, -(-h // 4), -(-w // 4)
        self.v = np.empty((36, n * self.th * self.tw, c), x.dtype)
        self.u = kernel_transform(kernel)
        self.m = np.empty((36, n * self.th * self.tw, kernel.shape[3]), x.dtype)
        self.y = np.empty((n, h, w, kernel.shape[3]), x.dtype)

    def inputs(self):
        input_transform(self.x, 1, 1, self.th, self.tw, self.v)

    def gemms(self):
        np.matmul(self.v, self.u, out=self.m)

    def outputs(self):
        output_transform(self.m, self.th, self.tw, self.y)

    def __call__(self):
        """The whole convolution, with fresh buffers as a library call without a pool would make."""
        fresh = Winograd(self.x, self.kernel)
        fresh.inputs()
        fresh.gemms()
        fresh.outputs()
        return fresh.y


def probe(_=None) -> None:
    rng = np.random.default_rng(0)
    for n, h, c, f in CASES:
        x = rng.standard_normal((n, h, h, c)).astype(np.float32)
        kernel = (rng.standard_normal((3, 3, c, f)) / np.sqrt(9 * c)).astype(np.float32)
        exact = K.conv2d_forward(x.astype(np.float64), kernel.astype(np.float64), pads=SAME)[0]
        wino = Winograd(x, kernel)
        errors = [np.abs(y - exact).max() / np.abs(exact).max()
                  for y in (wino(), K.conv2d_forward(x, kernel, pads=SAME)[0])]
        whole = per_pass_ms(wino, repeats=15)
        im2col = per_pass_ms(lambda: K.conv2d_forward(x, kernel, pads=SAME), repeats=15)
        parts = [per_pass_ms(part, repeats=15) for part in (wino.inputs, wino.gemms, wino.outputs)]
        kernel_ms = per_pass_ms(lambda: kernel_transform(kernel), repeats=15)
        print(f"N{n} {h}x{h} C{c} F{f}: winograd {whole:.2f} ms, im2col {im2col:.2f} ms, {im2col / whole:.2f}x; "
              f"parts: inputs {parts[0]:.2f}, GEMMs {parts[1]:.2f}, outputs {parts[2]:.2f}, kernel {kernel_ms:.2f}; "
              f"error winograd {errors[0]:.1e}, im2col {errors[1]:.1e}")


if __name__ == "__main__":
    with blas.single_threaded():
        workers.run(probe, [None])
