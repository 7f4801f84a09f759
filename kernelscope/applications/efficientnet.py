"""EfficientNetB0 (Tan & Le, ICML 2019): MBConv blocks with squeeze-and-excitation and swish.

The preprocessing is inside the model, as in Keras: ``Rescaling(1/255)`` and a
``Normalization`` layer whose ``mean``, ``variance`` and ``count`` (7 numbers)
are non-trainable weights, so the model takes pixels in [0, 255] and
``preprocess_input`` is the identity. Seven stages of inverted residual blocks
(``block1a_`` ... ``block7a_``) follow a 3x3/2 stem; a block with an identity
shortcut drops its residual branch with a rate rising linearly to 0.2
(``blockNx_drop``), and ``top_dropout`` (0.2) precedes the classifier.

>>> import kernelscope as ks
>>> ks.applications.EfficientNetB0(weights=None).count_params()
5330571
"""

from __future__ import annotations

import math

from .. import layers
from ..models import Model
from . import imagenet_utils as utils
from ._builder import Application, documented
from ._weights import KerasWeights, keras_hash

__all__ = ["EfficientNetB0", "EfficientNet", "preprocess_input", "decode_predictions"]

_URL = "https://storage.googleapis.com/keras-applications/"  # not Keras's usual bucket
IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)

# (kernel_size, repeats, filters_in, filters_out, expand_ratio, strides) of the seven stages;
# every block has an identity skip where shapes allow and se_ratio 0.25.
DEFAULT_BLOCKS_ARGS = ((3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2), (3, 3, 40, 80, 6, 2),
                       (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2), (3, 1, 192, 320, 6, 1))

CONV_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                           "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"}}
DENSE_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                            "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"}}


def block(inputs, activation: str = "swish", drop_rate: float = 0.0, name: str = "", filters_in: int = 32,
          filters_out: int = 16, kernel_size: int = 3, strides: int = 1, expand_ratio: int = 1,
          se_ratio: float = 0.25, id_skip: bool = True):
    """MBConv: expand 1x1 -> depthwise kxk -> squeeze-and-excite -> project 1x1 [-> drop, add the input]."""
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:  # Expansion phase
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER,
                          name=name + "expand_conv")(x)
        x = layers.BatchNormalization(axis=3, name=name + "expand_bn")(x)
        x = layers.Activation(activation, name=name + "expand_activation")(x)

    # Depthwise convolution
    conv_pad = "same"
    if strides == 2:
        x = layers.ZeroPadding2D(padding=utils.correct_pad(x.shape[1:3], kernel_size), name=name + "dwconv_pad")(x)
        conv_pad = "valid"
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding=conv_pad, use_bias=False,
                               depthwise_initializer=CONV_KERNEL_INITIALIZER, name=name + "dwconv")(x)
    x = layers.BatchNormalization(axis=3, name=name + "bn")(x)
    x = layers.Activation(activation, name=name + "activation")(x)

    if 0 < se_ratio <= 1:  # Squeeze and excitation: channel weights from the pooled features
        filters_se = max(1, int(filters_in * se_ratio))
        se = layers.GlobalAveragePooling2D(name=name + "se_squeeze")(x)
        se = layers.Reshape((1, 1, filters), name=name + "se_reshape")(se)
        se = layers.Conv2D(filters_se, 1, padding="same", activation=activation,
                           kernel_initializer=CONV_KERNEL_INITIALIZER, name=name + "se_reduce")(se)
        se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid",
                           kernel_initializer=CONV_KERNEL_INITIALIZER, name=name + "se_expand")(se)
        x = layers.Multiply(name=name + "se_excite")([x, se])

    # Output phase
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER,
                      name=name + "project_conv")(x)
    x = layers.BatchNormalization(axis=3, name=name + "project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:  # stochastic depth: drop the whole residual branch per sample
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=name + "drop")(x)
        x = layers.Add(name=name + "add")([x, inputs])
    return x


def _round_filters(filters: float, width_coefficient: float, divisor: int = 8) -> int:
    filters *= width_coefficient
    new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    return int(new_filters + divisor if new_filters < 0.9 * filters else new_filters)


def _stem(img_input, pretrained: bool, width_coefficient: float):
    """Rescaling(1/255) and Normalization, then the 3x3/2 stem convolution."""
    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=3)(x)
    if pretrained:
        # Keras's ImageNet file stores the std as the Normalization "variance"; Keras
        # compensates with this extra per-channel rescaling when it loads those weights.
        x = layers.Rescaling([1.0 / math.sqrt(stddev) for stddev in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=utils.correct_pad(x.shape[1:3], 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(_round_filters(32, width_coefficient), 3, strides=2, padding="valid", use_bias=False,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, name="stem_conv")(x)
    x = layers.BatchNormalization(axis=3, name="stem_bn")(x)
    return layers.Activation("swish", name="stem_activation")(x)


def EfficientNet(width_coefficient: float, depth_coefficient: float, default_size: int, dropout_rate: float = 0.2,
                 drop_connect_rate: float = 0.2, model_name: str = "efficientnet", include_top: bool = True,
                 weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes: int = 1000,
                 classifier_activation="softmax", name: str | None = None, download: bool = False) -> Model:
    """An EfficientNet scaled by ``width_coefficient`` (filters) and ``depth_coefficient`` (repeats)."""
    fname = f"{model_name}{'' if include_top else '_notop'}.h5"
    file_hash = keras_hash(fname)  # Keras pins one for every EfficientNet it has weights for
    imagenet = None if file_hash is None else KerasWeights(fname, _URL + fname, file_hash)
    app = Application(include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                      download, default_size=default_size, min_size=32, imagenet=imagenet)
    x = _stem(app.input, app.weights_path is not None, width_coefficient)

    # Blocks: stage i, repeat j is named block{i}{a, b, c, ...}_
    repeats = [int(math.ceil(depth_coefficient * args[1])) for args in DEFAULT_BLOCKS_ARGS]
    total, b = float(sum(repeats)), 0
    for i, ((kernel_size, _, filters_in, filters_out, expand_ratio, strides), n) in enumerate(
            zip(DEFAULT_BLOCKS_ARGS, repeats)):
        filters_in = _round_filters(filters_in, width_coefficient)
        filters_out = _round_filters(filters_out, width_coefficient)
        for j in range(n):
            x = block(x, "swish", drop_connect_rate * b / total, name=f"block{i + 1}{chr(j + 97)}_",
                      filters_in=filters_in if j == 0 else filters_out, filters_out=filters_out,
                      kernel_size=kernel_size, strides=strides if j == 0 else 1, expand_ratio=expand_ratio)
            b += 1

    # Top: 1x1 convolution to 1280 channels
    x = layers.Conv2D(_round_filters(1280, width_coefficient), 1, padding="same", use_bias=False,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, name="top_conv")(x)
    x = layers.BatchNormalization(axis=3, name="top_bn")(x)
    x = layers.Activation("swish", name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = layers.Dense(classes, activation=classifier_activation, kernel_initializer=DENSE_KERNEL_INITIALIZER,
                         name="predictions")(x)
    else:
        x = app.pool(x, avg_name="avg_pool", max_name="max_pool")
    return app.model(x, name or model_name)


@documented("EfficientNetB0: 224x224 input, 16 MBConv blocks; 5,330,571 parameters (42,023 non-trainable). With "
            "a weight file the stem gets Keras's ImageNet per-channel rescaling.", "efficientnetb0.h5",
            "efficientnetb0_notop.h5", "at least 32x32; (224, 224, 3) with the top and ImageNet weights")
def EfficientNetB0(include_top: bool = True, weights="imagenet", input_tensor=None, input_shape=None,
                   pooling=None, classes: int = 1000, classifier_activation="softmax", name: str = "efficientnetb0",
                   *, download: bool = False) -> Model:
    return EfficientNet(1.0, 1.0, 224, 0.2, model_name="efficientnetb0", include_top=include_top, weights=weights,
                        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
                        classifier_activation=classifier_activation, name=name, download=download)


def preprocess_input(x, data_format=None):
    """The identity: EfficientNet rescales and normalizes inside the model (kept for API parity)."""
    return x


decode_predictions = utils.decode_predictions
