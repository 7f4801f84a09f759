"""Face-verification style decisions on embeddings: same or not, the threshold, one-shot recognition.

Verification answers "are these two the same?" by thresholding a distance;
one-shot recognition answers "which of the known ones is this?" from a single
(or a few) example per class, by the nearest class prototype
(:class:`kernelscope.sklearn.OneShotClassifier`).
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from .distances import check_distance, l2_normalize, pairwise_distances

__all__ = ["embed", "distance_matrix", "pair_distances", "verify", "choose_threshold", "one_shot_accuracy"]


def embed(model, x, batch_size: int = 256) -> np.ndarray:
    """The embedding network's output for ``x`` as a float64 array ``(N, D)``."""
    out = np.asarray(model.predict(np.asarray(x), batch_size=batch_size, verbose=0), dtype=np.float64)
    return out.reshape(len(out), -1)


def distance_matrix(a: np.ndarray, b: np.ndarray, distance: str = "euclidean") -> np.ndarray:
    """Distances between rows of ``a`` and rows of ``b``, ``(len(a), len(b))``, in float64."""
    with no_grad():
        return pairwise_distances(np.asarray(a, np.float64), distance, other=np.asarray(b, np.float64)).numpy()


def pair_distances(model, a, b, distance: str = "euclidean", batch_size: int = 256) -> np.ndarray:
    """``d(f(a_i), f(b_i))`` for each pair ``i``, ``(N,)``."""
    check_distance(distance)
    if len(a) != len(b):
        raise ValueError(f"`a` and `b` must hold the same number of samples. Received: {len(a)} and {len(b)}.")
    ea, eb = embed(model, a, batch_size), embed(model, b, batch_size)
    if distance == "cosine":
        with no_grad():
            return 1.0 - (l2_normalize(ea) * l2_normalize(eb)).sum(axis=1).numpy()
    squared = np.square(ea - eb).sum(axis=1)
    return squared if distance == "squared_euclidean" else np.sqrt(squared)


def verify(model, a, b, threshold: float, distance: str = "euclidean", batch_size: int = 256) -> tuple:
    """``(same, distances)``: ``same[i]`` is True when pair ``i`` is closer than ``threshold``."""
    if not np.isfinite(threshold):
        raise ValueError(f"`threshold` must be a finite number. Received: threshold={threshold!r}.")
    distances = pair_distances(model, a, b, distance, batch_size)
    return distances <= threshold, distances


def choose_threshold(distances, same) -> dict:
    """The distance threshold at the equal-error rate of validation pairs (through scikit-learn's ``roc_curve``).

    ``same`` is True (or 1) for matching pairs. Returns ``{"threshold", "eer", "auc"}``:
    pairs at most ``threshold`` apart are called the same.
    """
    try:
        from sklearn.metrics import roc_auc_score, roc_curve
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError('choose_threshold needs scikit-learn: pip install "kernelscope[sklearn]"') from error
    distances = np.asarray(distances, dtype=np.float64).reshape(-1)
    same = np.asarray(same).reshape(-1).astype(bool)
    if len(distances) != len(same) or same.all() or not same.any():
        raise ValueError("`distances` and `same` must have one entry per pair, with matching and non-matching "
                         f"pairs both present. Received: {len(distances)} distances, {len(same)} labels, "
                         f"{int(same.sum())} matching.")
    false_positive, true_positive, thresholds = roc_curve(same, -distances)  # a higher score is "more same"
    false_negative = 1.0 - true_positive
    best = int(np.argmin(np.abs(false_negative - false_positive)))
    return {"threshold": float(-thresholds[best]),
            "eer": float((false_positive[best] + false_negative[best]) / 2),
            "auc": float(roc_auc_score(same, -distances))}


def one_shot_accuracy(model, x_support, y_support, x_query, y_query, shots: int = 1, draws: int = 20,
                      distance: str = "euclidean", seed=None, batch_size: int = 256) -> np.ndarray:
    """Accuracy of nearest-prototype recognition from ``shots`` examples per class, for each of ``draws`` draws.

    Each draw picks ``shots`` examples of every class of ``y_query`` from ``(x_support, y_support)``
    (without replacement), averages their embeddings into a prototype and labels every
    query by its nearest prototype (as :class:`kernelscope.sklearn.OneShotClassifier`).
    Returns the ``(draws,)`` accuracies: average them, one draw of one example is a noisy measure.
    """
    from .. import rng as rng_module

    check_distance(distance)
    y_support, y_query = np.asarray(y_support).reshape(-1), np.asarray(y_query).reshape(-1)
    if len(x_support) != len(y_support) or len(x_query) != len(y_query):
        raise ValueError("Samples and labels must have the same length. Received: "
                         f"{len(x_support)} and {len(y_support)} support, {len(x_query)} and {len(y_query)} query.")
    classes = np.unique(y_query)
    pools = [np.flatnonzero(y_support == c) for c in classes]
    short = [str(c) for c, pool in zip(classes, pools) if len(pool) < shots]
    if short:
        raise ValueError(f"Every query class needs at least shots={shots} support examples. Classes short of them: "
                         f"{', '.join(short)}.")
    gen = rng_module.make_rng(seed)
    support, queries = embed(model, x_support, batch_size), embed(model, x_query, batch_size)
    accuracies = []
    for _ in range(int(draws)):
        prototypes = np.stack([support[gen.choice(pool, shots, replace=False)].mean(axis=0) for pool in pools])
        nearest = np.argmin(distance_matrix(queries, prototypes, distance), axis=1)
        accuracies.append(float(np.mean(classes[nearest] == y_query)))
    return np.asarray(accuracies)
