"""Winograd F(4x4, 3x3) forward, part by part, against the library's fast-path im2col convolution:
the measurement behind the Winograd entry of PERF_NOTES.md.

The library's numba input and output transforms around 36 batched GEMMs (V @ U), here with fresh
buffers each call and each part timed alone, beside the library's own pooled, chunked Winograd
convolution, on one core as a batch-split worker runs (single-threaded BLAS, inside
``workers.run``); medians in ms, the split per part, and each path's error (max |y - y64| / max |y64|) against the float64
convolution (the im2col path, which the suite checks against PyTorch). Needs numba.

    python benchmarks/winograd_probe.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402

from fast_kernels import per_pass_ms  # noqa: E402
from kernelscope._runtime import blas, fast, workers  # noqa: E402
from kernelscope.kernels import conv as K  # noqa: E402
from kernelscope.kernels import loops  # noqa: E402

# (N, H = W, C, F), 3x3 "same": the cifar32 layers with C >= 32 on a 32-sample worker slice, and larger
CASES = [(32, 32, 32, 32), (32, 16, 32, 64), (32, 16, 64, 64), (64, 16, 64, 64), (32, 8, 128, 128)]
SAME = ((1, 1), (1, 1))
# The library's transforms (kernels/loops.py, compiled as the fast path compiles them). An earlier
# version of this probe held its own copies: the same formulas in njit helpers returning tuples, or
# a loop bound of min(4, h - 4a) instead of a break, made the output transform 2-5x slower.
input_transform = fast.compiled(loops.winograd_input)
output_transform = fast.compiled(loops.winograd_output)
kernel_transform = K._winograd_transformed_kernel


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
        input_transform(self.x, 1, 1, self.th, self.tw, 0, len(self.x), self.v)

    def gemms(self):
        np.matmul(self.v, self.u, out=self.m)

    def outputs(self):
        output_transform(self.m, self.th, self.tw, 0, len(self.y), self.y)

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
        library = per_pass_ms(lambda: K.conv2d_forward(x, kernel, pads=SAME, free_rounding=True), repeats=15)
        parts = [per_pass_ms(part, repeats=15) for part in (wino.inputs, wino.gemms, wino.outputs)]
        kernel_ms = per_pass_ms(lambda: kernel_transform(kernel), repeats=15)
        print(f"N{n} {h}x{h} C{c} F{f}: winograd {whole:.2f} ms, im2col {im2col:.2f} ms, {im2col / whole:.2f}x "
              f"(the library's {library:.2f} ms, {im2col / library:.2f}x); "
              f"parts: inputs {parts[0]:.2f}, GEMMs {parts[1]:.2f}, outputs {parts[2]:.2f}, kernel {kernel_ms:.2f}; "
              f"error winograd {errors[0]:.1e}, im2col {errors[1]:.1e}")


if __name__ == "__main__":
    with blas.single_threaded():
        workers.run(probe, [None])
