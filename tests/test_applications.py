"""ks.applications: parameter counts and layer names against Keras, shapes, argument checks,
preprocess_input / decode_predictions.

Reference numbers: totals are Keras's published table (keras.io/api/applications);
the trainable / non-trainable split is what Keras's ``model.summary()`` prints
(EfficientNetB0 5,288,548 / 42,023 and InceptionV3 23,817,352 / 34,432 were
checked against summaries printed by Keras; the others are derived by hand
from the BatchNormalization layers: each has 2 non-trainable weights per
channel, moving_mean and moving_variance), never from the code under test.
"""

import hashlib
import json
import re
import sys
import types
from importlib import resources

import numpy as np
import pytest

import kernelscope as ks
from kernelscope.layers.base import Layer

A = ks.applications

# name: (builder, total, trainable, non-trainable, names spot-checked against Keras's layer names)
COUNTS = {
    # 61,706 by hand: (25*1+1)*6 + (25*6+1)*16 + 401*120 + 121*84 + 85*10 = 156 + 2416 + 48120 + 10164 + 850
    "LeNet5": (A.LeNet5, 61_706, 61_706, 0, ["conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "predictions"]),
    # no BatchNormalization: everything trainable
    "VGG16": (A.VGG16, 138_357_544, 138_357_544, 0, ["block1_conv1", "block3_conv3", "block5_pool", "fc2"]),
    "VGG19": (A.VGG19, 143_667_240, 143_667_240, 0, ["block3_conv4", "block5_conv4", "flatten", "fc1"]),
    # BN channels: conv1 64; a block of f filters has f + f + 4f, the first of a stage +4f (projection):
    # 64 + (3*384 + 256) + (4*768 + 512) + (6*1536 + 1024) + (3*3072 + 2048) = 26,560 -> 2 * 26,560 = 53,120
    "ResNet50": (A.ResNet50, 25_636_712, 25_583_592, 53_120,
                 ["conv1_pad", "conv1_conv", "conv2_block1_0_conv", "conv2_block1_1_conv", "conv3_block4_out",
                  "conv5_block3_add", "avg_pool"]),
    # conv4 has 23 blocks instead of 6: 53,120 + 2 * 17 * 1536 = 105,344
    "ResNet101": (A.ResNet101, 44_707_176, 44_601_832, 105_344, ["conv4_block23_3_bn", "conv5_block3_out"]),
    # conv3 8 blocks (+4 * 768), conv4 36 (+30 * 1536): 2 * (26,560 + 3,072 + 46,080) = 151,424
    "ResNet152": (A.ResNet152, 60_419_944, 60_268_520, 151_424, ["conv3_block8_out", "conv4_block36_2_relu"]),
    # pre-activation BN on each block input (64|256|512|1024 channels), f + f inside, post_bn 2048:
    # conv2 64+64+64 + 2*(256+128) = 960, conv3 256+256 + 3*(512+256) = 2,816, conv4 512+512 + 5*(1024+512)
    # = 8,704, conv5 1024+1024 + 2*(2048+1024) = 8,192; 2 * (960 + 2,816 + 8,704 + 8,192 + 2,048) = 45,440
    "ResNet50V2": (A.ResNet50V2, 25_613_800, 25_568_360, 45_440,
                   ["conv2_block1_preact_bn", "conv2_block3_2_pad", "conv5_block3_out", "post_bn", "post_relu"]),
    # BatchNormalization(scale=False): 1 trainable (beta) and 2 non-trainable weights per channel
    "InceptionV3": (A.InceptionV3, 23_851_784, 23_817_352, 34_432,
                    ["conv2d", "batch_normalization", "activation", "mixed0", "mixed9_1", "mixed10", "avg_pool"]),
    # BN channels (Chollet 2017, fig. 5; every conv and separable conv is followed by BN):
    # block1 32 + 64 = 96; block2-4: residual 1x1 conv + 2 sepconvs of 128 | 256 | 728 filters:
    # 3*128 + 3*256 + 3*728 = 384 + 768 + 2,184 = 3,336; middle flow blocks 5-12: 8 * 3 * 728 = 17,472;
    # block13 residual 1024 + sepconvs 728, 1024 = 2,776; block14 sepconvs 1536 + 2048 = 3,584;
    # 96 + 3,336 + 17,472 + 2,776 + 3,584 = 27,264 -> 2 * 27,264 = 54,528
    "Xception": (A.Xception, 22_910_480, 22_855_952, 54_528,
                 ["block1_conv1", "block2_sepconv2_act", "block2_pool", "block12_sepconv3_bn", "block14_sepconv2_act"]),
    # BN after conv1 (32) and after each dw/pw conv: 2 * (32 + 32+64 + 64+128 + 2*128+256 + ... ) = 21,888
    "MobileNet": (A.MobileNet, 4_253_864, 4_231_976, 21_888,
                  ["conv1", "conv1_relu", "conv_pad_2", "conv_dw_13_bn", "conv_pw_13_relu", "conv_preds",
                   "reshape_2", "predictions"]),
    # BN channels (Sandler et al. 2018, table 2, alpha 1): Conv1 32; expanded_conv (t=1) depthwise 32 +
    # project 16 = 48; every later block with c_in inputs and c_out outputs: expand 6*c_in + depthwise
    # 6*c_in + project c_out = 12*c_in + c_out. Blocks 1-16 (c_in -> c_out):
    # 16->24: 216, 24->24: 312 | 24->32: 320, 2 x 32->32: 832 | 32->64: 448, 3 x 64->64: 2,496 |
    # 64->96: 864, 2 x 96->96: 2,496 | 96->160: 1,312, 2 x 160->160: 4,160 | 160->320: 2,240; Conv_1 1280.
    # 32 + 48 + 216 + 312 + 320 + 832 + 448 + 2,496 + 864 + 2,496 + 1,312 + 4,160 + 2,240 + 1,280 = 17,056
    # -> 2 * 17,056 = 34,112
    "MobileNetV2": (A.MobileNetV2, 3_538_984, 3_504_872, 34_112,
                    ["Conv1", "bn_Conv1", "expanded_conv_depthwise", "block_1_pad", "block_16_project_BN",
                     "Conv_1", "out_relu"]),
    # BN channels (Huang et al. 2017, DenseNet-BC, growth 32, blocks of 6, 12, 24, 16 layers): conv1 64;
    # a layer on c channels has BN(c) before its 1x1 conv and BN(128) before its 3x3 conv; a block of n
    # layers entering with c0 channels: sum_i (c0 + 32 i) + 128 n = n*c0 + 32*n(n-1)/2 + 128 n;
    # each transition has BN(c) and halves c; a final BN(1024).
    # block2 c0 64: 384 + 480 + 768 = 1,632, transition BN 256 -> 128;
    # block3 c0 128: 1,536 + 2,112 + 1,536 = 5,184, transition BN 512 -> 256;
    # block4 c0 256: 6,144 + 8,832 + 3,072 = 18,048, transition BN 1024 -> 512;
    # block5 c0 512: 8,192 + 3,840 + 2,048 = 14,080, final bn 1024.
    # 64 + 1,632 + 256 + 5,184 + 512 + 18,048 + 1,024 + 14,080 + 1,024 = 41,824 -> 2 * 41,824 = 83,648
    "DenseNet121": (A.DenseNet121, 8_062_504, 7_978_856, 83_648,
                    ["conv1_conv", "pool1", "conv2_block6_concat", "pool3_pool", "conv5_block16_2_conv", "bn",
                     "relu", "avg_pool"]),
    # BN moving statistics 42,016 plus Normalization's mean (3), variance (3) and count (1)
    "EfficientNetB0": (A.EfficientNetB0, 5_330_571, 5_288_548, 42_023,
                       ["rescaling", "normalization", "stem_conv_pad", "block1a_se_excite", "block2b_drop",
                        "block6d_add", "top_activation", "top_dropout"]),
}


@pytest.mark.parametrize("name", list(COUNTS))
def test_parameter_counts_summary_and_names_match_keras(name):
    builder, total, trainable, frozen, names = COUNTS[name]
    ks.layers.clear_session()  # automatic names (conv2d, conv2d_1, ...) count from a fresh session, as in Keras
    model = builder(weights=None)
    assert model.count_params() == total
    lines = []
    model.summary(print_fn=lines.append)
    assert f" Total params: {total:,} (" in lines[-3]
    assert f" Trainable params: {trainable:,} (" in lines[-2]
    assert f" Non-trainable params: {frozen:,} (" in lines[-1]
    layer_names = [layer.name for layer in model.layers]
    assert layer_names[-1] == "predictions"
    assert isinstance(model.layers[0], ks.layers.InputLayer)
    for layer_name in names:
        assert layer_name in layer_names
    assert model.output_shape == (None, 10 if name == "LeNet5" else 1000)


def test_model_names_and_default_input_shapes_match_keras():
    assert A.VGG16(weights=None, include_top=False).name == "vgg16"
    assert A.InceptionV3(weights=None, include_top=False).input_shape == (None, None, None, 3)
    assert A.MobileNet(weights=None, include_top=False, input_shape=(128, 128, 3)).name == "mobilenet_1.00_128"
    assert A.MobileNetV2(weights=None, alpha=0.5, include_top=False, input_shape=(96, 96, 3)).name == \
        "mobilenetv2_0.50_96"
    assert A.LeNet5().input_shape == (None, 32, 32, 1)


# One forward pass per family at the smallest input Keras allows (or 32x32), features only.
SMALL = [
    ("VGG16", (32, 32), (1, 1, 512)), ("ResNet50", (32, 32), (1, 1, 2048)),
    ("ResNet50V2", (32, 32), (1, 1, 2048)), ("InceptionV3", (75, 75), (1, 1, 2048)),
    ("Xception", (71, 71), (3, 3, 2048)), ("MobileNet", (32, 32), (1, 1, 1024)),
    ("MobileNetV2", (32, 32), (1, 1, 1280)), ("DenseNet121", (32, 32), (1, 1, 1024)),
    ("EfficientNetB0", (32, 32), (1, 1, 1280)),
]


@pytest.mark.parametrize("name, size, features", SMALL)
def test_forward_pass_at_small_size_and_pooling(name, size, features, monkeypatch):
    builder = getattr(A, name)
    # Building must be symbolic: no layer may fall back to running `call` on zeros for its shape.
    monkeypatch.setattr(Layer, "compute_output_shape", lambda self, s: pytest.fail(
        f"{type(self).__name__} has no compute_output_shape of its own"))
    model = builder(weights=None, include_top=False, input_shape=size + (3,))
    x = np.random.default_rng(0).uniform(0, 255, (2,) + size + (3,)).astype("float32")
    out = model.predict(x, verbose=0)
    assert out.shape == (2,) + features and out.dtype == np.float32 and np.isfinite(out).all()
    assert builder(weights=None, include_top=False, input_shape=size + (3,), pooling="avg").output_shape == \
        (None, features[-1])
    assert builder(weights=None, include_top=False, pooling="max").output_shape == (None, features[-1])


def test_full_size_mobilenet_v2_and_lenet5_forward():
    x = np.random.default_rng(1).uniform(0, 255, (1, 224, 224, 3)).astype("float32")
    probs = A.MobileNetV2(weights=None).predict(A.mobilenet_v2.preprocess_input(x), verbose=0)
    assert probs.shape == (1, 1000)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    lenet = A.LeNet5()
    assert [layer.output_shape for layer in lenet.layers[1:6]] == [
        (None, 28, 28, 6), (None, 14, 14, 6), (None, 10, 10, 16), (None, 5, 5, 16), (None, 400)]
    out = lenet.predict(np.zeros((3, 32, 32, 1), "float32"), verbose=0)
    assert out.shape == (3, 10)
    assert A.LeNet5(include_top=False, input_shape=(16, 16, 1)).output_shape == (None, 1, 1, 16)


def test_width_multipliers_and_classes():
    mobilenet = A.MobileNet(weights=None, alpha=0.5, depth_multiplier=2, include_top=False, input_shape=(64, 64, 3))
    assert mobilenet.get_layer("conv1").output_shape == (None, 32, 32, 16)        # int(32 * 0.5)
    assert mobilenet.get_layer("conv_dw_1").output_shape == (None, 32, 32, 32)     # 16 * depth_multiplier
    v2 = A.MobileNetV2(weights=None, alpha=0.35, include_top=False, input_shape=(32, 32, 3))
    assert v2.get_layer("Conv1").output_shape[-1] == 16                            # make_divisible(11.2, 8)
    assert v2.get_layer("block_16_project").output_shape[-1] == 112                # make_divisible(int(320 * .35))
    top = A.DenseNet121(weights=None, classes=7, classifier_activation=None)
    assert top.output_shape == (None, 7) and top.get_layer("predictions").count_params() == 1024 * 7 + 7


def test_input_tensor_is_used_and_traced_back_to_its_input():
    inputs = ks.Input(shape=(32, 32, 3))
    model = A.MobileNetV2(weights=None, include_top=False, input_tensor=inputs)
    assert model.inputs[0] is inputs
    scaled = ks.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    model = A.ResNet50V2(weights=None, include_top=False, input_tensor=scaled, pooling="avg")
    assert model.inputs[0] is inputs and model.output_shape == (None, 2048)
    with pytest.raises(TypeError, match="`input_tensor` must be a symbolic tensor from ks.Input"):
        A.VGG16(weights=None, include_top=False, input_tensor=np.zeros((1, 32, 32, 3)))


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("builder, shape, minimum", [
    (A.VGG16, (31, 64, 3), 32), (A.ResNet50, (64, 31, 3), 32), (A.InceptionV3, (74, 74, 3), 75),
    (A.Xception, (70, 70, 3), 71), (A.MobileNetV2, (16, 16, 3), 32), (A.LeNet5, (15, 32, 1), 16),
])
def test_input_too_small(builder, shape, minimum):
    with pytest.raises(ValueError, match=rf"Input size must be at least {minimum}x{minimum}; Received: "
                                         rf"input_shape=\({shape[0]}, {shape[1]}, {shape[2]}\)"):
        builder(weights=None, include_top=False, input_shape=shape)


@pytest.fixture
def weight_file(tmp_path):
    path = tmp_path / "weights.h5"
    path.write_bytes(b"not read by the argument checks")
    return str(path)


def test_input_shape_errors(weight_file):
    with pytest.raises(ValueError, match=r"The input must have 3 channels; Received `input_shape=\(64, 64, 1\)`"):
        A.ResNet50(weights=weight_file, include_top=False, input_shape=(64, 64, 1))
    with pytest.raises(ValueError, match=r"loading pretrained weights, `input_shape` should be \(224, 224, 3\)"):
        A.VGG16(weights=weight_file, input_shape=(128, 128, 3))
    with pytest.raises(ValueError, match=r"If `include_top` is True, you should specify a static `input_shape`"):
        A.DenseNet121(weights=None, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match=r"`input_shape` must be a tuple of three integers \(height, width, "
                                         r"channels\), channels known. Received: input_shape=\(224, 224\)"):
        A.ResNet50(weights=None, input_shape=(224, 224))
    with pytest.warns(UserWarning, match="This model usually expects 1 or 3 input channels. However, it was "
                                         "passed an input_shape with 4 input channels."):
        model = A.MobileNet(weights=None, include_top=False, input_shape=(32, 32, 4))
    assert model.get_layer("conv1").count_params() == 3 * 3 * 4 * 32


def test_argument_errors(weight_file):
    with pytest.raises(ValueError, match=r"The `weights` argument should be either `None` \(random "
                                         r"initialization\), 'imagenet' .* Received: weights='no/such/file.h5'"):
        A.ResNet50(weights="no/such/file.h5")
    with pytest.raises(ValueError, match=r'`pooling` must be None, "avg" or "max". Received: pooling=\'mean\''):
        A.Xception(weights=None, include_top=False, pooling="mean")
    with pytest.raises(ValueError, match=r"`classes` must be a positive integer. Received: classes=0"):
        A.VGG19(weights=None, classes=0)
    with pytest.raises(TypeError, match=r"`include_top` must be True or False. Received: include_top='no'"):
        A.VGG19(weights=None, include_top="no")
    with pytest.raises(ValueError, match=r"Only `None` and `softmax` activations are allowed .* Received: "
                                         r"classifier_activation='sigmoid'"):
        A.EfficientNetB0(weights=weight_file, classifier_activation="sigmoid")
    with pytest.raises(ValueError, match=r"`alpha` must be a positive number. Received: alpha=0"):
        A.MobileNet(weights=None, alpha=0)
    with pytest.raises(ValueError, match=r"`alpha` must be a positive number. Received: alpha=-1.0"):
        A.MobileNetV2(weights=None, alpha=-1.0)
    with pytest.raises(ValueError, match=r"Expected mode to be one of `caffe`, `tf` or `torch`. Received: "
                                         r"mode='keras'"):
        A.imagenet_utils.preprocess_input(np.zeros((1, 2, 2, 3)), mode="keras")
    with pytest.raises(ValueError, match=r"channels-last only: `data_format` must be None or \"channels_last\". "
                                         r"Received: data_format='channels_first'"):
        A.vgg16.preprocess_input(np.zeros((1, 3, 2, 2)), data_format="channels_first")
    with pytest.raises(ValueError, match=r"preprocess_input\(mode='caffe'\) expects 3 color channels on the last "
                                         r"axis. Received: an array of shape \(1, 2, 2, 1\)"):
        A.resnet50.preprocess_input(np.zeros((1, 2, 2, 1)))


@pytest.mark.parametrize("build, keras_file", [
    (lambda: A.VGG16(weights="imagenet"), "vgg16_weights_tf_dim_ordering_tf_kernels.h5"),
    (lambda: A.VGG19(weights="imagenet", include_top=False), "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    (lambda: A.ResNet50(weights="imagenet"), "resnet50_weights_tf_dim_ordering_tf_kernels.h5"),
    (lambda: A.ResNet101(weights="imagenet"), "resnet101_weights_tf_dim_ordering_tf_kernels.h5"),
    (lambda: A.ResNet152(weights="imagenet", include_top=False),
     "resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    (lambda: A.ResNet50V2(weights="imagenet"), "resnet50v2_weights_tf_dim_ordering_tf_kernels.h5"),
    (lambda: A.InceptionV3(weights="imagenet"), "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"),
    (lambda: A.Xception(weights="imagenet"), "xception_weights_tf_dim_ordering_tf_kernels.h5"),
    (lambda: A.MobileNet(weights="imagenet"), "mobilenet_1_0_224_tf.h5"),
    (lambda: A.MobileNet(input_shape=(128, 128, 3), alpha=0.5, weights="imagenet", include_top=False),
     "mobilenet_5_0_128_tf_no_top.h5"),
    (lambda: A.MobileNetV2(weights="imagenet"), "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5"),
    (lambda: A.MobileNetV2(input_shape=(96, 96, 3), weights="imagenet", include_top=False),
     "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5"),
    (lambda: A.DenseNet121(weights="imagenet"), "densenet121_weights_tf_dim_ordering_tf_kernels.h5"),
    (lambda: A.EfficientNetB0(weights="imagenet"), "efficientnetb0.h5"),
    (lambda: A.EfficientNetB0(weights="imagenet", include_top=False), "efficientnetb0_notop.h5"),
])
def test_imagenet_weights_name_the_keras_file_to_download(build, keras_file, tmp_path, monkeypatch):
    monkeypatch.setenv("KERNELSCOPE_HOME", str(tmp_path))  # an empty model cache
    cached = tmp_path / "models" / keras_file
    with pytest.raises(FileNotFoundError, match=rf"The ImageNet weights are not in the kernelscope model cache: put "
                                                rf"Keras's file `{keras_file}` \(from https://storage.googleapis.com/"
                                                rf"\S+/{keras_file}\) at {re.escape(str(cached))} "):
        build()


def test_lenet5_has_no_imagenet_weights():
    with pytest.raises(ValueError, match="There are no ImageNet weights for LeNet5"):
        A.LeNet5(weights="imagenet")


def test_weight_path_is_loaded_with_interop(weight_file, monkeypatch):
    calls = []
    fake = types.ModuleType("kernelscope.interop")
    fake.load_keras_weights = lambda model, path: calls.append((model.name, path))
    monkeypatch.setitem(sys.modules, "kernelscope.interop", fake)
    model = A.EfficientNetB0(weights=weight_file, include_top=False, input_shape=(32, 32, 3))
    assert calls == [("efficientnetb0", weight_file)]
    # With ImageNet weights Keras adds a per-channel Rescaling(1 / sqrt(std)) after Normalization.
    extra = model.layers[3]
    assert isinstance(extra, ks.layers.Rescaling) and model.layers[4].name == "stem_conv_pad"
    np.testing.assert_allclose(extra.scale, [1 / np.sqrt(0.229), 1 / np.sqrt(0.224), 1 / np.sqrt(0.225)])
    x = np.full((1, 2, 2, 3), 0.5, "float32")
    np.testing.assert_allclose(extra(x).numpy()[0, 0, 0], 0.5 / np.sqrt([0.229, 0.224, 0.225]), rtol=1e-6)
    assert A.EfficientNetB0(weights=None, include_top=False).count_params() == \
        model.count_params()


# ------------------------------------------------------------ preprocessing
PIXEL = np.array([[[[255.0, 128.0, 0.0]]]])  # one RGB pixel, batch of 1
CAFFE = [0.0 - 103.939, 128.0 - 116.779, 255.0 - 123.68]                  # BGR minus the mean pixel
TF = [1.0, 128.0 / 127.5 - 1.0, -1.0]
TORCH = [(1.0 - 0.485) / 0.229, (128.0 / 255.0 - 0.456) / 0.224, (0.0 - 0.406) / 0.225]


@pytest.mark.parametrize("module, expected", [
    (A.vgg16, CAFFE), (A.vgg19, CAFFE), (A.resnet, CAFFE), (A.resnet50, CAFFE), (A.resnet_v2, TF),
    (A.inception_v3, TF), (A.xception, TF), (A.mobilenet, TF), (A.mobilenet_v2, TF), (A.densenet, TORCH),
    (A.efficientnet, [255.0, 128.0, 0.0]),
])
def test_preprocess_input_by_hand(module, expected):
    x = PIXEL.copy()
    out = module.preprocess_input(x)
    np.testing.assert_allclose(out[0, 0, 0], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(x, PIXEL)  # the input is left alone
    out8 = module.preprocess_input(PIXEL.astype(np.uint8)[0])  # one 3-D uint8 image
    if module is not A.efficientnet:
        assert out8.dtype == np.float32 and out8.shape == (1, 1, 3)
        np.testing.assert_allclose(out8[0, 0], expected, rtol=1e-6, atol=1e-4)


def test_class_index_is_kerass_file():
    raw = resources.files("kernelscope").joinpath("data/imagenet_class_index.json").read_bytes()
    assert hashlib.md5(raw).hexdigest() == "c2c37ea517e94d9795004a39431a14cb"  # Keras's pinned file_hash
    index = json.loads(raw)
    assert len(index) == 1000 and index["0"] == ["n01440764", "tench"]
    assert index["999"] == ["n15075141", "toilet_tissue"]


def test_decode_predictions():
    preds = np.zeros((2, 1000), "float32")
    preds[0, [0, 281, 999, 5]] = [0.1, 0.3, 0.5, 0.05]
    preds[1, 207] = 0.9
    decoded = A.vgg16.decode_predictions(preds, top=3)
    assert [entry[:2] for entry in decoded[0]] == [("n15075141", "toilet_tissue"), ("n02123045", "tabby"),
                                                   ("n01440764", "tench")]
    np.testing.assert_allclose([entry[2] for entry in decoded[0]], [0.5, 0.3, 0.1])
    assert decoded[1][0] == ("n02099601", "golden_retriever", pytest.approx(0.9))
    assert len(A.efficientnet.decode_predictions(preds)[1]) == 5
    with pytest.raises(ValueError, match=r"`decode_predictions` expects a batch of predictions \(i.e. a 2D array "
                                         r"of shape \(samples, 1000\)\). Received array with shape: \(1000,\)"):
        A.resnet50.decode_predictions(preds[0])
    with pytest.raises(ValueError, match=r"`top` must be a positive integer. Received: top=0"):
        A.densenet.decode_predictions(preds, top=0)


# --------------------------------------- layer changes the applications need
def test_rescaling_per_channel_and_multiply_broadcast():
    layer = ks.layers.Rescaling([1.0, 2.0, 4.0], offset=[0.0, 1.0, 0.0])
    x = np.ones((1, 2, 2, 3), "float32")
    np.testing.assert_array_equal(layer(x).numpy()[0, 0, 0], [1.0, 3.0, 4.0])
    assert ks.layers.Rescaling.from_config(layer.get_config()).scale == [1.0, 2.0, 4.0]
    a, s = ks.Tensor(np.arange(12.0).reshape(1, 2, 2, 3), requires_grad=True), np.array([[[[1.0, 0.5, 2.0]]]])
    out = ks.layers.Multiply()([a, ks.Tensor(s)])
    np.testing.assert_allclose(out.numpy(), np.arange(12.0).reshape(1, 2, 2, 3) * s)
    x1, x2 = ks.Input((4, 4, 3)), ks.Input((1, 1, 3))
    assert ks.layers.Multiply()([x1, x2]).shape == (None, 4, 4, 3)
    with pytest.raises(ValueError, match=r"Inputs have incompatible shapes. Received shapes \(None, 4, 4, 3\) and "
                                         r"\(None, 2, 1, 3\)"):
        ks.layers.Multiply()([x1, ks.Input((2, 1, 3))])
