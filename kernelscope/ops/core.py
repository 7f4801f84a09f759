"""Shape, reduction and cross-entropy ops on Tensors or arrays.

Every op accepts Tensors or array-likes and returns a Tensor whose backward is
written in closed form next to the forward. The cross-entropy pieces take raw
logits and are stable for any logit magnitude: they never form ``exp(logit)``
of a large positive number.
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np

from ..autograd import Tensor, as_tensor, make_result

__all__ = [
    "matmul",
    "concatenate",
    "stack",
    "split",
    "reshape",
    "transpose",
    "expand_dims",
    "squeeze",
    "flatten",
    "cast",
    "sum",
    "mean",
    "max",
    "min",
    "softmax_cross_entropy_with_logits",
    "sparse_softmax_cross_entropy_with_logits",
    "sigmoid_cross_entropy_with_logits",
]

# ------------------------------------------------------------------ helpers
def normalize_axis(axis, ndim: int, name: str = "axis") -> int:
    """Return ``axis`` as a non-negative int, checking it against ``ndim``."""
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
        raise TypeError(f"`{name}` must be an integer. Received: {name}={axis!r}.")
    if not -ndim <= axis < ndim:
        raise ValueError(f"`{name}` is out of range for an input of rank {ndim}: expected "
                         f"{-ndim} <= {name} < {ndim}. Received: {name}={axis}.")
    return int(axis) % ndim


def normalize_axes(axis, ndim: int, name: str = "axis"):
    """``None`` stays ``None``; an int or a sequence of ints becomes a sorted tuple."""
    if axis is None:
        return None
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    axes = tuple(sorted(normalize_axis(a, ndim, name) for a in items))
    if len(set(axes)) != len(axes):
        raise ValueError(f"`{name}` must not repeat an axis. Received: {name}={axis!r}.")
    return axes


def _tensors(tensors, name: str) -> list:
    if isinstance(tensors, (Tensor, np.ndarray)) or not isinstance(tensors, Sequence) or not tensors:
        raise ValueError(f"`{name}` needs a non-empty list of tensors. Received: {type(tensors).__name__}.")
    return [as_tensor(t) for t in tensors]


# ------------------------------------------------------------ shape changes
def matmul(x1, x2) -> Tensor:
    """Matrix product with NumPy broadcasting rules (``x1 @ x2``)."""
    a = as_tensor(x1)
    return a @ as_tensor(x2, like=a)


def concatenate(xs: Sequence, axis: int = 0) -> Tensor:
    """Join tensors along an existing ``axis`` (default 0, as ``keras.ops``); the other dimensions must agree."""
    ts = _tensors(xs, "xs")
    ndim = ts[0].ndim
    if ndim == 0 or any(t.ndim != ndim for t in ts):
        raise ValueError("All inputs to `concatenate` must have the same rank >= 1. "
                         f"Received: shapes={[t.shape for t in ts]}.")
    axis = normalize_axis(axis, ndim)
    other = [t.shape[:axis] + t.shape[axis + 1:] for t in ts]
    if any(s != other[0] for s in other):
        raise ValueError(f"All inputs to `concatenate` must match except along axis={axis}. "
                         f"Received: shapes={[t.shape for t in ts]}.")
    bounds = np.cumsum([t.shape[axis] for t in ts])[:-1]

    def backward(g):
        return tuple(np.split(g, bounds, axis=axis))

    return make_result(np.concatenate([t.data for t in ts], axis=axis), ts, backward)


def stack(x: Sequence, axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new ``axis``."""
    ts = _tensors(x, "x")
    if any(t.shape != ts[0].shape for t in ts):
        raise ValueError(f"All inputs to `stack` must have the same shape. Received: shapes={[t.shape for t in ts]}.")
    axis = normalize_axis(axis, ts[0].ndim + 1)

    def backward(g):
        return tuple(np.moveaxis(g, axis, 0))

    return make_result(np.stack([t.data for t in ts], axis=axis), ts, backward)


def split(x, indices_or_sections, axis: int = 0) -> list:
    """Split ``x`` into equal sections (an int) or at the given indices (a list).

    Returns a list of Tensors; each piece sends its gradient back to its slice.
    """
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError("`split` needs an input of rank >= 1. Received: shape=().")
    axis = normalize_axis(axis, x.ndim)
    n = x.shape[axis]
    if isinstance(indices_or_sections, numbers.Integral) and not isinstance(indices_or_sections, bool):
        sections = int(indices_or_sections)
        if sections < 1 or n % sections:
            raise ValueError(f"`indices_or_sections` must divide the size {n} of axis {axis} into equal parts. "
                             f"Received: indices_or_sections={sections}.")
        cuts = [i * (n // sections) for i in range(1, sections)]
    elif isinstance(indices_or_sections, (list, tuple)) and all(
            isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in indices_or_sections):
        cuts = [int(i) for i in indices_or_sections]
    else:
        raise TypeError("`indices_or_sections` must be an integer or a list of integers. "
                        f"Received: indices_or_sections={indices_or_sections!r}.")
    starts, stops = [0, *cuts], [*cuts, n]
    pieces = []
    for start, stop in zip(starts, stops):
        index = (slice(None),) * axis + (slice(start, stop),)
        pieces.append(x[index])
    return pieces


def reshape(x, newshape=None, *, shape=None) -> Tensor:
    """Give ``x`` a new shape with the same number of elements (one entry may be -1).

    ``newshape`` is Keras's name; ``shape=`` is kernelscope's earlier spelling, still accepted.
    """
    x = as_tensor(x)
    if (newshape is None) == (shape is None):
        raise TypeError(f"`reshape` needs `newshape` (exactly once). Received: newshape={newshape!r}, "
                        f"shape={shape!r}.")
    shape = newshape if shape is None else shape
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if not _all_ints(shape):
        raise TypeError(f"`newshape` must be a tuple of integers. Received: newshape={shape!r}.")
    known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
    free = shape.count(-1)
    if (free > 1 or any(s < -1 for s in shape)
            or (free == 0 and known != x.size) or (free == 1 and (known == 0 or x.size % known))):
        raise ValueError(f"Cannot reshape a tensor of shape {x.shape} ({x.size} elements) to "
                         f"`newshape`={shape}.")
    return x.reshape(shape)


def transpose(x, axes=None) -> Tensor:
    """Permute the axes of ``x``; ``axes=None`` reverses them."""
    x = as_tensor(x)
    if axes is None:
        return x.transpose()
    axes = tuple(axes)
    if not _all_ints(axes) or sorted(
            a % x.ndim if -x.ndim <= a < x.ndim else -1 for a in axes) != list(range(x.ndim)):
        raise ValueError(f"`axes` must be a permutation of the {x.ndim} axes of the input. Received: axes={axes}.")
    return x.transpose(tuple(a % x.ndim for a in axes))


def _all_ints(values) -> bool:
    return all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values)


def expand_dims(x, axis: int) -> Tensor:
    """Insert a length-1 axis at ``axis``."""
    x = as_tensor(x)
    axis = normalize_axis(axis, x.ndim + 1)
    return x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])


def squeeze(x, axis=None) -> Tensor:
    """Remove length-1 axes (all of them, or those in ``axis``)."""
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim)
    if axes is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    elif any(x.shape[a] != 1 for a in axes):
        raise ValueError(f"`squeeze` can only remove axes of size 1. Received: axis={axis} for shape {x.shape}.")
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))


def flatten(x) -> Tensor:
    """Keep the batch axis and flatten the rest: ``(N, ...) -> (N, prod(...))``."""
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError("`flatten` needs an input with a batch axis (rank >= 1). Received: shape=().")
    return x.reshape(x.shape[0], int(np.prod(x.shape[1:], dtype=np.int64)))


def cast(x, dtype) -> Tensor:
    """Convert to ``dtype``; gradients flow only into floating-point results."""
    x = as_tensor(x)
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"`dtype` must be a NumPy dtype or its name. Received: dtype={dtype!r}.") from error
    if dtype.kind != "f":
        return Tensor._constant(x.data.astype(dtype))
    return x.astype(dtype)


# --------------------------------------------------------------- reductions
def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001 - Keras name
    """Sum over ``axis`` (an int, a tuple, or ``None`` for all)."""
    x = as_tensor(x)
    return x.sum(axis=normalize_axes(axis, x.ndim), keepdims=keepdims)


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (an int, a tuple, or ``None`` for all)."""
    x = as_tensor(x)
    return x.mean(axis=normalize_axes(axis, x.ndim), keepdims=keepdims)


def max(x, axis=None, keepdims: bool = False, initial=None) -> Tensor:  # noqa: A001 - Keras name
    """Maximum over ``axis`` (at least ``initial`` if given); tied maxima share the gradient equally."""
    x = as_tensor(x)
    out = x.max(axis=normalize_axes(axis, x.ndim), keepdims=keepdims)
    return out if initial is None else out.maximum(initial)


def min(x, axis=None, keepdims: bool = False, initial=None) -> Tensor:  # noqa: A001 - Keras name
    """Minimum over ``axis`` (at most ``initial`` if given); tied minima share the gradient equally."""
    x = as_tensor(x)
    out = x.min(axis=normalize_axes(axis, x.ndim), keepdims=keepdims)
    return out if initial is None else out.minimum(initial)


# ------------------------------------------------------------ cross-entropy
def _log_softmax_array(z: np.ndarray, axis: int) -> np.ndarray:
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax_cross_entropy_with_logits(labels, logits, axis: int = -1) -> Tensor:
    """Per-sample ``-sum(labels * log_softmax(logits), axis)``.

    ``labels`` are probabilities (e.g. one-hot) of the same shape as ``logits``.
    The gradient w.r.t. the logits is ``softmax * sum(labels) - labels``.
    """
    logits = as_tensor(logits)
    labels = as_tensor(labels, like=logits)
    if labels.shape != logits.shape:
        raise ValueError(f"`labels` and `logits` must have the same shape. "
                         f"Received: labels.shape={labels.shape}, logits.shape={logits.shape}.")
    if logits.ndim == 0:
        raise ValueError("`logits` must have a class axis (rank >= 1). Received: shape=().")
    axis = normalize_axis(axis, logits.ndim)
    y = labels.data.astype(logits.dtype, copy=False)  # float32 logits keep a float32 loss
    log_p = _log_softmax_array(logits.data, axis)

    def backward(g):
        g = np.expand_dims(g, axis)
        g_labels = -g * log_p if labels.requires_grad else None
        g_logits = None
        if logits.requires_grad:
            g_logits = g * (np.exp(log_p) * np.sum(y, axis=axis, keepdims=True) - y)
        return g_labels, g_logits

    return make_result(-np.sum(y * log_p, axis=axis), (labels, logits), backward)


def _integer_labels(labels, logits: Tensor) -> np.ndarray:
    y = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if y.dtype.kind not in "biuf" or (y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0)):
        raise TypeError(f"`labels` must hold integer class indices. Received: dtype={y.dtype}.")
    if y.shape != logits.shape[:-1]:
        raise ValueError(f"`labels` must have the shape of `logits` without its last (class) axis, "
                         f"{logits.shape[:-1]}. Received: labels.shape={y.shape}, logits.shape={logits.shape}.")
    classes = logits.shape[-1]
    if y.size and (y.min() < 0 or y.max() >= classes):
        raise ValueError(f"`labels` must be class indices in [0, {classes}). "
                         f"Received: labels in [{y.min()}, {y.max()}].")
    return y.astype(np.intp)


def sparse_softmax_cross_entropy_with_logits(labels, logits) -> Tensor:
    """Per-sample ``logsumexp(logits) - logits[label]`` over the last axis.

    ``labels`` are integer class indices of shape ``logits.shape[:-1]``. The
    gradient w.r.t. the logits is ``softmax - one_hot(labels)``.
    """
    logits = as_tensor(logits)
    if logits.ndim == 0:
        raise ValueError("`logits` must have a class axis (rank >= 1). Received: shape=().")
    y = _integer_labels(labels, logits)
    log_p = _log_softmax_array(logits.data, -1)
    picked = np.take_along_axis(log_p, y[..., None], axis=-1)[..., 0]

    def backward(g):
        grad = np.exp(log_p)
        np.put_along_axis(grad, y[..., None], np.take_along_axis(grad, y[..., None], axis=-1) - 1, axis=-1)
        return (grad * g[..., None],)

    return make_result(-picked, (logits,), backward)


def sigmoid_cross_entropy_with_logits(labels, logits) -> Tensor:
    """Element-wise ``max(x, 0) - x * z + log(1 + exp(-|x|))`` for logits x, labels z.

    Equal to ``-z*log(sigmoid(x)) - (1-z)*log(1-sigmoid(x))`` but finite for any x.
    """
    logits = as_tensor(logits)
    labels = as_tensor(labels, like=logits)
    if labels.shape != logits.shape:
        raise ValueError(f"`labels` and `logits` must have the same shape. "
                         f"Received: labels.shape={labels.shape}, logits.shape={logits.shape}.")
    x, z = logits.data, labels.data.astype(logits.dtype, copy=False)
    e = np.exp(-np.abs(x))
    out = np.maximum(x, 0) - x * z + np.log1p(e)

    def backward(g):
        sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return (-g * x if labels.requires_grad else None,
                g * (sig - z) if logits.requires_grad else None)

    return make_result(out, (labels, logits), backward)


from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), __all__)
