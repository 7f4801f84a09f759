"""``keras.applications.vgg19``: VGG19 with its preprocess_input / decode_predictions (see ``vgg.py``)."""

from .vgg import VGG19, decode_predictions, preprocess_input

__all__ = ["VGG19", "preprocess_input", "decode_predictions"]
