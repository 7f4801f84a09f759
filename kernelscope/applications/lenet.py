"""LeNet-5 (LeCun et al., 1998), the lecture's first CNN, as a Keras-style builder.

The variant built here is the one the slides and most courses draw:

=====  ====================================  ============  ============================
layer  Keras layer                           output        parameters
=====  ====================================  ============  ============================
C1     Conv2D(6, 5x5, tanh)   ``conv1``      28x28x6       (5*5*1 + 1) * 6   =    156
S2     AveragePooling2D(2x2)  ``pool1``      14x14x6       0
C3     Conv2D(16, 5x5, tanh)  ``conv2``      10x10x16      (5*5*6 + 1) * 16  =  2,416
S4     AveragePooling2D(2x2)  ``pool2``      5x5x16        0
       Flatten                ``flatten``    400           0
C5     Dense(120, tanh)       ``fc1``        120           (400 + 1) * 120   = 48,120
F6     Dense(84, tanh)        ``fc2``        84            (120 + 1) * 84    = 10,164
out    Dense(classes, softmax) ``predictions``  10         (84 + 1) * 10     =    850
=====  ====================================  ============  ============================

Total for a 32x32x1 input and 10 classes: **61,706** trainable parameters.
Two simplifications of the 1998 paper, as in the usual modern rendering: the
subsampling layers S2/S4 are plain average poolings (the paper gave them a
trainable coefficient and bias per map, 12 + 32 parameters), and C3 connects
every input map to every filter (the paper's sparse connection table had
1,516 parameters); C5, a 5x5 convolution over a 5x5 map, is the Dense layer it
is equivalent to, and the output is a softmax instead of RBF units.

>>> import kernelscope as ks
>>> ks.applications.LeNet5().count_params()
61706
"""

from __future__ import annotations

from .. import layers
from ..models import Model
from ._builder import Application

__all__ = ["LeNet5"]


def LeNet5(include_top: bool = True, weights=None, input_tensor=None, input_shape=None, pooling=None,
           classes: int = 10, classifier_activation="softmax", name: str = "lenet5") -> Model:
    """LeNet-5: two tanh convolutions with average pooling, then dense 120 / 84 / ``classes``.

    Parameters
    ----------
    include_top : bool
        Keep ``flatten``, ``fc1``, ``fc2`` and ``predictions``.
    weights : None or str
        None (random initialization) or the path to a weight file saved from this
        architecture in Keras; there are no ImageNet weights for LeNet-5.
    input_tensor : KerasTensor, optional
    input_shape : tuple, optional
        ``(height, width, channels)``, at least 16x16; (32, 32, 1) by default.
        Any size works with the top: ``fc1`` adapts to the flattened size.
    pooling : None, "avg" or "max"
        Without the top: the 4-D S4 feature map, or its global average / maximum.
    classes : int
        Output classes (10 digits by default).
    classifier_activation : str, callable or None
    name : str
    """
    if weights == "imagenet":
        raise ValueError("There are no ImageNet weights for LeNet5: pass weights=None (random initialization) or "
                         "the path to a weight file of this architecture. Received: weights='imagenet'.")
    # Two 5x5 valid convolutions and two 2x2 poolings need at least 16 pixels: 16 -> 12 -> 6 -> 2 -> 1.
    # Pretrained-weight checks (3 channels) do not apply: LeNet-5 reads 1-channel images.
    app = Application(include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                      default_size=32, min_size=16, imagenet=None, default_channels=1, pretrained_shape_checks=False)

    # C1 and S2: 32x32x1 -> 28x28x6 -> 14x14x6
    x = layers.Conv2D(6, (5, 5), activation="tanh", name="conv1")(app.input)
    x = layers.AveragePooling2D((2, 2), strides=(2, 2), name="pool1")(x)
    # C3 and S4: -> 10x10x16 -> 5x5x16
    x = layers.Conv2D(16, (5, 5), activation="tanh", name="conv2")(x)
    x = layers.AveragePooling2D((2, 2), strides=(2, 2), name="pool2")(x)

    # C5, F6 and the classifier: flatten, fc1 (120) and fc2 (84) with tanh, predictions
    return app.model(app.dense_head(x, (120, 84), "tanh"), name)
