"""Metric learning: siamese networks, the triplet and contrastive losses, verification, one-shot recognition.

The lecture notes' face verification: an embedding network ``f`` maps each
image to a vector; two images are the same person when ``d(f(a), f(b))`` is
small. It is trained with the triplet loss
``max(||f(A) - f(P)||^2 - ||f(A) - f(N)||^2 + alpha, 0)`` (:class:`TripletLoss`,
with FaceNet's semi-hard or batch-hard mining) or, on pairs, with keras-io's
contrastive loss (:class:`ContrastiveLoss`). :func:`choose_threshold` picks the
verification threshold on validation pairs, and :class:`OneShotClassifier`
recognises classes seen once (``kernelscope.sklearn.OneShotClassifier``, a scikit-learn classifier).
:class:`TripletSampler` and :class:`PairSampler` draw balanced batches; :func:`fit_embedding`
is a recipe that recognises unseen classes.
"""

from .distances import DISTANCES, l2_normalize, pairwise_distances
from .losses import ContrastiveLoss, TripletLoss, contrastive_loss
from .siamese import PairDistance, make_pairs, make_triplets, siamese_model
from .recipe import embedding_network, fit_embedding, shift_batch
from .sampling import PairSampler, TripletSampler, rotated_classes
from .verification import choose_threshold, distance_matrix, embed, one_shot_accuracy, pair_distances, verify


def __getattr__(name: str):
    # the figures need matplotlib: loaded on first use, so the losses and distances do not
    if name in ("plot_embeddings", "plot_pairs", "plot_roc", "project_2d"):
        from . import figures

        return getattr(figures, name)
    raise AttributeError(f"module 'kernelscope.similarity' has no attribute '{name}'")

__all__ = ["DISTANCES", "l2_normalize", "pairwise_distances", "TripletLoss", "ContrastiveLoss", "contrastive_loss",
           "PairDistance", "siamese_model", "make_pairs", "make_triplets", "choose_threshold", "distance_matrix",
           "embed", "pair_distances", "verify", "one_shot_accuracy", "plot_embeddings", "plot_pairs", "plot_roc", "project_2d",
           "TripletSampler", "PairSampler", "rotated_classes", "embedding_network", "fit_embedding", "shift_batch"]
