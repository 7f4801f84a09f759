"""What every ImageNet application shares: input preprocessing, decoding predictions,
and the argument checks Keras's builders run before they lay down a single layer.

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
import os
import warnings
from importlib import resources

import numpy as np

from ..layers.base import KerasTensor
from ..layers.pixel_preprocessing import PREPROCESS_MODES, PreprocessInput, scale_pixels

__all__ = ["preprocess_input", "decode_predictions", "obtain_input_shape", "correct_pad",
           "validate_activation", "check_arguments", "load_weights", "image_input", "pool_features",
           "model_inputs",
           "CLASS_INDEX_MD5"]

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


# ------------------------------------------------------------ argument checks
def check_arguments(weights, include_top: bool, classes, pooling, classifier_activation, keras_file: str,
                    url: str) -> None:
    """Keras's argument checks, before any layer is built; ``"imagenet"`` is answered with the file to fetch."""
    if weights == "imagenet":
        raise ValueError(
            "kernelscope cannot download the ImageNet weights. Download the Keras weight file "
            f"`{keras_file}` (from {url}) and pass its path: weights='path/to/{keras_file}'. "
            "Received: weights='imagenet'.")
    if weights is not None and not (isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights)):
        raise ValueError("The `weights` argument should be either `None` (random initialization), 'imagenet' "
                         "(pre-training on ImageNet), or the path to the weights file to be loaded. "
                         f"Received: weights={weights!r}")
    if not isinstance(include_top, bool):
        raise TypeError(f"`include_top` must be True or False. Received: include_top={include_top!r}.")
    if not isinstance(classes, numbers.Integral) or isinstance(classes, bool) or classes < 1:
        raise ValueError(f"`classes` must be a positive integer. Received: classes={classes!r}.")
    if not include_top:
        check_pooling(pooling)
    validate_activation(classifier_activation, weights)


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


def check_pooling(pooling) -> None:
    if pooling not in (None, "avg", "max"):
        raise ValueError(f'`pooling` must be None, "avg" or "max". Received: pooling={pooling!r}.')


# ----------------------------------------------------------- building blocks
def image_input(input_tensor, input_shape: tuple):
    """The model's ``ks.Input``: ``input_tensor`` if given (a KerasTensor), else a new one."""
    from ..layers import Input, KerasTensor

    if input_tensor is None:
        return Input(shape=input_shape)
    if not isinstance(input_tensor, KerasTensor):
        raise TypeError("`input_tensor` must be a symbolic tensor from ks.Input(...). "
                        f"Received: input_tensor of type {type(input_tensor).__name__}.")
    return input_tensor


def model_inputs(input_tensor, img_input) -> list:
    """The ``ks.Input`` tensors the model starts from (those behind ``input_tensor`` when it is given)."""
    from ..layers import InputLayer

    if input_tensor is None:
        return img_input
    sources, stack, seen = [], [input_tensor], set()
    while stack:
        tensor = stack.pop()
        layer, node_index, _ = tensor._keras_history
        if isinstance(layer, InputLayer):
            if id(tensor) not in seen:
                seen.add(id(tensor))
                sources.append(tensor)
            continue
        stack.extend(reversed(layer._inbound_nodes[node_index].input_tensors))
    return sources[0] if len(sources) == 1 else sources


def pool_features(x, pooling, avg_name=None, max_name=None):
    """The ``include_top=False`` ending: nothing, global average or global max pooling."""
    from .. import layers

    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x


def correct_pad(spatial: tuple, kernel_size: int) -> tuple:
    """Zero padding that makes a stride-2 "valid" conv match TF's "same" (Keras's ``correct_pad``)."""
    adjust = (1, 1) if spatial[0] is None else (1 - spatial[0] % 2, 1 - spatial[1] % 2)
    half = kernel_size // 2
    return ((half - adjust[0], half), (half - adjust[1], half))


def load_weights(model, weights) -> None:
    """Load a Keras weight file into ``model`` (nothing to do for ``weights=None``)."""
    if weights is None:
        return
    from ..interop import load_keras_weights

    load_keras_weights(model, weights)
