"""kernelscope[fast]: the numba loop kernels give exactly the NumPy path's numbers; off, nothing needs numba.

The reference is kernelscope's own NumPy path on the same inputs (itself checked against
PyTorch and float64 central differences in test_ops_pooling.py / test_ops_conv.py).
"""

import importlib
import io
import os
import subprocess
import sys
from unittest import mock

import numpy as np
import pytest

import kernelscope as ks
from kernelscope._runtime import fast
from kernelscope.autograd import Tensor
from kernelscope.kernels import conv as K
from kernelscope.kernels import loops
from kernelscope.kernels import pooling as P

C = importlib.import_module("kernelscope.ops.conv")
A = importlib.import_module("kernelscope.ops.activations")

HAVE_NUMBA = fast._numba() is not None
# KERNELSCOPE_FAST=0 keeps the compiled kernels from running at all, so there is nothing to compare
needs_numba = pytest.mark.skipif(not HAVE_NUMBA or fast._env_off(),
                                 reason="numba (kernelscope[fast]) is not installed, or KERNELSCOPE_FAST=0")


@pytest.fixture(autouse=True)
def _fast_back_on():
    yield
    ks.config.set_fast(True)


def both_paths(fn):
    """fn() with the fast path off, then on."""
    out = []
    for flag in (False, True):
        ks.config.set_fast(flag)
        out.append(fn())
    return out


@needs_numba
@pytest.mark.parametrize("hw", [(26, 26), (13, 13), (7, 10)])
def test_max_pool_2x2_forward_and_backward_equal_numpy(hw):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, *hw, 3)).astype(np.float32)
    x[0, 0, 1, 0] = x[0, 0, 0, 0]  # a tie: the first cell in row-major order wins
    x[1, 2, 3, 1] = np.nan  # NaN windows route to their first NaN
    x[1, 3, 2, 1] = np.nan
    x[2, 0, 0, 2] = np.inf
    dy = rng.standard_normal((5, hw[0] // 2, hw[1] // 2, 3)).astype(np.float32)
    dy[3, 0, 0, 0] = np.inf  # an infinite gradient reaches one cell, no NaN elsewhere

    def run():
        y, cache = P.max_pool2d_forward(x, (2, 2), (2, 2), ((0, 0), (0, 0)))
        return y, P.max_pool2d_backward(dy, cache), cache.winner is not None

    (y0, dx0, used0), (y1, dx1, used1) = both_paths(run)
    assert not used0 and used1
    assert np.array_equal(y0, y1, equal_nan=True) and np.array_equal(dx0, dx1, equal_nan=True)


@needs_numba
def test_switching_fast_off_between_forward_and_backward_still_routes_exactly():
    x = np.random.default_rng(1).standard_normal((2, 6, 6, 2)).astype(np.float32)
    dy = np.ones((2, 3, 3, 2), np.float32)
    ks.config.set_fast(False)
    expected = P.max_pool2d_backward(dy, P.max_pool2d_forward(x, (2, 2), (2, 2), ((0, 0), (0, 0)))[1])
    ks.config.set_fast(True)
    _, cache = P.max_pool2d_forward(x, (2, 2), (2, 2), ((0, 0), (0, 0)))
    ks.config.set_fast(False)
    assert np.array_equal(P.max_pool2d_backward(dy, cache), expected)


@needs_numba
@pytest.mark.parametrize("kernel_hw, strides, dilation", [((3, 3), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 1)),
                                                          ((3, 3), (1, 2), (2, 1)), ((1, 1), (2, 2), (1, 1)),
                                                          ((2, 3), (1, 3), (1, 2))])
@pytest.mark.parametrize("pads, channels", [(((1, 0), (0, 0)), 4), (((0, 0), (0, 0)), 4), (((0, 0), (0, 0)), 1),
                                            (((0, 2), (2, 1)), 3)])
def test_im2col_equals_numpy(kernel_hw, strides, dilation, pads, channels):
    x = np.random.default_rng(2).standard_normal((3, 10, 12, channels)).astype(np.float32)
    span = [d * (k - 1) + 1 for k, d in zip(kernel_hw, dilation)]
    padded = (10 + sum(pads[0]), 12 + sum(pads[1]))
    out_hw = tuple((n - s) // st + 1 for n, s, st in zip(padded, span, strides))
    ran = []
    loop = fast.compiled(loops.im2col)

    def spy(*args):
        ran.append(True)
        return loop(*args)

    with mock.patch.object(fast, "compiled", lambda fn: spy if fn is loops.im2col else None):
        a = K.im2col(x, kernel_hw, strides, dilation, out_hw, pads=pads).copy()
    assert ran  # the compiled loop ran, padded or not
    ks.config.set_fast(False)
    b = K.im2col(K.pad_or_crop(x, pads), kernel_hw, strides, dilation, out_hw)
    assert a.shape == b.shape == (1, 3 * out_hw[0] * out_hw[1], kernel_hw[0] * kernel_hw[1] * channels)
    assert np.array_equal(a, b)


@needs_numba
@pytest.mark.parametrize("pads, strides", [(((1, 1), (1, 1)), (1, 1)), (((2, 0), (0, 1)), (2, 1))])
def test_im2col_splits_one_image_by_output_rows_as_numpy_copies_it(monkeypatch, pads, strides):
    from kernelscope._runtime import parallel
    monkeypatch.setattr(parallel, "workers", lambda: 3)  # three parts even on a one-core machine
    x = np.random.default_rng(4).standard_normal((1, 80, 48, 16)).astype(np.float32)  # > 1 MB of columns
    out_hw = ((80 + sum(pads[0]) - 3) // strides[0] + 1, (48 + sum(pads[1]) - 3) // strides[1] + 1)
    parts = []
    loop = fast.compiled(loops.im2col)

    def spy(*args):
        parts.append(args[8])  # the output rows this call fills
        return loop(*args)

    with mock.patch.object(fast, "compiled", lambda fn: spy if fn is loops.im2col else None):
        a = K.im2col(x, (3, 3), strides, (1, 1), out_hw, pads=pads).copy()
    assert len(parts) == 3 and sum(parts) == out_hw[0]
    ks.config.set_fast(False)
    assert np.array_equal(a, K.im2col(K.pad_or_crop(x, pads), (3, 3), strides, (1, 1), out_hw))


@needs_numba
@pytest.mark.parametrize("use_bias", [False, True])
def test_an_empty_batch_trains_through_a_convolution_on_the_fast_path(use_bias):
    x = np.zeros((0, 8, 8, 3), np.float32)
    layer = ks.layers.Conv2D(4, 3, activation="relu", use_bias=use_bias)
    layer.build(x.shape)
    with ks.GradientTape() as tape:
        y = layer(x)
    grads = tape.gradient(y, layer.trainable_weights)
    assert y.shape == (0, 6, 6, 4)
    assert all(np.array_equal(np.asarray(g), np.zeros(w.shape)) for g, w in zip(grads, layer.trainable_weights))


@needs_numba
@pytest.mark.parametrize("pads", [((1, 1), (1, 1)), ((0, 2), (3, 0)), ((2, 0), (0, 0))])
def test_im2col_pads_while_copying_as_numpy_pads_first(pads):
    x = np.random.default_rng(2).standard_normal((3, 7, 6, 4)).astype(np.float32)
    padded = K.pad_or_crop(x, pads)
    out_hw = (padded.shape[1] - 2, (padded.shape[2] - 3) // 2 + 1)
    ks.config.set_fast(False)
    expected = K.im2col(padded, (3, 3), (1, 2), (1, 1), out_hw).copy()
    assert np.array_equal(K.im2col(x, (3, 3), (1, 2), (1, 1), out_hw, pads=pads), expected)  # NumPy: pad, then copy
    ks.config.set_fast(True)
    assert np.array_equal(K.im2col(x, (3, 3), (1, 2), (1, 1), out_hw, pads=pads), expected)


@needs_numba
def test_a_padded_convolution_keeps_no_padded_copy_on_the_fast_path():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 7, 16)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 16, 20)).astype(np.float32)
    pads = ((1, 1), (1, 2))
    ks.config.set_fast(False)
    y_ref, cache_ref = K.conv2d_forward(x, kernel, (1, 1), pads)
    dy = rng.standard_normal(y_ref.shape).astype(np.float32)
    dx_ref, dw_ref = K.conv2d_backward(dy, cache_ref)
    ks.config.set_fast(True)
    y, cache = K.conv2d_forward(x, kernel, (1, 1), pads)
    assert cache.xp is x and cache.xp_pads == pads and cache_ref.xp.shape == (2, 8, 10, 16)
    assert np.array_equal(y, y_ref)
    for flag in (True, False):  # the fast path switched off before the backward pass pads as NumPy does
        ks.config.set_fast(flag)
        dx, dw = K.conv2d_backward(dy, cache)
        assert np.array_equal(dw, dw_ref)
        np.testing.assert_allclose(dx, dx_ref, rtol=1e-5, atol=1e-5)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, kernel_shape, pads, strides, dilation", [
    ((3, 9, 8, 2), (3, 3, 2, 5), ((0, 0), (0, 0)), (1, 1), (1, 1)),  # F > C: where the per-offset GEMMs ran
    ((3, 9, 8, 4), (3, 3, 4, 4), ((1, 1), (1, 1)), (2, 2), (1, 1)),  # strided, padded
    ((2, 10, 11, 3), (3, 2, 3, 6), ((0, 1), (2, 0)), (2, 1), (1, 1)),  # "same"-like uneven pads
    ((2, 12, 12, 2), (3, 3, 2, 4), ((2, 2), (2, 2)), (1, 2), (2, 2)),  # dilated
    ((2, 9, 9, 3), (1, 1, 3, 5), ((0, 0), (0, 0)), (2, 2), (1, 1)),  # 1x1 strided: rows and columns skipped
    ((2, 8, 8, 3), (3, 3, 3, 8), ((0, 0), (0, 0)), (3, 3), (1, 1)),  # stride 3: an input row read by no window
])
def test_gathered_input_gradient_equals_numpy(dtype, x_shape, kernel_shape, pads, strides, dilation):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(x_shape).astype(dtype)
    kernel = rng.standard_normal(kernel_shape).astype(dtype)
    y, cache = K.conv2d_forward(x, kernel, strides, pads, dilation)
    dy = rng.standard_normal(y.shape).astype(dtype)
    numpy_dx, fast_dx = both_paths(lambda: K.conv2d_backward(dy, cache, True, False)[0])
    assert fast_dx.shape == x.shape and fast_dx.dtype == dtype and fast_dx.flags.c_contiguous
    # the same products added in the same order; the wide GEMM may round its dot products apart
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(fast_dx, numpy_dx, rtol=tol, atol=tol)
    # and against a brute-force loop: dx[n, h, w] = sum of dy[n, i, j] W[p, q]^T over the taps reading (h, w)
    (top, _), (left, _) = pads
    brute = np.zeros_like(x)
    for i in range(y.shape[1]):
        for j in range(y.shape[2]):
            for p in range(kernel_shape[0]):
                for q in range(kernel_shape[1]):
                    h, w = i * strides[0] + p * dilation[0] - top, j * strides[1] + q * dilation[1] - left
                    if 0 <= h < x_shape[1] and 0 <= w < x_shape[2]:
                        brute[:, h, w] += dy[:, i, j] @ kernel[p, q].T
    np.testing.assert_allclose(fast_dx, brute, rtol=tol * 10, atol=tol * 10)


@needs_numba
@pytest.mark.parametrize("relu", [True, False])
def test_bias_relu_equals_numpy(relu):
    rng = np.random.default_rng(3)
    y = rng.standard_normal((4, 5, 6, 7)).astype(np.float32)
    y[0, 0, 0, 0] = np.nan
    bias = rng.standard_normal(7).astype(np.float32)

    def run():
        out = y.copy()
        K.add_bias_relu(out, bias, relu)
        return out

    a, b = both_paths(run)
    assert np.array_equal(a, b, equal_nan=True)


@needs_numba
def test_a_training_run_gives_the_same_numbers_with_and_without_numba():
    x = np.random.default_rng(4).standard_normal((32, 12, 12, 1)).astype(np.float32)
    y = np.arange(32) % 3

    def run():
        ks.rng.set_random_seed(0)
        model = ks.Sequential([ks.Input((12, 12, 1)), ks.layers.Conv2D(4, 3, activation="relu"),
                               ks.layers.MaxPooling2D(2), ks.layers.Conv2D(6, 3, padding="same", activation="relu"),
                               ks.layers.MaxPooling2D(2), ks.layers.Flatten(), ks.layers.Dense(3)])
        model.compile(optimizer="adam", loss=ks.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        return [w.numpy() for w in model.weights], model.predict(x, verbose=0)

    (w0, p0), (w1, p1) = both_paths(run)
    for a, b in zip(w0, w1):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p1, p0, rtol=1e-5, atol=1e-6)


def child(code: str, **env) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **env})
    return out.stdout.strip()


def test_environment_variable_turns_the_fast_path_off():
    assert child("import kernelscope as ks; print(ks.config.fast_enabled())", KERNELSCOPE_FAST="0") == "False"


def test_without_numba_everything_runs_on_numpy():
    code = """
import sys
sys.modules["numba"] = None  # as if kernelscope[fast] were not installed: import numba fails
import numpy as np, kernelscope as ks
model = ks.Sequential([ks.Input((8, 8, 1)), ks.layers.Conv2D(2, 3, activation="relu"), ks.layers.MaxPooling2D(2),
                       ks.layers.Flatten(), ks.layers.Dense(2)])
model.compile(optimizer="adam", loss="mse")
model.fit(np.ones((16, 8, 8, 1), np.float32), np.zeros((16, 2), np.float32), verbose=0)
print(ks.config.fast_enabled(), model.predict(np.ones((2, 8, 8, 1), np.float32), verbose=0).shape)
"""
    assert child(code) == "False (2, 2)"


class _FakeDispatcher:
    """Stands in for a numba dispatcher: the first call 'compiles' a signature (numba keeps them in the
    ``overloads`` dict)."""

    def __init__(self):
        self.overloads = {}

    def __call__(self, value):
        self.overloads["float32"] = "compiled"
        return value + 1


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_first_compilation_says_so_once_on_a_terminal(monkeypatch):
    monkeypatch.setattr(fast, "_NOTICE_SECONDS", 0.0)
    monkeypatch.setitem(fast._state, "noticed", False)
    stderr = _Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    kernel, other = fast._Noticing(_FakeDispatcher()), fast._Noticing(_FakeDispatcher())
    assert kernel(1) == 2 and kernel(2) == 3 and other(1) == 2
    lines = stderr.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kernelscope[fast]: compiling numba kernels on first use")


def test_set_fast_checks_its_argument():
    with pytest.raises(TypeError, match="`enabled` must be a bool. Received: enabled=1"):
        ks.config.set_fast(1)
    ks.config.set_fast(False)
    assert ks.config.fast_enabled() is False


@needs_numba
def test_adam_step_equals_numpy_bit_for_bit():
    def run():
        var = ks.Variable(np.random.default_rng(5).standard_normal((40, 7)).astype(np.float32))
        optimizer = ks.optimizers.Adam(1e-2)
        for step in range(3):
            optimizer.apply_gradients([(np.random.default_rng(step).standard_normal((40, 7)).astype(np.float32), var)])
        return var.numpy(), optimizer._slots["m"][0].copy(), optimizer._slots["v"][0].copy()

    for a, b in zip(*both_paths(run)):
        assert np.array_equal(a, b)


# The fused ReLU-backward + bias gradient, and dtypes the loops do not take (float16) falling back to NumPy.

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
    for i, (a, c) in enumerate(zip(off, on)):
        if i == 1:  # dx: with F > C or strides the fast path gathers from one wide GEMM (its own rounding)
            np.testing.assert_allclose(c, a, rtol=1e-5, atol=1e-5)
        else:
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
