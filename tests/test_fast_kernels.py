"""kernelscope[fast], session 6 kernels: the fused ReLU-backward + bias gradient, and dtypes the loops
do not take (float16) falling back to NumPy. The reference is kernelscope's NumPy path on the same
inputs (itself checked against PyTorch and central differences in test_ops_conv.py)."""

import importlib

import numpy as np
import pytest

import kernelscope as ks
from kernelscope._runtime import fast
from kernelscope.autograd import Tensor
from kernelscope.kernels import conv as K

C = importlib.import_module("kernelscope.ops.conv")
A = importlib.import_module("kernelscope.ops.activations")
# KERNELSCOPE_FAST=0 keeps the compiled kernels from running at all, so there is nothing to compare
needs_numba = pytest.mark.skipif(fast._numba() is None or fast._env_off(),
                                 reason="numba (kernelscope[fast]) is not installed, or KERNELSCOPE_FAST=0")


@pytest.fixture(autouse=True)
def _fast_back_on():
    yield
    ks.config.set_fast(True)


def both_paths(fn):
    out = []
    for flag in (False, True):
        ks.config.set_fast(flag)
        out.append(fn())
    return out


def conv_grads(x, w, b, upstream, **geometry):
    """Forward output and (dx, dw, db) of conv2d_activation(relu) with the given upstream gradient."""
    tx, tw, tb = (Tensor(a.copy(), requires_grad=True) for a in (x, w, b))
    y = C.conv2d_activation(tx, tw, tb, activation=A.relu, **geometry)
    (y * Tensor(upstream)).sum().backward()
    return y.numpy().copy(), tx.grad.copy(), tw.grad.copy(), tb.grad.copy()


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_bias_grad_kernel_is_bit_identical_to_numpy(dtype):
    rng = np.random.default_rng(0)
    y = np.maximum(rng.standard_normal((3, 5, 7, 6)), 0).astype(dtype)  # relu output: zeros where masked
    g = rng.standard_normal(y.shape).astype(dtype)
    g[0, 0, 0, 0], g[1, 2, 3, 0] = np.inf, np.nan  # column 0 only  # masked or not: NumPy's g * bool rules, kept
    y[0, 0, 0, 0] = 0
    with np.errstate(invalid="ignore"):
        (g1, db1), (g2, db2) = both_paths(lambda: K.relu_bias_grad(g, y, True))
    assert np.array_equal(g1, g2, equal_nan=True) and np.array_equal(db1, db2, equal_nan=True)
    assert np.array_equal(np.signbit(g1), np.signbit(g2))  # -0.0 where a negative g was masked, as NumPy
    finite = (g[..., 1:].astype(np.float64) * (y[..., 1:] > 0)).reshape(-1, 5).sum(0)
    assert np.allclose(db1[1:], finite, rtol=1e-5, atol=1e-6)


@needs_numba
@pytest.mark.parametrize("shape, kernel, geometry", [
    ((1, 7, 9, 1), (3, 3, 1, 4), dict(padding="same")),  # batch 1, C=1, odd H/W
    ((2, 11, 8, 3), (3, 2, 3, 5), dict(strides=2, padding="same")),  # stride 2: TF's odd pad on one side
    ((2, 10, 10, 4), (3, 3, 4, 3), dict(dilation_rate=2, padding=((0, 2), (1, 0)))),  # one-sided pads
    ((3, 6, 6, 2), (1, 1, 2, 7), dict()),
])
def test_conv_relu_bias_backward_fast_equals_numpy(shape, kernel, geometry):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(kernel).astype(np.float32)
    b = rng.standard_normal(kernel[-1]).astype(np.float32) * 0.1
    ref = conv_grads(x, w, b, np.ones(1, np.float32), **geometry)
    upstream = rng.standard_normal(ref[0].shape).astype(np.float32)
    off, on = both_paths(lambda: conv_grads(x, w, b, upstream, **geometry))
    for a, c in zip(off, on):
        assert np.array_equal(a, c)
    # an independent check of the bias gradient: the masked upstream summed in float64
    expected = (upstream * (off[0] > 0)).astype(np.float64).sum(axis=(0, 1, 2))
    assert np.allclose(off[3], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pool", [False, True])
def test_float16_conv_takes_the_numpy_path_with_fast_on(pool):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 8, 9, 3)).astype(np.float16)
    w = (rng.standard_normal((3, 3, 3, 4)) * 0.3).astype(np.float16)
    b = (rng.standard_normal(4) * 0.1).astype(np.float16)

    def run():
        tx, tw, tb = (Tensor(a.copy(), requires_grad=True) for a in (x, w, b))
        y = C.conv2d_activation(tx, tw, tb, activation=A.relu, padding="same")
        if pool:
            y = ks.ops.max_pool(y, 2) if hasattr(ks.ops, "max_pool") else ks.ops.max_pool2d(y, 2)
        y.sum().backward()
        return y.numpy().copy(), tx.grad.copy(), tw.grad.copy(), tb.grad.copy()

    off, on = both_paths(run)
    for a, c in zip(off, on):
        assert a.dtype == np.float16 and np.array_equal(a, c)


def test_float16_adam_step_takes_the_numpy_path_with_fast_on():
    def run():
        var = ks.Variable(np.linspace(-1, 1, 12, dtype=np.float16).reshape(3, 4))
        opt = ks.optimizers.Adam(learning_rate=0.01)
        opt.apply_gradients([(np.full((3, 4), 0.5, np.float16), var)])
        return np.asarray(var.numpy() if hasattr(var, "numpy") else var.value)

    off, on = both_paths(run)
    assert np.array_equal(off, on)
