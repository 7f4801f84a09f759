"""Layer harness: every layer builds on first call, matches compute_output_shape and
Keras's parameter counts (written by hand from Keras's formulas), round-trips its
config, moves weights with ``trainable``, and passes a float64 gradient check."""

import numpy as np
import pytest

import kernelscope as ks
from kernelscope.autograd import Tensor, numerical_grad

L = ks.layers

# (id, factory, input shape without batch, expected output shape without batch,
#  total params, trainable params) -- counts from Keras's formulas, by hand.
CASES = [
    ("conv2d", lambda: L.Conv2D(6, 3), (7, 7, 4), (5, 5, 6), (3 * 3 * 4 + 1) * 6, (3 * 3 * 4 + 1) * 6),
    ("conv2d_same_s2", lambda: L.Conv2D(3, 3, strides=2, padding="same", activation="relu"), (7, 6, 2),
     (4, 3, 3), (9 * 2 + 1) * 3, (9 * 2 + 1) * 3),
    ("conv2d_pad1_dil2", lambda: L.Conv2D(2, 3, padding=1, dilation_rate=2, use_bias=False), (7, 7, 2),
     (5, 5, 2), 9 * 2 * 2, 9 * 2 * 2),
    ("conv2d_groups", lambda: L.Conv2D(4, (3, 2), groups=2), (5, 5, 4), (3, 4, 4), 3 * 2 * 2 * 4 + 4,
     3 * 2 * 2 * 4 + 4),
    ("depthwise", lambda: L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), (5, 5, 3), (5, 5, 6),
     9 * 3 * 2 + 6, 9 * 3 * 2 + 6),
    ("separable", lambda: L.SeparableConv2D(4, 3), (6, 6, 3), (4, 4, 4), 9 * 3 + 3 * 4 + 4, 9 * 3 + 3 * 4 + 4),
    ("conv_transpose", lambda: L.Conv2DTranspose(2, 3, strides=2), (3, 4, 3), (7, 9, 2), 9 * 2 * 3 + 2,
     9 * 2 * 3 + 2),
    ("conv_transpose_same", lambda: L.Conv2DTranspose(2, 3, strides=2, padding="same"), (3, 4, 3), (6, 8, 2),
     9 * 2 * 3 + 2, 9 * 2 * 3 + 2),
    ("conv_transpose_outpad", lambda: L.Conv2DTranspose(2, 3, strides=2, output_padding=1), (3, 3, 1),
     (8, 8, 2), 9 * 2 + 2, 9 * 2 + 2),
    ("maxpool", lambda: L.MaxPooling2D(), (6, 5, 2), (3, 2, 2), 0, 0),
    ("maxpool_alias_same", lambda: L.MaxPool2D(3, strides=2, padding="same"), (5, 5, 2), (3, 3, 2), 0, 0),
    ("avgpool", lambda: L.AveragePooling2D(2, strides=1), (4, 4, 2), (3, 3, 2), 0, 0),
    ("avgpool_alias_same", lambda: L.AvgPool2D(3, 2, "same"), (5, 4, 2), (3, 2, 2), 0, 0),
    ("gap", lambda: L.GlobalAveragePooling2D(), (4, 3, 5), (5,), 0, 0),
    ("gmp_keepdims", lambda: L.GlobalMaxPooling2D(keepdims=True), (4, 3, 5), (1, 1, 5), 0, 0),
    ("dense", lambda: L.Dense(5, activation="tanh"), (7,), (5,), 7 * 5 + 5, 7 * 5 + 5),
    ("dense_nd", lambda: L.Dense(3), (4, 6), (4, 3), 6 * 3 + 3, 6 * 3 + 3),
    ("flatten", lambda: L.Flatten(), (3, 4, 5), (60,), 0, 0),
    ("reshape", lambda: L.Reshape((-1, 5)), (3, 4, 5), (12, 5), 0, 0),
    ("dropout", lambda: L.Dropout(0.3), (4, 4, 2), (4, 4, 2), 0, 0),
    ("batchnorm", lambda: L.BatchNormalization(), (3, 3, 4), (3, 3, 4), 4 * 4, 2 * 4),
    ("batchnorm_axis1_noscale", lambda: L.BatchNormalization(axis=1, scale=False), (3, 4), (3, 4), 3 * 3, 3),
    ("activation", lambda: L.Activation("sigmoid"), (3, 4), (3, 4), 0, 0),
    ("relu", lambda: L.ReLU(max_value=0.5, negative_slope=0.1, threshold=0.05), (3, 4), (3, 4), 0, 0),
    ("leaky_relu", lambda: L.LeakyReLU(), (3, 4), (3, 4), 0, 0),
    ("softmax", lambda: L.Softmax(), (3, 4), (3, 4), 0, 0),
    ("zero_padding", lambda: L.ZeroPadding2D(((1, 2), (0, 3))), (3, 3, 2), (6, 6, 2), 0, 0),
    ("cropping", lambda: L.Cropping2D(((1, 0), (2, 1))), (5, 6, 2), (4, 3, 2), 0, 0),
    ("upsampling", lambda: L.UpSampling2D((2, 3)), (2, 3, 2), (4, 9, 2), 0, 0),
    ("upsampling_bilinear", lambda: L.UpSampling2D(interpolation="bilinear"), (2, 3, 2), (4, 6, 2), 0, 0),
    ("rescaling", lambda: L.Rescaling(1 / 255.0, offset=-1.0), (3, 3, 1), (3, 3, 1), 0, 0),
    ("normalization", lambda: L.Normalization(), (3, 3, 4), (3, 3, 4), 2 * 4 + 1, 0),
    ("gaussian_noise", lambda: L.GaussianNoise(0.1, seed=1), (3, 3, 1), (3, 3, 1), 0, 0),
    ("random_flip", lambda: L.RandomFlip(seed=1), (4, 5, 3), (4, 5, 3), 0, 0),
    ("random_rotation", lambda: L.RandomRotation(0.1, seed=1), (4, 5, 3), (4, 5, 3), 0, 0),
    ("random_zoom", lambda: L.RandomZoom(0.2, seed=1), (4, 5, 3), (4, 5, 3), 0, 0),
    ("random_translation", lambda: L.RandomTranslation(0.2, 0.1, seed=1), (4, 5, 3), (4, 5, 3), 0, 0),
    ("random_crop", lambda: L.RandomCrop(3, 2, seed=1), (6, 5, 3), (3, 2, 3), 0, 0),
    ("random_contrast", lambda: L.RandomContrast(0.3, seed=1), (4, 5, 3), (4, 5, 3), 0, 0),
]
IDS = [c[0] for c in CASES]


def _input(shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (2,) + shape).astype(dtype)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_builds_on_first_call_with_keras_shapes_and_counts(case):
    _, factory, in_shape, out_shape, total, trainable = case
    layer = factory()
    assert not layer.built
    out = layer(_input(in_shape))
    assert layer.built
    assert out.shape == (2,) + out_shape
    assert layer.compute_output_shape((None,) + in_shape) == (None,) + out_shape
    assert out.dtype == np.float32
    assert layer.count_params() == total
    assert sum(w.data.size for w in layer.trainable_weights) == trainable


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_config_round_trip_gives_same_config_and_outputs(case):
    _, factory, in_shape, _, _, _ = case
    layer = factory()
    x = _input(in_shape)
    if isinstance(layer, L.Normalization):
        layer.adapt(_input(in_shape, seed=5) * 3 + 1)
    expected = layer(x).numpy()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    first = clone(x).numpy()
    if not layer.weights:  # seeded augmentation (on by default, as in Keras 3): the first calls agree
        np.testing.assert_array_equal(first, expected)
        return
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), expected)


@pytest.mark.parametrize("case", [c for c in CASES if c[5] > 0], ids=[c[0] for c in CASES if c[5] > 0])
def test_trainable_flag_moves_weights(case):
    layer = case[1]()
    layer(_input(case[2]))
    n_trainable = len(layer.trainable_weights)
    layer.trainable = False
    assert layer.trainable_weights == []
    assert len(layer.non_trainable_weights) == len(layer.weights)
    assert not any(w.requires_grad for w in layer.weights)
    layer.trainable = True
    assert len(layer.trainable_weights) == n_trainable


def _layer_gradcheck(layer, x, training=False, atol=1e-6, rtol=1e-6):
    """Autograd gradients of a float64 layer (input and every trainable weight) vs central differences."""
    out = layer(x, training=training)
    seed = np.random.default_rng(1).standard_normal(out.shape)
    for w in layer.weights:
        w.grad = None
    xt = Tensor(x, requires_grad=True)
    layer(xt, training=training).backward(seed)

    def forward(x_tensor, *_):
        return layer(x_tensor, training=training)

    arrays = [x] + [w.data for w in layer.trainable_weights]
    grads = [xt.grad] + [w.grad for w in layer.trainable_weights]
    for i, actual in enumerate(grads):
        expected = numerical_grad(forward, arrays, i, 1e-6, seed)
        np.testing.assert_allclose(actual, expected, atol=atol, rtol=rtol, err_msg=f"gradient {i}")


GRAD_CASES = [c for c in CASES if not c[0].startswith("random") and c[0] not in ("upsampling_bilinear",)]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_float64_gradcheck(case):
    _, factory, in_shape, _, _, _ = case
    ks.layers.clear_session()
    layer = type(factory()).from_config({**factory().get_config(), "dtype": "float64"})
    x = _input(in_shape, "float64", seed=3)
    if isinstance(layer, L.Normalization):
        layer.adapt(x * 2 + 1)
    if isinstance(layer, (L.ReLU, L.LeakyReLU, L.MaxPooling2D, L.GlobalMaxPooling2D)):
        x = x + np.sign(x) * 0.02  # keep central differences away from kinks
    layer(x)
    for w in layer.trainable_weights:  # non-trivial biases / BN shifts
        w.assign(np.random.default_rng(7).uniform(-0.5, 0.5, w.shape))
    assert layer(x).dtype == np.float64
    _layer_gradcheck(layer, x)
    if isinstance(layer, L.BatchNormalization):
        _layer_gradcheck(layer, x, training=True, atol=1e-5, rtol=1e-5)


def test_upsampling_bilinear_gradcheck():
    layer = L.UpSampling2D(interpolation="bilinear", dtype="float64")
    _layer_gradcheck(layer, _input((2, 3, 2), "float64"))
