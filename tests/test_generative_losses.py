"""ks.generative's style-transfer losses against a PyTorch re-implementation of keras-io's, in float64.

The torch functions below are written from keras-io's neural_style_transfer example
(Gatys et al.'s definitions); values and input gradients must agree, and the
kernelscope gradients also match central differences.
"""

import numpy as np
import pytest
import torch

import kernelscope as ks
from kernelscope.autograd import gradcheck
from kernelscope.generative import content_loss, deprocess_image, gram_matrix, style_loss, total_variation_loss


def torch_gram(x):  # keras-io: (H, W, C) -> transpose to (C, H, W) -> (C, H*W) @ its transpose
    features = x.permute(2, 0, 1).reshape(x.shape[2], -1)
    return features @ features.T


def torch_style_loss(style, combination, channels, size):
    return ((torch_gram(style) - torch_gram(combination)) ** 2).sum() / (4.0 * channels ** 2 * size ** 2)


def torch_content_loss(base, combination):
    return ((combination - base) ** 2).sum()


def torch_total_variation(x):
    rows, cols = x.shape[1], x.shape[2]
    a = (x[:, :rows - 1, :cols - 1, :] - x[:, 1:, :cols - 1, :]) ** 2
    b = (x[:, :rows - 1, :cols - 1, :] - x[:, :rows - 1, 1:, :]) ** 2
    return ((a + b) ** 1.25).sum()


def _value_and_grads(ks_fn, torch_fn, *arrays):
    tensors = [ks.Tensor(a, requires_grad=True) for a in arrays]
    out = ks_fn(*tensors)
    out.backward()
    references = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    expected = torch_fn(*references)
    expected.backward()
    return out, tensors, expected, references


def _assert_same(ks_fn, torch_fn, *arrays):
    out, tensors, expected, references = _value_and_grads(ks_fn, torch_fn, *arrays)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10)
    for tensor, reference in zip(tensors, references):
        np.testing.assert_allclose(tensor.grad, reference.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 7, 3), (1, 1, 4), (6, 4, 8)])
def test_gram_matrix_and_its_gradient_equal_torch(shape):
    x = np.random.default_rng(0).standard_normal(shape)
    _assert_same(lambda t: (gram_matrix(t) * np.arange(shape[2] ** 2).reshape(shape[2], -1)).sum(),
                 lambda t: (torch_gram(t) * torch.arange(shape[2] ** 2).reshape(shape[2], -1)).sum(), x)
    np.testing.assert_allclose(gram_matrix(x).numpy(), torch_gram(torch.tensor(x)).numpy(), rtol=1e-12)
    assert gradcheck(gram_matrix, [x])


def test_gram_matrix_of_a_batch_is_one_gram_per_image():
    x = np.random.default_rng(1).standard_normal((3, 4, 5, 2))
    batched = gram_matrix(x).numpy()
    assert batched.shape == (3, 2, 2)
    for i in range(3):
        np.testing.assert_allclose(batched[i], torch_gram(torch.tensor(x[i])).numpy(), rtol=1e-12)
    assert gradcheck(gram_matrix, [x])


@pytest.mark.parametrize("channels, size", [(3, 400 * 600), (None, None)])
def test_style_loss_and_its_gradients_equal_torch(channels, size):
    rng = np.random.default_rng(2)
    style, combination = rng.standard_normal((6, 5, 4)), rng.standard_normal((6, 5, 4))
    ref_channels, ref_size = (4, 30) if channels is None else (channels, size)  # default: Gatys's N_l, M_l
    _assert_same(lambda s, c: style_loss(s, c, channels, size),
                 lambda s, c: torch_style_loss(s, c, ref_channels, ref_size), style, combination)
    assert gradcheck(lambda s, c: style_loss(s, c) * 1e3, [style, combination])


def test_style_loss_takes_feature_maps_of_different_sizes():
    rng = np.random.default_rng(3)
    style, combination = rng.standard_normal((8, 8, 3)), rng.standard_normal((4, 6, 3))
    _assert_same(style_loss, lambda s, c: torch_style_loss(s, c, 3, 24), style, combination)


def test_content_loss_and_its_gradients_equal_torch():
    rng = np.random.default_rng(4)
    base, combination = rng.standard_normal((1, 3, 4, 5)), rng.standard_normal((1, 3, 4, 5))
    _assert_same(content_loss, torch_content_loss, base, combination)
    assert gradcheck(content_loss, [base, combination])


@pytest.mark.parametrize("shape", [(1, 6, 7, 3), (2, 2, 2, 1), (5, 4, 2)])
def test_total_variation_loss_and_its_gradient_equal_torch(shape):
    x = np.random.default_rng(5).uniform(-100, 100, shape)
    batch = x if x.ndim == 4 else x[None]
    _assert_same(total_variation_loss, lambda t: torch_total_variation(t if t.ndim == 4 else t[None]), x)
    np.testing.assert_allclose(total_variation_loss(x).numpy(), torch_total_variation(torch.tensor(batch)).numpy(),
                               rtol=1e-12)
    assert gradcheck(total_variation_loss, [x / 100.0])


def test_total_variation_of_a_flat_image_is_zero_with_a_zero_gradient():
    x = ks.Tensor(np.full((1, 3, 3, 3), 7.0), requires_grad=True)
    loss = total_variation_loss(x)
    loss.backward()
    assert loss.item() == 0.0 and np.all(x.grad == 0)  # (0) ** 0.25: no nan at the minimum


def test_losses_work_in_float32():
    rng = np.random.default_rng(6)
    x, y = rng.uniform(0, 1, (2, 1, 4, 4, 3)).astype(np.float32)
    assert total_variation_loss(x).dtype == np.float32
    assert style_loss(x, y, channels=3, size=16).dtype == np.float32
    np.testing.assert_allclose(style_loss(x, y, 3, 16).item(),
                               style_loss(x.astype(np.float64), y.astype(np.float64), 3, 16).item(), rtol=1e-5)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch", None])
def test_deprocess_image_inverts_preprocess_input(mode):
    pixels = np.random.default_rng(7).integers(0, 256, (2, 5, 6, 3)).astype(np.uint8)
    processed = pixels if mode is None else ks.applications.imagenet_utils.preprocess_input(pixels, mode=mode)
    restored = deprocess_image(processed, mode)
    assert restored.dtype == np.uint8
    np.testing.assert_array_equal(restored, pixels)


def test_deprocess_image_caffe_is_mean_plus_bgr_to_rgb_and_clips():
    bgr = np.array([[[10.0, 20.0, 30.0], [-500.0, 0.0, 500.0]]])
    expected = np.array([[[153.68, 136.779, 113.939], [123.68 + 500, 116.779, 103.939 - 500]]])
    np.testing.assert_array_equal(deprocess_image(bgr), np.clip(np.rint(expected), 0, 255).astype(np.uint8))


# ------------------------------------------------------------------ bad input
def test_gram_matrix_needs_a_feature_map():
    with pytest.raises(ValueError, match=r"gram_matrix\(\) expects a feature map .* Received: x of shape \(3, 4\)"):
        gram_matrix(np.ones((3, 4)))


def test_style_loss_needs_the_same_channels():
    with pytest.raises(ValueError, match=r"same rank and number of channels\. Received: style of shape \(4, 4, 3\), "
                                         r"combination of shape \(4, 4, 2\)"):
        style_loss(np.ones((4, 4, 3)), np.ones((4, 4, 2)))


def test_style_loss_normalisation_must_be_positive():
    with pytest.raises(ValueError, match=r"`size` must be a positive integer\. Received: size=0"):
        style_loss(np.ones((4, 4, 3)), np.ones((4, 4, 3)), channels=3, size=0)


def test_content_loss_needs_the_same_shape():
    with pytest.raises(ValueError, match=r"content_loss\(\) needs feature maps of the same shape\. Received: base "
                                         r"of shape \(1, 2, 2, 3\), combination of shape \(1, 2, 3, 3\)"):
        content_loss(np.ones((1, 2, 2, 3)), np.ones((1, 2, 3, 3)))


def test_total_variation_needs_two_by_two_pixels():
    with pytest.raises(ValueError, match=r"at least 2x2 pixels\. Received: x of shape \(1, 1, 5, 3\)"):
        total_variation_loss(np.ones((1, 1, 5, 3)))


def test_deprocess_image_refuses_an_unknown_mode_and_wrong_channels():
    with pytest.raises(ValueError, match=r"`mode` must be one of \['caffe', 'tf', 'torch'\] or None\. "
                                         r"Received: mode='bgr'"):
        deprocess_image(np.zeros((2, 2, 3)), mode="bgr")
    with pytest.raises(ValueError, match=r"deprocess_image\(mode='caffe'\) expects 3 color channels on the last "
                                         r"axis\. Received: an array of shape \(2, 2, 1\)"):
        deprocess_image(np.zeros((2, 2, 1)))
