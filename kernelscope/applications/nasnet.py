"""NASNetMobile and NASNetLarge (Zoph et al., "Learning Transferable Architectures for Scalable Image
Recognition", CVPR 2018), as ``keras.applications`` builds them.

A searched cell, stacked: each *normal* cell (``normal_*_{i}``) and *reduction*
cell (``reduction_*_{id}``, stride 2) reads the two previous cells' outputs
``x`` and ``p``; ``_adjust_block`` first brings ``p`` to ``x``'s resolution and
width (``adjust_*``). Branches are pairs of ReLU-SeparableConv-BN
(``separable_conv_1_{branch}`` / ``separable_conv_2_{branch}``), 3x3 poolings
and identities, added pairwise and concatenated. NASNetMobile is NASNet
(4 @ 1056) at 224x224, NASNetLarge NASNet (6 @ 4032) at 331x331. The ReLUs, the
paddings and croppings of ``_adjust_block`` and a few additions are unnamed
in Keras (``activation``, ``zero_padding2d``, ``cropping2d``, ``add``,
``concatenate``, numbered in build order). Inputs are scaled to [-1, 1]
(``"tf"`` mode).

>>> import kernelscope as ks
>>> ks.applications.NASNetMobile(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape
(None, 1, 1, 1056)
"""

from __future__ import annotations

import numbers

from .. import layers
from ..models import Model
from . import imagenet_utils as utils
from ._builder import Application, documented
from ._weights import KERAS_BUCKET, KerasWeights, keras_hash

__all__ = ["NASNetMobile", "NASNetLarge", "NASNet", "preprocess_input", "decode_predictions"]

_BN = {"axis": -1, "momentum": 0.9997, "epsilon": 1e-3}
_CONV = {"padding": "same", "use_bias": False, "kernel_initializer": "he_normal"}
# Keras's ImageNet files by default size: (cache name, file name in the bucket), with and without the top
_FILES = {224: (("nasnet_mobile.h5", "NASNet-mobile.h5"), ("nasnet_mobile_no_top.h5", "NASNet-mobile-no-top.h5")),
          331: (("nasnet_large.h5", "NASNet-large.h5"), ("nasnet_large_no_top.h5", "NASNet-large-no-top.h5"))}


def _separable_conv_block(ip, filters: int, kernel_size=(3, 3), strides=(1, 1), block_id: str = ""):
    """Two ReLU-SeparableConv-BN; the first one strided (after a "same"-like zero padding) in reduction cells."""
    x = layers.Activation("relu")(ip)
    conv_pad = "same"
    if strides == (2, 2):
        x = layers.ZeroPadding2D(padding=utils.correct_pad(x.shape[1:3], kernel_size[0]),
                                 name=f"separable_conv_1_pad_{block_id}")(x)
        conv_pad = "valid"
    x = layers.SeparableConv2D(filters, kernel_size, strides=strides, name=f"separable_conv_1_{block_id}",
                               padding=conv_pad, use_bias=False)(x)
    x = layers.BatchNormalization(**_BN, name=f"separable_conv_1_bn_{block_id}")(x)
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(filters, kernel_size, name=f"separable_conv_2_{block_id}", padding="same",
                               use_bias=False)(x)
    return layers.BatchNormalization(**_BN, name=f"separable_conv_2_bn_{block_id}")(x)


def _adjust_block(p, ip, filters: int, block_id: str):
    """``p`` at ``ip``'s resolution (two offset 1x1/2 paths, concatenated) or width (a 1x1 projection)."""
    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = layers.Conv2D(filters // 2, (1, 1), name=f"adjust_conv_1_{block_id}", **_CONV)(p1)
        # the second path sees the map shifted by one pixel, so the two together cover every position
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = layers.Conv2D(filters // 2, (1, 1), name=f"adjust_conv_2_{block_id}", **_CONV)(p2)
        p = layers.concatenate([p1, p2], axis=-1)
        return layers.BatchNormalization(**_BN, name=f"adjust_bn_{block_id}")(p)
    if p.shape[-1] != filters:
        p = layers.Activation("relu")(p)
        p = layers.Conv2D(filters, (1, 1), strides=(1, 1), name=f"adjust_conv_projection_{block_id}", **_CONV)(p)
        return layers.BatchNormalization(**_BN, name=f"adjust_bn_{block_id}")(p)
    return p


def _cell_input(ip, p, filters: int, kind: str, block_id: str) -> tuple:
    """``(h, p)``: the adjusted previous output and ReLU-1x1 conv-BN of the current input."""
    p = _adjust_block(p, ip, filters, block_id)
    h = layers.Activation("relu")(ip)
    h = layers.Conv2D(filters, (1, 1), strides=(1, 1), name=f"{kind}_conv_1_{block_id}", **_CONV)(h)
    return layers.BatchNormalization(**_BN, name=f"{kind}_bn_1_{block_id}")(h), p


def _normal_a_cell(ip, p, filters: int, block_id: str) -> tuple:
    """The normal cell of NASNet-A (fig. 4 of the paper): five pairwise sums, concatenated with ``p``."""
    h, p = _cell_input(ip, p, filters, "normal", block_id)
    x1_1 = _separable_conv_block(h, filters, kernel_size=(5, 5), block_id=f"normal_left1_{block_id}")
    x1_2 = _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")
    x1 = layers.add([x1_1, x1_2], name=f"normal_add_1_{block_id}")

    x2_1 = _separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}")
    x2_2 = _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{block_id}")
    x2 = layers.add([x2_1, x2_2], name=f"normal_add_2_{block_id}")

    x3 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=f"normal_left3_{block_id}")(h)
    x3 = layers.add([x3, p], name=f"normal_add_3_{block_id}")

    x4_1 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=f"normal_left4_{block_id}")(p)
    x4_2 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=f"normal_right4_{block_id}")(p)
    x4 = layers.add([x4_1, x4_2], name=f"normal_add_4_{block_id}")

    x5 = _separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}")
    x5 = layers.add([x5, h], name=f"normal_add_5_{block_id}")

    x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=-1, name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(ip, p, filters: int, block_id: str) -> tuple:
    """The reduction cell of NASNet-A (fig. 4): stride-2 branches, half the resolution."""
    h, p = _cell_input(ip, p, filters, "reduction", block_id)
    h3 = layers.ZeroPadding2D(padding=utils.correct_pad(h.shape[1:3], 3), name=f"reduction_pad_1_{block_id}")(h)

    x1_1 = _separable_conv_block(h, filters, (5, 5), strides=(2, 2), block_id=f"reduction_left1_{block_id}")
    x1_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2), block_id=f"reduction_right1_{block_id}")
    x1 = layers.add([x1_1, x1_2], name=f"reduction_add_1_{block_id}")

    x2_1 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid", name=f"reduction_left2_{block_id}")(h3)
    x2_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2), block_id=f"reduction_right2_{block_id}")
    x2 = layers.add([x2_1, x2_2], name=f"reduction_add_2_{block_id}")

    x3_1 = layers.AveragePooling2D((3, 3), strides=(2, 2), padding="valid", name=f"reduction_left3_{block_id}")(h3)
    x3_2 = _separable_conv_block(p, filters, (5, 5), strides=(2, 2), block_id=f"reduction_right3_{block_id}")
    x3 = layers.add([x3_1, x3_2], name=f"reduction_add3_{block_id}")

    x4 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=f"reduction_left4_{block_id}")(x1)
    x4 = layers.add([x2, x4])

    x5_1 = _separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4_{block_id}")
    x5_2 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid", name=f"reduction_right5_{block_id}")(h3)
    x5 = layers.add([x5_1, x5_2], name=f"reduction_add4_{block_id}")

    x = layers.concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{block_id}")
    return x, ip


def _check_nasnet(input_shape, penultimate_filters, filter_multiplier, weights) -> None:
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError("When specifying the input shape of a NASNet and loading `ImageNet` weights, the "
                         f"input_shape argument must be static (no None entries). Got: `input_shape={input_shape}`.")
    for arg, value in (("penultimate_filters", penultimate_filters), ("filter_multiplier", filter_multiplier)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"`{arg}` must be a positive integer. Received: {arg}={value!r}.")
    if penultimate_filters % (24 * (filter_multiplier ** 2)) != 0:
        raise ValueError("For NASNet-A models, the `penultimate_filters` must be a multiple of 24 * "
                         f"(`filter_multiplier` ** 2). Current value: {penultimate_filters}")


def NASNet(input_shape=None, penultimate_filters: int = 4032, num_blocks: int = 6, stem_block_filters: int = 96,
           skip_reduction: bool = True, filter_multiplier: int = 2, include_top: bool = True, weights="imagenet",
           input_tensor=None, pooling=None, classes: int = 1000, default_size: int | None = None,
           classifier_activation="softmax", name: str = "NASNet", download: bool = False) -> Model:
    """NASNet-A (``num_blocks`` @ ``penultimate_filters``); ImageNet weights only at default size 224 or 331.

    ``skip_reduction`` feeds each stage after a reduction cell with the cell before it (NASNetLarge).
    The other arguments are those of :func:`NASNetMobile`.
    """
    _check_nasnet(input_shape, penultimate_filters, filter_multiplier, weights)
    default_size = 331 if default_size is None else default_size
    files = _FILES.get(default_size)
    imagenet = None
    if files is not None:
        fname, bucket_name = files[0 if include_top else 1]
        imagenet = KerasWeights(fname, f"{KERAS_BUCKET}nasnet/{bucket_name}", keras_hash(fname))
    app = Application(include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                      download, default_size=default_size, min_size=32, imagenet=imagenet)
    filters = penultimate_filters // 24

    # Stem: a 3x3/2 convolution and two reduction cells (224x224 -> 28x28 for NASNetMobile)
    x = layers.Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid", use_bias=False,
                      name="stem_conv1", kernel_initializer="he_normal")(app.input)
    x = layers.BatchNormalization(**_BN, name="stem_bn1")(x)
    x, p = _reduction_a_cell(x, None, filters // (filter_multiplier ** 2), block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")

    # Three stages of num_blocks normal cells, separated by reduction cells (28x28 -> 14x14 -> 7x7)
    for stage in range(3):
        if stage:
            x, p0 = _reduction_a_cell(x, p, filters * filter_multiplier ** stage,
                                      block_id=f"reduce_{stage * num_blocks}")
            p = p if skip_reduction else p0
        for i in range(num_blocks):
            x, p = _normal_a_cell(x, p, filters * filter_multiplier ** stage,
                                  block_id=f"{stage * num_blocks + i + min(stage, 1)}")

    x = layers.Activation("relu")(x)
    return app.model(app.head(x, top_pool=None), name)


def _variant(public_name: str, summary: str, model_name: str, default_size: int, **architecture):
    @documented(summary, _FILES[default_size][0][0], _FILES[default_size][1][0],
                f"at least 32x32; ({default_size}, {default_size}, 3) with the top and ImageNet weights")
    def builder(input_shape=None, include_top: bool = True, weights="imagenet", input_tensor=None, pooling=None,
                classes: int = 1000, classifier_activation="softmax", name: str = model_name, *,
                download: bool = False) -> Model:
        if default_size == 224 and not include_top and input_shape is None:
            input_shape = (224, 224, 3)  # as Keras: NASNetMobile's features have a fixed default size
        return NASNet(input_shape, **architecture, include_top=include_top, weights=weights,
                      input_tensor=input_tensor, pooling=pooling, classes=classes, default_size=default_size,
                      classifier_activation=classifier_activation, name=name, download=download)

    builder.__name__ = builder.__qualname__ = public_name
    return builder


NASNetMobile = _variant("NASNetMobile", "NASNetMobile: NASNet (4 @ 1056) at 224x224; 5,326,716 parameters.",
                        "nasnet_mobile", 224, penultimate_filters=1056, num_blocks=4, stem_block_filters=32,
                        skip_reduction=False, filter_multiplier=2)
NASNetLarge = _variant("NASNetLarge", "NASNetLarge: NASNet (6 @ 4032) at 331x331; 88,949,818 parameters.",
                       "nasnet_large", 331, penultimate_filters=4032, num_blocks=6, stem_block_filters=96,
                       skip_reduction=True, filter_multiplier=2)

preprocess_input = utils.preprocessor("tf", __name__)
decode_predictions = utils.decode_predictions
