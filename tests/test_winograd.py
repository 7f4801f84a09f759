"""Winograd F(4x4, 3x3) on the fast path: where it runs, and its results against PyTorch in float64.

The reference is torch.nn.functional.conv2d (and its autograd) in float64 on the same inputs, plus
float64 central differences for the input gradient; a spy on ``kernels.conv._winograd_correlate``
checks that Winograd did (or did not) run, so a routing change cannot pass these tests on im2col.
"""

import importlib
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import kernelscope as ks
from kernelscope._runtime import fast
from kernelscope.autograd import Tensor
from kernelscope.kernels import conv as K

C = importlib.import_module("kernelscope.ops.conv")  # ks.ops.conv is the Keras function of that name

pytestmark = [pytest.mark.skipif(fast._numba() is None or fast._env_off() or not fast.winograd_enabled(),
                                 reason="Winograd runs on the fast path: numba (kernelscope[fast]) is not "
                                        "installed, or KERNELSCOPE_FAST=0 / KERNELSCOPE_WINOGRAD=0"),
              pytest.mark.usefixtures("fast_switches_restored")]


@pytest.fixture
def calls(monkeypatch):
    """How many times Winograd ran, by what it was given: a list of the input channels of each call."""
    seen = []
    real = K._winograd_correlate

    def spy(transforms, xp, kernel, pads, out_hw, *rest, **options):
        seen.append(xp.shape[3])
        return real(transforms, xp, kernel, pads, out_hw, *rest, **options)

    monkeypatch.setattr(K, "_winograd_correlate", spy)
    return seen


def torch_conv(x, kernel, pads):
    """PyTorch's float64 correlation of NHWC ``x`` with a (3, 3, C, F) kernel, explicit zero pads."""
    (top, bottom), (left, right) = pads
    tx = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float64)).requires_grad_()
    tk = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1), dtype=np.float64)).requires_grad_()
    y = F.conv2d(F.pad(tx, (left, right, top, bottom)), tk)
    return tx, tk, y


def relative_error(a, reference):
    return np.abs(a - reference).max() / np.abs(reference).max()


CASES = [  # (x shape NHWC, filters, pads): sizes not multiples of 4, one-sided and zero pads, C at the threshold
    ((3, 11, 12, 32), 40, ((1, 1), (1, 1))),
    ((2, 9, 10, 33), 8, ((0, 0), (0, 0))),
    ((1, 8, 7, 64), 64, ((2, 0), (1, 2))),
    ((2, 13, 12, 32), 32, ((2, 2), (2, 2))),
    ((4, 8, 8, 48), 16, ((0, 1), (1, 0))),
]


@pytest.mark.parametrize("dtype, tol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("shape, filters, pads", CASES)
def test_forward_matches_torch(calls, dtype, tol, shape, filters, pads):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    kernel = (rng.standard_normal((3, 3, shape[3], filters)) / np.sqrt(9 * shape[3])).astype(dtype)
    y = K.conv2d_forward(x, kernel, pads=pads, free_rounding=True)[0]
    expected = torch_conv(x, kernel, pads)[2].detach().numpy().transpose(0, 2, 3, 1)
    assert calls == [shape[3]]
    assert y.shape == expected.shape and y.dtype == dtype and y.flags.c_contiguous
    assert relative_error(y, expected) < tol


@pytest.mark.parametrize("shape, filters, pads", CASES)
def test_input_gradient_matches_torch_and_the_forward_keeps_im2col(calls, shape, filters, pads):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    kernel = (rng.standard_normal((3, 3, shape[3], filters)) / np.sqrt(9 * shape[3])).astype(np.float32)
    tx, tk = Tensor(x, requires_grad=True), Tensor(kernel, requires_grad=True)
    y = C.conv2d(tx, tk, padding=pads)
    assert calls == []  # gradients are recorded: the forward is im2col's (exact to float32 rounding)
    upstream = rng.standard_normal(y.shape).astype(np.float32)
    (y * Tensor(upstream)).sum().backward()
    # the input gradient is a full convolution of dy, whose channels are the filters
    assert calls == ([filters] if filters >= K._WINOGRAD_MIN_CHANNELS else [])
    ref_x, ref_k, ref_y = torch_conv(x, kernel, pads)
    ref_y.backward(torch.from_numpy(upstream.transpose(0, 3, 1, 2).astype(np.float64)))
    expected_y = ref_y.detach().numpy().transpose(0, 2, 3, 1)
    assert relative_error(y.numpy(), expected_y) < 2e-6
    assert relative_error(tx.grad, ref_x.grad.numpy().transpose(0, 2, 3, 1)) < 2e-5
    assert relative_error(tk.grad, ref_k.grad.numpy().transpose(2, 3, 1, 0)) < 2e-6


def test_float64_input_gradient_agrees_with_central_differences(calls):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 8, 7, 4))
    kernel = rng.standard_normal((3, 3, 4, 32)) / 6
    upstream = rng.standard_normal((1, 8, 7, 32))
    tx = Tensor(x.copy(), requires_grad=True)
    (C.conv2d(tx, Tensor(kernel), padding="same") * Tensor(upstream)).sum().backward()
    assert calls == [32]

    def loss(values):
        return float((K.conv2d_forward(values, kernel, pads=((1, 1), (1, 1)))[0] * upstream).sum())

    numeric = np.zeros_like(x)
    step = 1e-6
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += step
        minus[index] -= step
        numeric[index] = (loss(plus) - loss(minus)) / (2 * step)
    np.testing.assert_allclose(tx.grad, numeric, rtol=1e-6, atol=1e-6)


def test_many_chunks_and_both_cores_give_the_single_chunk_result(calls, monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 24, 23, 32)).astype(np.float32)  # V alone is 1.3 MB: split over the cores
    kernel = (rng.standard_normal((3, 3, 32, 32)) / 17).astype(np.float32)
    pads = ((1, 1), (1, 1))
    whole = K.conv2d_forward(x, kernel, pads=pads, free_rounding=True)[0]
    monkeypatch.setattr(K, "_CHUNK_BYTES", 2**20)  # three samples per chunk: chunks of 3, 3 and 2
    chunked = K.conv2d_forward(x, kernel, pads=pads, free_rounding=True)[0]
    single = K.conv2d_forward(x[5:6], kernel, pads=pads, free_rounding=True)[0]
    assert len(calls) == 3
    assert np.array_equal(whole, chunked) and np.array_equal(whole[5:6], single)


def test_only_3x3_stride_1_undilated_ungrouped_float_convolutions_with_full_tiles_take_it(calls):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 8, 8, 32)).astype(np.float32)

    def run(kernel_hw=(3, 3), strides=(1, 1), dilation=(1, 1), groups=1, pads=((1, 1), (1, 1)), dtype=np.float32,
            channels=32):
        kernel = rng.standard_normal((*kernel_hw, channels // groups, 32)).astype(dtype)
        K.conv2d_forward(x[..., :channels].astype(dtype), kernel, strides, pads, dilation, groups, free_rounding=True)
        return len(calls)

    assert run() == 1
    assert run(kernel_hw=(5, 5)) == 1 and run(strides=(2, 2)) == 1 and run(dilation=(2, 2)) == 1
    assert run(groups=2) == 1 and run(pads=((3, 3), (1, 1))) == 1 and run(dtype=np.float16) == 1
    assert run(channels=16) == 1  # below _WINOGRAD_MIN_CHANNELS: too short for the GEMMs
    assert run(pads=((0, 0), (0, 0))) == 1  # a 6x6 output uses 36 of its four tiles' 64 pixels
    assert run() == 2


def test_inference_runs_it_and_the_switches_turn_it_off(calls):
    rng = np.random.default_rng(5)
    model = ks.Sequential([ks.Input((8, 8, 32)), ks.layers.Conv2D(32, 3, padding="same", activation="relu"),
                           ks.layers.MaxPooling2D(2), ks.layers.Flatten(), ks.layers.Dense(3)])
    x = rng.standard_normal((4, 8, 8, 32)).astype(np.float32)
    winograd = model.predict(x, verbose=0)
    ran = len(calls)
    assert ran >= 1  # once per batch-split worker
    ks.config.set_winograd(False)
    assert ks.config.winograd_enabled() is False
    im2col = model.predict(x, verbose=0)
    ks.config.set_winograd(True)
    ks.config.set_fast(False)
    assert ks.config.winograd_enabled() is False  # Winograd is part of the fast path
    numpy_path = model.predict(x, verbose=0)
    ks.config.set_fast(True)
    assert len(calls) == ran
    np.testing.assert_allclose(im2col, numpy_path, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(winograd, im2col, rtol=1e-4, atol=1e-5)
    assert not np.array_equal(winograd, im2col)  # another computation, another rounding


def test_set_winograd_checks_its_argument():
    with pytest.raises(TypeError, match="`enabled` must be a bool. Received: enabled='no'"):
        ks.config.set_winograd("no")


def test_environment_variable_turns_it_off():
    code = "import kernelscope as ks; print(ks.config.winograd_enabled())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "KERNELSCOPE_WINOGRAD": "0"})
    assert out.stdout.strip() == "False"


def test_the_transformed_kernel_is_reused_until_the_kernel_changes(monkeypatch):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 12, 12, 32))
    kernel = rng.standard_normal((3, 3, 32, 8))
    made = []
    real = K._winograd_transformed_kernel
    monkeypatch.setattr(K, "_winograd_transformed_kernel", lambda k: made.append(1) or real(k))
    monkeypatch.setattr(K, "_U_CACHE", type(K._U_CACHE)())

    def forward():
        return K.conv2d_forward(x, kernel, pads=((1, 1), (1, 1)), free_rounding=True)[0]

    first = forward()
    assert np.array_equal(forward(), first) and len(made) == 1  # same bits: the transform is reused
    kernel[1, 1, 0, 0] += 1.0  # an in-place update, as an optimizer step makes
    changed = forward()
    assert len(made) == 2
    _, _, expected = torch_conv(x, kernel, ((1, 1), (1, 1)))
    assert relative_error(changed, expected.detach().numpy().transpose(0, 2, 3, 1)) < 1e-12
    big = rng.standard_normal((3, 3, 32, 8))
    monkeypatch.setattr(K, "_U_CACHE_BYTES", 1)  # too large to keep: computed each time, never stored
    K.conv2d_forward(x, big, pads=((1, 1), (1, 1)), free_rounding=True)
    K.conv2d_forward(x, big, pads=((1, 1), (1, 1)), free_rounding=True)
    assert len(made) == 4 and len(K._U_CACHE) == 1


def test_the_kernel_cache_evicts_the_least_recently_used_and_training_adds_nothing(monkeypatch, calls):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 12, 12, 32)).astype(np.float32)
    a, b, c = (rng.standard_normal((3, 3, 32, 8)).astype(np.float32) for _ in range(3))
    made = []
    real = K._winograd_transformed_kernel
    monkeypatch.setattr(K, "_winograd_transformed_kernel", lambda k: made.append(1) or real(k))
    monkeypatch.setattr(K, "_U_CACHE", type(K._U_CACHE)())
    entry = a.nbytes + 36 * 32 * 8 * 4  # the kernel's bytes and its U
    monkeypatch.setattr(K, "_U_CACHE_BYTES", 2 * entry)  # room for two
    for kernel in (a, b, a, c, a):  # a, used again before c arrives, stays; b goes
        K.conv2d_forward(x, kernel, pads=((1, 1), (1, 1)), free_rounding=True)
    assert len(made) == 3
    assert all(not u.flags.writeable for _, u in K._U_CACHE.values())  # shared: nobody may write it
    K._U_CACHE.clear()
    monkeypatch.setattr(K, "_U_CACHE_BYTES", 64 * 2**20)
    tx = Tensor(x, requires_grad=True)
    kernel = Tensor(rng.standard_normal((3, 3, 32, 32)).astype(np.float32), requires_grad=True)
    calls.clear()
    C.conv2d(tx, kernel, padding="same").sum().backward()
    assert calls == [32]  # the input gradient ran as Winograd (dy's 32 channels in), and cached nothing
    assert tx.grad is not None and len(K._U_CACHE) == 0
