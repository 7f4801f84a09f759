"""Utilities with Keras's names: seeding, one-hot labels, resetting layer names.

>>> import kernelscope as ks
>>> ks.utils.to_categorical([0, 2, 1], num_classes=3)
array([[1., 0., 0.],
       [0., 0., 1.],
       [0., 1., 0.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from ..layers.base import clear_session as _clear_names
from ..rng import set_random_seed as _set_seed
from .py_dataset import PyDataset, Sequence

__all__ = ["set_random_seed", "to_categorical", "clear_session", "PyDataset", "Sequence"]


def set_random_seed(seed: int) -> None:
    """Seed kernelscope's root generator (and Python's and NumPy's global ones, as Keras does).

    Built after this call, the same model trained on the same data repeats bit for bit.
    """
    _set_seed(seed)


def clear_session() -> None:
    """Reset automatic layer names so the next Dense is ``dense`` again (as ``keras.backend.clear_session``)."""
    _clear_names()


def to_categorical(y, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels: shape ``(n,)`` (or ``(n, 1)``) -> ``(n, num_classes)`` float32.

    Parameters
    ----------
    y : array_like of int
        Class indices in ``[0, num_classes)``.
    num_classes : int, optional
        Defaults to ``max(y) + 1``.
    """
    labels = np.asarray(y)
    if labels.dtype.kind not in "biuf" or (labels.dtype.kind == "f" and np.any(labels != np.round(labels))):
        raise ValueError(f"`y` must hold integer class labels. Received: dtype={labels.dtype}.")
    labels = labels.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if labels.size and labels.min() < 0:
        raise ValueError(f"`y` must hold class labels >= 0. Received: a label {int(labels.min())}.")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"`num_classes` must be a positive integer. Received: num_classes={num_classes!r}.")
    elif labels.size and labels.max() >= num_classes:
        raise ValueError(f"`y` contains the label {int(labels.max())}, which is not below "
                         f"num_classes={num_classes}.")
    out = np.zeros((labels.size, int(num_classes)), dtype=np.float32)
    out[np.arange(labels.size), labels] = 1.0
    return out.reshape(shape + (int(num_classes),))
