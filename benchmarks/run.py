"""Side-by-side speed of kernelscope and PyTorch (CPU) on the same networks.

Run by hand, never in CI:

    python -m pip install -e ".[test]"          # brings the pinned torch==2.13.0 oracle
    python benchmarks/run.py                    # everything
    python benchmarks/run.py --only lenet28 ops --rounds 5

For every network both frameworks train (Adam, cross-entropy) and infer the same
architecture on the same random data in one process, alternating rounds after a
warm-up. Reported: the ratio kernelscope/PyTorch (median of the per-round ratios:
> 1 means kernelscope is faster) with 2 workers against PyTorch's 2 threads and with
1 worker against 1 thread (robust on a shared machine: no one waits for a neighbour's
core), each NumPy-only and with the numba kernels of kernelscope[fast]; images/second
and the peak memory of each framework (2 workers/threads), measured in separate child
processes. NumPy is imported first, as user scripts do. ``--compile-cost`` times the
first training step in fresh processes with a cold and a warm numba cache. The op
table shows achieved GFLOPS next to the float32 GEMM peak NumPy's BLAS reaches.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path


# Run from a checkout without installing: the repository root goes first on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402 - first, as user scripts do (then OPENBLAS_THREAD_TIMEOUT is not set)
import kernelscope  # noqa: E402,F401

THREADS = 2
# (label, kernelscope workers = PyTorch threads, kernelscope[fast] on)
CONFIGS = [("2w", 2, False), ("2w fast", 2, True), ("1w", 1, False), ("1w fast", 1, True)]


# ----------------------------------------------------------------- networks
def ks_model(name: str):
    import kernelscope as ks
    L = ks.layers
    if name == "lenet28":
        layers = [ks.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
                  L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(),
                  L.Dense(128, activation="relu"), L.Dense(10)]
    elif name == "cifar32":
        def conv(filters):
            return L.Conv2D(filters, 3, padding="same", activation="relu")

        layers = [ks.Input((32, 32, 3)), conv(32), conv(32), L.MaxPooling2D(2), conv(64), conv(64),
                  L.MaxPooling2D(2), L.Flatten(), L.Dense(256, activation="relu"), L.Dense(10)]
    elif name == "resnet-block":
        return ks_resnet_blocks()
    else:
        raise ValueError(name)
    return ks.Sequential(layers)


def ks_resnet_blocks(blocks: int = 2):
    """ResNet-50 conv2_x bottleneck blocks (identity shortcut) at 56x56x256."""
    import kernelscope as ks
    L = ks.layers
    inputs = ks.Input((56, 56, 256))
    x = inputs
    for b in range(blocks):
        shortcut = x
        for i, (filters, kernel) in enumerate([(64, 1), (64, 3), (256, 1)]):
            x = L.Conv2D(filters, kernel, padding="same", name=f"b{b}_{i}_conv")(x)
            x = L.BatchNormalization(epsilon=1.001e-5, name=f"b{b}_{i}_bn")(x)
            if i < 2:
                x = L.Activation("relu")(x)
        x = L.Activation("relu")(L.Add()([shortcut, x]))
    x = L.GlobalAveragePooling2D()(x)
    return ks.Model(inputs, L.Dense(10)(x))


def torch_model(name: str):
    import torch
    from torch import nn
    if name == "lenet28":
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "cifar32":
        return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
                             nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(64 * 8 * 8, 256), nn.ReLU(), nn.Linear(256, 10))
    if name == "resnet-block":
        class Bottleneck(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(
                    nn.Conv2d(256, 64, 1), nn.BatchNorm2d(64, eps=1.001e-5), nn.ReLU(),
                    nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64, eps=1.001e-5), nn.ReLU(),
                    nn.Conv2d(64, 256, 1), nn.BatchNorm2d(256, eps=1.001e-5))

            def forward(self, x):
                return torch.relu(x + self.body(x))

        return nn.Sequential(Bottleneck(), Bottleneck(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 10))
    raise ValueError(name)


NETWORKS = {  # name: (input shape NHWC without batch, batch size, batches per round)
    "lenet28": ((28, 28, 1), 128, 8),
    "cifar32": ((32, 32, 3), 64, 8),
    "resnet-block": ((56, 56, 256), 8, 3),
}


def make_data(name: str, seed: int = 0):
    shape, batch, steps = NETWORKS[name]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch * steps,) + shape).astype(np.float32)
    y = rng.integers(0, 10, size=batch * steps)
    return x, y, batch


# ------------------------------------------------------------------ runners
class KsRunner:
    def __init__(self, name):
        import kernelscope as ks
        self.model = ks_model(name)
        self.model.compile(optimizer=ks.optimizers.Adam(1e-3),
                           loss=ks.losses.SparseCategoricalCrossentropy(from_logits=True))
        self.x, self.y, self.batch = make_data(name)
        self.one_core = False  # one worker on one core: BLAS and the copies single-threaded too

    def train(self):
        self._run(lambda: self.model.fit(self.x, self.y, batch_size=self.batch, epochs=1, shuffle=False, verbose=0))

    def infer(self):
        self._run(lambda: self.model.predict(self.x, batch_size=self.batch, verbose=0))

    def _run(self, fn):
        if not self.one_core:
            return fn()
        from kernelscope._runtime import blas, workers
        with blas.single_threaded():  # as one batch-split worker: one BLAS thread, no pass split over cores
            return workers.run(lambda _: fn(), [None])[0]


class TorchRunner:
    def __init__(self, name):
        import torch
        torch.set_num_threads(THREADS)
        self.torch = torch
        self.model = torch_model(name)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3, eps=1e-7)
        x, y, self.batch = make_data(name)
        self.x = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        self.y = torch.from_numpy(y)
        self.loss = torch.nn.CrossEntropyLoss()

    def train(self):
        self.model.train()
        for i in range(0, len(self.x), self.batch):
            self.opt.zero_grad()
            loss = self.loss(self.model(self.x[i:i + self.batch]), self.y[i:i + self.batch])
            loss.backward()
            self.opt.step()

    def infer(self):
        self.model.eval()
        with self.torch.no_grad():
            for i in range(0, len(self.x), self.batch):
                self.model(self.x[i:i + self.batch])


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def alternating_ratios(fn, switched, rounds: int) -> list:
    """In-process A/B: per round, ``fn``'s seconds with a switch off over its seconds with it on (above 1:
    faster on), the order alternating each round; ``switched(flag)`` is a context manager setting it."""
    ratios = []
    for r in range(rounds):
        seconds = {}
        for flag in ((True, False) if r % 2 else (False, True)):
            with switched(flag):
                seconds[flag] = timed(fn)
        ratios.append(seconds[False] / seconds[True])
    return ratios


def configure(ks_run, threads: int, fast: bool) -> None:
    import torch

    import kernelscope as ks
    ks.config.set_num_workers(threads)
    ks.config.set_fast(fast)
    ks_run.one_core = threads == 1
    torch.set_num_threads(threads)


def compare(name: str, rounds: int, configs: list) -> dict:
    ks_run, torch_run = KsRunner(name), TorchRunner(name)
    n = len(ks_run.x)
    row = {"network": name}
    for mode in ("train", "infer"):
        times = {label: ([], []) for label, _, _ in configs}
        for label, threads, fast in configs:  # warm-up: numba compilation, caches, BLAS threads, allocator
            configure(ks_run, threads, fast)
            getattr(ks_run, mode)()
            getattr(torch_run, mode)()
        for _ in range(rounds):  # alternate every configuration within a round: all see the same load
            for label, threads, fast in configs:
                configure(ks_run, threads, fast)
                times[label][0].append(timed(getattr(ks_run, mode)))
                times[label][1].append(timed(getattr(torch_run, mode)))
        for label, (ks_times, torch_times) in times.items():
            row[f"{mode}_{label}_ratio"] = statistics.median(t / k for k, t in zip(ks_times, torch_times))
            row[f"{mode}_{label}_ks_ips"] = n / statistics.median(ks_times)
            row[f"{mode}_{label}_torch_ips"] = n / statistics.median(torch_times)
    for framework in ("kernelscope", "torch"):
        row[f"peak_mb_{framework}"] = peak_memory(name, framework)
    return row


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_child(name: str, framework: str) -> None:
    """Peak memory of one training round, above the process's footprint before it.

    The peak is the RSS high-water mark of this process (VmHWM), reset just before the
    round. Not ru_maxrss: Linux carries that over from the parent across fork and exec,
    so a child of the big benchmark process would report the parent's size.
    """
    runner = (KsRunner if framework == "kernelscope" else TorchRunner)(name)
    if framework == "kernelscope" and kernelscope.config.fast_enabled():
        runner.model.predict(runner.x[:8], verbose=0)  # numba's compiled code loads here, as torch's at import
    baseline = _status_mb("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
    except OSError:
        pass  # old kernels: the mark then also covers the setup, a slight overestimate
    runner.train()
    print(json.dumps({"peak_mb": _status_mb("VmHWM") - baseline}))


def first_step_child(name: str) -> None:
    """Seconds from a fresh process's first training step to its end (numba compiles or loads its cache here)."""
    runner = KsRunner(name)
    x, y = runner.x[:runner.batch], runner.y[:runner.batch]
    start = time.perf_counter()
    runner.model.train_on_batch(x, y)
    first = time.perf_counter() - start
    start = time.perf_counter()
    runner.model.train_on_batch(x, y)
    print(json.dumps({"first": first, "second": time.perf_counter() - start}))


def print_compile_cost() -> None:
    """The first training step of lenet28 and cifar32 in fresh processes: numba off, cold cache, warm cache."""
    import tempfile

    print("| network | first step, NumPy only | first step, [fast] cold cache | [fast] warm cache | later steps |")
    print("|---|---:|---:|---:|---:|")
    for name in ("lenet28", "cifar32"):
        with tempfile.TemporaryDirectory() as cache:
            runs = [_first_step(name, KERNELSCOPE_FAST="0"), _first_step(name, NUMBA_CACHE_DIR=cache),
                    _first_step(name, NUMBA_CACHE_DIR=cache)]
        print(f"| {name} | {runs[0]['first']:.2f} s | {runs[1]['first']:.2f} s | {runs[2]['first']:.2f} s | "
              f"{runs[2]['second']:.2f} s |")


def _first_step(name: str, **env) -> dict:
    out = subprocess.run([sys.executable, __file__, "--first-step-child", name], capture_output=True, text=True,
                         check=True, env={**os.environ, **env})
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_memory(name: str, framework: str) -> float:
    out = subprocess.run([sys.executable, __file__, "--memory-child", name, framework],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"]


# ---------------------------------------------------------------------- ops
def gemm_peak() -> float:
    """Best float32 GFLOPS of a 2048^3 NumPy matmul (the best run is the least disturbed by load)."""
    a = np.random.default_rng(0).standard_normal((2048, 2048)).astype(np.float32)
    a @ a
    t = min(timed(lambda: a @ a) for _ in range(10))
    return 2 * 2048 ** 3 / t / 1e9


CONV_SHAPES = [  # (label, (N, H, W, C, F, k, padding)): the convolutions of the three networks
    ("lenet28 conv1", (128, 28, 28, 1, 32, 3, "valid")),
    ("lenet28 conv2", (128, 13, 13, 32, 64, 3, "valid")),
    ("cifar32 conv2", (64, 32, 32, 32, 32, 3, "same")),
    ("cifar32 conv4", (64, 16, 16, 64, 64, 3, "same")),
    ("resnet 3x3", (8, 56, 56, 64, 64, 3, "same")),
    ("resnet 1x1", (8, 56, 56, 256, 64, 1, "valid")),
]


def op_table(rounds: int) -> list:
    import torch
    import torch.nn.functional as F

    import kernelscope as ks
    torch.set_num_threads(THREADS)
    rng = np.random.default_rng(0)
    rows = []
    for name, (n, h, w, c, f, k, pad) in CONV_SHAPES:
        x = rng.standard_normal((n, h, w, c)).astype(np.float32)
        kern = rng.standard_normal((k, k, c, f)).astype(np.float32) * 0.1
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).requires_grad_()
        kt = torch.from_numpy(np.ascontiguousarray(kern.transpose(3, 2, 0, 1))).requires_grad_()
        ho = h if pad == "same" else h - k + 1
        flops = 2 * n * ho * ho * f * k * k * c

        def ks_fwd():
            with ks.no_grad():
                ks.ops.conv2d(x, kern, padding=pad)

        def ks_fwd_bwd():
            xv, kv = ks.Tensor(x, requires_grad=True), ks.Tensor(kern, requires_grad=True)
            y = ks.ops.conv2d(xv, kv, padding=pad)
            y.backward(np.ones(y.shape, np.float32))

        def torch_fwd():
            with torch.no_grad():
                F.conv2d(xt, kt, padding=pad)

        def torch_fwd_bwd():
            xt.grad = kt.grad = None
            F.conv2d(xt, kt, padding=pad).sum().backward()

        label = f"{name}: conv2d {n}x{h}x{w}x{c} {k}x{k}, {f} filters, {pad}"
        gemm = _conv_gemm_gflops(x, kern, pad, rounds)
        rows.append({**_op_row(label + " fwd", ks_fwd, torch_fwd, flops, rounds), "gemm_gflops": gemm})
        rows.append(_op_row(label + " fwd+bwd", ks_fwd_bwd, torch_fwd_bwd, 3 * flops, rounds))

    x = np.maximum(rng.standard_normal((128, 26, 26, 32)).astype(np.float32), 0)  # lenet28's first pool
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))

    def ks_pool_bwd():
        xv = ks.Tensor(x, requires_grad=True)
        ks.ops.max_pool2d(xv, 2).sum().backward()

    def torch_pool_bwd():
        xg = xt.detach().requires_grad_()
        F.max_pool2d(xg, 2).sum().backward()

    rows.append(_op_row("max_pool2d 2x2 128x26x26x32 fwd", lambda: ks.ops.max_pool2d(x, 2),
                        lambda: F.max_pool2d(xt, 2), None, rounds))
    rows.append(_op_row("max_pool2d 2x2 128x26x26x32 fwd+bwd", ks_pool_bwd, torch_pool_bwd, None, rounds))
    x = rng.standard_normal((64, 32, 32, 64)).astype(np.float32)
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    gamma, beta = np.ones(64, np.float32), np.zeros(64, np.float32)
    rows.append(_op_row("batch_norm train 64x32x32x64",
                        lambda: ks.ops.batch_norm(x, gamma, beta, training=True),
                        lambda: F.batch_norm(xt, None, None, torch.from_numpy(gamma), torch.from_numpy(beta),
                                             training=True), None, rounds))
    a = rng.standard_normal((128, 1600)).astype(np.float32)
    wd = rng.standard_normal((1600, 128)).astype(np.float32)
    at, wt = torch.from_numpy(a), torch.from_numpy(wd)
    rows.append(_op_row("dense 128x1600 @ 1600x128", lambda: ks.ops.matmul(a, wd), lambda: at @ wt,
                        2 * 128 * 1600 * 128, rounds))
    return rows


def _conv_gemm_gflops(x: np.ndarray, kernel: np.ndarray, padding: str, rounds: int) -> float:
    """GFLOPS of a convolution's forward GEMMs as kernelscope runs them, im2col copies not timed.

    The forward pass multiplies one chunk of im2col columns at a time, right after copying
    it (the chunk is still in cache); a 1x1 convolution multiplies the input itself.
    """
    from kernelscope.kernels import conv as K
    from kernelscope.geometry import normalize_padding, resolve_padding

    kernel_hw, f = kernel.shape[:2], kernel.shape[3]
    pads = resolve_padding(normalize_padding(padding), x.shape[1:3], kernel_hw, (1, 1), (1, 1))
    xp = K.pad_or_crop(x, pads)
    out_hw = K._output_hw(xp.shape[1:3], kernel_hw, (1, 1), (1, 1))
    w = kernel.reshape(-1, f)
    best = float("inf")
    for _ in range(max(5, rounds)):
        if K._is_pointwise(kernel_hw, (1, 1), pads):
            chunks = [(None, xp.reshape(1, -1, xp.shape[3]))]
        else:
            chunks = K._chunked_cols(xp, kernel_hw, (1, 1), (1, 1), out_hw, 1)
        total = 0.0
        for _, cols in chunks:
            out = np.empty((cols.shape[1], f), np.float32)
            total += timed(lambda: np.matmul(cols[0], w, out=out))
        best = min(best, total)
    return 2 * x.shape[0] * out_hw[0] * out_hw[1] * w.size / best / 1e9


def _op_row(label, ks_fn, torch_fn, flops, rounds) -> dict:
    """Median times of ks_fn and torch_fn, timed in alternating blocks so both see the same load.

    Each block starts with an untimed call: right after the other framework ran, its BLAS
    threads are still spinning and steal the cores (measured: +3 ms on a 0.3 ms torch matmul).
    """
    ks_times, torch_times = [], []
    for _ in range(max(3, rounds)):
        for fn, times in ((ks_fn, ks_times), (torch_fn, torch_times)):
            fn()
            times.extend(timed(fn) for _ in range(3))
    ks_t, torch_t = statistics.median(ks_times), statistics.median(torch_times)
    return {"op": label, "ks_ms": ks_t * 1e3, "torch_ms": torch_t * 1e3, "ratio": torch_t / ks_t,
            "ks_gflops": flops / ks_t / 1e9 if flops else None,
            "torch_gflops": flops / torch_t / 1e9 if flops else None}


# ------------------------------------------------------------------- report
def print_networks(rows: list, configs: list) -> None:
    first = configs[0][0]
    print("ratio ks/torch: 2w = 2 workers vs 2 threads, 1w = 1 worker on one core vs 1 thread; fast = "
          f"kernelscope[fast]. img/s: {first}.\n")
    print("| network | mode | " + " | ".join(f"ratio {label}" for label, _, _ in configs) +
          " | ks img/s | torch img/s | peak MB ks | peak MB torch |")
    print("|---|---|" + "---:|" * (len(configs) + 4))
    for r in rows:
        for mode in ("train", "infer"):
            ratios = " | ".join(f"{r[f'{mode}_{label}_ratio']:.2f}" for label, _, _ in configs)
            print(f"| {r['network']} | {mode} | {ratios} | {r[f'{mode}_{first}_ks_ips']:.0f} | "
                  f"{r[f'{mode}_{first}_torch_ips']:.0f} | {r['peak_mb_kernelscope']:.0f} | {r['peak_mb_torch']:.0f} |")


def print_ops(rows: list, peak: float) -> None:
    print(f"\nfloat32 GEMM peak (NumPy BLAS, 2048^3): {peak:.0f} GFLOPS. 'conv GEMM' is the forward pass's "
          "GEMMs alone, (rows of an im2col chunk, k*k*C) @ (k*k*C, F), as kernelscope runs them.\n")
    print("| op | kernelscope ms | PyTorch ms | ratio | ks GFLOPS (% peak) | torch GFLOPS "
          "| conv GEMM GFLOPS (% peak) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        g = "" if r["ks_gflops"] is None else f"{r['ks_gflops']:.0f} ({100 * r['ks_gflops'] / peak:.0f}%)"
        tg = "" if r["torch_gflops"] is None else f"{r['torch_gflops']:.0f}"
        gemm = r.get("gemm_gflops")
        gg = "" if gemm is None else f"{gemm:.0f} ({100 * gemm / peak:.0f}%)"
        print(f"| {r['op']} | {r['ks_ms']:.1f} | {r['torch_ms']:.1f} | {r['ratio']:.2f} | {g} | {tg} | {gg} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=[*NETWORKS, "ops"], help="what to run (default: all)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--configs", nargs="+", choices=[c[0] for c in CONFIGS], help="kernelscope configurations "
                        "(default: all)")
    parser.add_argument("--compile-cost", action="store_true", help="time the first step with a cold/warm numba cache")
    parser.add_argument("--memory-child", nargs=2, metavar=("NETWORK", "FRAMEWORK"), help=argparse.SUPPRESS)
    parser.add_argument("--first-step-child", metavar="NETWORK", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    if args.first_step_child:
        first_step_child(args.first_step_child)
        return
    if args.compile_cost:
        print_compile_cost()
        return
    import torch
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} | {platform.processor() or platform.machine()} | "
          f"{os.cpu_count()} cores | numpy {np.__version__} | torch {torch.__version__} ({THREADS} threads) | "
          f"load average at start {_load()}")
    from kernelscope._runtime import blas
    from kernelscope._runtime.allocator import tune_malloc
    print(f"# BLAS: {blas.describe() or 'unknown (threadpoolctl not installed)'} | "
          f"OPENBLAS_THREAD_TIMEOUT={os.environ.get('OPENBLAS_THREAD_TIMEOUT', 'unset')} | "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')} | "
          f"glibc malloc keeps freed memory: {tune_malloc()} (kernelscope's default, for the whole process) | "
          f"numba kernels available: {kernelscope.config.fast_enabled()}\n")
    selected = args.only or [*NETWORKS, "ops"]
    configs = [c for c in CONFIGS if args.configs is None or c[0] in args.configs]
    rows = [compare(name, args.rounds, configs) for name in NETWORKS if name in selected]
    if rows:
        print_networks(rows, configs)
    if "ops" in selected:
        peak = gemm_peak()
        ops = op_table(args.rounds)
        print_ops(ops, max(peak, gemm_peak()))  # measured before and after: a load spike lowers one
    print(f"\nload average at end {_load()} (1, 5, 15 min): other processes slow both frameworks alike")


def _load() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


if __name__ == "__main__":
    main()
