"""In-process A/B of the fused ReLU-backward + bias-gradient pass: per-pass ms, fast vs NumPy (medians)."""

import time

import numpy as np

import kernelscope as ks
from kernelscope.kernels import conv as K


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
