"""``keras.applications.resnet50``: ResNet50 with its preprocess_input / decode_predictions (see ``resnet.py``)."""

from .resnet import ResNet50, decode_predictions, preprocess_input

__all__ = ["ResNet50", "preprocess_input", "decode_predictions"]
