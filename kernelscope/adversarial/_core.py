"""What every attack shares: argument checks, the loss gradient with respect to the input,
and the projections that keep a perturbation inside its norm ball and the pixel range.

The gradient comes from the public ``ks.GradientTape`` (the input is watched, the
weights are frozen so their ``.grad`` is never touched). By default the loss is the
cross-entropy of the pre-softmax scores: a confident model's softmax saturates to
exactly 1.0 in float32, and the clipped log of a saturated probability has a zero
gradient, which would leave FGSM with nothing to take the sign of.
"""

# N batch, H/W height/width, C channels, K classes

from __future__ import annotations

import math

import numpy as np

from ..autograd import Tensor, no_grad
from ..gradient_tape import GradientTape

NORMS = ("inf", 2)


# ------------------------------------------------------------------ checks


def check_eps(eps, name: str = "eps") -> float:
    """``eps`` as a float, refused unless it is a finite number >= 0."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
        raise TypeError(f"`{name}` must be a number (the perturbation budget). Received: {name}={eps!r}.")
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"`{name}` must be a finite number >= 0 (the largest change allowed, in the units of "
                         f"the model's input). Received: {name}={eps!r}.")
    return float(eps)


def check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}.")
    return int(value)


def check_norm(norm):
    if isinstance(norm, str) and norm.lower() == "inf" or norm == np.inf:
        return "inf"
    if norm == 2 and not isinstance(norm, bool):
        return 2
    raise ValueError(f'`norm` must be "inf" (L-infinity) or 2 (L2). Received: norm={norm!r}.')


def check_clip(clip):
    """``clip`` as (low, high) floats with low < high, or None (no pixel range)."""
    if clip is None:
        return None
    try:
        low, high = (float(v) for v in clip)
    except (TypeError, ValueError):
        raise ValueError("`clip` must be None or the valid pixel range as (low, high), e.g. (0, 1) or (0, 255). "
                         f"Received: clip={clip!r}.") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"`clip` must be a finite range (low, high) with low < high. Received: clip={clip!r}.")
    return low, high


def check_in_range(x: np.ndarray, clip, name: str = "x") -> None:
    """Refuse input outside the model's input range: an attack clipped to (0, 1) on 0..255 pixels
    would otherwise quietly turn every image white."""
    if clip is None or x.size == 0:
        return
    low, high = float(np.min(x)), float(np.max(x))
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"`{name}` holds NaN or infinite values.")
    if low < clip[0] or high > clip[1]:
        raise ValueError(f"`{name}` must lie in the model's input range clip=({clip[0]:g}, {clip[1]:g}). "
                         f"Received: values from {low:g} to {high:g}. Pass the range the model reads as `clip` "
                         "(e.g. clip=(0, 255) for a model that starts with Rescaling(1/255)).")


def as_batch(model, x, name: str = "x") -> tuple:
    """``x`` as a float (N, H, W, C) batch (one image is accepted too), and whether it was one image."""
    from ..explain._graph import as_batch as graph_batch

    if getattr(model, "inputs", None):
        try:
            return graph_batch(model, x)
        except (TypeError, ValueError) as error:
            raise type(error)(str(error).replace("`image`", f"`{name}`")) from None
    array = np.asarray(x.numpy() if isinstance(x, Tensor) else x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must hold numbers. Received: dtype={array.dtype}.")
    dtype = array.dtype if array.dtype.kind == "f" else np.dtype(getattr(model, "dtype", "float32"))
    return array.astype(dtype, copy=False), False


def check_labels(y, n: int, classes: int, name: str = "y") -> np.ndarray:
    """Class numbers (N,) from integer labels (N,) / (N, 1), one per image, or one-hot rows (N, K)."""
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] == classes and classes > 1 and labels.dtype.kind == "f":
        labels = labels.argmax(axis=1)
    labels = labels.reshape(-1) if labels.ndim == 2 and labels.shape[1] == 1 else labels
    if labels.ndim == 0:
        labels = np.full(n, labels)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(f"`{name}` must hold one class number per image ({n}) or one-hot rows ({n}, {classes}). "
                         f"Received: {name} of shape {np.shape(y)}.")
    if labels.dtype.kind == "f" and np.all(labels == np.round(labels)):
        labels = labels.astype(np.int64)
    if labels.dtype.kind not in "iu" or (n and (labels.min() < 0 or labels.max() >= classes)):
        raise ValueError(f"`{name}` must hold class numbers in [0, {classes}) for a model with {classes} classes. "
                         f"Received: {name} with values {_value_span(labels)}.")
    return labels.astype(np.int64)


def _value_span(labels: np.ndarray) -> str:
    if labels.size == 0:
        return "none"
    return f"from {labels.min().item()!r} to {labels.max().item()!r}" if labels.dtype.kind in "iuf" else f"of dtype {labels.dtype}"


# ------------------------------------------------------------- gradients


def logits(model, x: Tensor) -> Tensor:
    """The model's class scores before a final softmax (its output if it ends otherwise)."""
    from ..explain._graph import evaluate
    from ..explain.attribution import _score_target

    if not getattr(model, "outputs", None):  # a subclassed model: only its output is known
        return model(x, training=False)
    with _score_target(model, logits=True) as target:
        return evaluate(model, x, [target])[0]


def predict_classes(model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The predicted class of each image, (N,)."""
    out = []
    with no_grad():
        for start in range(0, len(x), batch_size):
            out.append(np.asarray(logits(model, Tensor(x[start:start + batch_size])).numpy()).argmax(axis=-1))
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def probabilities(model, x: np.ndarray) -> np.ndarray:
    """Softmax of the class scores, (N, K): the model's own probabilities when it ends in a softmax."""
    with no_grad():
        scores = np.asarray(logits(model, Tensor(x)).numpy(), dtype=np.float64)
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return scores / scores.sum(axis=-1, keepdims=True)


def n_classes(model, x: np.ndarray) -> int:
    """The number of classes the model scores (from its output shape, else from one forward pass)."""
    outputs = getattr(model, "outputs", None) or []
    if len(outputs) == 1 and outputs[0].shape[-1] is not None:
        return int(outputs[0].shape[-1])
    with no_grad():
        return int(np.shape(logits(model, Tensor(x[:1])).numpy())[-1])


def loss_gradient(model, x: np.ndarray, labels, loss=None) -> np.ndarray:
    """d(loss)/d(x) for a batch; ``labels`` are class numbers (default loss) or what ``loss`` takes."""
    from .. import losses

    from ..explain._graph import frozen_weights

    source = Tensor(x)
    with frozen_weights(model), GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(source)
        if loss is None:
            value = losses.sparse_categorical_crossentropy(labels, logits(model, source), from_logits=True)
        else:
            value = losses.get(loss)(labels, model(source, training=False))
        value = value.sum() if value.ndim else value
    return np.asarray(tape.gradient(value, source).numpy())


# ------------------------------------------------------------ projection


def bound_for(eps: float, dtype) -> float:
    """The largest value of ``dtype`` that is <= eps, so |x_adv - x| <= eps holds in ``dtype`` too."""
    value = np.asarray(eps, dtype=dtype)
    return float(value if float(value) <= eps else np.nextafter(value, dtype.type(0)))


def project(x: np.ndarray, x_adv: np.ndarray, eps: float, norm, clip) -> np.ndarray:
    """``x_adv`` moved into the ``norm`` ball of radius ``eps`` around ``x``, then into ``clip``."""
    x64, adv64 = x.astype(np.float64), x_adv.astype(np.float64)
    bound = bound_for(eps, x.dtype)
    delta = adv64 - x64
    if norm == "inf":
        delta = np.clip(delta, -bound, bound)
    else:
        length = np.sqrt((delta ** 2).reshape(len(delta), -1).sum(axis=1))
        scale = np.minimum(1.0, bound / np.maximum(length, 1e-300))
        delta = delta * scale.reshape((-1,) + (1,) * (delta.ndim - 1))
    adv64 = x64 + delta
    if clip is not None:
        adv64 = np.clip(adv64, *clip)
    return _within(x, adv64.astype(x.dtype), bound, norm)


def _within(x: np.ndarray, x_adv: np.ndarray, bound: float, norm) -> np.ndarray:
    """Undo the rounding of the cast: a pixel one unit-in-the-last-place past the bound steps back."""
    if norm != "inf":
        return x_adv
    for _ in range(4):
        over = np.abs(x_adv.astype(np.float64) - x.astype(np.float64)) > bound
        if not over.any():
            break
        x_adv = np.where(over, np.nextafter(x_adv, x), x_adv)
    return x_adv


def step_direction(grad: np.ndarray, norm) -> np.ndarray:
    """The steepest-ascent direction of unit norm: sign(grad) for L-inf, grad/||grad||_2 for L2."""
    if norm == "inf":
        return np.sign(grad)
    length = np.sqrt((grad.astype(np.float64) ** 2).reshape(len(grad), -1).sum(axis=1))
    return (grad / np.maximum(length, 1e-12).reshape((-1,) + (1,) * (grad.ndim - 1))).astype(grad.dtype)
