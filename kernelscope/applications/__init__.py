"""The model zoo: Keras's 19 ImageNet architectures and LeNet-5, built layer by layer.

Each builder has ``keras.applications``'s signature, layer names and parameter
counts, so Keras's weight files load unchanged. ``weights="imagenet"`` (the
default, as in Keras) reads Keras's own file from the model cache,
``$KERNELSCOPE_HOME/models`` or else ``~/.kernelscope/models`` (:func:`models_dir`);
a missing file is an error naming it, its URL and that folder, and ``download=True``
fetches it with ``ks.utils.get_file``. ``weights=None`` is random initialization;
a path loads that file. Each family module carries its ``preprocess_input`` and
``decode_predictions`` (``ks.applications.resnet50.preprocess_input``, ...).

>>> import kernelscope as ks
>>> model = ks.applications.MobileNetV2(weights=None, include_top=False, input_shape=(96, 96, 3), pooling="avg")
>>> model.output_shape
(None, 1280)
"""

from . import (densenet, efficientnet, imagenet_utils, inception_resnet_v2, inception_v3, lenet, mobilenet,
               mobilenet_v2, nasnet, resnet, resnet50, resnet_v2, vgg, vgg16, vgg19, xception)
from ._weights import models_dir
from .densenet import DenseNet121, DenseNet169, DenseNet201
from .efficientnet import EfficientNetB0
from .inception_resnet_v2 import InceptionResNetV2
from .inception_v3 import InceptionV3
from .lenet import LeNet5
from .mobilenet import MobileNet
from .mobilenet_v2 import MobileNetV2
from .nasnet import NASNetLarge, NASNetMobile
from .resnet import ResNet50, ResNet101, ResNet152
from .resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from .vgg import VGG16, VGG19
from .xception import Xception

__all__ = [
    "LeNet5", "VGG16", "VGG19", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
    "InceptionV3", "InceptionResNetV2", "Xception", "MobileNet", "MobileNetV2", "DenseNet121", "DenseNet169",
    "DenseNet201", "NASNetMobile", "NASNetLarge", "EfficientNetB0", "models_dir",
    "densenet", "efficientnet", "imagenet_utils", "inception_resnet_v2", "inception_v3", "lenet", "mobilenet",
    "mobilenet_v2", "nasnet", "resnet", "resnet50", "resnet_v2", "vgg", "vgg16", "vgg19", "xception",
]
