"""Layer semantics: values against PyTorch, Keras's documented examples and hand calculation."""

import numpy as np
import pytest
import torch

import kernelscope as ks

L = ks.layers
RNG = np.random.default_rng(0)


def _x(*shape, dtype="float32"):
    return RNG.uniform(-1, 1, shape).astype(dtype)


# ----------------------------------------------------------------- wiring
def test_conv2d_layer_matches_torch_with_keras_kernel_layout():
    layer = L.Conv2D(5, (3, 2), strides=(2, 1), activation="relu")
    x = _x(2, 7, 6, 3)
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    ref = torch.nn.functional.conv2d(torch.tensor(x).permute(0, 3, 1, 2),
                                     torch.tensor(kernel).permute(3, 2, 0, 1), torch.tensor(bias), stride=(2, 1))
    np.testing.assert_allclose(y, torch.relu(ref).permute(0, 2, 3, 1).numpy(), rtol=1e-5, atol=1e-6)


def test_dense_matches_matmul_and_acts_on_last_axis():
    layer = L.Dense(4, activation="sigmoid")
    x = _x(2, 3, 5)
    layer.build(x.shape)
    kernel, bias = layer.get_weights()
    expected = 1 / (1 + np.exp(-(x @ kernel + bias)))
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5)


def test_default_names_follow_keras():
    L.clear_session()
    assert [L.Conv2D(1, 1).name, L.Conv2D(1, 1).name, L.BatchNormalization().name,
            L.MaxPooling2D().name, L.ReLU().name] == ["conv2d", "conv2d_1", "batch_normalization",
                                                     "max_pooling2d", "re_lu"]


def test_slides_convnet_builds_eagerly_and_symbolically():
    def stack():
        return [L.Conv2D(32, 5, activation="relu"), L.MaxPool2D(2, strides=2), L.Conv2D(64, 3, activation="relu"),
                L.MaxPool2D(2, strides=2), L.Flatten(), L.Dense(256, activation="relu"),
                L.Dense(10, activation="softmax")]

    layers, x = stack(), np.zeros((2, 28, 28, 3), "float32")
    for layer in layers:
        x = layer(x)
    assert x.shape == (2, 10)
    np.testing.assert_allclose(x.numpy().sum(axis=1), 1.0, rtol=1e-6)
    # (5*5*3+1)*32, (3*3*32+1)*64, 1600*256+256, 256*10+10
    assert [lay.count_params() for lay in layers] == [2432, 0, 18496, 0, 0, 409856, 2570]
    t = ks.layers.Input(shape=(28, 28, 3))
    for layer in stack():
        t = layer(t)
    assert t.shape == (None, 10)


# -------------------------------------------------------- shape errors
def test_dense_reports_both_sizes_and_layer_name():
    layer = L.Dense(10, name="dense")
    layer(np.zeros((32, 1600), "float32"))
    message = ("Layer 'dense' expects inputs with 1600 features on the last axis, built from input shape "
               r"\(None, 1600\). Received: input of shape \(32, 2304\).")
    with pytest.raises(ValueError, match=message):
        layer(np.zeros((32, 2304), "float32"))


def test_conv_reports_channel_mismatch():
    layer = L.Conv2D(4, 3, name="c1")
    layer(np.zeros((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match=r"Layer 'c1' expects inputs with 3 channels on the last axis.*"
                                         r"Received: input of shape \(1, 5, 5, 4\)"):
        layer(np.zeros((1, 5, 5, 4), "float32"))


# ---------------------------------------------------- batch normalization
def test_batchnorm_defaults_are_keras():
    config = L.BatchNormalization().get_config()
    assert (config["axis"], config["momentum"], config["epsilon"], config["center"], config["scale"]) == \
        (-1, 0.99, 1e-3, True, True)
    layer = L.BatchNormalization()
    layer(_x(2, 3, 3, 4))
    assert [w.name for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]
    np.testing.assert_array_equal(np.stack(layer.get_weights()), [[1] * 4, [0] * 4, [0] * 4, [1] * 4])


def test_batchnorm_training_updates_moving_statistics_by_keras_formula():
    x = _x(4, 3, 3, 2, dtype="float64") * 3 + 2
    layer = L.BatchNormalization(momentum=0.9, epsilon=1e-3, dtype="float64")
    layer.build(x.shape)
    gamma, beta = np.array([1.5, 0.5]), np.array([0.1, -0.2])
    layer.set_weights([gamma, beta, np.array([0.3, -0.1]), np.array([2.0, 0.5])])
    y = layer(x, training=True).numpy()
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))  # Keras's moments: biased variance
    np.testing.assert_allclose(y, gamma * (x - mean) / np.sqrt(var + 1e-3) + beta, rtol=1e-10)
    np.testing.assert_allclose(layer.moving_mean.numpy(), np.array([0.3, -0.1]) * 0.9 + mean * 0.1, rtol=1e-12)
    np.testing.assert_allclose(layer.moving_variance.numpy(), np.array([2.0, 0.5]) * 0.9 + var * 0.1,
                               rtol=1e-12)


def test_batchnorm_inference_uses_moving_statistics_and_frozen_layer_stays_in_inference():
    x = _x(4, 2, 2, 3, dtype="float64")
    layer = L.BatchNormalization(dtype="float64")
    layer.build(x.shape)
    mm, mv = np.array([0.1, 0.2, -0.3]), np.array([0.5, 2.0, 1.5])
    layer.set_weights([np.ones(3), np.zeros(3), mm, mv])
    expected = (x - mm) / np.sqrt(mv + 1e-3)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-12)
    layer.trainable = False
    np.testing.assert_allclose(layer(x, training=True).numpy(), expected, rtol=1e-12)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), mm)


# ---------------------------------------------------------- noise layers
def test_dropout_identity_at_inference_and_inverted_scaling_in_training():
    x = np.ones((200, 50), "float32")
    layer = L.Dropout(0.25, seed=3)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    y = layer(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02


def test_dropout_noise_shape_drops_whole_feature_maps():
    y = L.Dropout(0.5, noise_shape=(None, 1, 1, None), seed=0)(np.ones((8, 3, 3, 4)), training=True).numpy()
    assert np.all(y == y[:, :1, :1, :])


def test_seeded_runs_repeat_after_set_random_seed():
    def run():
        ks.rng.set_random_seed(123)
        return [L.Dropout(0.5)(np.ones((4, 6)), training=True).numpy(),
                L.GaussianNoise(0.5)(np.zeros((4, 6)), training=True).numpy(),
                L.Dense(3)(np.ones((1, 2))).numpy()]

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_gaussian_noise_identity_at_inference_and_std_in_training():
    layer = L.GaussianNoise(0.2, seed=0)
    x = np.zeros((100, 100), "float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)
    noise = layer(x, training=True).numpy()
    assert abs(noise.std() - 0.2) < 0.005 and abs(noise.mean()) < 0.005


# -------------------------------------------------------- activations etc.
def test_activation_layers_by_hand():
    x = np.array([[-2.0, -0.5, 0.03, 0.2, 0.7, 3.0]], "float32")
    relu = L.ReLU(max_value=0.6, negative_slope=0.1, threshold=0.05)(x).numpy()
    np.testing.assert_allclose(relu, [[-0.205, -0.055, -0.002, 0.2, 0.6, 0.6]], rtol=1e-5)
    np.testing.assert_allclose(L.LeakyReLU()(x).numpy(), np.where(x > 0, x, 0.3 * x), rtol=1e-6)
    e = np.exp(x - x.max())
    np.testing.assert_allclose(L.Softmax()(x).numpy(), e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(L.Activation("tanh")(x).numpy(), np.tanh(x), rtol=1e-6)


def test_padding_cropping_rescaling_by_hand():
    x = np.arange(12, dtype="float32").reshape(1, 3, 4, 1)
    padded = L.ZeroPadding2D(((1, 0), (0, 2)))(x).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(padded, np.pad(x[0, :, :, 0], ((1, 0), (0, 2))))
    cropped = L.Cropping2D(((1, 0), (1, 2)))(x).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(cropped, [[5], [9]])
    np.testing.assert_allclose(L.Rescaling(0.5, offset=1.0)(x).numpy(), x * 0.5 + 1.0)


def test_merging_layers_by_hand():
    a, b = _x(2, 3), _x(2, 3)
    np.testing.assert_allclose(L.Add()([a, b, a]).numpy(), 2 * a + b, rtol=1e-6)
    np.testing.assert_allclose(L.Multiply()([a, b]).numpy(), a * b, rtol=1e-6)
    np.testing.assert_array_equal(L.Concatenate(axis=0)([a, b]).numpy(), np.concatenate([a, b]))


# ---------------------------------------------------------- normalization
def test_normalization_keras_docstring_examples():
    layer = L.Normalization(axis=None)
    layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], "float32"))
    np.testing.assert_allclose(layer(np.array([1.0, 2.0, 3.0])).numpy(), [-1.4142135, -0.70710677, 0.0],
                               rtol=1e-6)
    adapt = np.array([[0.0, 7.0, 4.0], [2.0, 9.0, 6.0], [0.0, 7.0, 4.0], [2.0, 9.0, 6.0]], "float32")
    layer = L.Normalization(axis=-1)
    layer.adapt(adapt)
    np.testing.assert_allclose(layer(np.array([[0.0, 7.0, 4.0]])).numpy(), [[-1.0, -1.0, -1.0]], rtol=1e-6)
    fixed = L.Normalization(mean=3.0, variance=2.0)(np.array([[1.0], [2.0], [3.0]], "float32")).numpy()
    np.testing.assert_allclose(fixed, [[-1.4142135], [-0.70710677], [0.0]], rtol=1e-6)
    inverted = L.Normalization(axis=-1, invert=True)
    inverted.adapt(adapt)
    np.testing.assert_allclose(inverted(np.array([[1.0, 2.0, 3.0]])).numpy(), [[2.0, 10.0, 8.0]], rtol=1e-6)


def test_normalization_adapt_on_batches_equals_whole_array():
    data = _x(30, 4, 4, 3, dtype="float64") * 5 + 2
    whole, batched = L.Normalization(dtype="float64"), L.Normalization(dtype="float64")
    whole.adapt(data)
    batched.adapt([data[:7], data[7:20], data[20:]])
    np.testing.assert_allclose(batched.get_weights()[0], data.mean(axis=(0, 1, 2)), rtol=1e-12)
    np.testing.assert_allclose(batched.get_weights()[1], data.var(axis=(0, 1, 2)), rtol=1e-10)
    np.testing.assert_allclose(whole.get_weights()[1], batched.get_weights()[1], rtol=1e-10)
    assert [w.name for w in whole.weights] == ["mean", "variance", "count"]
