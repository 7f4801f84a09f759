"""ResNet50, ResNet101 and ResNet152 (He et al., CVPR 2016), as ``keras.applications`` builds them.

A 7x7/2 stem and a 3x3/2 max pooling, then four stages (``conv2`` ... ``conv5``)
of bottleneck blocks (1x1 reduce, 3x3, 1x1 expand to 4x the filters) whose
output is added to a shortcut: a 1x1 projection in each stage's first block,
the identity after. Layer names are Keras's (``conv1_pad``, ``conv1_conv``,
``conv2_block1_1_conv``, ``conv2_block1_0_bn``, ``conv2_block1_add``, ...).
The generic :func:`ResNet` also builds ResNet50V2 (see ``resnet_v2``).

>>> import kernelscope as ks
>>> ks.applications.ResNet50(weights=None).count_params()
25636712
"""

from __future__ import annotations

from .. import layers
from ..models import Model
from . import imagenet_utils as utils

__all__ = ["ResNet50", "ResNet101", "ResNet152", "ResNet", "preprocess_input", "decode_predictions"]

_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/{0}"
_BN_EPSILON = 1.001e-5


def ResNet(stack_fn, preact: bool, use_bias: bool, name: str, weights_name: str, include_top: bool = True,
           weights=None, input_tensor=None, input_shape=None, pooling=None, classes: int = 1000,
           classifier_activation="softmax") -> Model:
    """The ResNet skeleton around ``stack_fn(x) -> x`` (the residual stages).

    ``preact=True`` builds the V2 (pre-activation) layout: no BN/ReLU after the
    stem, a final ``post_bn``/``post_relu`` instead.
    """
    keras_file = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    utils.check_arguments(weights, include_top, classes, pooling, classifier_activation, keras_file,
                          _URL.format(keras_file))
    input_shape = utils.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                           require_flatten=include_top, weights=weights)
    img_input = utils.image_input(input_tensor, input_shape)

    # Stem: 7x7/2 convolution and 3x3/2 max pooling (224x224 -> 56x56)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)

    # Residual stages conv2 ... conv5
    x = stack_fn(x)

    if preact:
        x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name="post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = utils.pool_features(x, pooling, avg_name="avg_pool", max_name="max_pool")

    model = Model(utils.model_inputs(input_tensor, img_input), x, name=name)
    utils.load_weights(model, weights)
    return model


def residual_block_v1(x, filters: int, kernel_size: int = 3, stride: int = 1, conv_shortcut: bool = True,
                      name: str = ""):
    """Bottleneck block: 1x1 (stride) -> 3x3 -> 1x1 (4 * filters), added to the shortcut, then ReLU."""
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(x)
        shortcut = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=name + "_0_bn")(shortcut)
    else:
        shortcut = x

    x = layers.Conv2D(filters, 1, strides=stride, name=name + "_1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)

    x = layers.Conv2D(filters, kernel_size, padding="same", name=name + "_2_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=name + "_2_bn")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(x)

    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=_BN_EPSILON, name=name + "_3_bn")(x)

    x = layers.Add(name=name + "_add")([shortcut, x])
    return layers.Activation("relu", name=name + "_out")(x)


def stack_residual_blocks_v1(x, filters: int, blocks: int, stride1: int = 2, name: str = ""):
    """One stage: a projection block (stride ``stride1``), then ``blocks - 1`` identity blocks."""
    x = residual_block_v1(x, filters, stride=stride1, name=name + "_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def _stages_v1(blocks: tuple):
    def stack_fn(x):
        x = stack_residual_blocks_v1(x, 64, blocks[0], stride1=1, name="conv2")  # 56x56, 256 channels
        x = stack_residual_blocks_v1(x, 128, blocks[1], name="conv3")            # 28x28, 512 channels
        x = stack_residual_blocks_v1(x, 256, blocks[2], name="conv4")            # 14x14, 1024 channels
        return stack_residual_blocks_v1(x, 512, blocks[3], name="conv5")         # 7x7, 2048 channels
    return stack_fn


_DOC_ARGS = """
    Parameters
    ----------
    include_top : bool
        Keep ``avg_pool`` and the ``predictions`` dense layer.
    weights : None or str
        None (random initialization) or the path to the Keras weight file
        ``{0}_weights_tf_dim_ordering_tf_kernels.h5`` (``..._notop.h5`` without the top).
    input_tensor : KerasTensor, optional
    input_shape : tuple, optional
        ``(height, width, channels)``, at least 32x32; (224, 224, 3) with the top.
    pooling : None, "avg" or "max"
    classes : int
    classifier_activation : str, callable or None
    name : str
    """


def ResNet50(include_top: bool = True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes: int = 1000, classifier_activation="softmax", name: str = "resnet50") -> Model:
    return ResNet(_stages_v1((3, 4, 6, 3)), False, True, name, "resnet50", include_top, weights, input_tensor,
                  input_shape, pooling, classes, classifier_activation)


def ResNet101(include_top: bool = True, weights=None, input_tensor=None, input_shape=None, pooling=None,
              classes: int = 1000, classifier_activation="softmax", name: str = "resnet101") -> Model:
    return ResNet(_stages_v1((3, 4, 23, 3)), False, True, name, "resnet101", include_top, weights, input_tensor,
                  input_shape, pooling, classes, classifier_activation)


def ResNet152(include_top: bool = True, weights=None, input_tensor=None, input_shape=None, pooling=None,
              classes: int = 1000, classifier_activation="softmax", name: str = "resnet152") -> Model:
    return ResNet(_stages_v1((3, 8, 36, 3)), False, True, name, "resnet152", include_top, weights, input_tensor,
                  input_shape, pooling, classes, classifier_activation)


ResNet50.__doc__ = "ResNet50: stages of 3, 4, 6, 3 bottleneck blocks; 25,636,712 parameters.\n" + \
    _DOC_ARGS.format("resnet50")
ResNet101.__doc__ = "ResNet101: stages of 3, 4, 23, 3 bottleneck blocks; 44,707,176 parameters.\n" + \
    _DOC_ARGS.format("resnet101")
ResNet152.__doc__ = "ResNet152: stages of 3, 8, 36, 3 bottleneck blocks; 60,419,944 parameters.\n" + \
    _DOC_ARGS.format("resnet152")


def preprocess_input(x, data_format=None):
    """Caffe-style: RGB -> BGR and subtract the ImageNet mean pixel (no scaling)."""
    return utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top: int = 5) -> list:
    """``(wordnet_id, class_name, score)`` of the ``top`` ImageNet classes per sample."""
    return utils.decode_predictions(preds, top=top)
