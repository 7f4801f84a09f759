"""``keras.applications.vgg16``: VGG16 with its preprocess_input / decode_predictions (see ``vgg.py``)."""

from .vgg import VGG16, decode_predictions, preprocess_input

__all__ = ["VGG16", "preprocess_input", "decode_predictions"]
