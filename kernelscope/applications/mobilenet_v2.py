"""MobileNetV2 (Sandler et al., CVPR 2018): inverted residual blocks with linear bottlenecks.

Each block expands its input with a 1x1 convolution (``block_N_expand``), filters
it with a 3x3 depthwise convolution (``block_N_depthwise``) and projects it back
with a linear 1x1 convolution (``block_N_project``); when shapes allow, the
input is added (``block_N_add``). Block 0 has no expansion and is named
``expanded_conv_``. Inputs are scaled to [-1, 1] (``"tf"`` mode).

>>> import kernelscope as ks
>>> ks.applications.MobileNetV2(weights=None).count_params()
3538984
"""

from __future__ import annotations

from .. import layers
from ..models import Model
from . import imagenet_utils as utils
from ._builder import Application, check_alpha, imagenet_size
from ._weights import keras_file

__all__ = ["MobileNetV2", "preprocess_input", "decode_predictions"]
_SIZES = (96, 128, 160, 192, 224)  # the input sizes Keras has ImageNet weights for
_BN = {"axis": -1, "epsilon": 1e-3, "momentum": 0.999}

# (filters, stride, expansion) of blocks 0 ... 16
_BLOCKS = ((16, 1, 1),
           (24, 2, 6), (24, 1, 6),
           (32, 2, 6), (32, 1, 6), (32, 1, 6),
           (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6),
           (96, 1, 6), (96, 1, 6), (96, 1, 6),
           (160, 2, 6), (160, 1, 6), (160, 1, 6),
           (320, 1, 6))


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """Round ``v`` to a multiple of ``divisor``, never more than 10% down (Keras's rule)."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def _inverted_res_block(inputs, expansion: int, stride: int, alpha: float, filters: int, block_id: int):
    """Expand (1x1, ReLU6) -> depthwise 3x3 (ReLU6) -> project (1x1, linear) [-> add the input]."""
    in_channels = inputs.shape[-1]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False,
                          activation=None, name=prefix + "expand")(x)
        x = layers.BatchNormalization(**_BN, name=prefix + "expand_BN")(x)
        x = layers.ReLU(6.0, name=prefix + "expand_relu")(x)
    else:
        prefix = "expanded_conv_"

    if stride == 2:
        x = layers.ZeroPadding2D(padding=utils.correct_pad(x.shape[1:3], 3), name=prefix + "pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                               padding="same" if stride == 1 else "valid", name=prefix + "depthwise")(x)
    x = layers.BatchNormalization(**_BN, name=prefix + "depthwise_BN")(x)
    x = layers.ReLU(6.0, name=prefix + "depthwise_relu")(x)

    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False, activation=None,
                      name=prefix + "project")(x)
    x = layers.BatchNormalization(**_BN, name=prefix + "project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=prefix + "add")([inputs, x])
    return x


def MobileNetV2(input_shape=None, alpha: float = 1.0, include_top: bool = True, weights="imagenet",
                input_tensor=None, pooling=None, classes: int = 1000, classifier_activation="softmax",
                name: str | None = None, *, download: bool = False) -> Model:
    """MobileNetV2; 3,538,984 parameters at alpha=1, 224x224.

    Parameters
    ----------
    input_shape : tuple, optional
        At least 32x32; (224, 224, 3) by default (96, 128, 160 or 192 square also have Keras weights).
    alpha : float
        Width multiplier (filters rounded to multiples of 8); the last 1x1 convolution
        keeps 1280 filters unless alpha > 1.
    include_top, weights, input_tensor, pooling, classes, classifier_activation
        As for the other applications; the ImageNet file is
        ``mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5`` (``..._no_top.h5`` without the top).
    name : str, optional
        Defaults to ``mobilenetv2_{alpha:.2f}_{rows}``.
    download : bool
        Fetch a missing ImageNet file with ``ks.utils.get_file``.
    """
    check_alpha(alpha, weights, (0.35, 0.5, 0.75, 1.0, 1.3, 1.4))
    if input_shape is None and input_tensor is not None:
        input_shape = tuple(input_tensor.shape[1:])
    default_size = imagenet_size(input_shape, include_top, weights, _SIZES)
    fname = (f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{default_size}"
             f"{'' if include_top else '_no_top'}.h5")
    app = Application(include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                      download, default_size=default_size, min_size=32, imagenet=keras_file("mobilenet_v2", fname))

    # Stem: 3x3/2 convolution, 224x224 -> 112x112
    x = layers.Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same",
                      use_bias=False, name="Conv1")(app.input)
    x = layers.BatchNormalization(**_BN, name="bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)

    # 17 inverted residual blocks: 112x112x16 -> 7x7x320
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, filters=filters, alpha=alpha, stride=stride, expansion=expansion,
                                block_id=block_id)

    # Last 1x1 convolution: no width multiplier below 1, as in the paper
    last_block_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(**_BN, name="Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    x = app.head(x, top_pool=None)
    return app.model(x, name if name is not None else f"mobilenetv2_{alpha:0.2f}_{app.input_shape[0]}")


preprocess_input = utils.preprocessor("tf", __name__)
decode_predictions = utils.decode_predictions
