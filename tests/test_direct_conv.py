"""Inference-only convolution paths of kernelscope[fast]: the direct one-channel 3x3 loop and the
convolutions that max-pool 2x2 as they are computed (that loop's pooled variant, Winograd's pooling
output transform), used by the conv -> ReLU -> max-pool block when no gradient is recorded.

References: PyTorch's float64 convolution and max-pool on the same inputs; the unfused passes of
the same algorithm (pooling must not change a single bit); and spies that show which path ran, so a
routing change cannot pass these tests on im2col.
"""

import importlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import kernelscope as ks
from kernelscope._runtime import fast
from kernelscope.autograd import Tensor, no_grad
from kernelscope.kernels import conv as K
from kernelscope.kernels import pooling as P

C = importlib.import_module("kernelscope.ops.conv")  # ks.ops.conv is the Keras function of that name

pytestmark = [pytest.mark.skipif(fast._numba() is None or fast._env_off(),
                                 reason="the direct loops run on the fast path: numba (kernelscope[fast]) is not "
                                        "installed, or KERNELSCOPE_FAST=0"),
              pytest.mark.usefixtures("fast_switches_restored")]
needs_winograd = pytest.mark.skipif(not fast.winograd_enabled(), reason="KERNELSCOPE_WINOGRAD=0: Winograd is off")

NO_PADS = ((0, 0), (0, 0))


@pytest.fixture
def ran(monkeypatch):
    """The paths that ran, in order: "direct", "direct pooled", "winograd", "winograd pooled"."""
    seen = []
    direct, winograd = K._direct_correlate, K._winograd_correlate

    def direct_spy(loop, xp, kernel, pads, out_hw, pooled):
        seen.append("direct pooled" if pooled else "direct")
        return direct(loop, xp, kernel, pads, out_hw, pooled)

    def winograd_spy(transforms, xp, kernel, pads, out_hw, reuse_kernel=True, pooled=False):
        seen.append("winograd pooled" if pooled else "winograd")
        return winograd(transforms, xp, kernel, pads, out_hw, reuse_kernel, pooled)

    monkeypatch.setattr(K, "_direct_correlate", direct_spy)
    monkeypatch.setattr(K, "_winograd_correlate", winograd_spy)
    return seen


def torch_reference(x, kernel, pads, pool: bool):
    """PyTorch float64: the correlation of NHWC ``x`` with an HWIO kernel (explicit zero pads), optionally
    followed by a 2x2, stride-2 max-pool; returned NHWC."""
    (top, bottom), (left, right) = pads
    tx = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float64))
    tk = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1), dtype=np.float64))
    y = F.conv2d(F.pad(tx, (left, right, top, bottom)), tk)
    if pool:
        y = F.max_pool2d(y, 2)
    return y.numpy().transpose(0, 2, 3, 1)


def relative_error(a, reference):
    return np.abs(a - reference).max() / np.abs(reference).max()


def pool_2x2(y):
    return P.max_pool2d_forward(y, (2, 2), (2, 2), NO_PADS)[0]


ONE_CHANNEL = [  # (x shape NHWC, filters, pads): odd sizes, one-sided pads, a single image, few filters
    ((5, 28, 28, 1), 32, NO_PADS),
    ((3, 9, 7, 1), 8, ((1, 1), (1, 1))),
    ((1, 12, 13, 1), 3, ((0, 1), (2, 0))),
    ((2, 4, 4, 1), 17, NO_PADS),
    ((2, 10, 9, 1), 8, ((-1, 1), (0, -1))),  # a crop (a negative pad)
]


@pytest.mark.parametrize("dtype, tol", [(np.float32, 2e-6), (np.float64, 1e-13)])
@pytest.mark.parametrize("shape, filters, pads", ONE_CHANNEL)
def test_one_channel_loop_matches_torch_and_its_pooled_variant_is_the_pool_of_it(ran, dtype, tol, shape, filters,
                                                                                 pads):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    kernel = rng.standard_normal((3, 3, 1, filters)).astype(dtype)
    y = K.conv2d_forward(x, kernel, pads=pads, free_rounding=True)[0]
    pooled = K.conv2d_max_pool_2x2_forward(x, kernel, (1, 1), pads)
    assert ran == ["direct", "direct pooled"]
    assert y.dtype == pooled.dtype == dtype and y.flags.c_contiguous and pooled.flags.c_contiguous
    assert relative_error(y, torch_reference(x, kernel, pads, pool=False)) < tol
    assert relative_error(pooled, torch_reference(x, kernel, pads, pool=True)) < tol
    assert np.array_equal(pooled, pool_2x2(y))  # the same sums, bit for bit, and the pool's choice


WINOGRAD = [  # C >= 32 and tiles at least 75% used; odd output sizes drop the last row/column
    ((3, 13, 13, 32), 64, NO_PADS),
    ((2, 16, 16, 32), 24, ((1, 1), (1, 1))),
    ((2, 11, 11, 40), 8, ((1, 1), (1, 2))),
    ((4, 8, 8, 64), 64, ((1, 1), (1, 1))),
]


@needs_winograd
@pytest.mark.parametrize("dtype, tol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("shape, filters, pads", WINOGRAD)
def test_winograd_pooled_output_transform_matches_torch_and_is_the_pool_of_winograd(ran, dtype, tol, shape, filters,
                                                                                    pads):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    kernel = (rng.standard_normal((3, 3, shape[3], filters)) / np.sqrt(9 * shape[3])).astype(dtype)
    y = K.conv2d_forward(x, kernel, pads=pads, free_rounding=True)[0]
    pooled = K.conv2d_max_pool_2x2_forward(x, kernel, (1, 1), pads)
    assert ran == ["winograd", "winograd pooled"]
    assert relative_error(pooled, torch_reference(x, kernel, pads, pool=True)) < tol
    assert np.array_equal(pooled, pool_2x2(y))


@needs_winograd
def test_winograd_pooled_in_chunks_and_split_over_the_cores_gives_the_whole_result(ran, monkeypatch):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 24, 23, 32)).astype(np.float32)
    kernel = (rng.standard_normal((3, 3, 32, 32)) / 17).astype(np.float32)
    pads = ((1, 1), (1, 1))
    whole = K.conv2d_max_pool_2x2_forward(x, kernel, (1, 1), pads)
    monkeypatch.setattr(K, "_CHUNK_BYTES", 2**20)  # chunks of 3, 3 and 2 samples
    chunked = K.conv2d_max_pool_2x2_forward(x, kernel, (1, 1), pads)
    assert ran == ["winograd pooled"] * 2
    assert np.array_equal(whole, chunked)
    assert np.array_equal(whole, pool_2x2(K.conv2d_forward(x, kernel, pads=pads, free_rounding=True)[0]))


@pytest.mark.parametrize("channels, path", [(1, "direct pooled"), pytest.param(32, "winograd pooled",
                                                                                marks=needs_winograd)])
def test_a_nan_wins_its_pool_window_and_empty_batches_pass(ran, channels, path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 12, 12, channels)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, channels, 32)).astype(np.float32)
    x[1, 5, 6, 0] = np.nan  # reaches the 3x3 windows around it, so whole pool windows turn NaN
    pooled = K.conv2d_max_pool_2x2_forward(x, kernel, (1, 1), ((1, 1), (1, 1)))
    unfused = pool_2x2(K.conv2d_forward(x, kernel, pads=((1, 1), (1, 1)), free_rounding=True)[0])
    assert ran[0] == path
    assert np.isnan(pooled[1]).any() and not np.isnan(pooled[0]).any()
    assert np.array_equal(pooled, unfused, equal_nan=True)
    empty = K.conv2d_max_pool_2x2_forward(x[:0], kernel, (1, 1), ((1, 1), (1, 1)))
    assert empty.shape == (0, 6, 6, 32)


def test_only_what_the_loops_take_goes_there(ran):
    rng = np.random.default_rng(4)

    def paths(kernel_hw=(3, 3), channels=1, strides=(1, 1), dilation=(1, 1), pads=((1, 1), (1, 1)), dtype=np.float32,
              kernel_dtype=None, size=10):
        x = rng.standard_normal((2, size, size, channels)).astype(dtype)
        kernel = rng.standard_normal((*kernel_hw, channels, 8)).astype(kernel_dtype or dtype)
        del ran[:]
        K.conv2d_forward(x, kernel, strides, pads, dilation, free_rounding=True)
        pooled = K.conv2d_max_pool_2x2_forward(x, kernel, strides, pads, dilation)
        return ran[:], pooled is None

    assert paths() == (["direct", "direct pooled"], False)
    for changed in [dict(kernel_hw=(5, 5)), dict(channels=2), dict(strides=(2, 2)), dict(dilation=(2, 2)),
                    dict(dtype=np.float16), dict(kernel_dtype=np.float64),
                    dict(channels=16)]:
        assert paths(**changed) == ([], True), changed
    assert paths(size=3, pads=NO_PADS) == (["direct"], True)  # a 1x1 output has no 2x2 window: the pool's error
    # without free rounding (training) the forward is im2col's
    del ran[:]
    K.conv2d_forward(rng.standard_normal((2, 8, 8, 1)).astype(np.float32),
                     rng.standard_normal((3, 3, 1, 8)).astype(np.float32), pads=((1, 1), (1, 1)))
    assert ran == []
    ks.config.set_fast(False)
    assert paths() == ([], True)


def test_the_block_pools_as_it_convolves_only_when_no_gradient_is_recorded(ran):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 14, 14, 1)).astype(np.float32)
    kernel = Tensor(rng.standard_normal((3, 3, 1, 16)).astype(np.float32), requires_grad=True)
    bias = Tensor(rng.standard_normal(16).astype(np.float32), requires_grad=True)
    with no_grad():
        fused = C.conv2d_relu_max_pool2d(x, kernel, bias, padding="same").numpy()
    assert ran == ["direct pooled"]
    expected = np.maximum(torch_reference(x, kernel.data, ((1, 1), (1, 1)), pool=True) + bias.data, 0)
    assert relative_error(fused, expected) < 2e-6
    del ran[:]
    trained = C.conv2d_relu_max_pool2d(x, kernel, bias, padding="same")
    assert ran == [] and trained.requires_grad  # recorded: im2col + GEMM, and the pool keeps its winners
    trained.sum().backward()
    assert kernel.grad is not None and bias.grad is not None
    assert relative_error(trained.numpy(), expected) < 2e-6


@needs_winograd
def test_predict_of_a_grayscale_lenet_agrees_with_the_numpy_path(ran):
    ks.utils.set_random_seed(6)
    layers = ks.layers
    model = ks.Sequential([ks.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
                           layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten(),
                           layers.Dense(10)])
    x = np.random.default_rng(6).standard_normal((16, 28, 28, 1)).astype(np.float32)
    fast_out = model.predict(x, verbose=0)
    assert sorted(set(ran)) == ["direct pooled", "winograd pooled"]
    ks.config.set_fast(False)
    numpy_out = model.predict(x, verbose=0)
    assert relative_error(fast_out, numpy_out) < 1e-5


def test_the_input_gradient_of_a_one_filter_convolution_takes_the_direct_loop(ran):
    # dX of a stride-1 convolution is the full convolution of dy (here one channel) with the flipped
    # kernel: the direct loop's case, in training too (no max-pool winner depends on dX's rounding)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 9, 8, 5)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 5, 1)).astype(np.float32)
    upstream = rng.standard_normal((2, 9, 8, 1)).astype(np.float32)
    tx = Tensor(x, requires_grad=True)
    (C.conv2d(tx, Tensor(kernel), padding="same") * Tensor(upstream)).sum().backward()
    assert ran == ["direct"]
    ref_x = torch.from_numpy(x.transpose(0, 3, 1, 2).astype(np.float64)).requires_grad_()
    ref_k = torch.from_numpy(kernel.transpose(3, 2, 0, 1).astype(np.float64))
    F.conv2d(ref_x, ref_k, padding=1).backward(torch.from_numpy(upstream.transpose(0, 3, 1, 2).astype(np.float64)))
    assert relative_error(tx.grad, ref_x.grad.numpy().transpose(0, 2, 3, 1)) < 2e-6


def test_split_over_the_cores_the_direct_loops_give_one_cores_result(ran, monkeypatch):
    from kernelscope._runtime import parallel, workers
    monkeypatch.setattr(parallel, "workers", lambda: 3)  # three parts, whatever this machine has
    rng = np.random.default_rng(8)
    x = rng.standard_normal((40, 28, 28, 1)).astype(np.float32)  # a 3.5 MB output: above parallel._MIN_BYTES
    kernel = rng.standard_normal((3, 3, 1, 32)).astype(np.float32)
    split = (K.conv2d_forward(x, kernel, free_rounding=True)[0], K.conv2d_max_pool_2x2_forward(x, kernel))
    whole = workers.run(lambda _: (K.conv2d_forward(x, kernel, free_rounding=True)[0],
                                   K.conv2d_max_pool_2x2_forward(x, kernel)), [None])[0]  # a worker: one thread
    assert ran == ["direct", "direct pooled"] * 2
    assert all(np.array_equal(a, b) for a, b in zip(split, whole))


def test_an_input_that_needs_a_gradient_keeps_the_block_on_im2col(ran):
    rng = np.random.default_rng(9)
    x = Tensor(rng.standard_normal((2, 10, 10, 1)).astype(np.float32), requires_grad=True)
    out = C.conv2d_relu_max_pool2d(x, rng.standard_normal((3, 3, 1, 4)).astype(np.float32), np.zeros(4, np.float32))
    assert ran == [] and out.requires_grad
    out.sum().backward()
    assert x.grad.shape == x.shape
