"""Classification metrics from labels alone (NumPy): confusion matrix, per-class precision and recall.

The one-shot summary the HTML report and ``kernelscope evaluate`` print; the stateful Keras metrics
are in :mod:`kernelscope.metrics.base` and :mod:`kernelscope.metrics.confusion`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["ClassificationMetrics", "classification_metrics"]


class ClassificationMetrics(NamedTuple):
    """``confusion[i, j]``: test images of true class ``i`` predicted as ``j``."""

    accuracy: float
    confusion: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray


def classification_metrics(y_true, y_pred, n_classes: int) -> ClassificationMetrics:
    """Accuracy, confusion matrix and per-class precision/recall/F1 (0 where undefined, as scikit-learn).

    >>> m = classification_metrics([0, 0, 1, 1], [0, 1, 1, 1], 2)
    >>> m.confusion.tolist(), m.precision.round(3).tolist(), m.recall.tolist()
    ([[1, 1], [0, 2]], [1.0, 0.667], [0.5, 1.0])
    """
    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"`y_true` and `y_pred` must have the same length. Received: {len(y_true)} and {len(y_pred)}.")
    confusion = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
    hits = np.diag(confusion).astype(np.float64)
    predicted, support = confusion.sum(axis=0), confusion.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros(n_classes), where=predicted > 0)
    recall = np.divide(hits, support, out=np.zeros(n_classes), where=support > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros(n_classes), where=total > 0)
    accuracy = float(hits.sum() / max(len(y_true), 1))
    return ClassificationMetrics(accuracy, confusion, precision, recall, f1, support)
