"""ks.generative.StyleTransfer on a small VGG-shaped network (random weights, VGG19's layer names).

The first step's loss and gradient are checked against keras-io's compute_loss written
in PyTorch on the same weights; the loop itself must halve the loss in 50 steps.
"""

import numpy as np
import pytest
import torch

import kernelscope as ks
from kernelscope.generative import STYLE_LAYERS, StyleTransfer, small_vgg

SIZE = 32


def _images(size=SIZE, channels=3):
    yy, xx = np.mgrid[0:size, 0:size] * (255.0 / (size - 1))
    content = np.stack([xx, yy, np.full_like(xx, 128.0), 255 - xx][:channels], -1)
    style = np.random.default_rng(0).uniform(0, 255, (size, size, channels))
    return content.astype(np.float32), style.astype(np.float32)


WEIGHTS = dict(content_weight=1e-4, style_weight=1.0, total_variation_weight=1e-6)


# ------------------------------------------------------------------ a torch re-implementation
def _torch_features(model, x):
    """small_vgg in torch (float64): the outputs of the layers style transfer reads, by name."""
    features = {}
    h = x.permute(0, 3, 1, 2)
    for layer in model.layers[1:]:
        if isinstance(layer, ks.layers.Conv2D):
            kernel, bias = (torch.tensor(w.numpy(), dtype=torch.float64) for w in layer.weights)
            h = torch.relu(torch.nn.functional.conv2d(h, kernel.permute(3, 2, 0, 1), bias, padding=1))
            features[layer.name] = h.permute(0, 2, 3, 1)
        else:
            h = torch.nn.functional.max_pool2d(h, 2)
    return features


def _torch_gram(x):
    features = x.permute(2, 0, 1).reshape(x.shape[2], -1)
    return features @ features.T


def _torch_loss(model, combination, content, style, weights):
    """keras-io's compute_loss, with its image-size normalisation of the style loss."""
    caffe = lambda pixels: torch.tensor(pixels[None, ..., ::-1].copy(), dtype=torch.float64) - \
        torch.tensor([103.939, 116.779, 123.68], dtype=torch.float64)
    base, reference = _torch_features(model, caffe(content)), _torch_features(model, caffe(style))
    mine = _torch_features(model, combination)
    loss = weights["content_weight"] * ((mine["block5_conv2"] - base["block5_conv2"]) ** 2).sum()
    rows, cols = content.shape[:2]
    for name in STYLE_LAYERS:
        s, c = _torch_gram(reference[name][0]), _torch_gram(mine[name][0])
        loss = loss + weights["style_weight"] / 5 * ((s - c) ** 2).sum() / (4.0 * 9 * (rows * cols) ** 2)
    a = (combination[:, :-1, :-1, :] - combination[:, 1:, :-1, :]) ** 2
    b = (combination[:, :-1, :-1, :] - combination[:, :-1, 1:, :]) ** 2
    return loss + weights["total_variation_weight"] * ((a + b) ** 1.25).sum()


def test_first_step_loss_and_gradient_equal_keras_io_in_torch():
    content, style = _images()
    model = small_vgg(seed=3)
    weights = dict(content_weight=1.0, style_weight=1e-4, total_variation_weight=1e-4)  # all three count
    transfer = StyleTransfer(content, style, model=model, **weights)
    list(transfer.run(1, optimizer=ks.optimizers.Adam(learning_rate=5.0), progress=False))  # away from the content
    start = transfer.combination_image.numpy().astype(np.float64)
    list(transfer.run(1, optimizer=ks.optimizers.SGD(learning_rate=1.0), progress=False))

    combination = torch.tensor(start, requires_grad=True)
    expected = _torch_loss(model, combination, content, style, weights)
    expected.backward()
    logs = transfer.history[1]
    assert min(logs["content_loss"], logs["style_loss"], logs["total_variation_loss"]) > 0.05 * logs["loss"], logs
    np.testing.assert_allclose(transfer.history[1]["loss"], expected.item(), rtol=1e-4)
    step = start - transfer.combination_image.numpy()  # SGD with learning rate 1: the gradient itself
    gradient = combination.grad.numpy()
    np.testing.assert_allclose(step, gradient, rtol=1e-3, atol=1e-4 * np.abs(gradient).max())


def test_total_loss_falls_by_half_in_50_steps_and_the_image_stays_a_valid_picture():
    content, style = _images()
    transfer = StyleTransfer(content, style, model=small_vgg(), **WEIGHTS)
    images = list(transfer.run(50, optimizer=ks.optimizers.Adam(learning_rate=5.0), progress=False, every=10))
    losses = [h["loss"] for h in transfer.history]
    assert len(losses) == 50 and len(images) == 5
    assert losses[-1] <= 0.5 * losses[0], losses
    final = images[-1]
    assert final.shape == content.shape and final.dtype == np.uint8
    assert 0 <= final.min() and final.max() <= 255
    assert np.abs(final.astype(float) - content).mean() > 1.0  # the image did change
    np.testing.assert_array_equal(final, transfer.image)


def test_output_keeps_a_batch_of_one_and_the_model_keeps_its_weights():
    content, style = _images()
    model = small_vgg()
    before = [w.numpy().copy() for w in model.weights]
    transfer = StyleTransfer(content[None], style[None], model=model, **WEIGHTS)
    (image,) = list(transfer.run(2, optimizer="adam", progress=False, every=5))
    assert image.shape == (1, SIZE, SIZE, 3)
    for w, value in zip(model.weights, before):
        np.testing.assert_array_equal(w.numpy(), value)
        assert w.requires_grad  # frozen only during each step
    assert transfer.feature_extractor.inputs[0] is model.inputs[0]


def test_callback_gets_every_step_and_run_continues_from_the_current_image():
    content, style = _images()
    transfer = StyleTransfer(content, style, model=small_vgg(), **WEIGHTS)
    seen = []
    for _ in transfer.run(3, optimizer=ks.optimizers.Adam(learning_rate=5.0), progress=False,
                          callback=lambda step, image, logs: seen.append((step, image.shape, sorted(logs)))):
        pass
    assert seen == [(s, (SIZE, SIZE, 3), ["content_loss", "loss", "style_loss", "total_variation_loss"])
                    for s in (1, 2, 3)]
    first = transfer.history[0]
    assert first["content_loss"] == 0.0  # it starts from the content image, as keras-io
    np.testing.assert_allclose(first["loss"], first["style_loss"] + first["total_variation_loss"], rtol=1e-6)
    list(transfer.run(2, optimizer="adam", progress=False))
    assert len(transfer.history) == 5 and transfer.history[3]["content_loss"] > 0


def test_style_of_another_size_is_resized_and_grayscale_works_without_caffe():
    content, _ = _images(channels=1)
    style = np.random.default_rng(1).uniform(0, 255, (20, 44, 1))
    transfer = StyleTransfer(content, style, model=small_vgg((None, None, 1)), preprocess_mode="tf",
                             style_layers=["block1_conv1", "block5_conv2"], **WEIGHTS)
    assert transfer._style_targets["block1_conv1"].shape == (1, SIZE, SIZE, 8)
    (image,) = list(transfer.run(2, optimizer="adam", progress=False, every=2))
    assert image.shape == (SIZE, SIZE, 1)


def test_progress_prints_a_summary_line(capsys):
    content, style = _images(size=16)
    list(StyleTransfer(content, style, model=small_vgg(), **WEIGHTS).run(2, optimizer="adam"))
    assert "loss:" in capsys.readouterr().out


def test_a_diverging_run_stops_with_a_clear_error():
    content, style = _images(size=16)
    transfer = StyleTransfer(content, style, model=small_vgg(), **WEIGHTS)
    with pytest.raises(FloatingPointError, match=r"loss became (inf|nan) at step 2; lower the optimizer's "
                                                 r"learning rate"):
        with np.errstate(all="ignore"):
            list(transfer.run(3, optimizer=ks.optimizers.SGD(learning_rate=1e30), progress=False))


def test_default_model_is_vgg19_and_warns_without_weights():
    content, style = _images(size=32)
    with pytest.warns(UserWarning, match="VGG19 with random weights"):
        transfer = StyleTransfer(content, style)
    assert transfer.model.name == "vgg19" and transfer.content_layer == "block5_conv2"


# ------------------------------------------------------------------ bad input
def _model():
    return small_vgg(filters=2)


def test_content_and_style_channels_must_match():
    content, _ = _images()
    with pytest.raises(ValueError, match=r"same number of channels\. Received: content of shape \(32, 32, 3\), "
                                         r"style of shape \(32, 32, 1\)"):
        StyleTransfer(content, np.zeros((32, 32, 1)), model=_model())


def test_a_model_without_the_style_layers_lists_what_it_has():
    inputs = ks.Input((None, None, 3))
    model = ks.Model(inputs, ks.layers.Conv2D(2, 3, name="conv_a")(inputs), name="tiny")
    content, style = _images()
    with pytest.raises(ValueError, match=r"Model 'tiny' has no layer named 'block5_conv2', 'block1_conv1'.*"
                                         r"Its layers are: input_layer.*, conv_a\."):
        StyleTransfer(content, style, model=model)


def test_model_input_must_fit_the_content():
    content, style = _images()
    with pytest.raises(ValueError, match=r"`model` reads inputs of shape \(None, 64, 64, 3\), which the content "
                                         r"image does not fit\. Received: content of shape \(32, 32, 3\)"):
        StyleTransfer(content, style, model=small_vgg((64, 64, 3), filters=2))


@pytest.mark.parametrize("steps", [0, -1, 2.5, True])
def test_steps_must_be_a_positive_integer(steps):
    transfer = StyleTransfer(*_images(size=16), model=_model())
    with pytest.raises(ValueError, match=rf"`steps` must be an integer >= 1\. Received: steps={steps!r}"):
        transfer.run(steps)


def test_every_and_callback_are_checked_when_run_is_called():
    transfer = StyleTransfer(*_images(size=16), model=_model())
    with pytest.raises(ValueError, match=r"`every` must be an integer >= 1\. Received: every=0"):
        transfer.run(5, every=0)
    with pytest.raises(TypeError, match=r"`callback` must be callable as callback\(step, image, logs\)"):
        transfer.run(5, callback="print")


def test_pixels_must_be_in_0_255():
    content, style = _images()
    with pytest.raises(ValueError, match=r"`style` must hold pixel values in \[0, 255\].*Received: values from "
                                         r"-1 to 254\.887"):
        StyleTransfer(content, np.where(style > 100, style, -1.0), model=_model())


def test_content_must_be_one_image():
    with pytest.raises(ValueError, match=r"`content` must be one image .* Received: content of shape "
                                         r"\(2, 8, 8, 3\)"):
        StyleTransfer(np.zeros((2, 8, 8, 3)), np.zeros((8, 8, 3)), model=_model())
    with pytest.raises(TypeError, match=r"`content` must be an image array of numbers\. Received: dtype=<U"):
        StyleTransfer("photo.png", np.zeros((8, 8, 3)), model=_model())


@pytest.mark.parametrize("name", ["content_weight", "style_weight", "total_variation_weight"])
def test_loss_weights_must_be_finite_and_not_negative(name):
    with pytest.raises(ValueError, match=rf"`{name}` must be a finite number >= 0\. Received: {name}=-1\.0"):
        StyleTransfer(*_images(size=16), model=_model(), **{name: -1.0})


def test_style_layers_must_be_a_non_empty_list_of_names():
    with pytest.raises(TypeError, match=r"`style_layers` must be a list of layer names.*"
                                        r"Received: style_layers='block1_conv1'"):
        StyleTransfer(*_images(size=16), model=_model(), style_layers="block1_conv1")
    with pytest.raises(ValueError, match=r"`style_layers` must name at least one layer"):
        StyleTransfer(*_images(size=16), model=_model(), style_layers=[])
    with pytest.raises(TypeError, match=r"`content_layer` must be a layer name .* Received: content_layer=5"):
        StyleTransfer(*_images(size=16), model=_model(), content_layer=5)


def test_model_must_be_a_model_and_weights_go_with_the_default_only():
    with pytest.raises(TypeError, match=r"`model` must be a ks\.Model .* Received: model of type str"):
        StyleTransfer(*_images(size=16), model="vgg19")
    with pytest.raises(ValueError, match=r"`weights` is the weight file of the default VGG19; .* Received: "
                                         r"model='small_vgg' and weights='w\.h5'"):
        StyleTransfer(*_images(size=16), model=_model(), weights="w.h5")


def test_preprocess_mode_is_checked():
    with pytest.raises(ValueError, match=r"`preprocess_mode` must be one of \['caffe', 'tf', 'torch'\] or None\. "
                                         r"Received: preprocess_mode='bgr'"):
        StyleTransfer(*_images(size=16), model=_model(), preprocess_mode="bgr")


def test_caffe_preprocessing_needs_rgb():
    content, style = _images(channels=1)
    with pytest.raises(ValueError, match=r"preprocess_input\(mode='caffe'\) expects 3 color channels"):
        StyleTransfer(content, style, model=small_vgg((None, None, 1), filters=2))
