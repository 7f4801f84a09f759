"""InceptionV3 (Szegedy et al., "Rethinking the Inception Architecture", CVPR 2016).

Every convolution is ``conv2d_bn``: a bias-free Conv2D, a BatchNormalization
without scale (``scale=False``: 3 weights per channel, 1 trainable) and a ReLU.
Keras leaves these unnamed, so they are numbered in build order (``conv2d``,
``conv2d_1``, ..., ``batch_normalization_93``, ``activation_93`` in a fresh
session); the Inception modules are named ``mixed0`` ... ``mixed10``.
Inputs are scaled to [-1, 1] (``"tf"`` mode).

>>> import kernelscope as ks
>>> ks.applications.InceptionV3(weights=None).count_params()
23851784
"""

from __future__ import annotations

from .. import layers
from ..models import Model
from . import imagenet_utils as utils
from ._builder import Application, keras_application
from ._weights import tf_kernels_files

__all__ = ["InceptionV3", "preprocess_input", "decode_predictions"]

_SUMMARY = "InceptionV3: 299x299 input, 11 Inception modules; 23,851,784 parameters."


def conv2d_bn(x, filters: int, num_row: int, num_col: int, padding: str = "same", strides=(1, 1), name=None):
    """Conv2D (no bias) -> BatchNormalization (no scale) -> ReLU."""
    conv_name, bn_name = (None, None) if name is None else (name + "_conv", name + "_bn")
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding, use_bias=False,
                      name=conv_name)(x)
    x = layers.BatchNormalization(axis=3, scale=False, name=bn_name)(x)
    return layers.Activation("relu", name=name)(x)


def _avg_pool_branch(x, filters: int):
    branch_pool = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(branch_pool, filters, 1, 1)


def _module_35(x, pool_filters: int, name: str):
    """35x35 module: 1x1, 5x5, double 3x3 and pooled branches."""
    branch1x1 = conv2d_bn(x, 64, 1, 1)
    branch5x5 = conv2d_bn(x, 48, 1, 1)
    branch5x5 = conv2d_bn(branch5x5, 64, 5, 5)
    branch3x3dbl = conv2d_bn(x, 64, 1, 1)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
    branch_pool = _avg_pool_branch(x, pool_filters)
    return layers.Concatenate(axis=3, name=name)([branch1x1, branch5x5, branch3x3dbl, branch_pool])


def _module_17(x, filters_7x7: int, name: str):
    """17x17 module: 1x1, factorized 7x7, double factorized 7x7 and pooled branches."""
    branch1x1 = conv2d_bn(x, 192, 1, 1)
    branch7x7 = conv2d_bn(x, filters_7x7, 1, 1)
    branch7x7 = conv2d_bn(branch7x7, filters_7x7, 1, 7)
    branch7x7 = conv2d_bn(branch7x7, 192, 7, 1)
    branch7x7dbl = conv2d_bn(x, filters_7x7, 1, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, filters_7x7, 7, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, filters_7x7, 1, 7)
    branch7x7dbl = conv2d_bn(branch7x7dbl, filters_7x7, 7, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, 192, 1, 7)
    branch_pool = _avg_pool_branch(x, 192)
    return layers.Concatenate(axis=3, name=name)([branch1x1, branch7x7, branch7x7dbl, branch_pool])


def _module_8(x, i: int):
    """8x8 module with expanded filter banks (1x3 and 3x1 side by side)."""
    branch1x1 = conv2d_bn(x, 320, 1, 1)
    branch3x3 = conv2d_bn(x, 384, 1, 1)
    branch3x3_1 = conv2d_bn(branch3x3, 384, 1, 3)
    branch3x3_2 = conv2d_bn(branch3x3, 384, 3, 1)
    branch3x3 = layers.Concatenate(axis=3, name=f"mixed9_{i}")([branch3x3_1, branch3x3_2])
    branch3x3dbl = conv2d_bn(x, 448, 1, 1)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 384, 3, 3)
    branch3x3dbl_1 = conv2d_bn(branch3x3dbl, 384, 1, 3)
    branch3x3dbl_2 = conv2d_bn(branch3x3dbl, 384, 3, 1)
    branch3x3dbl = layers.Concatenate(axis=3)([branch3x3dbl_1, branch3x3dbl_2])
    branch_pool = _avg_pool_branch(x, 192)
    return layers.Concatenate(axis=3, name=f"mixed{9 + i}")([branch1x1, branch3x3, branch3x3dbl, branch_pool])


def _reduction_a(x):
    """mixed3: 35x35x288 -> 17x17x768."""
    branch3x3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    branch3x3dbl = conv2d_bn(x, 64, 1, 1)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    return layers.Concatenate(axis=3, name="mixed3")([branch3x3, branch3x3dbl, branch_pool])


def _reduction_b(x):
    """mixed8: 17x17x768 -> 8x8x1280."""
    branch3x3 = conv2d_bn(x, 192, 1, 1)
    branch3x3 = conv2d_bn(branch3x3, 320, 3, 3, strides=(2, 2), padding="valid")
    branch7x7x3 = conv2d_bn(x, 192, 1, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 1, 7)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 7, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    return layers.Concatenate(axis=3, name="mixed8")([branch3x3, branch7x7x3, branch_pool])


def _inception_v3(app: Application, name: str) -> Model:
    # Stem: 299x299x3 -> 35x35x192
    x = conv2d_bn(app.input, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)

    # mixed 0, 1, 2: 35 x 35 x 256, 288, 288
    x = _module_35(x, 32, "mixed0")
    x = _module_35(x, 64, "mixed1")
    x = _module_35(x, 64, "mixed2")
    # mixed 3: 17 x 17 x 768
    x = _reduction_a(x)
    # mixed 4, 5, 6, 7: 17 x 17 x 768
    x = _module_17(x, 128, "mixed4")
    x = _module_17(x, 160, "mixed5")
    x = _module_17(x, 160, "mixed6")
    x = _module_17(x, 192, "mixed7")
    # mixed 8: 8 x 8 x 1280
    x = _reduction_b(x)
    # mixed 9, 10: 8 x 8 x 2048
    x = _module_8(x, 0)
    x = _module_8(x, 1)
    return app.model(app.head(x), name)


InceptionV3 = keras_application("InceptionV3", __name__, _SUMMARY, "inception_v3", _inception_v3,
                                tf_kernels_files("inception_v3", "inception_v3"), default_size=299, min_size=75)

preprocess_input = utils.preprocessor("tf", __name__)
decode_predictions = utils.decode_predictions
