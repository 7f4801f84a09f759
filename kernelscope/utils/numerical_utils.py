"""``to_categorical`` and ``normalize``, as ``keras.utils`` (NumPy in, NumPy out; ``normalize`` also takes
``ks.Tensor`` and stays differentiable)."""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, where

__all__ = ["to_categorical", "normalize"]


def to_categorical(x, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels: shape ``(n,)`` (or ``(n, 1)``) -> ``(n, num_classes)`` float32.

    Parameters
    ----------
    x : array_like of int
        Class indices in ``[0, num_classes)``.
    num_classes : int, optional
        Defaults to ``max(y) + 1``.
    """
    labels = np.asarray(x)
    if labels.dtype.kind not in "biuf" or (labels.dtype.kind == "f" and np.any(labels != np.round(labels))):
        raise ValueError(f"`x` must hold integer class labels. Received: dtype={labels.dtype}.")
    labels = labels.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if labels.size and labels.min() < 0:
        raise ValueError(f"`x` must hold class labels >= 0. Received: a label {int(labels.min())}.")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"`num_classes` must be a positive integer. Received: num_classes={num_classes!r}.")
    elif labels.size and labels.max() >= num_classes:
        raise ValueError(f"`x` contains the label {int(labels.max())}, which is not below "
                         f"num_classes={num_classes}.")
    out = np.zeros((labels.size, int(num_classes)), dtype=np.float32)
    out[np.arange(labels.size), labels] = 1.0
    return out.reshape(shape + (int(num_classes),))


def normalize(x, axis: int | None = -1, order=2):
    """Divide ``x`` by its ``order``-norm along ``axis`` (a zero norm divides by 1), as ``keras.utils.normalize``.

    >>> normalize(np.array([[3.0, 4.0]]))
    array([[0.6, 0.8]])
    """
    if isinstance(x, Tensor):
        if isinstance(order, bool) or not isinstance(order, (int, float)) or not 0 < order < np.inf:
            raise ValueError(f"For a Tensor, `order` must be a positive finite number. Received: order={order!r}.")
        norm = (abs(x) ** order).sum(axis=-1 if axis is None else axis, keepdims=True) ** (1.0 / order)
        return x / where(norm.data == 0, 1.0, norm)
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, -1 if axis is None else axis)
