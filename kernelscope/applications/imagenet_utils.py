"""What every ImageNet application shares (Keras's ``imagenet_utils``): input preprocessing,
decoding predictions, the input-shape rules and the classifier-activation check.

``decode_predictions`` reads ``kernelscope/data/imagenet_class_index.json``, the
class index Keras downloads from
``https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json``
(``{"0": ["n01440764", "tench"], ..., "999": ["n15075141", "toilet_tissue"]}``).
The bundled copy was taken from a public repository's copy of that file and
checked byte for byte against the MD5 Keras pins, ``c2c37ea517e94d9795004a39431a14cb``.
"""

from __future__ import annotations

import json
import numbers
import warnings
from importlib import resources

import numpy as np

from ..layers.base import KerasTensor
from ..layers.pixel_preprocessing import PREPROCESS_MODES, PreprocessInput, scale_pixels

__all__ = ["preprocess_input", "decode_predictions", "preprocessor", "obtain_input_shape", "correct_pad",
           "validate_activation", "CLASS_INDEX_MD5"]

CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"
_CLASS_INDEX: dict | None = None


# --------------------------------------------------------------- preprocessing
def preprocess_input(x, data_format=None, mode: str = "caffe") -> np.ndarray:
    """Scale a batch of RGB images in [0, 255] the way an ImageNet model was trained.

    Parameters
    ----------
    x : array-like, 3-D ``(H, W, 3)`` or 4-D ``(N, H, W, 3)``
    data_format : None or "channels_last"
    mode : "caffe", "tf" or "torch"
        - caffe: RGB -> BGR, then subtract the ImageNet mean pixel ``(103.939, 116.779, 123.68)``.
        - tf: ``x / 127.5 - 1``, into [-1, 1].
        - torch: ``x / 255``, then subtract ``(0.485, 0.456, 0.406)`` and divide by ``(0.229, 0.224, 0.225)``.

    Returns a new float array (float32 unless ``x`` already is a float array);
    unlike Keras, ``x`` itself is never modified. Given a KerasTensor (``ks.Input``),
    returns the output of a ``PreprocessInput`` layer, so it works inside a functional model.

    Examples
    --------
    >>> import numpy as np
    >>> preprocess_input(np.array([[[255.0, 0.0, 127.5]]]), mode="tf")
    array([[[ 1., -1.,  0.]]])
    """
    if mode not in PREPROCESS_MODES:
        raise ValueError(f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode!r}.")
    if data_format not in (None, "channels_last"):
        raise ValueError('kernelscope is channels-last only: `data_format` must be None or "channels_last". '
                         f"Received: data_format={data_format!r}.")
    if isinstance(x, KerasTensor):  # inside a functional model: a layer in the graph
        return PreprocessInput(mode=mode)(x)
    x = np.asarray(x.numpy() if hasattr(x, "numpy") else x)
    x = x.astype(x.dtype if x.dtype.kind == "f" else np.float32, copy=True)
    return scale_pixels(x, mode, x.dtype)


_MODE_DOCS = {
    "caffe": "Caffe-style: RGB -> BGR and subtract the ImageNet mean pixel (no scaling).",
    "tf": 'Scale pixels from [0, 255] to [-1, 1] (``"tf"`` mode).',
    "torch": 'Scale pixels to [0, 1], then standardize with the ImageNet mean and std (``"torch"`` mode).',
}


def preprocessor(mode: str, module: str):
    """A family's ``preprocess_input(x, data_format=None)``: :func:`preprocess_input` with ``mode`` fixed."""
    def family_preprocess_input(x, data_format=None):
        return preprocess_input(x, data_format=data_format, mode=mode)

    family_preprocess_input.__name__ = family_preprocess_input.__qualname__ = "preprocess_input"
    family_preprocess_input.__module__, family_preprocess_input.__doc__ = module, _MODE_DOCS[mode]
    return family_preprocess_input


def _class_index() -> dict:
    global _CLASS_INDEX
    if _CLASS_INDEX is None:
        text = resources.files("kernelscope").joinpath("data/imagenet_class_index.json").read_text("utf-8")
        _CLASS_INDEX = json.loads(text)
    return _CLASS_INDEX


def decode_predictions(preds, top: int = 5) -> list:
    """The ``top`` classes of each row of ImageNet predictions, best first.

    Parameters
    ----------
    preds : array of shape (samples, 1000)
    top : int

    Returns
    -------
    list (one per sample) of lists of ``(wordnet_id, class_name, score)`` tuples.
    """
    preds = np.asarray(preds.numpy() if hasattr(preds, "numpy") else preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
                         f"(samples, 1000)). Received array with shape: {preds.shape}")
    if not isinstance(top, numbers.Integral) or isinstance(top, bool) or top < 1:
        raise ValueError(f"`top` must be a positive integer. Received: top={top!r}.")
    index = _class_index()
    results = []
    for pred in preds:
        best = np.argsort(pred, kind="stable")[-top:][::-1]
        result = [tuple(index[str(i)]) + (pred[i],) for i in best]
        result.sort(key=lambda entry: entry[2], reverse=True)
        results.append(result)
    return results


# ------------------------------------------------------------ input shape and checks
def obtain_input_shape(input_shape, default_size: int, min_size: int, require_flatten: bool,
                       weights=None, default_channels: int = 3) -> tuple:
    """Keras's ``obtain_input_shape`` (channels-last): validate ``input_shape`` or return the default.

    ``weights`` is the pretrained-weights path or None: with weights the input
    must have 3 channels and, with the classifier on top, the default size,
    as Keras requires for its ImageNet weights.
    """
    pretrained = weights is not None
    default_shape = (default_size, default_size, default_channels)
    if input_shape is not None:
        _check_shape_tuple(input_shape)
        input_shape = tuple(input_shape)
        if not pretrained:
            if input_shape[-1] not in (1, 3):
                warnings.warn("This model usually expects 1 or 3 input channels. However, it was passed an "
                              f"input_shape with {input_shape[-1]} input channels.", stacklevel=3)
            default_shape = (default_size, default_size, input_shape[-1])
    if pretrained and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError("When setting `include_top=True` and loading pretrained weights, `input_shape` "
                             f"should be {default_shape}. Received: input_shape={input_shape}")
        return default_shape
    if input_shape is None:
        input_shape = default_shape if require_flatten else (None, None, default_channels)
    else:
        if input_shape[-1] != 3 and pretrained:
            raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
        if any(d is not None and d < min_size for d in input_shape[:2]):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: "
                             f"input_shape={input_shape}")
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static `input_shape`. "
                         f"Received: input_shape={input_shape}")
    return input_shape


def _check_shape_tuple(input_shape) -> None:
    ok = isinstance(input_shape, (tuple, list)) and len(input_shape) == 3 and all(
        d is None or (isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0) for d in input_shape)
    if not ok or input_shape[-1] is None:
        raise ValueError("`input_shape` must be a tuple of three integers (height, width, channels), "
                         f"channels known. Received: input_shape={input_shape!r}")


def validate_activation(classifier_activation, weights) -> None:
    """With pretrained weights the classifier must stay softmax (or None for logits), as in Keras."""
    if weights is None:
        return
    if classifier_activation not in ("softmax", None, "linear"):
        raise ValueError("Only `None` and `softmax` activations are allowed for the `classifier_activation` "
                         "argument when using pretrained weights. Received: "
                         f"classifier_activation={classifier_activation!r}")


def correct_pad(spatial: tuple, kernel_size: int) -> tuple:
    """Zero padding that makes a stride-2 "valid" conv match TF's "same" (Keras's ``correct_pad``)."""
    adjust = (1, 1) if spatial[0] is None else (1 - spatial[0] % 2, 1 - spatial[1] % 2)
    half = kernel_size // 2
    return ((half - adjust[0], half), (half - adjust[1], half))
