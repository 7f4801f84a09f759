"""In-process A/B of Winograd F(4x4, 3x3) on the fast path: ``ks.config.set_winograd`` on against off.

Per layer (the benchmark networks' stride-1 convolutions, on one core as a batch-split worker
runs them): the input gradient and the forward pass allowed to take Winograd, medians in ms.
Per step: ``benchmarks/run.py``'s lenet28 and cifar32 training and inference with ``[fast]``,
1 and 2 workers, alternating on and off each round; the figure is the median of off / on
(above 1: Winograd is faster). Needs numba.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/winograd_ab.py [--rounds 7]
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
from fast_kernels import CONV_CASES, per_pass_ms  # noqa: E402
from kernelscope._runtime import blas, workers  # noqa: E402
from kernelscope.kernels import conv as K  # noqa: E402


@contextlib.contextmanager
def winograd(flag: bool):
    ks.config.set_winograd(flag)
    try:
        yield
    finally:
        ks.config.set_winograd(True)


def with_and_without(fn) -> tuple:
    times = []
    for flag in (True, False):
        with winograd(flag):
            times.append(per_pass_ms(fn, repeats=15))
    return times


def layers(_=None) -> None:
    rng = np.random.default_rng(0)
    for label, x_shape, k_shape, pads, strides in CONV_CASES:
        if strides != (1, 1):
            continue
        x = rng.standard_normal(x_shape).astype(np.float32)
        kernel = (rng.standard_normal(k_shape) / np.sqrt(9 * k_shape[2])).astype(np.float32)
        y, cache = K.conv2d_forward(x, kernel, strides, pads)
        dy = rng.standard_normal(y.shape).astype(np.float32)
        dx = with_and_without(lambda: K.conv2d_backward(dy, cache, True, False))
        forward = with_and_without(lambda: K.conv2d_forward(x, kernel, strides, pads, free_rounding=True))
        print(f"{label} N{x_shape[0]}: input gradient {dx[0]:.2f} ms with, {dx[1]:.2f} without ({dx[1] / dx[0]:.2f}x); "
              f"forward {forward[0]:.2f} / {forward[1]:.2f} ms ({forward[1] / forward[0]:.2f}x)", flush=True)


def steps(rounds: int) -> None:
    for name in ("lenet28", "cifar32"):
        runner = run.KsRunner(name)
        for threads in (1, 2):
            run.configure(runner, threads, True)
            for mode in ("train", "infer"):
                fn = getattr(runner, mode)
                fn()  # warm-up: compiles, fills the buffer pools
                ratios = run.alternating_ratios(fn, winograd, rounds)
                print(f"{name} {mode} {threads} worker(s): {statistics.median(ratios):.2f}x with Winograd "
                      f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if not ks.config.winograd_enabled():
        sys.exit("Winograd is off: it needs numba (kernelscope[fast]), and KERNELSCOPE_FAST / KERNELSCOPE_WINOGRAD unset")
    with blas.single_threaded():
        workers.run(layers, [None])
    steps(args.rounds)
