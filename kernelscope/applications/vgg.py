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

from .. import layers
from ..models import Model
from . import imagenet_utils as utils

__all__ = ["VGG16", "VGG19", "preprocess_input", "decode_predictions"]

_URL = "https://storage.googleapis.com/tensorflow/keras-applications/{0}/{1}"


def VGG16(include_top: bool = True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes: int = 1000, classifier_activation="softmax", name: str = "vgg16") -> Model:
    """VGG16: 13 convolutions in 5 blocks (2, 2, 3, 3, 3) and 3 dense layers; 138,357,544 parameters.

    Parameters
    ----------
    include_top : bool
        Keep the three fully connected layers (``flatten``, ``fc1``, ``fc2``, ``predictions``).
    weights : None or str
        None (random initialization) or the path to a Keras weight file, e.g.
        ``vgg16_weights_tf_dim_ordering_tf_kernels.h5``; ``"imagenet"`` cannot be downloaded here.
    input_tensor : KerasTensor, optional
        A ``ks.Input`` to build on.
    input_shape : tuple, optional
        ``(height, width, channels)``, at least 32x32; must be (224, 224, 3) with the top.
    pooling : None, "avg" or "max"
        Without the top: the 4-D feature map, or its global average / maximum.
    classes : int
        Output classes of the top.
    classifier_activation : str, callable or None
        Activation of ``predictions`` (None: logits).
    name : str
        The model's name.
    """
    return _vgg((2, 2, 3, 3, 3), name, include_top, weights, input_tensor, input_shape, pooling, classes,
                classifier_activation)


def VGG19(include_top: bool = True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes: int = 1000, classifier_activation="softmax", name: str = "vgg19") -> Model:
    """VGG19: 16 convolutions in 5 blocks (2, 2, 4, 4, 4) and 3 dense layers; 143,667,240 parameters.

    Arguments as :func:`VGG16` (weight file ``vgg19_weights_tf_dim_ordering_tf_kernels.h5``).
    """
    return _vgg((2, 2, 4, 4, 4), name, include_top, weights, input_tensor, input_shape, pooling, classes,
                classifier_activation)


def _vgg(convs_per_block, name, include_top, weights, input_tensor, input_shape, pooling, classes,
         classifier_activation) -> Model:
    family = f"vgg{sum(convs_per_block) + 3}"
    keras_file = f"{family}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    utils.check_arguments(weights, include_top, classes, pooling, classifier_activation, keras_file,
                          _URL.format(family, keras_file))
    input_shape = utils.obtain_input_shape(input_shape, default_size=224, min_size=32,
                                           require_flatten=include_top, weights=weights)
    img_input = utils.image_input(input_tensor, input_shape)

    # Block 1 (224x224 -> 112x112), Block 2 (-> 56x56), Block 3 (-> 28x28), Block 4 (-> 14x14), Block 5 (-> 7x7)
    x = _block(img_input, 1, filters=64, convs=convs_per_block[0])
    x = _block(x, 2, filters=128, convs=convs_per_block[1])
    x = _block(x, 3, filters=256, convs=convs_per_block[2])
    x = _block(x, 4, filters=512, convs=convs_per_block[3])
    x = _block(x, 5, filters=512, convs=convs_per_block[4])

    if include_top:
        # Classification block
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = utils.pool_features(x, pooling)

    model = Model(utils.model_inputs(input_tensor, img_input), x, name=name)
    utils.load_weights(model, weights)
    return model


def _block(x, block: int, filters: int, convs: int):
    """``convs`` 3x3 "same" convolutions with ReLU, then a 2x2 max pooling that halves the resolution."""
    for i in range(1, convs + 1):
        x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
    return layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)


def preprocess_input(x, data_format=None):
    """Caffe-style: RGB -> BGR and subtract the ImageNet mean pixel (no scaling)."""
    return utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top: int = 5) -> list:
    """``(wordnet_id, class_name, score)`` of the ``top`` ImageNet classes per sample."""
    return utils.decode_predictions(preds, top=top)
