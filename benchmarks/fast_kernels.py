"""In-process A/B of single passes, fast vs NumPy (medians, ms): the fused ReLU-backward + bias
gradient, and a convolution's input gradient (the compiled col2im gather against the NumPy path:
per-offset GEMMs when F > C or strided, else the full convolution) on one core, as a batch-split
worker runs it.

    python benchmarks/fast_kernels.py
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402

import kernelscope as ks  # noqa: E402
from kernelscope._runtime import blas, workers  # noqa: E402
from kernelscope.kernels import conv as K  # noqa: E402

# (label, input NHWC, kernel (kh, kw, C, F), pads, strides): the benchmark networks' layers and a strided one
INPUT_GRAD_CASES = [
    ("lenet28 conv2", (128, 13, 13, 32), (3, 3, 32, 64), ((0, 0), (0, 0)), (1, 1)),
    ("cifar32 conv2", (64, 32, 32, 32), (3, 3, 32, 32), ((1, 1), (1, 1)), (1, 1)),
    ("cifar32 conv3", (64, 16, 16, 32), (3, 3, 32, 64), ((1, 1), (1, 1)), (1, 1)),
    ("cifar32 conv4", (64, 16, 16, 64), (3, 3, 64, 64), ((1, 1), (1, 1)), (1, 1)),
    ("stride 2", (32, 28, 28, 64), (3, 3, 64, 64), ((0, 1), (0, 1)), (2, 2)),
]


def input_grads(_=None) -> None:
    rng = np.random.default_rng(0)
    for label, x_shape, k_shape, pads, strides in INPUT_GRAD_CASES:
        x = rng.standard_normal(x_shape).astype(np.float32)
        kernel = rng.standard_normal(k_shape).astype(np.float32)
        y, cache = K.conv2d_forward(x, kernel, strides, pads)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        row = []
        for flag in (False, True):
            ks.config.set_fast(flag)
            row.append(per_pass_ms(lambda: K.conv2d_backward(dy, cache, True, False), repeats=10))
        print(f"conv dX {label}: numpy {row[0]:.2f} ms, fast {row[1]:.2f} ms, {row[0] / row[1]:.2f}x")


def per_pass_ms(fn, repeats=30):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    for shape in [(64, 26, 26, 32), (64, 11, 11, 64), (128, 32, 32, 32), (128, 8, 8, 128)]:
        y = np.maximum(rng.standard_normal(shape), 0).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        row = []
        for flag in (False, True):
            ks.config.set_fast(flag)
            row.append(per_pass_ms(lambda: K.relu_bias_grad(g, y, True)))
        print(f"relu_bias_grad {shape}: numpy {row[0]:.2f} ms, fast {row[1]:.2f} ms, {row[0] / row[1]:.1f}x")
    with blas.single_threaded():
        workers.run(input_grads, [None])
