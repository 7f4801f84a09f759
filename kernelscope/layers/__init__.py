"""Keras-3-compatible layers (channels-last), one family per module.

>>> import numpy as np, kernelscope as ks
>>> conv = ks.layers.Conv2D(64, 3, activation="relu")
>>> conv(np.zeros((1, 28, 28, 32), dtype="float32")).shape
(1, 26, 26, 64)
>>> conv.count_params()  # (3*3*32 + 1) * 64
18496
"""

from .._keras2 import keras1_conv_alias, removed_layer
from .activation import ELU, Activation, LeakyReLU, PReLU, ReLU, Softmax
from .base import (LAYER_REGISTRY, Input, InputLayer, KerasTensor, Layer, Node, Variable, clear_session,
                   unique_name)
from .conv import Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D
from .core import Dense
from .image_resizing import CenterCrop, Resizing
from .lambda_layer import Lambda
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average,
                      concatenate, dot, maximum, minimum, multiply, subtract)
from .noise import Dropout, GaussianNoise
from .normalization import BatchNormalization, LayerNormalization, UnitNormalization
from .pixel_preprocessing import PreprocessInput  # noqa: F401 - registered for load_model
from .pooling import (AveragePooling2D, AvgPool2D, GlobalAveragePooling2D, GlobalAvgPool2D,
                      GlobalMaxPool2D, GlobalMaxPooling2D, MaxPool2D, MaxPooling2D)
from .preprocessing import (Normalization, RandomBrightness, RandomContrast, RandomCrop, RandomFlip,
                            RandomRotation, RandomTranslation, RandomZoom, Rescaling)
from .reshaping import Cropping2D, Flatten, Reshape, UpSampling2D, ZeroPadding2D

# the Keras 1 names also refuse Keras 1's positional (nb_filter, nb_row, nb_col); instances are plain Conv2D
Convolution2D = keras1_conv_alias(Conv2D, "Convolution2D")
Convolution2DTranspose = Conv2DTranspose
SeparableConvolution2D = keras1_conv_alias(SeparableConv2D, "SeparableConvolution2D")

__all__ = [
    "Layer", "Variable", "KerasTensor", "Node", "Input", "InputLayer", "LAYER_REGISTRY", "clear_session",
    "unique_name", "Conv2D", "Convolution2D", "DepthwiseConv2D", "SeparableConv2D", "SeparableConvolution2D",
    "Conv2DTranspose", "Convolution2DTranspose", "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "AvgPool2D",
    "GlobalAveragePooling2D", "GlobalAvgPool2D", "GlobalMaxPooling2D", "GlobalMaxPool2D", "Dense", "Flatten",
    "Reshape", "Dropout", "GaussianNoise", "BatchNormalization", "Activation", "ReLU", "LeakyReLU", "Softmax",
    "ZeroPadding2D", "Cropping2D", "UpSampling2D", "Add", "Multiply", "Concatenate", "Rescaling",
    "Normalization", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomCrop",
    "RandomContrast", "deserialize", "serialize", "Lambda", "Subtract", "Average", "Maximum", "Minimum", "Dot",
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot", "Resizing", "CenterCrop",
    "LayerNormalization", "UnitNormalization", "PReLU", "ELU", "RandomBrightness", "PreprocessInput",
]


def serialize(layer: Layer) -> dict:
    """``{"class_name", "config"}`` of a layer (Keras-like)."""
    return {"module": "keras.layers", "class_name": type(layer).__name__, "config": layer.get_config(),
            "registered_name": None}


def deserialize(config: dict) -> Layer:
    """Rebuild a layer from :func:`serialize`'s dict."""
    name = config.get("class_name")
    cls = LAYER_REGISTRY.get(name)
    if cls is None:
        raise ValueError(f"Unknown layer class_name {name!r}. Known: {sorted(LAYER_REGISTRY)}.")
    return cls.from_config(dict(config.get("config") or {}))


def __getattr__(name: str):
    removed_layer(name)  # Merge & co.: a hint naming the Keras 3 layer; any other name: AttributeError
