"""ResNet50V2, ResNet101V2 and ResNet152V2 (He et al., "Identity Mappings in Deep Residual Networks",
ECCV 2016).

Pre-activation ResNet: each block starts with BatchNormalization and ReLU
(``_preact_bn``, ``_preact_relu``) and ends with a bare addition (``_out``);
a stage downsamples in its *last* block (3x3 conv with stride 2, shortcut a
1x1 max pooling with stride 2). Inputs are scaled to [-1, 1] (``"tf"`` mode).

>>> import kernelscope as ks
>>> ks.applications.ResNet50V2(weights=None).count_params()
25613800
"""

from __future__ import annotations

from .. import layers
from . import imagenet_utils as utils
from .resnet import _BN_EPSILON, variant

__all__ = ["ResNet50V2", "ResNet101V2", "ResNet152V2", "preprocess_input", "decode_predictions"]


def residual_block_v2(x, filters: int, kernel_size: int = 3, stride: int = 1, conv_shortcut: bool = False,
                      name: str = ""):
    """Pre-activation bottleneck: BN-ReLU, then 1x1 -> 3x3 (stride) -> 1x1 (4 * filters), plus the shortcut."""
    preact = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=name + "_preact_bn")(x)
    preact = layers.Activation("relu", name=name + "_preact_relu")(preact)

    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(preact)
    else:
        # Keras leaves this pooling unnamed (max_pooling2d, max_pooling2d_1, ...)
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x

    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=name + "_1_conv")(preact)
    x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)

    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=name + "_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=name + "_2_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=name + "_2_bn")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(x)

    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    return layers.Add(name=name + "_out")([shortcut, x])


def stack_residual_blocks_v2(x, filters: int, blocks: int, stride1: int = 2, name: str = ""):
    """One stage: a projection block, ``blocks - 2`` identity blocks, and a last block of stride ``stride1``."""
    x = residual_block_v2(x, filters, conv_shortcut=True, name=name + "_block1")
    for i in range(2, blocks):
        x = residual_block_v2(x, filters, name=f"{name}_block{i}")
    return residual_block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def _stages_v2(blocks: tuple):
    def stack_fn(x):
        x = stack_residual_blocks_v2(x, 64, blocks[0], name="conv2")                # 56x56 -> 28x28, 256 channels
        x = stack_residual_blocks_v2(x, 128, blocks[1], name="conv3")               # -> 14x14, 512 channels
        x = stack_residual_blocks_v2(x, 256, blocks[2], name="conv4")               # -> 7x7, 1024 channels
        return stack_residual_blocks_v2(x, 512, blocks[3], stride1=1, name="conv5")  # 7x7, 2048 channels
    return stack_fn


ResNet50V2 = variant("ResNet50V2", __name__, _stages_v2, (3, 4, 6, 3), True, 25_613_800)
ResNet101V2 = variant("ResNet101V2", __name__, _stages_v2, (3, 4, 23, 3), True, 44_675_560)
ResNet152V2 = variant("ResNet152V2", __name__, _stages_v2, (3, 8, 36, 3), True, 60_380_648)

preprocess_input = utils.preprocessor("tf", __name__)
decode_predictions = utils.decode_predictions
