"""Xception (Chollet, CVPR 2017): Inception modules taken to the limit, depthwise separable
convolutions with residual connections.

Entry flow (blocks 1-4, down to 19x19x728), middle flow (blocks 5-12, eight
times three separable convolutions around an identity shortcut) and exit flow
(blocks 13-14). The 1x1 projection shortcuts and the additions are unnamed in
Keras (``conv2d``, ``batch_normalization``, ``add``, ... numbered in build order).
Inputs are scaled to [-1, 1] (``"tf"`` mode).

>>> import kernelscope as ks
>>> model = ks.applications.Xception(weights=None)
>>> model.count_params(), model.get_layer("block14_sepconv2_act").output_shape
(22910480, (None, 10, 10, 2048))
"""

from __future__ import annotations

from .. import layers
from ..models import Model
from . import imagenet_utils as utils
from ._builder import Application, keras_application
from ._weights import tf_kernels_files

__all__ = ["Xception", "preprocess_input", "decode_predictions"]

_SUMMARY = "Xception: 299x299 input, 36 convolutions in 14 blocks; 22,910,480 parameters."


def _sepconv_bn(x, filters: int, name: str, relu_first: bool = True):
    """(ReLU) -> SeparableConv2D 3x3 (no bias) -> BatchNormalization; Keras's ``blockN_sepconvM`` trio."""
    act_name = name + "_act"
    if relu_first:
        x = layers.Activation("relu", name=act_name)(x)
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=-1, name=name + "_bn")(x)


def _projection(x, filters: int):
    residual = layers.Conv2D(filters, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    return layers.BatchNormalization(axis=-1)(residual)


def _entry_block(x, block: int, filters: int, first_relu: bool = True):
    """Two separable convolutions and a 3x3/2 max pooling, added to a strided 1x1 projection."""
    residual = _projection(x, filters)
    # block 2 follows block1_conv2_act, so it starts straight with the convolution
    x = _sepconv_bn(x, filters, f"block{block}_sepconv1", relu_first=first_relu)
    x = _sepconv_bn(x, filters, f"block{block}_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
    return layers.Add()([x, residual])


def _middle_block(x, block: int):
    """Three ReLU-SeparableConv-BN, added to the identity."""
    residual = x
    for i in (1, 2, 3):
        x = _sepconv_bn(x, 728, f"block{block}_sepconv{i}")
    return layers.Add()([x, residual])


def _exit_flow(x):
    """Block 13 (a projected entry-style block, 728 -> 1024) and block 14 (separable convolutions, ReLU after BN)."""
    # Block 13: -> 10x10x1024
    residual = _projection(x, 1024)
    x = _sepconv_bn(x, 728, "block13_sepconv1")
    x = _sepconv_bn(x, 1024, "block13_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name="block13_pool")(x)
    x = layers.Add()([x, residual])

    # Block 14: separable convolutions, ReLU after BN -> 10x10x2048
    x = layers.SeparableConv2D(1536, (3, 3), padding="same", use_bias=False, name="block14_sepconv1")(x)
    x = layers.BatchNormalization(axis=-1, name="block14_sepconv1_bn")(x)
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = layers.SeparableConv2D(2048, (3, 3), padding="same", use_bias=False, name="block14_sepconv2")(x)
    x = layers.BatchNormalization(axis=-1, name="block14_sepconv2_bn")(x)
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)
    return x


def _xception(app: Application, name: str) -> Model:
    # Block 1: two plain convolutions, 299x299x3 -> 147x147x64
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(app.input)
    x = layers.BatchNormalization(axis=-1, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=-1, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)

    # Blocks 2-4 (entry flow): -> 74x74x128, 37x37x256, 19x19x728
    x = _entry_block(x, 2, 128, first_relu=False)
    x = _entry_block(x, 3, 256)
    x = _entry_block(x, 4, 728)

    # Blocks 5-12 (middle flow): 19x19x728
    for block in range(5, 13):
        x = _middle_block(x, block)

    # Blocks 13-14 (exit flow): -> 10x10x2048
    x = _exit_flow(x)
    return app.model(app.head(x), name)


Xception = keras_application("Xception", __name__, _SUMMARY, "xception", _xception,
                             tf_kernels_files("xception", "xception"), default_size=299, min_size=71)

preprocess_input = utils.preprocessor("tf", __name__)
decode_predictions = utils.decode_predictions
