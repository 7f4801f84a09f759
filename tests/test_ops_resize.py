"""pad / zero_pad2d / crop2d / upsample2d against PyTorch (F.pad, F.interpolate) and by hand."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kernelscope import Tensor
from kernelscope.autograd import gradcheck
from kernelscope.ops import crop2d, pad, upsample2d, zero_pad2d

TOL = {np.float64: dict(rtol=1e-9, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}


def to_torch(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).requires_grad_(True)


def to_nhwc(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy().transpose(0, 2, 3, 1)


def check(op, ref_op, x: np.ndarray):
    """Forward and backward of an NHWC op against an NCHW torch reference."""
    xt, x_ref = Tensor(x, requires_grad=True), to_torch(x)
    y, ref = op(xt), ref_op(x_ref)
    assert y.dtype == x.dtype
    np.testing.assert_allclose(y.numpy(), to_nhwc(ref), **TOL[x.dtype.type])
    upstream = np.random.default_rng(9).standard_normal(y.shape).astype(x.dtype)
    y.backward(upstream)
    ref.backward(to_torch(upstream).detach())
    np.testing.assert_allclose(xt.grad, to_nhwc(x_ref.grad), **TOL[x.dtype.type])


def sample(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- pad
@pytest.mark.parametrize("pad_width, expected_widths", [
    (1, ((1, 1),) * 3),
    ((2, 1), ((2, 1),) * 3),
    (((1, 0),), ((1, 0),) * 3),
    (((0, 0), (1, 2), (3, 0)), ((0, 0), (1, 2), (3, 0))),
])
def test_pad_numpy_style_widths_match_numpy_and_torch(pad_width, expected_widths):
    x = sample((2, 3, 4))
    xt, x_ref = Tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_(True)
    y = pad(xt, pad_width, constant_values=-2.5)
    np.testing.assert_array_equal(y.numpy(), np.pad(x, pad_width, constant_values=-2.5))
    # torch lists (before, after) from the last axis backwards
    flat = [v for pair in reversed(expected_widths) for v in pair]
    ref = F.pad(x_ref, flat, value=-2.5)
    np.testing.assert_array_equal(y.numpy(), ref.detach().numpy())
    upstream = sample(y.shape, seed=1)
    y.backward(upstream)
    ref.backward(torch.from_numpy(upstream))
    np.testing.assert_array_equal(xt.grad, x_ref.grad.numpy())


@pytest.mark.parametrize("padding, torch_pads", [
    (1, (1, 1, 1, 1)),
    ((2, 1), (1, 1, 2, 2)),
    (((1, 0), (0, 3)), (0, 3, 1, 0)),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zero_pad2d_matches_torch(padding, torch_pads, dtype):
    check(lambda t: zero_pad2d(t, padding), lambda t: F.pad(t, torch_pads), sample((2, 3, 4, 2), dtype))


@pytest.mark.parametrize("cropping, rows, cols", [
    (1, slice(1, -1), slice(1, -1)),
    ((2, 0), slice(2, -2), slice(0, None)),
    (((1, 0), (0, 2)), slice(1, None), slice(0, -2)),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_crop2d_matches_torch_slicing(cropping, rows, cols, dtype):
    check(lambda t: crop2d(t, cropping), lambda t: t[:, :, rows, cols], sample((2, 5, 6, 3), dtype))


def test_pad_and_crop_non_contiguous_input():
    x = sample((2, 3, 8, 5)).transpose(0, 2, 3, 1)[:, ::2]
    assert not x.flags.c_contiguous
    check(lambda t: zero_pad2d(t, ((1, 2), (0, 1))), lambda t: F.pad(t, (0, 1, 1, 2)), x)
    check(lambda t: crop2d(t, ((1, 0), (2, 1))), lambda t: t[:, :, 1:, 2:-1], x)


def test_crop_undoes_zero_pad():
    x = sample((1, 3, 4, 2))
    padding = ((1, 2), (3, 0))
    np.testing.assert_array_equal(crop2d(zero_pad2d(x, padding), padding).numpy(), x)


# ---------------------------------------------------------------- upsample
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("size", [1, 2, 3, (2, 3), (3, 1)])
@pytest.mark.parametrize("hw", [(4, 5), (3, 3), (1, 2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_upsample2d_matches_torch_interpolate(interpolation, size, hw, dtype):
    sh, sw = (size, size) if isinstance(size, int) else size
    out_hw = (hw[0] * sh, hw[1] * sw)
    extra = {"align_corners": False} if interpolation == "bilinear" else {}
    check(lambda t: upsample2d(t, size, interpolation),
          lambda t: F.interpolate(t, size=out_hw, mode=interpolation, **extra),
          sample((2, *hw, 3), dtype))


def test_upsample2d_non_contiguous_input():
    x = sample((2, 3, 8, 5)).transpose(0, 2, 3, 1)[:, ::2]
    assert not x.flags.c_contiguous
    for mode, extra in [("nearest", {}), ("bilinear", {"align_corners": False})]:
        check(lambda t: upsample2d(t, 2, mode), lambda t: F.interpolate(t, scale_factor=2, mode=mode, **extra), x)


def test_upsample2d_nearest_repeats_rows_and_columns_like_keras_example():
    # Keras UpSampling2D(size=(1, 2)) docstring: each column repeated twice
    x = np.arange(12).reshape(2, 2, 1, 3)
    y = upsample2d(x, (1, 2)).numpy()
    np.testing.assert_array_equal(y, np.repeat(x, 2, axis=2))


def test_upsample2d_bilinear_by_hand():
    # half-pixel centres, factor 2 on [0, 1]: output o samples (o + 0.5) / 2 - 0.5
    # = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to the last cell) -> 0, .25, .75, 1
    y = upsample2d(np.array([0.0, 1.0]).reshape(1, 1, 2, 1), (1, 2), "bilinear").numpy()
    np.testing.assert_allclose(y.reshape(-1), [0.0, 0.25, 0.75, 1.0], rtol=1e-12)


# ---------------------------------------------------------------- gradcheck
def test_gradcheck_resize_ops():
    x = sample((2, 3, 4, 2))
    gradcheck(lambda t: pad(t, ((0, 1), (2, 0), (1, 1), (0, 0)), constant_values=3.0), [x])
    gradcheck(lambda t: zero_pad2d(t, ((1, 0), (2, 1))), [x])
    gradcheck(lambda t: crop2d(t, ((1, 0), (1, 2))), [x])
    gradcheck(lambda t: upsample2d(t, (2, 3), "nearest"), [x])
    gradcheck(lambda t: upsample2d(t, (3, 2), "bilinear"), [x])


# ---------------------------------------------------------------- errors
X = np.zeros((1, 4, 4, 1))


@pytest.mark.parametrize("pad_width", [-1, (1, 2, 3), ((1, 1), (1, 1)), "same", (1.5, 1)])
def test_error_bad_pad_width(pad_width):
    with pytest.raises(ValueError, match=r"`pad_width` must be a non-negative int, a \(before, after\) pair, "
                                         r"or one \(before, after\) pair per axis \(3 for this input\)\. "
                                         r"Received: pad_width="):
        pad(np.zeros((2, 3, 4)), pad_width)


def test_error_bad_zero_padding():
    with pytest.raises(ValueError, match=r"`padding` must be a non-negative int, a pair \(symmetric_height, "
                                         r"symmetric_width\) or \(\(top, bottom\), \(left, right\)\)\. "
                                         r"Received: padding=\(1, 2, 3\)"):
        zero_pad2d(X, (1, 2, 3))


def test_error_bad_cropping():
    with pytest.raises(ValueError, match=r"`cropping` must be a non-negative int, .* Received: cropping=-1"):
        crop2d(X, -1)


def test_error_cropping_removes_everything():
    with pytest.raises(ValueError, match=r"`cropping` must leave at least one row and one column: it removes "
                                         r"\(4, 0\) \(rows, columns\) from an input of height and width \(4, 4\)"):
        crop2d(X, ((2, 2), (0, 0)))


def test_error_bad_size():
    with pytest.raises(ValueError, match=r"`size` must be >= 1\. Received: size=0"):
        upsample2d(X, 0)
    with pytest.raises(ValueError, match=r"`size` must be an integer or a tuple of 2 integers\. "
                                         r"Received: size=1.5"):
        upsample2d(X, 1.5)


def test_error_bad_interpolation():
    with pytest.raises(ValueError, match=r"`interpolation` must be one of \('nearest', 'bilinear'\)\. "
                                         r"Received: interpolation='bicubic'"):
        upsample2d(X, 2, "bicubic")


def test_error_non_4d_input():
    for op in (zero_pad2d, crop2d, upsample2d):
        with pytest.raises(ValueError, match=r"`x` must be a 4-D array \(batch, height, width, channels\)\. "
                                             r"Received: shape=\(4, 4\)"):
            op(np.zeros((4, 4)))
