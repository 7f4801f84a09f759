"""VGG16 and VGG19 (Simonyan & Zisserman, ICLR 2015), as ``keras.applications`` builds them.

Five blocks of 3x3 "same" convolutions with ReLU, each closed by a 2x2 max
pooling, then three fully connected layers. Layer names are Keras's
(``block1_conv1`` ... ``block5_pool``, ``flatten``, ``fc1``, ``fc2``,
``predictions``), so Keras's weight files load unchanged.

>>> import kernelscope as ks
>>> ks.applications.VGG16(weights=None).count_params()
138357544
"""

from __future__ import annotations

from functools import partial

from .. import layers
from ..models import Model
from . import imagenet_utils as utils
from ._builder import Application, keras_application
from ._weights import tf_kernels_files

__all__ = ["VGG16", "VGG19", "preprocess_input", "decode_predictions"]


def _vgg(convs_per_block, app: Application, name: str) -> Model:
    # Block 1 (224x224 -> 112x112), Block 2 (-> 56x56), Block 3 (-> 28x28), Block 4 (-> 14x14), Block 5 (-> 7x7)
    x = _block(app.input, 1, filters=64, convs=convs_per_block[0])
    x = _block(x, 2, filters=128, convs=convs_per_block[1])
    x = _block(x, 3, filters=256, convs=convs_per_block[2])
    x = _block(x, 4, filters=512, convs=convs_per_block[3])
    x = _block(x, 5, filters=512, convs=convs_per_block[4])

    # Classification block: flatten, fc1 and fc2 (4096 units, ReLU), predictions
    return app.model(app.dense_head(x, (4096, 4096), "relu"), name)


def _block(x, block: int, filters: int, convs: int):
    """``convs`` 3x3 "same" convolutions with ReLU, then a 2x2 max pooling that halves the resolution."""
    for i in range(1, convs + 1):
        x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
    return layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)


VGG16 = keras_application(
    "VGG16", __name__, "VGG16: 13 convolutions in 5 blocks (2, 2, 3, 3, 3) and 3 dense layers; 138,357,544 "
    "parameters.", "vgg16", partial(_vgg, (2, 2, 3, 3, 3)), tf_kernels_files("vgg16", "vgg16"))
VGG19 = keras_application(
    "VGG19", __name__, "VGG19: 16 convolutions in 5 blocks (2, 2, 4, 4, 4) and 3 dense layers; 143,667,240 "
    "parameters.", "vgg19", partial(_vgg, (2, 2, 4, 4, 4)), tf_kernels_files("vgg19", "vgg19"))

preprocess_input = utils.preprocessor("caffe", __name__)
decode_predictions = utils.decode_predictions
