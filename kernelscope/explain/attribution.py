"""Which pixels a prediction rests on: saliency (gradients), Grad-CAM and occlusion.

Gradients come from kernelscope's autograd: the model is replayed layer by layer
in inference mode with its weights frozen (their ``.grad`` stays untouched), and
the class score is differentiated with respect to the input (saliency) or to a
convolution layer's feature maps (Grad-CAM).
"""

# N batch, H/W height/width, C channels, K feature-map channels

from __future__ import annotations

import contextlib

import numpy as np

from ..autograd import Tensor, enable_grad, no_grad
from ..rng import make_rng
from ._graph import (as_batch, evaluate, frozen_weights, get_layer, last_conv_layer, layer_input,
                     layer_output)
from .views import resize

__all__ = ["saliency", "grad_cam", "occlusion"]

_METHODS = ("vanilla", "gradient_x_input", "smoothgrad")
_REDUCTIONS = ("max_abs", "sum", "abs_sum", None)


@contextlib.contextmanager
def _score_target(model, logits: bool):
    """The symbolic tensor holding the class scores: the output, or the pre-softmax scores.

    With ``logits=True`` and a model ending in a softmax (an activation argument, an
    Activation or a Softmax layer), the score is taken before the softmax, as the
    saliency and Grad-CAM papers do; a layer's ``activation`` is switched off while
    the scores are computed and restored afterwards.
    """
    outputs = getattr(model, "outputs", None) or []
    if len(outputs) != 1:
        raise ValueError(f"The attribution views need a model with one output. Model '{model.name}' has "
                         f"{len(outputs)}.")
    target = outputs[0]
    last = target._keras_history[0]
    name = getattr(last, "_activation_name", None)
    if not logits or (name != "softmax" and type(last).__name__ != "Softmax"):
        yield target
    elif type(last).__name__ in ("Activation", "Softmax"):
        yield layer_input(model, last)[0]
    else:
        saved = last.activation
        last.activation = None
        try:
            yield target
        finally:
            last.activation = saved


def _class_indices(class_index, n: int) -> np.ndarray:
    """``class_index`` (one integer, or one per image) as N non-negative integers."""
    index = np.asarray(class_index)
    if index.ndim > 1 or (index.ndim == 1 and len(index) != n):
        raise ValueError(f"`class_index` must be one integer or a list of one per image ({n} for this batch). "
                         f"Received: class_index={class_index!r} (shape {index.shape}).")
    if index.dtype.kind not in "iu" or (index.size and index.min() < 0):
        # no Python-style negatives: -1 would silently pick the last class
        raise ValueError(f"`class_index` must hold non-negative integers (class numbers from 0). "
                         f"Received: class_index={class_index!r}.")
    return np.broadcast_to(index, (n,))


def _scores(values: Tensor, class_index, n: int) -> tuple:
    """(scores (N,), class indices (N,)) from the score tensor (N, classes)."""
    if values.ndim != 2:
        raise ValueError(f"The model's scores must have shape (batch, classes). Received: {values.shape}.")
    k = values.shape[1]
    if class_index is None:
        index = np.argmax(values.numpy(), axis=1)
    else:
        index = _class_indices(class_index, n)
        if index.max() >= k:
            raise ValueError(f"`class_index` must be an integer in [0, {k}). Received: class_index={class_index!r}.")
    one_hot = np.zeros(values.shape, dtype=values.dtype)
    one_hot[np.arange(n), index] = 1
    return (values * one_hot).sum(axis=1), index


def _input_gradient(model, batch: np.ndarray, class_index, logits: bool) -> np.ndarray:
    x = Tensor(batch, requires_grad=True)
    with frozen_weights(model), enable_grad(), _score_target(model, logits) as target:
        scores, _ = _scores(evaluate(model, x, [target])[0], class_index, len(batch))
        scores.sum().backward()
    return x.grad


def _predicted(model, batch: np.ndarray, logits: bool) -> np.ndarray:
    with no_grad(), _score_target(model, logits) as target:
        return np.argmax(evaluate(model, Tensor(batch), [target])[0].numpy(), axis=1)


def _reduce(grad: np.ndarray, reduce):
    if reduce == "max_abs":
        return np.abs(grad).max(axis=-1)
    if reduce == "sum":
        return grad.sum(axis=-1)
    if reduce == "abs_sum":
        return np.abs(grad).sum(axis=-1)
    return grad


def saliency(model, image, class_index=None, method: str = "vanilla", samples: int = 25, noise: float = 0.15,
             seed=None, reduce="max_abs", logits: bool = True) -> np.ndarray:
    """Gradient of a class score with respect to the input pixels.

    Parameters
    ----------
    model : built Sequential or functional Model with one image input and one output
    image : (H, W, C) (or (H, W) for one channel), or a batch (N, H, W, C); float64 gives float64
    class_index : int or list of ints (one per image), optional
        Class numbers from 0 (negative indices are rejected). Default: the predicted class of each image.
    method : "vanilla" | "gradient_x_input" | "smoothgrad"
        Plain gradient (Simonyan et al. 2014); gradient times input; or the gradient
        averaged over ``samples`` copies with Gaussian noise of standard deviation
        ``noise * (max - min)`` of the image (Smilkov et al. 2017), drawn from ``seed``.
    reduce : "max_abs" (default, per pixel the largest |value| over channels), "sum",
        "abs_sum" or None (keep the channels: the raw (H, W, C) gradient)
    logits : bool
        Differentiate the pre-softmax score when the model ends in a softmax.

    Returns
    -------
    ndarray (H, W) (or (H, W, C) with ``reduce=None``), a leading N for a batch.
    """
    if method not in _METHODS:
        raise ValueError(f"`method` must be one of {', '.join(_METHODS)}. Received: method={method!r}.")
    if reduce not in _REDUCTIONS:
        raise ValueError(f'`reduce` must be "max_abs", "sum", "abs_sum" or None. Received: reduce={reduce!r}.')
    batch, single = as_batch(model, image)
    if method == "smoothgrad":
        if not isinstance(samples, (int, np.integer)) or samples < 1:
            raise ValueError(f"`samples` must be a positive integer. Received: samples={samples!r}.")
        if class_index is None:
            class_index = _predicted(model, batch, logits)
        rng = make_rng(seed)
        span = (batch.max(axis=(1, 2, 3)) - batch.min(axis=(1, 2, 3)))[:, None, None, None, None]
        noisy = batch[:, None] + rng.normal(size=(len(batch), samples) + batch.shape[1:]) * noise * span
        classes = np.repeat(_class_indices(class_index, len(batch)), samples)
        grad = _input_gradient(model, noisy.reshape((-1,) + batch.shape[1:]).astype(batch.dtype), classes, logits)
        grad = grad.reshape(noisy.shape).mean(axis=1)
    else:
        grad = _input_gradient(model, batch, class_index, logits)
        if method == "gradient_x_input":
            grad = grad * batch
    result = _reduce(grad, reduce)
    return result[0] if single else result


def grad_cam(model, image, class_index=None, layer=None, logits: bool = True) -> np.ndarray:
    """Grad-CAM heat map (Selvaraju et al. 2017), upsampled to the image size, scaled to [0, 1].

    The feature maps A of ``layer`` (default: the last convolution layer) are weighted
    by the spatial mean of d(score)/dA per channel, summed, passed through ReLU,
    resized bilinearly to (H, W) and divided by their maximum.

    Returns
    -------
    ndarray (H, W) float32 (a leading N for a batch).
    """
    layer = last_conv_layer(model) if layer is None else get_layer(model, layer)
    symbolic = layer_output(model, layer)
    if len(symbolic.shape) != 4:
        raise ValueError(f"Grad-CAM needs a layer whose output is a feature map (batch, height, width, channels); "
                         f"layer '{layer.name}' outputs shape {symbolic.shape}.")
    batch, single = as_batch(model, image)
    held = {}

    def leaf(value):
        held["A"] = Tensor(value.numpy(), requires_grad=True)
        return held["A"]

    with frozen_weights(model), enable_grad(), _score_target(model, logits) as target:
        values = evaluate(model, Tensor(batch), [target], replace={id(symbolic): leaf})[0]
        scores, _ = _scores(values, class_index, len(batch))
        scores.sum().backward()
    features, grads = held["A"].numpy(), held["A"].grad
    weights = grads.mean(axis=(1, 2), keepdims=True)
    cams = np.maximum((weights * features).sum(axis=-1), 0.0)
    out = np.stack([resize(cam, batch.shape[1:3]) for cam in cams])
    peak = out.max(axis=(1, 2), keepdims=True)
    out = np.where(peak > 0, out / np.where(peak > 0, peak, 1), 0.0).astype(np.float32)
    return out[0] if single else out


def _positions(n: int, patch: int, stride: int) -> list:
    starts = list(range(0, max(n - patch, 0) + 1, stride))
    if starts[-1] + patch < n:
        starts.append(n - patch)  # cover the last rows/columns too
    return starts


def occlusion(model, image, class_index=None, patch: int | None = None, stride: int | None = None,
              fill=None, batch_size: int = 64) -> np.ndarray:
    """Occlusion sensitivity (Zeiler and Fergus 2014): how much the class output drops per pixel.

    A ``patch`` x ``patch`` square of value ``fill`` (default: the image's mean per
    channel) slides with ``stride``; each pixel gets the mean drop of the model's
    output for ``class_index`` (default: the predicted class) over the patches covering it.

    Returns
    -------
    ndarray (H, W) float32; positive where hiding the pixels lowers the class output.
    """
    batch, single = as_batch(model, image)
    if not single:
        classes = [None] * len(batch) if class_index is None else _class_indices(class_index, len(batch))
        return np.stack([occlusion(model, x, c, patch, stride, fill, batch_size) for x, c in zip(batch, classes)])
    h, w = batch.shape[1:3]
    patch = max(1, round(min(h, w) / 4)) if patch is None else patch
    stride = max(1, patch // 2) if stride is None else stride
    for name, value, top in (("patch", patch, min(h, w)), ("stride", stride, None)):
        if not isinstance(value, (int, np.integer)) or value < 1 or (top is not None and value > top):
            raise ValueError(f"`{name}` must be a positive integer{f' <= {top}' if top else ''}. "
                             f"Received: {name}={value!r}.")
    fill = batch[0].mean(axis=(0, 1)) if fill is None else fill
    spots = [(t, l) for t in _positions(h, patch, stride) for l in _positions(w, patch, stride)]
    outputs = [_outputs(model, batch)]
    for first in range(0, len(spots), batch_size):
        chunk = spots[first:first + batch_size]
        hidden = np.repeat(batch, len(chunk), axis=0)
        for k, (t, l) in enumerate(chunk):
            hidden[k, t:t + patch, l:l + patch] = fill
        outputs.append(_outputs(model, hidden))
    values = np.concatenate(outputs)
    index = int(np.argmax(values[0])) if class_index is None else int(_class_indices(class_index, 1)[0])
    if index >= values.shape[1]:
        raise ValueError(f"`class_index` must be an integer in [0, {values.shape[1]}). "
                         f"Received: class_index={class_index!r}.")
    drops = values[0, index] - values[1:, index]
    total, count = np.zeros((h, w)), np.zeros((h, w))
    for (t, l), drop in zip(spots, drops):
        total[t:t + patch, l:l + patch] += drop
        count[t:t + patch, l:l + patch] += 1
    return (total / np.maximum(count, 1)).astype(np.float32)


def _outputs(model, batch: np.ndarray) -> np.ndarray:
    with no_grad():
        values = evaluate(model, Tensor(batch), [model.outputs[0]])[0].numpy()
    if values.ndim != 2:
        raise ValueError(f"The model's output must have shape (batch, classes). Received: {values.shape}.")
    return values
