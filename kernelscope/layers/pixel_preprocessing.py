"""The ImageNet input scalings of ``keras.applications.*.preprocess_input``, as a layer.

``x = preprocess_input(inputs)`` on a ``ks.Input`` (keras-io's transfer_learning and
grad_cam write this) records a :class:`PreprocessInput` layer in the graph; it saves as
its ``mode`` (no code) and is differentiable, so input gradients pass through it.
"""

from __future__ import annotations

import numpy as np

from .base import Layer

__all__ = ["PreprocessInput", "scale_pixels", "PREPROCESS_MODES"]

PREPROCESS_MODES = ("caffe", "tf", "torch")
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


def scale_pixels(x, mode: str, dtype: np.dtype):
    """RGB pixels in [0, 255] -> the model's input: ``x`` a float array or a Tensor of ``dtype``.

    - caffe: RGB -> BGR, then subtract the ImageNet mean pixel (103.939, 116.779, 123.68).
    - tf: ``x / 127.5 - 1``, into [-1, 1].
    - torch: ``x / 255``, then subtract (0.485, 0.456, 0.406) and divide by (0.229, 0.224, 0.225).
    """
    if mode == "tf":
        return x / dtype.type(127.5) - dtype.type(1.0)
    if len(x.shape) < 1 or x.shape[-1] != 3:
        raise ValueError(f"preprocess_input(mode={mode!r}) expects 3 color channels on the last axis. "
                         f"Received: an array of shape {tuple(x.shape)}.")
    if mode == "torch":
        return (x / dtype.type(255.0) - np.asarray(_TORCH_MEAN, dtype)) / np.asarray(_TORCH_STD, dtype)
    return x[..., ::-1] - np.asarray(_CAFFE_MEAN_BGR, dtype)


class PreprocessInput(Layer):
    """``preprocess_input`` of an ImageNet model family inside a functional model (``mode``:
    "caffe", "tf" or "torch"); made by ``preprocess_input`` when given a KerasTensor."""

    def __init__(self, mode: str = "caffe", **kwargs):
        super().__init__(**kwargs)
        if mode not in PREPROCESS_MODES:
            raise ValueError(f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode!r}.")
        self.mode = mode

    def call(self, inputs):
        return scale_pixels(inputs, self.mode, inputs.dtype)

    def compute_output_shape(self, input_shape):
        if self.mode != "tf" and input_shape[-1] != 3:
            raise ValueError(f"preprocess_input(mode={self.mode!r}) expects 3 color channels on the last axis. "
                             f"Received: an input of shape {tuple(input_shape)}.")
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}
