"""Metric-learning losses: the triplet loss with its mining rules, and keras-io's contrastive loss.

The slides' triplet loss over triplets (anchor A, positive P, negative N):
``max(d(A, P) - d(A, N) + alpha, 0)``, where ``d`` is the squared Euclidean
distance between embeddings, "trained with more similar negative examples":
which triplets of a batch count is the *mining* rule.

# N batch, D embedding size
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd import Tensor
from ..losses import Loss, LossFunctionWrapper, _prepare
from ..ops import relu
from ..saving import register_keras_serializable
from .distances import check_distance, pairwise_distances

__all__ = ["TripletLoss", "ContrastiveLoss", "contrastive_loss", "MINING"]

MINING = ("none", "hard", "semi-hard")


def _check_margin(margin) -> float:
    if isinstance(margin, bool) or not isinstance(margin, numbers.Real) or not np.isfinite(margin) or margin < 0:
        raise ValueError(f"`margin` must be a finite number >= 0. Received: margin={margin!r}.")
    return float(margin)


def _labels(y_true, n: int) -> np.ndarray:
    labels = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError("The triplet loss takes one class label per embedding: y_true of shape (batch,) and "
                         f"y_pred of shape (batch, embedding_size). Received: y_true.shape={labels.shape} "
                         f"for {n} embeddings.")
    return labels


# registered, so a model compiled with them saves and loads with its compile settings
@register_keras_serializable(package="kernelscope")
class TripletLoss(Loss):
    """The triplet loss over a batch of embeddings ``y_pred`` ``(N, D)`` and class labels ``y_true`` ``(N,)``.

    Parameters
    ----------
    margin : float, default=1.0
        The slides' ``alpha``.
    mining : {"semi-hard", "hard", "none"}, default="semi-hard"
        Which triplets count, for every anchor-positive pair (same label, two samples):

        - ``"semi-hard"`` (FaceNet; TensorFlow Addons' ``TripletSemiHardLoss``):
          the closest negative that is still farther than the positive; if there
          is none, the farthest negative. Averaged over the anchor-positive pairs.
        - ``"hard"`` (batch-hard; TF Addons' ``TripletHardLoss``): per anchor, its
          farthest positive and closest negative. Averaged over the anchors.
        - ``"none"``: every valid triplet (batch-all), averaged over them.
    distance : {"squared_euclidean", "euclidean", "cosine"}, default="squared_euclidean"
        ``d`` above; the slides use the squared Euclidean distance (TF Addons' default is ``"euclidean"``).

    A batch with no valid triplet (one class only, or every label unique) gives
    a loss of 0 with zero gradients, as no triplet constrains the embedding;
    draw batches with at least two classes and two samples of a class
    (:class:`kernelscope.similarity.TripletSampler` does). ``sample_weight``
    is refused: the loss is one number per batch, not one per sample.

    >>> import numpy as np
    >>> embeddings = np.array([[0.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    >>> float(TripletLoss(margin=1.0, mining="none")([0, 0, 1], embeddings).item())  # d(A,P)=1 + margin < d(A,N)=9
    0.0
    """

    def __init__(self, margin: float = 1.0, mining: str = "semi-hard", distance: str = "squared_euclidean",
                 name: str = "triplet_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = _check_margin(margin)
        if mining not in MINING:
            raise ValueError(f"`mining` must be one of {MINING}. Received: mining={mining!r}.")
        self.mining = mining
        self.distance = check_distance(distance)

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        if sample_weight is not None:
            raise ValueError("TripletLoss is one value per batch, so it takes no `sample_weight`. "
                             "Received: a sample_weight.")
        return super().__call__(y_true, y_pred)

    def call(self, y_true, y_pred) -> Tensor:
        distances = pairwise_distances(y_pred, self.distance)
        labels = _labels(y_true, distances.shape[0])
        same = labels[:, None] == labels[None, :]
        positive = same & ~np.eye(len(labels), dtype=bool)
        negative = ~same
        if self.mining == "none":
            return self._batch_all(distances, positive, negative)
        if self.mining == "hard":
            anchors = np.flatnonzero(positive.any(axis=1) & negative.any(axis=1))
            d = distances.data[anchors]
            pos = np.argmax(np.where(positive[anchors], d, -np.inf), axis=1)
            neg = np.argmin(np.where(negative[anchors], d, np.inf), axis=1)
            return self._mean_hinge(distances, anchors, pos, neg)
        anchors, pos = np.nonzero(positive & negative.any(axis=1, keepdims=True))
        d = distances.data[anchors]  # (pairs, N): each pair's anchor row
        d_ap = distances.data[anchors, pos][:, None]
        farther = negative[anchors] & (d > d_ap)
        closest_farther = np.argmin(np.where(farther, d, np.inf), axis=1)
        farthest = np.argmax(np.where(negative[anchors], d, -np.inf), axis=1)
        neg = np.where(farther.any(axis=1), closest_farther, farthest)
        return self._mean_hinge(distances, anchors, pos, neg)

    def _mean_hinge(self, distances: Tensor, anchors, pos, neg) -> Tensor:
        if len(anchors) == 0:
            return distances.sum() * 0.0  # no valid triplet: 0, still on the tape for backward
        return relu(distances[anchors, pos] - distances[anchors, neg] + self.margin).mean()

    def _batch_all(self, distances: Tensor, positive: np.ndarray, negative: np.ndarray) -> Tensor:
        n = distances.shape[0]
        valid = positive[:, :, None] & negative[:, None, :]  # (anchor, positive, negative)
        count = int(valid.sum())
        if count == 0:
            return distances.sum() * 0.0
        hinge = relu(distances.reshape(n, n, 1) - distances.reshape(n, 1, n) + self.margin)
        return (hinge * valid.astype(distances.dtype)).sum() * (1.0 / count)

    def get_config(self) -> dict:
        return {**super().get_config(), "margin": self.margin, "mining": self.mining, "distance": self.distance}


def contrastive_loss(y_true, y_pred, margin: float = 1.0) -> Tensor:
    """keras-io's ``siamese_contrastive`` loss per pair: ``(1 - y) * d^2 + y * max(margin - d, 0)^2``.

    ``y_pred`` is the pair's distance (or score) ``d``; ``y_true`` is **0 for a
    matching pair and 1 for a non-matching one**, keras-io's convention (TF
    Addons' ``ContrastiveLoss`` uses the opposite).
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    apart = relu(margin - y_pred)
    return ((1.0 - y_true) * y_pred * y_pred + y_true * apart * apart).mean(axis=-1)


@register_keras_serializable(package="kernelscope")
class ContrastiveLoss(LossFunctionWrapper):
    """The contrastive loss of keras-io's siamese example (see :func:`contrastive_loss`), averaged over pairs."""

    def __init__(self, margin: float = 1.0, reduction="sum_over_batch_size", name: str = "contrastive_loss",
                 dtype=None):
        super().__init__(contrastive_loss, reduction, name, dtype, margin=_check_margin(margin))
