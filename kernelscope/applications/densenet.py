"""DenseNet121 (Huang et al., CVPR 2017): every layer sees all earlier feature maps.

Four dense blocks (6, 12, 24, 16 layers) each append ``growth_rate=32`` channels
per layer (BN-ReLU-1x1 conv to 128, BN-ReLU-3x3 conv to 32, concatenate);
transition blocks halve both the channels (1x1 conv) and the resolution (2x2
average pooling). Inputs are scaled to [0, 1] and standardized per channel
(``"torch"`` mode).

>>> import kernelscope as ks
>>> ks.applications.DenseNet121(weights=None).count_params()
8062504
"""

from __future__ import annotations

from .. import layers
from ..models import Model
from . import imagenet_utils as utils

__all__ = ["DenseNet121", "DenseNet", "preprocess_input", "decode_predictions"]

_URL = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/{0}"
_BN_EPSILON = 1.001e-5
_NAMES = {(6, 12, 24, 16): "densenet121", (6, 12, 32, 32): "densenet169", (6, 12, 48, 32): "densenet201"}


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


def DenseNet(blocks, include_top: bool = True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes: int = 1000, classifier_activation="softmax", name: str | None = None) -> Model:
    """A DenseNet with ``blocks`` layers in its four dense blocks."""
    blocks = tuple(blocks)
    weights_name = _NAMES.get(blocks, "densenet")
    name = name or weights_name
    keras_file = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    utils.check_arguments(weights, include_top, classes, pooling, classifier_activation, keras_file,
                          _URL.format(keras_file))
    input_shape = utils.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                           require_flatten=include_top, weights=weights)
    img_input = utils.image_input(input_tensor, input_shape)

    # Stem: 7x7/2 convolution and 3x3/2 max pooling, 224x224 -> 56x56x64 (the paddings are unnamed in Keras)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
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

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = utils.pool_features(x, pooling, avg_name="avg_pool", max_name="max_pool")

    model = Model(utils.model_inputs(input_tensor, img_input), x, name=name)
    utils.load_weights(model, weights)
    return model


def DenseNet121(include_top: bool = True, weights=None, input_tensor=None, input_shape=None, pooling=None,
                classes: int = 1000, classifier_activation="softmax", name: str = "densenet121") -> Model:
    """DenseNet121: dense blocks of 6, 12, 24, 16 layers; 8,062,504 parameters.

    Parameters
    ----------
    include_top : bool
    weights : None or str
        None or the path to ``densenet121_weights_tf_dim_ordering_tf_kernels.h5``
        (``..._notop.h5`` without the top).
    input_tensor : KerasTensor, optional
    input_shape : tuple, optional
        At least 32x32; (224, 224, 3) with the top.
    pooling : None, "avg" or "max"
    classes : int
    classifier_activation : str, callable or None
    name : str
    """
    return DenseNet((6, 12, 24, 16), include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name)


def preprocess_input(x, data_format=None):
    """Scale pixels to [0, 1], then standardize with the ImageNet mean and std (``"torch"`` mode)."""
    return utils.preprocess_input(x, data_format=data_format, mode="torch")


def decode_predictions(preds, top: int = 5) -> list:
    """``(wordnet_id, class_name, score)`` of the ``top`` ImageNet classes per sample."""
    return utils.decode_predictions(preds, top=top)
