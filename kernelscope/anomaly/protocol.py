"""The one-class protocol: each class in turn is normal, every other class an anomaly.

For each class, a detector is fitted on a random half of that class's samples
and scores the other halves of every class; the ROC AUC takes the normal class
as positive (``score_samples`` is higher for more normal samples). The same
split serves every detector, so their AUCs compare directly.
"""

from __future__ import annotations

import numpy as np

__all__ = ["one_class_split", "one_class_roc_auc"]


def one_class_split(labels, seed: int = 0) -> np.ndarray:
    """A boolean mask selecting a random half (rounded down) of each class's samples: the training half."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    first_half = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        index = np.flatnonzero(labels == label)
        first_half[rng.permutation(index)[: len(index) // 2]] = True
    return first_half


def one_class_roc_auc(make_detector, X, labels, seed: int = 0) -> np.ndarray:
    """Per class, the ROC AUC of a detector trained on half of that class (normal = positive).

    Parameters
    ----------
    make_detector : callable
        Returns a new unfitted detector with ``fit(X)`` and ``score_samples(X)``
        (an :class:`~kernelscope.anomaly.AutoencoderDetector`, or a scikit-learn
        pipeline ending in ``IsolationForest`` for flattened images).
    X : array of shape (n_samples, ...)
    labels : array of shape (n_samples,)
    seed : int
        Seed of the split (:func:`one_class_split`).

    Returns
    -------
    ndarray of one AUC per class, in the order of ``np.unique(labels)``.
    """
    from sklearn.metrics import roc_auc_score

    X, labels = np.asarray(X), np.asarray(labels)
    first_half = one_class_split(labels, seed)
    test = X[~first_half]
    aucs = []
    for label in np.unique(labels):
        detector = make_detector().fit(X[first_half & (labels == label)])
        aucs.append(roc_auc_score(labels[~first_half] == label, detector.score_samples(test)))
    return np.asarray(aucs)
