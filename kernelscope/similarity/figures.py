"""Figures for metric learning (need the ``plot`` extra): embeddings in 2-D, and verification pairs."""

from __future__ import annotations

import numpy as np

from .verification import embed

__all__ = ["plot_embeddings", "plot_pairs", "plot_roc", "project_2d"]

_METHODS = ("pca", "tsne")


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError('The similarity figures need matplotlib: pip install "kernelscope[plot]"') from error
    return Figure


def project_2d(features: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """``(N, D)`` features as ``(N, 2)`` points: scikit-learn's PCA or t-SNE."""
    if method not in _METHODS:
        raise ValueError(f"`method` must be one of {_METHODS}. Received: method={method!r}.")
    try:
        from sklearn.decomposition import PCA
        from sklearn.manifold import TSNE
    except ImportError as error:
        raise ImportError('The 2-D projection needs scikit-learn: pip install "kernelscope[sklearn]"') from error
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(features)
    return TSNE(n_components=2, random_state=seed, perplexity=min(30.0, (len(features) - 1) / 3)).fit_transform(features)


def plot_embeddings(model, x, labels, method: str = "pca", seed: int = 0, batch_size: int = 256):
    """A matplotlib Figure of ``model``'s embeddings of ``x`` in 2-D (PCA or t-SNE), coloured by ``labels``."""
    Figure = _figure_class()
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(x):
        raise ValueError(f"`x` and `labels` must have the same length. Received: {len(x)} and {len(labels)}.")
    points = project_2d(embed(model, x, batch_size), method, seed)
    figure = Figure(figsize=(5.5, 4.5))
    ax = figure.subplots()
    for label in np.unique(labels):
        mask = labels == label
        ax.scatter(points[mask, 0], points[mask, 1], s=10, label=str(label))
    ax.legend(fontsize=7, markerscale=1.5, loc="best")
    ax.set_title(f"Embeddings ({'PCA' if method == 'pca' else 't-SNE'})", fontsize=10)
    ax.set_xticks([]), ax.set_yticks([])
    return figure


def plot_pairs(a, b, distances, threshold: float, same=None, n: int = 8):
    """A grid of ``n`` verification pairs: each pair's two images, its distance and the decision.

    ``same`` (True for matching pairs), when given, marks wrong decisions in red.
    """
    Figure = _figure_class()
    a, b, distances = np.asarray(a), np.asarray(b), np.asarray(distances).reshape(-1)
    if not len(a) == len(b) == len(distances):
        raise ValueError(f"`a`, `b` and `distances` must have one entry per pair. Received: {len(a)}, {len(b)} "
                         f"and {len(distances)}.")
    n = max(1, min(int(n), len(a)))
    figure = Figure(figsize=(1.5 * n, 3.6))
    axes = np.asarray(figure.subplots(2, n, squeeze=False))
    for col in range(n):
        said_same = distances[col] <= threshold
        wrong = same is not None and bool(np.asarray(same).reshape(-1)[col]) != said_same
        for row, image in enumerate((a[col], b[col])):
            ax = axes[row, col]
            ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray")
            ax.set_xticks([]), ax.set_yticks([])
        axes[0, col].set_title(f"d={distances[col]:.2f}\n{'same' if said_same else 'different'}", fontsize=8,
                               color="red" if wrong else "black")
    figure.suptitle(f"Verification pairs (threshold {threshold:.2f}; red: wrong)", fontsize=9)
    return figure


def plot_roc(curves: dict, threshold_point: tuple | None = None):
    """ROC curves of verification: ``curves`` maps a label to ``(distances, same)`` of its pairs.

    Each curve is scikit-learn's ``roc_curve`` with "same" as the positive class scored by
    minus the distance, labelled with its AUC; ``threshold_point`` ``(false positive rate,
    true positive rate)`` marks the chosen threshold.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    Figure = _figure_class()
    figure = Figure(figsize=(4.5, 4.2))
    ax = figure.subplots()
    for label, (distances, same) in curves.items():
        same = np.asarray(same).reshape(-1).astype(bool)
        scores = -np.asarray(distances, dtype=np.float64).reshape(-1)
        false_positive, true_positive, _ = roc_curve(same, scores)
        ax.plot(false_positive, true_positive, label=f"{label} (AUC {roc_auc_score(same, scores):.3f})")
    if threshold_point is not None:
        ax.plot(*threshold_point, "ko", label="threshold (equal error rate)")
    ax.plot([0, 1], [0, 1], color="0.7", linestyle="--", linewidth=1)
    ax.set_xlabel("false positive rate (different pairs called same)")
    ax.set_ylabel("true positive rate")
    ax.set_title("Verification ROC", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return figure
