"""Pooling ops against PyTorch (NHWC <-> NCHW), the lecture slides and hand calculation."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kernelscope import Tensor
from kernelscope.autograd import gradcheck
from kernelscope.ops import avg_pool2d, global_avg_pool2d, global_max_pool2d, max_pool2d

SLIDE_IMAGE = np.array([[1, 3, 1, 2], [6, 1, 5, 4], [5, 4, 2, 5], [3, 3, 1, 2]], dtype=np.float64)
TOL = {np.float64: dict(rtol=1e-9, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}


# ---------------------------------------------------------------- helpers
def to_torch(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).requires_grad_(True)


def to_nhwc(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy().transpose(0, 2, 3, 1)


def tf_same_pads(n: int, k: int, s: int) -> tuple:
    """TensorFlow "same" split, written out from SPEC.md: the odd cell goes after."""
    total = max(0, (math.ceil(n / s) - 1) * s + k - n)
    return total // 2, total - total // 2


def torch_pool(kind: str, x: torch.Tensor, k: int, s: int, padding: str) -> torch.Tensor:
    """Reference NCHW pooling; "same" padding is applied explicitly (torch pads symmetrically)."""
    if padding == "valid":
        pool = F.max_pool2d if kind == "max" else F.avg_pool2d
        return pool(x, k, s)
    top, bottom = tf_same_pads(x.shape[2], k, s)
    left, right = tf_same_pads(x.shape[3], k, s)
    pads = (left, right, top, bottom)
    if kind == "max":
        return F.max_pool2d(F.pad(x, pads, value=-math.inf), k, s)
    # Keras divides by the number of real cells: window sum / window count of real cells.
    window_sum = F.avg_pool2d(F.pad(x, pads), k, s, divisor_override=1)
    real_cells = F.avg_pool2d(F.pad(torch.ones_like(x), pads), k, s, divisor_override=1)
    return window_sum / real_cells


def check_against_torch(kind, x, k, s, padding, grad_seed=0):
    op = max_pool2d if kind == "max" else avg_pool2d
    xt = Tensor(x, requires_grad=True)
    y = op(xt, k, s, padding)
    ref_in = to_torch(x)
    ref = torch_pool(kind, ref_in, k, s, padding)
    tol = TOL[x.dtype.type]
    assert y.dtype == x.dtype
    np.testing.assert_allclose(y.numpy(), to_nhwc(ref), **tol)
    upstream = np.random.default_rng(grad_seed).standard_normal(y.shape).astype(x.dtype)
    y.backward(upstream)
    ref.backward(torch.from_numpy(np.ascontiguousarray(upstream.transpose(0, 3, 1, 2))))
    np.testing.assert_allclose(xt.grad, to_nhwc(ref_in.grad), **tol)


# ------------------------------------------------------------ torch grid
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("s", [1, 2, 3])
@pytest.mark.parametrize("hw", [(6, 7), (5, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pool_matches_torch(kind, padding, k, s, hw, dtype):
    x = np.random.default_rng(k * 10 + s).standard_normal((2, *hw, 3)).astype(dtype)
    check_against_torch(kind, x, k, s, padding)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("k, s", [(2, None), (3, None), (3, 2), (2, 1)])
def test_pool_non_contiguous_input(kind, padding, k, s):
    # an NCHW buffer seen as NHWC, then every other row: strides are all non-standard
    base = np.random.default_rng(3).standard_normal((2, 3, 14, 9))
    x = base.transpose(0, 2, 3, 1)[:, ::2]
    assert not x.flags.c_contiguous
    check_against_torch(kind, x, k, k if s is None else s, padding)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("k, s", [(2, 2), (2, 1), (3, 2), (3, 1)])
def test_max_pool_ties_route_to_first_cell_like_torch(padding, k, s):
    # few distinct integers: most windows hold several equal maxima
    x = np.random.default_rng(5).integers(0, 3, size=(2, 7, 6, 2)).astype(np.float64)
    check_against_torch("max", x, k, s, padding)


def test_max_pool_tie_gradient_goes_to_exactly_one_cell():
    x = Tensor(np.ones((1, 2, 2, 1)), requires_grad=True)
    max_pool2d(x, 2).sum().backward()
    # row-major first cell of the window, as torch.nn.functional.max_pool2d
    np.testing.assert_array_equal(x.grad[0, :, :, 0], [[1.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("k, s", [(2, 2), (3, 2), (2, 1)])
def test_max_pool_nan_propagates_and_takes_the_gradient_like_torch(k, s):
    x = np.random.default_rng(6).standard_normal((1, 6, 6, 2))
    x[0, 2, 3, 1] = np.nan
    xt, ref_in = Tensor(x, requires_grad=True), to_torch(x)
    y, ref = max_pool2d(xt, k, s), F.max_pool2d(ref_in, k, s)
    np.testing.assert_array_equal(np.isnan(y.numpy()), np.isnan(to_nhwc(ref)))
    y.backward(np.ones(y.shape))
    ref.backward(torch.ones_like(ref))
    np.testing.assert_array_equal(xt.grad, to_nhwc(ref_in.grad))


# ------------------------------------------------------------ slides
def test_slides_max_pooling_2x2_stride_1():
    # Window maxima, row by row: max(1,3,6,1)=6 max(3,1,1,5)=5 max(1,2,5,4)=5
    #                            max(6,1,5,4)=6 max(1,5,4,2)=5 max(5,4,2,5)=5
    #                            max(5,4,3,3)=5 max(4,2,3,1)=4 max(2,5,1,2)=5
    y = max_pool2d(SLIDE_IMAGE.reshape(1, 4, 4, 1), pool_size=2, strides=1).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(y, [[6, 5, 5], [6, 5, 5], [5, 4, 5]])


def test_slides_average_pooling_2x2_stride_1():
    # Window sums / 4, row by row: (1+3+6+1)/4=2.75 (3+1+1+5)/4=2.5 (1+2+5+4)/4=3
    #                              (6+1+5+4)/4=4    (1+5+4+2)/4=3   (5+4+2+5)/4=4
    #                              (5+4+3+3)/4=3.75 (4+2+3+1)/4=2.5 (2+5+1+2)/4=2.5
    y = avg_pool2d(SLIDE_IMAGE.reshape(1, 4, 4, 1), pool_size=2, strides=1).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(y, [[2.75, 2.5, 3.0], [4.0, 3.0, 4.0], [3.75, 2.5, 2.5]])
    # the slides print one decimal: 2.75 -> 2.8 and 3.75 -> 3.8 (round half up)
    shown = np.floor(y * 10 + 0.5) / 10
    np.testing.assert_allclose(shown, [[2.8, 2.5, 3.0], [4.0, 3.0, 4.0], [3.8, 2.5, 2.5]])


def test_same_average_pooling_leaves_padding_out_of_the_divisor():
    # 3x3 input 1..9, pool 2, stride 2, "same": total pad (2-1)*2 + 2 - 3 = 1, all of it
    # after (bottom/right). Windows: {1,2,4,5} -> 12/4 = 3; {3,6} -> 9/2 = 4.5;
    # {7,8} -> 15/2 = 7.5; {9} -> 9/1 = 9. Counting padded cells would give 2.25, 1.875, 2.25.
    x = np.arange(1, 10, dtype=np.float64).reshape(1, 3, 3, 1)
    y = avg_pool2d(x, 2, 2, "same").numpy()[0, :, :, 0]
    np.testing.assert_array_equal(y, [[3.0, 4.5], [7.5, 9.0]])


def test_same_max_pooling_pads_with_minus_infinity():
    # all-negative input: a zero pad would win the corner windows, -inf never does
    x = -np.arange(1, 10, dtype=np.float64).reshape(1, 3, 3, 1)
    y = max_pool2d(x, 2, 2, "same").numpy()[0, :, :, 0]
    np.testing.assert_array_equal(y, [[-1.0, -3.0], [-7.0, -9.0]])


def test_strides_default_to_pool_size():
    x = np.random.default_rng(0).standard_normal((1, 6, 6, 2))
    np.testing.assert_array_equal(max_pool2d(x, 3).numpy(), max_pool2d(x, 3, 3).numpy())
    assert avg_pool2d(x, (2, 3)).shape == (1, 3, 2, 2)


def test_padding_is_case_insensitive():
    x = np.random.default_rng(0).standard_normal((1, 5, 5, 1))
    np.testing.assert_array_equal(max_pool2d(x, 2, 2, "SAME").numpy(), max_pool2d(x, 2, 2, "same").numpy())


def test_float32_stays_float32_and_int_input_becomes_float32():
    assert max_pool2d(np.zeros((1, 4, 4, 1), np.float32)).dtype == np.float32
    assert avg_pool2d(np.zeros((1, 4, 4, 1), np.int64)).dtype == np.float32


# ------------------------------------------------------------ global pools
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ties", [False, True])
def test_global_pools_match_torch(dtype, ties):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, (3, 5, 4, 2)) if ties else rng.standard_normal((3, 5, 4, 2))
    x = x.astype(dtype)
    upstream = rng.standard_normal((3, 2)).astype(dtype)
    for op, ref_op in [(global_avg_pool2d, F.adaptive_avg_pool2d), (global_max_pool2d, F.adaptive_max_pool2d)]:
        xt, ref_in = Tensor(x, requires_grad=True), to_torch(x)
        y = op(xt)
        ref = ref_op(ref_in, 1).reshape(3, 2)
        np.testing.assert_allclose(y.numpy(), ref.detach().numpy(), **TOL[dtype])
        y.backward(upstream)
        ref.backward(torch.from_numpy(upstream))
        np.testing.assert_allclose(xt.grad, to_nhwc(ref_in.grad), **TOL[dtype])


def test_global_pools_keepdims():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    for op, reduce in [(global_avg_pool2d, np.mean), (global_max_pool2d, np.max)]:
        y = op(x, keepdims=True)
        assert y.shape == (2, 1, 1, 5)
        np.testing.assert_allclose(y.numpy(), reduce(x, axis=(1, 2), keepdims=True), rtol=1e-12)
        assert op(x).shape == (2, 5)


# ------------------------------------------------------------ gradcheck
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("k, s", [(2, None), (3, 2), (2, 1), (3, 3)])
def test_gradcheck_pools(padding, k, s):
    x = np.random.default_rng(7).standard_normal((2, 5, 6, 2))
    gradcheck(lambda t: max_pool2d(t, k, s, padding), [x])
    gradcheck(lambda t: avg_pool2d(t, k, s, padding), [x])


def test_gradcheck_global_pools():
    x = np.random.default_rng(8).standard_normal((2, 3, 4, 3))
    for keepdims in (False, True):
        gradcheck(lambda t: global_avg_pool2d(t, keepdims), [x])
        gradcheck(lambda t: global_max_pool2d(t, keepdims), [x])


# ------------------------------------------------------------ errors
X = np.zeros((1, 4, 4, 1))


def test_error_bad_pool_size():
    with pytest.raises(ValueError, match=r"`pool_size` must be an integer or a tuple of 2 integers\. "
                                         r"Received: pool_size=\(2,\)"):
        max_pool2d(X, pool_size=(2,))


def test_error_pool_size_below_one():
    with pytest.raises(ValueError, match=r"`pool_size` must be >= 1\. Received: pool_size=0"):
        avg_pool2d(X, pool_size=0)


def test_error_bad_strides():
    with pytest.raises(ValueError, match=r"`strides` must be >= 1\. Received: strides=0"):
        max_pool2d(X, 2, strides=0)


def test_error_bad_padding():
    with pytest.raises(ValueError, match=r'`padding` must be "valid" or "same"\. Received: padding=\'full\''):
        avg_pool2d(X, 2, padding="full")


def test_error_non_4d_input():
    with pytest.raises(ValueError, match=r"`x` must be a 4-D array \(batch, height, width, channels\)\. "
                                         r"Received: shape=\(4, 4\)"):
        max_pool2d(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"`x` must be a 4-D array"):
        global_avg_pool2d(np.zeros((2, 4, 4)))


def test_error_window_larger_than_valid_input():
    with pytest.raises(ValueError, match=r"pooling window is larger than the input: `pool_size`=\(5, 5\) "
                                         r"but the input's height and width are \(4, 4\)"):
        max_pool2d(X, 5)
    assert max_pool2d(X, 5, padding="same").shape == (1, 1, 1, 1)


# ------------------------------------------------------------ 2x2 fast path
@pytest.mark.parametrize("pattern", range(16))
def test_max_pool_2x2_every_tie_pattern_routes_like_torch(pattern):
    # the 16 windows with cells in {0, 1}: every way two, three or four cells can tie
    window = np.array([(pattern >> bit) & 1 for bit in range(4)], dtype=np.float64).reshape(1, 2, 2, 1)
    check_against_torch("max", window, 2, 2, "valid")


@pytest.mark.parametrize("hw", [(26, 26), (11, 11), (7, 4)])
def test_max_pool_2x2_large_batch_after_relu_matches_torch(hw):
    # big enough to be split over threads; ReLU'd inputs tie at 0 in most windows, as in a CNN
    x = np.maximum(np.random.default_rng(8).standard_normal((64, *hw, 16)), 0).astype(np.float32)
    check_against_torch("max", x, 2, 2, "valid")


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_max_pool_2x2_non_finite_upstream_gradient_stays_in_its_window(value):
    x = np.random.default_rng(9).standard_normal((1, 4, 4, 1))
    xt, ref_in = Tensor(x, requires_grad=True), to_torch(x)
    upstream = np.ones((1, 2, 2, 1))
    upstream[0, 0, 0, 0] = value
    max_pool2d(xt, 2).backward(upstream)
    F.max_pool2d(ref_in, 2).backward(torch.from_numpy(upstream.transpose(0, 3, 1, 2).copy()))
    np.testing.assert_array_equal(xt.grad, to_nhwc(ref_in.grad))


def test_max_pool_2x2_infinite_inputs_route_like_torch():
    x = np.random.default_rng(10).standard_normal((1, 4, 6, 1))
    x[0, 0, 1, 0], x[0, 3, 4, 0], x[0, 2, 2, 0] = np.inf, -np.inf, np.inf
    check_against_torch("max", x, 2, 2, "valid")
