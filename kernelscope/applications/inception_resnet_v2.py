"""InceptionResNetV2 (Szegedy et al., "Inception-v4, Inception-ResNet and the Impact of Residual
Connections on Learning", AAAI 2017), as ``keras.applications`` builds it.

Inception modules whose concatenated branches are projected back by a 1x1
convolution (``blockN_i_conv``, with a bias and no BatchNormalization) and added
to the block's input after scaling (``CustomScaleLayer``: ``x + scale * r``, the
paper's residual scaling that keeps very deep training stable). Every other
convolution is ``conv2d_bn``: a bias-free Conv2D, BatchNormalization without
scale and a ReLU; Keras names them in build order (``conv2d``, ``conv2d_1``,
...), and the blocks ``mixed_5b``, ``block35_1`` ... ``block8_10``, ``conv_7b``.
Inputs are scaled to [-1, 1] (``"tf"`` mode).

>>> import kernelscope as ks
>>> ks.applications.InceptionResNetV2(weights=None, include_top=False, input_shape=(75, 75, 3)).output_shape
(None, 1, 1, 1536)
"""

from __future__ import annotations

from .. import layers
from ..export.graph import Value, register
from ..layers.base import Layer
from ..models import Model
from . import imagenet_utils as utils
from ._builder import Application, keras_application
from ._weights import tf_kernels_files

__all__ = ["InceptionResNetV2", "CustomScaleLayer", "preprocess_input", "decode_predictions"]


class CustomScaleLayer(Layer):
    """``inputs[0] + inputs[1] * scale``: a block's input plus its scaled residual (Keras's layer of this name)."""

    def __init__(self, scale: float, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(f"`CustomScaleLayer` ('{self.name}') takes a list of 2 inputs (the shortcut and the "
                             f"residual). Received: input_shape={input_shape!r}.")
        if tuple(input_shape[0]) != tuple(input_shape[1]):
            raise ValueError(f"`CustomScaleLayer` ('{self.name}') adds two tensors of the same shape. Received "
                             f"shapes {tuple(input_shape[0])} and {tuple(input_shape[1])}.")
        return tuple(input_shape[0])

    def call(self, inputs):
        self.compute_output_shape([tuple(t.shape) for t in inputs])
        return inputs[0] + inputs[1] * self.scale

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale}


@register(CustomScaleLayer)
def _custom_scale_to_onnx(g, layer, inputs, in_shapes, out_shapes):
    """ONNX export: ``Add(x, Mul(r, scale))`` in ``x``'s layout."""
    x, residual = inputs[0], g.layout(inputs[1], inputs[0].layout)
    scaled = g.op("Mul", [residual.name, g.const(layer.scale, f"{layer.name}/scale")], f"{layer.name}/mul")
    return Value(g.op("Add", [x.name, scaled], layer.name), x.rank, x.layout)


def conv2d_bn(x, filters: int, kernel_size, strides=1, padding: str = "same", activation="relu",
              use_bias: bool = False, name: str | None = None):
    """Conv2D, then (without a bias) BatchNormalization without scale, then the activation."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias, name=name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=3, scale=False, name=None if name is None else f"{name}_bn")(x)
    if activation is not None:
        x = layers.Activation(activation, name=None if name is None else f"{name}_ac")(x)
    return x


def _branches(x, block_type: str) -> list:
    if block_type == "block35":
        branch_0 = conv2d_bn(x, 32, 1)
        branch_1 = conv2d_bn(conv2d_bn(x, 32, 1), 32, 3)
        branch_2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 32, 1), 48, 3), 64, 3)
        return [branch_0, branch_1, branch_2]
    if block_type == "block17":
        branch_0 = conv2d_bn(x, 192, 1)
        branch_1 = conv2d_bn(conv2d_bn(conv2d_bn(x, 128, 1), 160, [1, 7]), 192, [7, 1])
        return [branch_0, branch_1]
    branch_0 = conv2d_bn(x, 192, 1)  # block8
    branch_1 = conv2d_bn(conv2d_bn(conv2d_bn(x, 192, 1), 224, [1, 3]), 256, [3, 1])
    return [branch_0, branch_1]


def inception_resnet_block(x, scale: float, block_type: str, block_idx: int, activation="relu"):
    """Branches of ``block_type`` ("block35", "block17" or "block8"), concatenated, projected, scaled, added."""
    if block_type not in ("block35", "block17", "block8"):
        raise ValueError('Unknown Inception-ResNet block type. Expects "block35", "block17" or "block8", '
                         f"but got: {block_type}")
    block_name = f"{block_type}_{block_idx}"
    mixed = layers.Concatenate(axis=3, name=f"{block_name}_mixed")(_branches(x, block_type))
    up = conv2d_bn(mixed, x.shape[3], 1, activation=None, use_bias=True, name=f"{block_name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{block_name}_ac")(x)
    return x


def _inception_resnet_v2(app: Application, name: str) -> Model:
    # Stem block: 299x299x3 -> 35 x 35 x 192
    x = conv2d_bn(app.input, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)

    # Mixed 5b (Inception-A block): 35 x 35 x 320
    branch_0 = conv2d_bn(x, 96, 1)
    branch_1 = conv2d_bn(conv2d_bn(x, 48, 1), 64, 5)
    branch_2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1), 96, 3), 96, 3)
    branch_pool = conv2d_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), 64, 1)
    x = layers.Concatenate(axis=3, name="mixed_5b")([branch_0, branch_1, branch_2, branch_pool])

    # 10x block35 (Inception-ResNet-A block): 35 x 35 x 320
    for block_idx in range(1, 11):
        x = inception_resnet_block(x, scale=0.17, block_type="block35", block_idx=block_idx)

    # Mixed 6a (Reduction-A block): 17 x 17 x 1088
    branch_0 = conv2d_bn(x, 384, 3, strides=2, padding="valid")
    branch_1 = conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 256, 3), 384, 3, strides=2, padding="valid")
    branch_pool = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=3, name="mixed_6a")([branch_0, branch_1, branch_pool])

    # 20x block17 (Inception-ResNet-B block): 17 x 17 x 1088
    for block_idx in range(1, 21):
        x = inception_resnet_block(x, scale=0.1, block_type="block17", block_idx=block_idx)

    # Mixed 7a (Reduction-B block): 8 x 8 x 2080
    branch_0 = conv2d_bn(conv2d_bn(x, 256, 1), 384, 3, strides=2, padding="valid")
    branch_1 = conv2d_bn(conv2d_bn(x, 256, 1), 288, 3, strides=2, padding="valid")
    branch_2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 288, 3), 320, 3, strides=2, padding="valid")
    branch_pool = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=3, name="mixed_7a")([branch_0, branch_1, branch_2, branch_pool])

    # 10x block8 (Inception-ResNet-C block): 8 x 8 x 2080, the last one without ReLU
    for block_idx in range(1, 10):
        x = inception_resnet_block(x, scale=0.2, block_type="block8", block_idx=block_idx)
    x = inception_resnet_block(x, scale=1.0, activation=None, block_type="block8", block_idx=10)

    # Final convolution block: 8 x 8 x 1536
    x = conv2d_bn(x, 1536, 1, name="conv_7b")
    return app.model(app.head(x), name)


InceptionResNetV2 = keras_application(
    "InceptionResNetV2", __name__, "InceptionResNetV2: 299x299 input, 40 Inception-ResNet blocks; 55,873,736 "
    "parameters.", "inception_resnet_v2", _inception_resnet_v2,
    tf_kernels_files("inception_resnet_v2", "inception_resnet_v2"), default_size=299, min_size=75)

preprocess_input = utils.preprocessor("tf", __name__)
decode_predictions = utils.decode_predictions
