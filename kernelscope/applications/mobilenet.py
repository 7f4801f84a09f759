"""MobileNet (Howard et al., 2017): a 3x3 convolution, then 13 depthwise separable blocks.

Each block is a 3x3 DepthwiseConv2D and a 1x1 Conv2D, each followed by
BatchNormalization and ReLU6 (``conv_dw_N``, ``conv_pw_N``). ``alpha`` (width
multiplier) scales every layer's filters; ``depth_multiplier`` (resolution
multiplier in the paper) multiplies the depthwise channels. The classifier is
a 1x1 convolution (``conv_preds``) on the globally pooled features.
Inputs are scaled to [-1, 1] (``"tf"`` mode).

>>> import kernelscope as ks
>>> ks.applications.MobileNet(weights=None).count_params()
4253864
"""

from __future__ import annotations

from .. import layers
from ..models import Model
from . import imagenet_utils as utils
from ._builder import Application, check_alpha, imagenet_size
from ._weights import keras_file

__all__ = ["MobileNet", "preprocess_input", "decode_predictions"]
_SIZES = (128, 160, 192, 224)  # the input sizes Keras has ImageNet weights for


def _conv_block(inputs, filters: int, alpha: float, kernel=(3, 3), strides=(1, 1)):
    """The first layer: Conv2D (no bias) -> BatchNormalization -> ReLU6."""
    x = layers.Conv2D(int(filters * alpha), kernel, padding="same", use_bias=False, strides=strides,
                      name="conv1")(inputs)
    x = layers.BatchNormalization(axis=-1, name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(inputs, pointwise_conv_filters: int, alpha: float, depth_multiplier: int = 1,
                          strides=(1, 1), block_id: int = 1):
    """3x3 depthwise -> BN -> ReLU6 -> 1x1 pointwise -> BN -> ReLU6; a strided block pads bottom/right first."""
    if strides == (1, 1):
        x = inputs
    else:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(inputs)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if strides == (1, 1) else "valid",
                               depth_multiplier=depth_multiplier, strides=strides, use_bias=False,
                               name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)

    x = layers.Conv2D(int(pointwise_conv_filters * alpha), (1, 1), padding="same", use_bias=False,
                      strides=(1, 1), name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def _alpha_text(alpha: float) -> str:
    return {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}.get(alpha, "1_0")


def MobileNet(input_shape=None, alpha: float = 1.0, depth_multiplier: int = 1, dropout: float = 1e-3,
              include_top: bool = True, weights="imagenet", input_tensor=None, pooling=None, classes: int = 1000,
              classifier_activation="softmax", name: str | None = None, *, download: bool = False) -> Model:
    """MobileNet v1; 4,253,864 parameters at alpha=1, 224x224.

    Parameters
    ----------
    input_shape : tuple, optional
        At least 32x32; (224, 224, 3) by default (128, 160 or 192 square also have Keras weights).
    alpha : float
        Width multiplier: each layer has ``int(filters * alpha)`` filters.
    depth_multiplier : int
        Depthwise channels per input channel.
    dropout : float
        Dropout rate before ``conv_preds``.
    include_top, weights, input_tensor, pooling, classes, classifier_activation
        As for the other applications; the ImageNet file is ``mobilenet_1_0_224_tf.h5``
        (``mobilenet_{alpha}_{rows}_tf_no_top.h5`` without the top).
    name : str, optional
        Defaults to ``mobilenet_{alpha:.2f}_{rows}``.
    download : bool
        Fetch a missing ImageNet file with ``ks.utils.get_file``.
    """
    check_alpha(alpha, weights, (0.25, 0.5, 0.75, 1.0))
    if weights == "imagenet" and depth_multiplier != 1:
        raise ValueError("If imagenet weights are being loaded, depth multiplier must be 1.  "
                         f"Received depth_multiplier={depth_multiplier}")
    default_size = imagenet_size(input_shape, include_top, weights, _SIZES)
    fname = f"mobilenet_{_alpha_text(alpha)}_{default_size}_{'tf' if include_top else 'tf_no_top'}.h5"
    app = Application(include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                      download, default_size=default_size, min_size=32, imagenet=keras_file("mobilenet", fname))

    x = _conv_block(app.input, 32, alpha, strides=(2, 2))                                 # 112x112
    x = _depthwise_conv_block(x, 64, alpha, depth_multiplier, block_id=1)
    x = _depthwise_conv_block(x, 128, alpha, depth_multiplier, strides=(2, 2), block_id=2)   # 56x56
    x = _depthwise_conv_block(x, 128, alpha, depth_multiplier, block_id=3)
    x = _depthwise_conv_block(x, 256, alpha, depth_multiplier, strides=(2, 2), block_id=4)   # 28x28
    x = _depthwise_conv_block(x, 256, alpha, depth_multiplier, block_id=5)
    x = _depthwise_conv_block(x, 512, alpha, depth_multiplier, strides=(2, 2), block_id=6)   # 14x14
    for block_id in range(7, 12):
        x = _depthwise_conv_block(x, 512, alpha, depth_multiplier, block_id=block_id)
    x = _depthwise_conv_block(x, 1024, alpha, depth_multiplier, strides=(2, 2), block_id=12)  # 7x7
    x = _depthwise_conv_block(x, 1024, alpha, depth_multiplier, block_id=13)

    if include_top:
        # Classifier: a 1x1 convolution on the pooled 1x1 feature map
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        x = layers.Activation(classifier_activation, name="predictions")(x)
    else:
        x = app.pool(x)
    return app.model(x, name if name is not None else f"mobilenet_{alpha:0.2f}_{app.input_shape[0]}")


preprocess_input = utils.preprocessor("tf", __name__)
decode_predictions = utils.decode_predictions
