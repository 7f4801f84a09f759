"""In-process A/B of the inference-only convolution paths of ``[fast]``: on against off.

"On" is the library as it is: a one-channel 3x3 convolution runs as the direct loop, and the
conv -> ReLU -> 2x2 max-pool block pools while it convolves (in that loop or in Winograd's output
transform). "Off" hides both (the convolution goes to im2col + GEMM or Winograd, then the pool
runs as its own pass), as before they existed. Per layer on one core as a batch-split worker
runs them, then ``benchmarks/run.py``'s lenet28 and cifar32 inference with 1 and 2 workers,
alternating on and off each round; the figure is the median of off / on (above 1: faster on).
Needs numba.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/inference_ab.py [--rounds 7]
"""

import argparse
import contextlib
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402

import kernelscope as ks  # noqa: E402
import run  # noqa: E402
from fast_kernels import per_pass_ms  # noqa: E402
from kernelscope._runtime import blas, workers  # noqa: E402
from kernelscope.kernels import conv as K  # noqa: E402
from kernelscope.kernels import pooling as P  # noqa: E402

LAYERS = [  # (label, x shape, kernel shape, pads)
    ("lenet28 conv1", (128, 28, 28, 1), (3, 3, 1, 32), ((0, 0), (0, 0))),
    ("lenet28 conv2", (128, 13, 13, 32), (3, 3, 32, 64), ((0, 0), (0, 0))),
    ("cifar32 conv2", (64, 32, 32, 32), (3, 3, 32, 32), ((1, 1), (1, 1))),
    ("cifar32 conv4", (64, 16, 16, 64), (3, 3, 64, 64), ((1, 1), (1, 1))),
]


@contextlib.contextmanager
def paths(on: bool):
    """The library as it is, or (``on`` False) without the direct loop and the pooled convolutions."""
    direct, pooled = K._one_channel_loop, K.conv2d_max_pool_2x2_forward
    if not on:
        K._one_channel_loop = lambda *args: None
        K.conv2d_max_pool_2x2_forward = lambda *args, **kwargs: None
    try:
        yield
    finally:
        K._one_channel_loop, K.conv2d_max_pool_2x2_forward = direct, pooled


def conv_then_pool(x, kernel, pads):
    y = K.conv2d_max_pool_2x2_forward(x, kernel, (1, 1), pads)
    if y is None:
        y = K.conv2d_forward(x, kernel, pads=pads, free_rounding=True)[0]
        y = P.max_pool2d_forward(y, (2, 2), (2, 2), ((0, 0), (0, 0)))[0]
    return y


def layers(_=None) -> None:
    rng = np.random.default_rng(0)
    for label, x_shape, k_shape, pads in LAYERS:
        x = rng.standard_normal(x_shape).astype(np.float32)
        kernel = (rng.standard_normal(k_shape) / np.sqrt(9 * k_shape[2])).astype(np.float32)
        times = {}
        for flag in (True, False):
            with paths(flag):
                times[flag] = (per_pass_ms(lambda: K.conv2d_forward(x, kernel, pads=pads, free_rounding=True),
                                           repeats=15),
                               per_pass_ms(lambda: conv_then_pool(x, kernel, pads), repeats=15))
        (conv_on, pool_on), (conv_off, pool_off) = times[True], times[False]
        print(f"{label} N{x_shape[0]}: convolution {conv_on:.2f} ms on, {conv_off:.2f} off ({conv_off / conv_on:.2f}x); "
              f"convolution + 2x2 max-pool {pool_on:.2f} / {pool_off:.2f} ms ({pool_off / pool_on:.2f}x)", flush=True)


def steps(rounds: int) -> None:
    for name in ("lenet28", "cifar32"):
        runner = run.KsRunner(name)
        for threads in (1, 2):
            run.configure(runner, threads, True)
            runner.infer()  # warm-up: compiles, fills the buffer pools
            ratios = run.alternating_ratios(runner.infer, paths, rounds)
            print(f"{name} infer {threads} worker(s): {statistics.median(ratios):.2f}x on "
                  f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if not ks.config.fast_enabled():
        sys.exit("the fast path is off: it needs numba (kernelscope[fast]), and KERNELSCOPE_FAST unset")
    with blas.single_threaded():
        workers.run(layers, [None])
    steps(args.rounds)
