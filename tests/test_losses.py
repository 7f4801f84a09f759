"""Losses against PyTorch (values and gradients), Keras's reduction and label-smoothing rules."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import kernelscope as ks
from kernelscope import Tensor
from kernelscope.autograd import gradcheck

L = ks.losses
RNG = np.random.default_rng(0)


def forward_backward(loss, y_true, y_pred, sample_weight=None):
    x = Tensor(y_pred, requires_grad=True)
    out = loss(y_true, x, sample_weight=sample_weight)
    out.backward()
    return out, x.grad


def torch_forward_backward(fn, y_pred):
    x = torch.tensor(y_pred, requires_grad=True)
    out = fn(x)
    out.backward()
    return out.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float64, 1e-9)])
@pytest.mark.parametrize("name", ["mse", "mae", "huber"])
def test_regression_losses_match_torch(name, dtype, rtol):
    y_pred = RNG.standard_normal((6, 4)).astype(dtype) * 2
    y_true = RNG.standard_normal((6, 4)).astype(dtype)
    loss = {"mse": L.MeanSquaredError(), "mae": L.MeanAbsoluteError(), "huber": L.Huber(delta=0.7)}[name]
    ref = {"mse": lambda x: F.mse_loss(x, torch.tensor(y_true)),
           "mae": lambda x: F.l1_loss(x, torch.tensor(y_true)),
           "huber": lambda x: F.huber_loss(x, torch.tensor(y_true), delta=0.7)}[name]
    out, grad = forward_backward(loss, y_true, y_pred)
    ref_out, ref_grad = torch_forward_backward(ref, y_pred)
    assert out.shape == () and out.dtype == dtype and grad.dtype == dtype
    np.testing.assert_allclose(out.item(), ref_out, rtol=rtol)
    np.testing.assert_allclose(grad, ref_grad, rtol=rtol, atol=rtol * 1e-2)


def test_sample_weight_divides_by_number_of_samples_not_weight_sum():
    y_true, y_pred = np.zeros((4, 2)), np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]])
    weights = np.array([1.0, 0.0, 2.0, 0.5])
    per_sample = np.array([1.0, 4.0, 9.0, 16.0])
    out = L.MeanSquaredError()(y_true, y_pred, sample_weight=weights)
    assert out.item() == pytest.approx(np.sum(per_sample * weights) / 4)
    out = L.MeanSquaredError(reduction="sum")(y_true, y_pred, sample_weight=weights)
    assert out.item() == pytest.approx(np.sum(per_sample * weights))
    out = L.MeanSquaredError(reduction="mean_with_sample_weight")(y_true, y_pred, sample_weight=weights)
    assert out.item() == pytest.approx(np.sum(per_sample * weights) / weights.sum())
    out = L.MeanSquaredError(reduction=None)(y_true, y_pred, sample_weight=weights[:, None])
    np.testing.assert_allclose(out.numpy().ravel(), per_sample * weights)


def test_y_true_rank_one_and_y_pred_column_align():
    y_true, y_pred = np.array([0.0, 1.0, 1.0]), np.array([[0.5], [0.5], [2.0]])
    assert L.MeanSquaredError()(y_true, y_pred).item() == pytest.approx((0.25 + 0.25 + 1.0) / 3)


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float64, 1e-9)])
def test_binary_crossentropy_from_logits_and_probs_match_torch(dtype, rtol):
    logits = RNG.standard_normal((5, 3)).astype(dtype) * 3
    targets = RNG.integers(0, 2, (5, 3)).astype(dtype)
    out, grad = forward_backward(L.BinaryCrossentropy(from_logits=True), targets, logits)
    ref_out, ref_grad = torch_forward_backward(
        lambda x: F.binary_cross_entropy_with_logits(x, torch.tensor(targets)), logits)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.item(), ref_out, rtol=rtol)
    np.testing.assert_allclose(grad, ref_grad, rtol=rtol, atol=rtol * 1e-2)
    probs = (1 / (1 + np.exp(-logits))).astype(dtype)
    out, grad = forward_backward(L.BinaryCrossentropy(), targets, probs)
    ref_out, ref_grad = torch_forward_backward(lambda p: F.binary_cross_entropy(p, torch.tensor(targets)), probs)
    np.testing.assert_allclose(out.item(), ref_out, rtol=rtol * 10)
    np.testing.assert_allclose(grad, ref_grad, rtol=rtol * 10, atol=rtol * 1e-2)


def test_binary_label_smoothing_squeezes_towards_half():
    logits = RNG.standard_normal((4, 2))
    targets = RNG.integers(0, 2, (4, 2)).astype(np.float64)
    smoothed = targets * 0.8 + 0.5 * 0.2  # Keras: t * (1 - s) + 0.5 * s
    ours = L.BinaryCrossentropy(from_logits=True, label_smoothing=0.2)(targets, logits).item()
    ref = F.binary_cross_entropy_with_logits(torch.tensor(logits), torch.tensor(smoothed)).item()
    assert ours == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float64, 1e-9)])
def test_categorical_and_sparse_crossentropy_match_torch(smoothing, dtype, rtol):
    logits = RNG.standard_normal((6, 5)).astype(dtype) * 3
    labels = RNG.integers(0, 5, 6)
    one_hot = np.eye(5, dtype=dtype)[labels]
    ref_out, ref_grad = torch_forward_backward(
        lambda x: F.cross_entropy(x, torch.tensor(labels), label_smoothing=smoothing), logits)
    out, grad = forward_backward(L.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing),
                                 one_hot, logits)
    assert out.dtype == dtype and grad.dtype == dtype
    np.testing.assert_allclose(out.item(), ref_out, rtol=rtol)
    np.testing.assert_allclose(grad, ref_grad, rtol=rtol, atol=rtol * 1e-2)
    if not smoothing:
        out, grad = forward_backward(L.SparseCategoricalCrossentropy(from_logits=True), labels, logits)
        np.testing.assert_allclose(out.item(), ref_out, rtol=rtol)
        np.testing.assert_allclose(grad, ref_grad, rtol=rtol, atol=rtol * 1e-2)


def test_crossentropy_from_probabilities_uses_keras_normalise_and_clip():
    probs = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    # Keras docstring values: [0.0513, 2.303]
    per_sample = L.categorical_crossentropy(np.array([[0, 1, 0], [0, 0, 1]]), probs).numpy()
    np.testing.assert_allclose(per_sample, [0.0513, 2.303], atol=5e-4)
    per_sample = L.sparse_categorical_crossentropy(np.array([1, 2]), probs).numpy()
    np.testing.assert_allclose(per_sample, [0.0513, 2.303], atol=5e-4)
    p = RNG.dirichlet(np.ones(4), size=5)
    labels = RNG.integers(0, 4, 5)
    ref_out, ref_grad = torch_forward_backward(  # Keras's formula, differentiated by torch
        lambda x: F.nll_loss(torch.log(torch.clamp(x / x.sum(-1, keepdim=True), 1e-7, 1 - 1e-7)),
                             torch.tensor(labels)), p)
    out, grad = forward_backward(L.SparseCategoricalCrossentropy(), labels, p)
    np.testing.assert_allclose(out.item(), ref_out, rtol=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10)


def test_stable_at_huge_logits_float32():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], dtype=np.float32)
    labels = np.array([1, 0])
    for loss, y in [(L.SparseCategoricalCrossentropy(from_logits=True), labels),
                    (L.CategoricalCrossentropy(from_logits=True), np.eye(3)[labels]),
                    (L.BinaryCrossentropy(from_logits=True), (logits > 0).astype(np.float32))]:
        out, grad = forward_backward(loss, y, logits)
        assert out.dtype == np.float32 and np.isfinite(out.item()) and np.all(np.isfinite(grad))
    out = L.SparseCategoricalCrossentropy(from_logits=True)(labels, logits).item()
    assert out == pytest.approx(2e4, rel=1e-6)  # each sample puts its label 2e4 below the max logit


def test_ignore_class_drops_entries_from_loss_and_divisor():
    logits = RNG.standard_normal((2, 3, 4))
    labels = np.array([[0, 255, 3], [255, 1, 2]])
    out = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255)(labels, logits).item()
    keep = labels != 255
    ref = F.cross_entropy(torch.tensor(logits[keep]), torch.tensor(labels[keep])).item()
    assert out == pytest.approx(ref, rel=1e-12)


def test_float64_gradcheck():
    labels = np.array([2, 0, 1])
    onehot = np.eye(3)[labels] * 0.9 + 0.1 / 3
    targets = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    gradcheck(lambda x: L.SparseCategoricalCrossentropy(from_logits=True)(labels, x), [RNG.standard_normal((3, 3))])
    gradcheck(lambda x: L.CategoricalCrossentropy(from_logits=True)(onehot, x), [RNG.standard_normal((3, 3))])
    gradcheck(lambda x: L.BinaryCrossentropy(from_logits=True)(targets, x), [RNG.standard_normal((3, 2))])
    gradcheck(lambda x: L.Huber()(targets, x, sample_weight=np.array([1.0, 2.0, 0.5])),
              [RNG.standard_normal((3, 2)) * 2])


def test_get_config_and_get():
    loss = L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    clone = L.deserialize(L.serialize(loss))
    assert clone.get_config() == loss.get_config()
    assert clone.get_config()["from_logits"] is True
    assert isinstance(L.get("mse"), L.MeanSquaredError) and L.get("mse").name == "mse"
    assert isinstance(L.get("sparse_categorical_crossentropy"), L.SparseCategoricalCrossentropy)
    assert isinstance(L.get("Huber"), L.Huber)
    wrapped = L.get(L.mean_absolute_error)
    assert wrapped(np.zeros((2, 2)), np.ones((2, 2))).item() == 1.0
    assert L.get(None) is None


def test_errors():
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 'msle'"):
        L.get("msle")
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 3"):
        L.get(3)
    with pytest.raises(ValueError, match="Unknown loss class: 'Foo'"):
        L.deserialize({"class_name": "Foo"})
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`.*reduction='avg'"):
        L.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match=r"`y_true` and `y_pred` must have the same shape. .*\(2, 3\).*\(2, 4\)"):
        L.MeanSquaredError()(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"Arguments `target` and `output` must have the same shape. "):
        L.CategoricalCrossentropy()(np.zeros((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="same shape up until the last dimension"):
        L.SparseCategoricalCrossentropy()(np.zeros(3), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"label value of 4 which is outside the valid range of \[0, 3\]"):
        L.SparseCategoricalCrossentropy()(np.array([1, 4]), np.ones((2, 4)))
    with pytest.raises(ValueError, match="Sparse labels must be integer class indices"):
        L.SparseCategoricalCrossentropy()(np.array([0.5, 1.0]), np.ones((2, 4)))
    with pytest.raises(ValueError, match="needs the classes on the last axis"):
        L.sparse_categorical_crossentropy(np.array([1, 0]), np.ones((2, 4)), axis=0)
    with pytest.raises(ValueError, match="`axis` must be of type `int`"):
        L.categorical_crossentropy(np.ones((2, 2)), np.ones((2, 2)), axis=True)
    with pytest.raises(ValueError, match=r"`sample_weight` of shape \(3,\) does not match"):
        L.MeanSquaredError()(np.zeros((2, 2)), np.ones((2, 2)), sample_weight=np.ones(3))
