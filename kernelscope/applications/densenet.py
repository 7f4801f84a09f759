"""DenseNet121, DenseNet169 and DenseNet201 (Huang et al., CVPR 2017): every layer sees all earlier
feature maps.

Four dense blocks (6, 12, 24, 16 layers in DenseNet121; 6, 12, 32, 32 in DenseNet169; 6, 12, 48, 32
in DenseNet201) each append ``growth_rate=32`` channels
per layer (BN-ReLU-1x1 conv to 128, BN-ReLU-3x3 conv to 32, concatenate);
transition blocks halve both the channels (1x1 conv) and the resolution (2x2
average pooling). Inputs are scaled to [0, 1] and standardized per channel
(``"torch"`` mode).

>>> import kernelscope as ks
>>> ks.applications.DenseNet121(weights=None).count_params()
8062504
"""

from __future__ import annotations

from functools import partial

from .. import layers
from ..models import Model
from . import imagenet_utils as utils
from ._builder import Application, keras_application
from ._weights import tf_kernels_files

__all__ = ["DenseNet121", "DenseNet169", "DenseNet201", "DenseNet", "densenet_body", "preprocess_input",
           "decode_predictions"]

_BN_EPSILON = 1.001e-5
_KERAS_NAMES = {(6, 12, 24, 16): "densenet121", (6, 12, 32, 32): "densenet169", (6, 12, 48, 32): "densenet201"}


def conv_block(x, growth_rate: int, name: str):
    """One dense layer: BN-ReLU-Conv1x1(4k) -> BN-ReLU-Conv3x3(k), concatenated to its input."""
    x1 = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=name + "_0_bn")(x)
    x1 = layers.Activation("relu", name=name + "_0_relu")(x1)
    x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=name + "_1_conv")(x1)
    x1 = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=name + "_1_bn")(x1)
    x1 = layers.Activation("relu", name=name + "_1_relu")(x1)
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=name + "_2_conv")(x1)
    return layers.Concatenate(axis=3, name=name + "_concat")([x, x1])


def dense_block(x, blocks: int, name: str):
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction: float, name: str):
    """BN-ReLU, a 1x1 convolution keeping ``reduction`` of the channels, and 2x2 average pooling."""
    x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=name + "_bn")(x)
    x = layers.Activation("relu", name=name + "_relu")(x)
    x = layers.Conv2D(int(x.shape[3] * reduction), 1, use_bias=False, name=name + "_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=name + "_pool")(x)


def DenseNet(blocks, include_top: bool = True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes: int = 1000, classifier_activation="softmax", name: str = "densenet",
             download: bool = False) -> Model:
    """A DenseNet with ``blocks`` layers in its four dense blocks (ImageNet weights for 121, 169 and 201)."""
    blocks = tuple(blocks)
    imagenet = tf_kernels_files("densenet", _KERAS_NAMES[blocks])(include_top) if blocks in _KERAS_NAMES else None
    app = Application(include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                      download, default_size=224, min_size=32, imagenet=imagenet)
    return densenet_body(blocks, app, name)


def densenet_body(blocks: tuple, app: Application, name: str) -> Model:
    """The layers of :func:`DenseNet` on ``app.input``."""
    # Stem: 7x7/2 convolution and 3x3/2 max pooling, 224x224 -> 56x56x64 (the paddings are unnamed in Keras)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(app.input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)

    # Dense blocks and transitions: 56x56 -> 28x28 -> 14x14 -> 7x7
    x = dense_block(x, blocks[0], name="conv2")
    x = transition_block(x, 0.5, name="pool2")
    x = dense_block(x, blocks[1], name="conv3")
    x = transition_block(x, 0.5, name="pool3")
    x = dense_block(x, blocks[2], name="conv4")
    x = transition_block(x, 0.5, name="pool4")
    x = dense_block(x, blocks[3], name="conv5")

    x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    return app.model(app.head(x, avg_name="avg_pool", max_name="max_pool"), name)


def _variant(public_name: str, blocks: tuple, summary: str):
    return keras_application(public_name, __name__, summary, _KERAS_NAMES[blocks], partial(densenet_body, blocks),
                             tf_kernels_files("densenet", _KERAS_NAMES[blocks]))


DenseNet121 = _variant("DenseNet121", (6, 12, 24, 16),
                       "DenseNet121: dense blocks of 6, 12, 24, 16 layers; 8,062,504 parameters.")
DenseNet169 = _variant("DenseNet169", (6, 12, 32, 32),
                       "DenseNet169: dense blocks of 6, 12, 32, 32 layers; 14,307,880 parameters.")
DenseNet201 = _variant("DenseNet201", (6, 12, 48, 32),
                       "DenseNet201: dense blocks of 6, 12, 48, 32 layers; 20,242,984 parameters.")

preprocess_input = utils.preprocessor("torch", __name__)
decode_predictions = utils.decode_predictions
