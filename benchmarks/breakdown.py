"""Where a training step spends its time, by kernel (wall clock), in kernelscope and in PyTorch.

Run by hand, never in CI:

    python benchmarks/breakdown.py cifar32                  # or lenet28, resnet-block
    python benchmarks/breakdown.py lenet28 --workers 1 --no-fast --torch
    python benchmarks/breakdown.py lenet28 --workers 1 --infer      # predict's batches

Wraps the main kernels with timers, trains the network of ``run.py`` for a few
rounds after a warm-up and prints milliseconds per step and the share of each
part. Parts nest: "conv dW" includes its own im2col copies, which are also
counted in "im2col copies". ``--workers 1`` runs as one batch-split worker on one
core (single-threaded BLAS), the robust figure on a shared machine; ``--torch``
adds PyTorch's own per-op profile of the same step (``torch.profiler``, self CPU
time, with the same number of threads).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402 - run.py puts the repository root on the path

from kernelscope.autograd import Tensor  # noqa: E402
from kernelscope.kernels import conv, pooling  # noqa: E402
from kernelscope.optimizers.base import Optimizer  # noqa: E402

PARTS = [  # (owner, attribute, label)
    (Tensor, "backward", "backward pass (total)"),
    (conv, "conv2d_forward", "conv forward (im2col + GEMM, direct or Winograd)"),
    (conv, "_kernel_grad", "conv dW (im2col + GEMM)"),
    (conv, "_full_conv_input_grad", "conv dX as a full convolution"),
    (conv, "conv2d_max_pool_2x2_forward", "conv + max-pool in one pass (inference)"),
    (conv, "_winograd_correlate", "Winograd convolutions (forward or dX)"),
    (conv, "_direct_correlate", "direct one-channel convolutions"),
    (conv, "add_bias_relu", "bias + ReLU"),
    (conv, "col2im_gemm", "conv dX as per-offset GEMMs"),
    (conv, "_gathered_input_grad", "conv dX as GEMM + compiled col2im"),
    (conv, "im2col", "im2col copies"),
    (conv, "pad_or_crop", "zero padding"),
    (pooling, "max_pool2d_forward", "max-pool forward"),
    (pooling, "max_pool2d_backward", "max-pool backward"),
    (Optimizer, "apply_gradients", "optimizer update"),
]


def instrument(totals: dict) -> None:
    for owner, name, label in PARTS:
        original = getattr(owner, name)

        def timed(*args, _original=original, _label=label, **kwargs):
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                totals[_label] += time.perf_counter() - start

        setattr(owner, name, timed)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("network", choices=list(run.NETWORKS))
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=None, help="batch-split workers (default: the usable cores)")
    parser.add_argument("--no-fast", action="store_true", help="NumPy kernels only, even with numba installed")
    parser.add_argument("--torch", action="store_true", help="also print PyTorch's per-op profile of the same step")
    parser.add_argument("--infer", action="store_true", help="time predict's batches instead of training steps")
    args = parser.parse_args(argv)
    import kernelscope as ks

    ks.config.set_num_workers(args.workers)
    ks.config.set_fast(not args.no_fast)
    totals = collections.defaultdict(float)
    instrument(totals)
    runner = run.KsRunner(args.network)
    runner.one_core = ks.config.num_workers() == 1
    mode = "infer" if args.infer else "train"
    getattr(runner, mode)()  # warm-up: buffers, BLAS threads, numba
    totals.clear()
    start = time.perf_counter()
    for _ in range(args.rounds):
        getattr(runner, mode)()
    elapsed = time.perf_counter() - start
    steps = args.rounds * run.NETWORKS[args.network][2]
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"{args.network}: {elapsed / steps * 1e3:.1f} ms per {'inference batch' if args.infer else 'training step'} "
          f"(batch {run.NETWORKS[args.network][1]}, {ks.config.num_workers()} worker(s), "
          f"fast {'on' if ks.config.fast_enabled() else 'off'}, load average {load})\n")
    print("| part | ms per step | share |")
    print("|---|---:|---:|")
    for label, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"| {label} | {seconds / steps * 1e3:.1f} | {100 * seconds / elapsed:.0f}% |")
    print(f"| whole step | {elapsed / steps * 1e3:.1f} | 100% |")
    if args.torch:
        torch_profile(args.network, args.rounds, ks.config.num_workers(), mode)


def torch_profile(network: str, rounds: int, threads: int, mode: str = "train") -> None:
    import torch
    from torch.profiler import ProfilerActivity, profile

    runner = run.TorchRunner(network)
    torch.set_num_threads(threads)
    getattr(runner, mode)()
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(rounds):
            getattr(runner, mode)()
    elapsed = time.perf_counter() - start
    steps = rounds * run.NETWORKS[network][2]
    print(f"\nPyTorch {torch.__version__}, {threads} thread(s): {elapsed / steps * 1e3:.1f} ms per {mode} batch "
          "(under the profiler)\n")
    print("| op (self CPU) | ms per step | share |")
    print("|---|---:|---:|")
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:12]
    for event in events:
        ms = event.self_cpu_time_total / 1e3 / steps
        print(f"| {event.key} | {ms:.1f} | {100 * ms * steps / 1e3 / elapsed:.0f}% |")


if __name__ == "__main__":
    main()
