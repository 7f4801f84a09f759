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

from functools import partial

from .. import layers
from ..models import Model
from . import imagenet_utils as utils
from ._builder import Application, keras_application
from ._weights import tf_kernels_files

__all__ = ["ResNet50", "ResNet101", "ResNet152", "ResNet", "resnet_body", "preprocess_input", "decode_predictions"]

_BN_EPSILON = 1.001e-5
_KERAS_WEIGHTS = ("resnet50", "resnet101", "resnet152", "resnet50v2", "resnet101v2", "resnet152v2")


def ResNet(stack_fn, preact: bool, use_bias: bool, name: str, weights_name: str, include_top: bool = True,
           weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes: int = 1000,
           classifier_activation="softmax", download: bool = False) -> Model:
    """The ResNet skeleton around ``stack_fn(x) -> x`` (the residual stages).

    ``preact=True`` builds the V2 (pre-activation) layout: no BN/ReLU after the
    stem, a final ``post_bn``/``post_relu`` instead. ``weights="imagenet"`` needs a
    ``weights_name`` Keras has weights for (``resnet50``, ..., ``resnet152v2``).
    """
    imagenet = tf_kernels_files("resnet", weights_name)(include_top) if weights_name in _KERAS_WEIGHTS else None
    app = Application(include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                      download, default_size=224, min_size=32, imagenet=imagenet)
    return resnet_body(stack_fn, preact, use_bias, app, name)


def resnet_body(stack_fn, preact: bool, use_bias: bool, app: Application, name: str) -> Model:
    """The layers of :func:`ResNet` on ``app.input``."""
    # Stem: 7x7/2 convolution and 3x3/2 max pooling (224x224 -> 56x56)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(app.input)
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
    return app.model(app.head(x, avg_name="avg_pool", max_name="max_pool"), name)


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


def variant(public_name: str, module: str, stack_fn, blocks: tuple, preact: bool, params: int):
    """A public ResNet builder (Keras's signature) with ``blocks`` in its stages; V2 when ``preact``."""
    kind = "pre-activation stages" if preact else "stages"
    summary = f"{public_name}: {kind} of {', '.join(map(str, blocks))} bottleneck blocks; {params:,} parameters."
    return keras_application(public_name, module, summary, public_name.lower(),
                             partial(resnet_body, stack_fn(blocks), preact, True),
                             tf_kernels_files("resnet", public_name.lower()))


ResNet50 = variant("ResNet50", __name__, _stages_v1, (3, 4, 6, 3), False, 25_636_712)
ResNet101 = variant("ResNet101", __name__, _stages_v1, (3, 4, 23, 3), False, 44_707_176)
ResNet152 = variant("ResNet152", __name__, _stages_v1, (3, 8, 36, 3), False, 60_419_944)

preprocess_input = utils.preprocessor("caffe", __name__)
decode_predictions = utils.decode_predictions
