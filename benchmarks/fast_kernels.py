"""In-process A/B of every numba loop of ``kernels/loops.py`` against its NumPy path, one pass at a
time, on one core as a batch-split worker runs it (single-threaded BLAS); medians in ms.

    python benchmarks/fast_kernels.py            # all passes
    python benchmarks/fast_kernels.py im2col     # the passes whose name starts with that

The shapes are the benchmark networks' layers (``run.py``: lenet28 at batch 128, cifar32 at 64)
and a strided convolution. Each pass calls the library's own entry point with the fast path on
and off (``ks.config.set_fast``), so what is timed is what a training step runs. Winograd is timed
against im2col + GEMM on the forward of an inference pass.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402

import kernelscope as ks  # noqa: E402
from kernelscope._runtime import blas, workers  # noqa: E402
from kernelscope.kernels import conv as K  # noqa: E402
from kernelscope.kernels import pooling as P  # noqa: E402

PAD1 = ((1, 1), (1, 1))
NO_PAD = ((0, 0), (0, 0))
# (label, input NHWC, kernel (kh, kw, C, F), pads, strides)
CONV_CASES = [
    ("lenet28 conv2", (128, 13, 13, 32), (3, 3, 32, 64), NO_PAD, (1, 1)),
    ("cifar32 conv2", (64, 32, 32, 32), (3, 3, 32, 32), PAD1, (1, 1)),
    ("cifar32 conv3", (64, 16, 16, 32), (3, 3, 32, 64), PAD1, (1, 1)),
    ("cifar32 conv4", (64, 16, 16, 64), (3, 3, 64, 64), PAD1, (1, 1)),
    ("stride 2", (32, 28, 28, 64), (3, 3, 64, 64), ((0, 1), (0, 1)), (2, 2)),
]
# conv outputs the element-wise passes see: lenet28 conv1/conv2, cifar32 conv2/conv4
ACTIVATIONS = [(128, 26, 26, 32), (128, 11, 11, 64), (64, 32, 32, 32), (64, 16, 16, 64)]


def per_pass_ms(fn, repeats=15):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def ab(fn, repeats=15) -> tuple:
    """(NumPy ms, fast ms), alternating the two paths."""
    rounds = {False: [], True: []}
    for _ in range(3):
        for flag in (False, True):
            ks.config.set_fast(flag)
            rounds[flag].append(per_pass_ms(fn, repeats))
    ks.config.set_fast(True)
    return float(np.median(rounds[False])), float(np.median(rounds[True]))


def im2col_cases(rng):
    for label, x_shape, k_shape, pads, strides in CONV_CASES:
        x = rng.standard_normal(x_shape).astype(np.float32)
        padded = (x_shape[1] + sum(pads[0]), x_shape[2] + sum(pads[1]))
        out_hw = K._output_hw(padded, k_shape[:2], strides, (1, 1))
        out = np.empty(x_shape[0] * out_hw[0] * out_hw[1] * k_shape[0] * k_shape[1] * x_shape[3], np.float32)

        def copy(x=x, pads=pads, strides=strides, out_hw=out_hw, out=out, k_shape=k_shape):
            xp, still = K._lazy_pad(x, pads)
            K.im2col(xp, k_shape[:2], strides, (1, 1), out_hw, 1, out, still)
        yield f"im2col {label}", copy


def conv_cases(rng):
    for label, x_shape, k_shape, pads, strides in CONV_CASES:
        x = rng.standard_normal(x_shape).astype(np.float32)
        kernel = rng.standard_normal(k_shape).astype(np.float32)
        y, cache = K.conv2d_forward(x, kernel, strides, pads)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        yield f"conv dX {label}", lambda dy=dy, cache=cache: K.conv2d_backward(dy, cache, True, False)
        yield (f"conv forward (inference) {label}",
               lambda x=x, kernel=kernel, strides=strides, pads=pads: K.conv2d_forward(x, kernel, strides, pads,
                                                                                       free_rounding=True))


def elementwise_cases(rng):
    for shape in ACTIVATIONS:
        y = rng.standard_normal(shape).astype(np.float32)
        bias = rng.standard_normal(shape[-1]).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        relu_out = np.maximum(y, 0)
        yield f"bias_relu {shape}", lambda y=y, bias=bias: K.add_bias_relu(y, bias, True)
        yield f"relu_bias_grad {shape}", lambda g=g, y=relu_out: K.relu_bias_grad(g, y, True)
        pooled_shape = (shape[0], shape[1] // 2, shape[2] // 2, shape[3])
        dy = rng.standard_normal(pooled_shape).astype(np.float32)
        yield f"max_pool forward {shape}", lambda y=y: P.max_pool2d_forward(y, (2, 2), (2, 2), NO_PAD)
        caches = {}  # each path's own forward cache (only the fast one keeps the winners)

        def backward(dy=dy, y=y, caches=caches):
            flag = ks.config.fast_enabled()
            if flag not in caches:
                caches[flag] = P.max_pool2d_forward(y, (2, 2), (2, 2), NO_PAD)[1]
            P.max_pool2d_backward(dy, caches[flag])
        yield f"max_pool backward {shape}", backward


def adam_cases(rng):
    for size in (18_496, 1_179_776):  # cifar32 conv4's kernel, a 1152 x 1024 dense kernel
        var = ks.Variable(rng.standard_normal(size).astype(np.float32))
        grad = rng.standard_normal(size).astype(np.float32)
        optimizer = ks.optimizers.Adam(1e-3)
        optimizer.apply_gradients([(grad, var)])
        yield f"adam step {size} weights", lambda o=optimizer, g=grad, v=var: o.apply_gradients([(g, v)])


def run(prefix: str) -> None:
    rng = np.random.default_rng(0)
    print("| pass (one core) | NumPy ms | fast ms | speed-up |")
    print("|---|---:|---:|---:|")
    for cases in (im2col_cases, conv_cases, elementwise_cases, adam_cases):
        for label, fn in cases(rng):
            if label.startswith(prefix):
                numpy_ms, fast_ms = ab(fn)
                print(f"| {label} | {numpy_ms:.2f} | {fast_ms:.2f} | {numpy_ms / fast_ms:.2f}x |", flush=True)


if __name__ == "__main__":
    if not ks.config.fast_enabled():
        sys.exit("the fast path is off (numba missing or KERNELSCOPE_FAST=0): nothing to compare")
    with blas.single_threaded():
        workers.run(run, [sys.argv[1] if len(sys.argv) > 1 else ""])
