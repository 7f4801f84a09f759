"""batch_norm and dropout against PyTorch's F.batch_norm, NumPy statistics and hand counts."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kernelscope import Tensor
from kernelscope.autograd import gradcheck
from kernelscope.ops import batch_norm, batch_norm_with_stats, dropout

TOL = {np.float64: dict(rtol=1e-9, atol=1e-10), np.float32: dict(rtol=1e-5, atol=1e-5)}


def nchw(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1))).requires_grad_(True)


def nhwc(t: torch.Tensor) -> np.ndarray:
    return np.moveaxis(t.detach().numpy(), 1, -1)


def leaf(a: np.ndarray):
    return Tensor(a, requires_grad=True), torch.from_numpy(a.copy()).requires_grad_(True)


# ------------------------------------------------------------- training
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(4, 5, 6, 3), (16, 7), (2, 3, 3, 1)])
def test_batch_norm_training_matches_torch(dtype, shape):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    c = shape[-1]
    (g, g_ref), (b, b_ref) = leaf(rng.uniform(0.5, 1.5, c).astype(dtype)), leaf(rng.standard_normal(c).astype(dtype))
    xt, x_ref = Tensor(x, requires_grad=True), nchw(x)
    y = batch_norm(xt, g, b, training=True)
    ref = F.batch_norm(x_ref, None, None, g_ref, b_ref, training=True, eps=1e-3)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.numpy(), nhwc(ref), **TOL[dtype])
    upstream = rng.standard_normal(shape).astype(dtype)
    y.backward(upstream)
    ref.backward(nchw(upstream).detach())
    np.testing.assert_allclose(xt.grad, nhwc(x_ref.grad), **TOL[dtype])
    np.testing.assert_allclose(g.grad, g_ref.grad.numpy(), **TOL[dtype])
    np.testing.assert_allclose(b.grad, b_ref.grad.numpy(), **TOL[dtype])


def test_batch_norm_non_contiguous_input_matches_torch():
    # an NCHW buffer seen as NHWC, every other row: no axis has its standard stride
    x = np.random.default_rng(8).standard_normal((3, 4, 10, 5)).transpose(0, 2, 3, 1)[:, ::2]
    assert not x.flags.c_contiguous
    gamma, beta = np.linspace(0.5, 2.0, 4), np.linspace(-1.0, 1.0, 4)
    xt, x_ref = Tensor(x, requires_grad=True), nchw(x)
    y = batch_norm(xt, gamma, beta, training=True)
    ref = F.batch_norm(x_ref, None, None, torch.from_numpy(gamma), torch.from_numpy(beta), training=True, eps=1e-3)
    np.testing.assert_allclose(y.numpy(), nhwc(ref), **TOL[np.float64])
    upstream = np.random.default_rng(9).standard_normal(x.shape)
    y.backward(upstream)
    ref.backward(nchw(upstream).detach())
    np.testing.assert_allclose(xt.grad, nhwc(x_ref.grad), **TOL[np.float64])


def test_batch_norm_training_output_has_zero_mean_unit_variance():
    x = np.random.default_rng(1).normal(5.0, 4.0, (64, 6, 6, 4))
    y = batch_norm(x, training=True).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0.0, atol=1e-12)
    # variance v / (v + epsilon), with v about 16 and epsilon 1e-3
    np.testing.assert_allclose(y.var(axis=(0, 1, 2)), 1.0, atol=1e-4)


def test_batch_norm_axis_one_matches_torch_on_nchw_directly():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 5, 5))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    y = batch_norm(x, gamma, beta, training=True, epsilon=1e-5, axis=1)
    ref = F.batch_norm(torch.from_numpy(x), None, None, torch.from_numpy(gamma), torch.from_numpy(beta),
                       training=True, eps=1e-5)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), **TOL[np.float64])


def test_batch_norm_with_stats_returns_biased_batch_statistics():
    x = np.random.default_rng(3).standard_normal((5, 4, 3, 2)).astype(np.float32)
    y, mean, var = batch_norm_with_stats(x, np.ones(2, np.float32), np.zeros(2, np.float32))
    np.testing.assert_allclose(mean, x.astype(np.float64).mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(var, x.astype(np.float64).var(axis=(0, 1, 2)), rtol=1e-5)  # ddof=0
    assert mean.shape == var.shape == (2,) and mean.dtype == var.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), batch_norm(x, training=True).numpy(), rtol=1e-6)


def test_batch_norm_without_scale_and_center_matches_torch():
    x = np.random.default_rng(4).standard_normal((6, 3, 2, 5))
    ref = F.batch_norm(nchw(x), None, None, None, None, training=True, eps=1e-3)
    np.testing.assert_allclose(batch_norm(x, None, None, training=True).numpy(), nhwc(ref), **TOL[np.float64])


# ------------------------------------------------------------- inference
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_norm_inference_matches_torch(dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 5, 6)).astype(dtype)
    mm, mv = rng.standard_normal(6).astype(dtype), rng.uniform(0.5, 2.0, 6).astype(dtype)
    (g, g_ref), (b, b_ref) = leaf(rng.standard_normal(6).astype(dtype)), leaf(rng.standard_normal(6).astype(dtype))
    xt, x_ref = Tensor(x, requires_grad=True), nchw(x)
    y = batch_norm(xt, g, b, mm, mv)
    ref = F.batch_norm(x_ref, torch.from_numpy(mm), torch.from_numpy(mv), g_ref, b_ref, training=False, eps=1e-3)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.numpy(), nhwc(ref), **TOL[dtype])
    upstream = rng.standard_normal(x.shape).astype(dtype)
    y.backward(upstream)
    ref.backward(nchw(upstream).detach())
    np.testing.assert_allclose(xt.grad, nhwc(x_ref.grad), **TOL[dtype])
    np.testing.assert_allclose(g.grad, g_ref.grad.numpy(), **TOL[dtype])
    np.testing.assert_allclose(b.grad, b_ref.grad.numpy(), **TOL[dtype])


def test_batch_norm_inference_by_hand():
    # (x - 1) / sqrt(3 + 1) * 2 + 0.5 = x - 0.5 for x = 1, 3, 5 -> 0.5, 2.5, 4.5
    x = np.array([[1.0], [3.0], [5.0]])
    y = batch_norm(x, [2.0], [0.5], [1.0], [3.0], epsilon=1.0).numpy()
    np.testing.assert_allclose(y[:, 0], [0.5, 2.5, 4.5], rtol=1e-12)


# ------------------------------------------------------------- gradcheck
def test_gradcheck_batch_norm_training():
    rng = np.random.default_rng(6)
    x, gamma, beta = rng.standard_normal((3, 2, 3, 4)), rng.standard_normal(4), rng.standard_normal(4)
    gradcheck(lambda t, g, b: batch_norm(t, g, b, training=True), [x, gamma, beta])
    gradcheck(lambda t: batch_norm(t, training=True, axis=1), [x])
    gradcheck(lambda t, g, b: batch_norm_with_stats(t, g, b)[0], [x, gamma, beta])


def test_gradcheck_batch_norm_inference():
    rng = np.random.default_rng(7)
    x, gamma, beta = rng.standard_normal((3, 2, 3, 4)), rng.standard_normal(4), rng.standard_normal(4)
    mm, mv = rng.standard_normal(4), rng.uniform(0.5, 2.0, 4)
    gradcheck(lambda *a: batch_norm(*a), [x, gamma, beta, mm, mv])
    gradcheck(lambda t, m, v: batch_norm(t, None, None, m, v), [x, mm, mv])


# ------------------------------------------------------------- dropout
def test_dropout_inverted_scaling_and_kept_fraction():
    x = np.ones((100, 100, 100), np.float32)
    y = dropout(x, 0.3, training=True, seed=0).numpy()
    assert y.dtype == np.float32
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)  # kept values scaled by 1/(1-rate)
    # 1e6 Bernoulli(0.7) draws: standard deviation of the fraction ~ 4.6e-4
    assert abs(kept.mean() - 0.7) < 3e-3


def test_dropout_identity_when_not_training_or_rate_zero():
    x = Tensor(np.random.default_rng(0).standard_normal((4, 5)))
    assert dropout(x, 0.5) is x
    assert dropout(x, 0.5, training=False, seed=1) is x
    np.testing.assert_array_equal(dropout(x, 0.0, training=True).numpy(), x.numpy())


def test_dropout_is_reproducible_with_a_seed():
    x = np.ones((50, 40))
    first = dropout(x, 0.5, training=True, seed=42).numpy()
    np.testing.assert_array_equal(first, dropout(x, 0.5, training=True, seed=42).numpy())
    np.testing.assert_array_equal(first, dropout(x, 0.5, training=True, seed=np.random.default_rng(42)).numpy())
    assert not np.array_equal(first, dropout(x, 0.5, training=True, seed=43).numpy())


def test_dropout_gradient_is_the_scaled_mask():
    x = Tensor(np.random.default_rng(1).standard_normal((20, 30)), requires_grad=True)
    y = dropout(x, 0.25, training=True, seed=3)
    y.sum().backward()
    expected = np.where(y.numpy() != 0, 1 / 0.75, 0.0)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)
    gradcheck(lambda t: dropout(t, 0.25, training=True, seed=3), [np.random.default_rng(2).standard_normal((4, 5))])


def test_dropout_noise_shape_drops_whole_feature_maps():
    x = np.ones((8, 5, 5, 16))
    y = dropout(x, 0.5, training=True, seed=0, noise_shape=(None, 1, 1, None)).numpy()
    # one decision per (sample, channel): constant over height and width
    assert np.all(y == y[:, :1, :1, :])
    assert 0 < np.count_nonzero(y[:, 0, 0, :]) < 8 * 16


# ------------------------------------------------------------- errors
def test_error_missing_moving_statistics():
    with pytest.raises(ValueError, match=r"`moving_mean` and `moving_variance` are required\. "
                                         r"Received: moving_mean=None, moving_variance=given"):
        batch_norm(np.zeros((2, 3)), moving_variance=np.ones(3))


def test_error_parameter_shape():
    with pytest.raises(ValueError, match=r"`gamma` must have shape \(3,\), one value per feature .* "
                                         r"Received: gamma\.shape=\(4,\)"):
        batch_norm(np.zeros((2, 3)), np.ones(4), training=True)


def test_error_axis():
    with pytest.raises(ValueError, match=r"`axis` must be an integer in \[-2, 2\) .* Received: axis=2"):
        batch_norm(np.zeros((2, 3)), training=True, axis=2)


def test_error_epsilon():
    with pytest.raises(ValueError, match=r"`epsilon` must be a positive number\. Received: epsilon=0"):
        batch_norm(np.zeros((2, 3)), training=True, epsilon=0)


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, True, "0.5"])
def test_error_dropout_rate_out_of_range(rate):
    with pytest.raises(ValueError, match=r"`rate` must be a number in \[0, 1\)\. Received: rate="):
        dropout(np.ones(3), rate, training=True)


def test_error_dropout_noise_shape():
    with pytest.raises(ValueError, match=r"`noise_shape` must have one entry per input axis.* "
                                         r"Received: noise_shape=\(2, 3\) for an input of shape \(4, 5\)"):
        dropout(np.ones((4, 5)), 0.5, training=True, noise_shape=(2, 3))


def test_error_dropout_seed():
    with pytest.raises(ValueError, match=r"`seed` must be None, a non-negative integer or a numpy Generator"):
        dropout(np.ones(3), 0.5, training=True, seed=-1)
