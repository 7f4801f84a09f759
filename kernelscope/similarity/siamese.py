"""Siamese networks: one embedding network shared by two or three inputs, and the pairs that train them.

# N batch, D embedding size
"""

from __future__ import annotations

import numpy as np

from ..autograd import maximum
from ..layers.base import Layer
from .distances import check_distance, l2_normalize

__all__ = ["PairDistance", "siamese_model", "make_pairs", "make_triplets"]

_EPSILON = 1e-7  # keras.backend.epsilon(), the floor keras-io's euclidean_distance takes before sqrt


class PairDistance(Layer):
    """The distance between two embeddings, row by row: ``[a, b]`` ``(N, D)`` each -> ``(N, 1)``.

    ``"euclidean"`` is keras-io's ``euclidean_distance``:
    ``sqrt(max(sum((a - b)^2), epsilon))``; ``"squared_euclidean"`` leaves out
    the root; ``"cosine"`` is ``1 - cos(a, b)``.
    """

    def __init__(self, distance: str = "euclidean", **kwargs):
        super().__init__(**kwargs)
        self.distance = check_distance(distance)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"PairDistance '{self.name}' takes a list of two embeddings [a, b]. "
                             f"Received: {type(inputs).__name__} of length {len(inputs) if hasattr(inputs, '__len__') else 1}.")
        a, b = inputs
        if self.distance == "cosine":
            return 1.0 - (l2_normalize(a) * l2_normalize(b)).sum(axis=-1, keepdims=True)
        diff = a - b
        squared = (diff * diff).sum(axis=-1, keepdims=True)
        return squared if self.distance == "squared_euclidean" else maximum(squared, _EPSILON).sqrt()

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)

    def get_config(self) -> dict:
        return {**super().get_config(), "distance": self.distance}


def siamese_model(embedding, inputs: int = 2, distance: str = "euclidean", name: str = "siamese"):
    """A model that runs one shared ``embedding`` network on each of its inputs.

    ``inputs=2``: ``[a, b] -> d(a, b)`` of shape ``(N, 1)`` (train it with
    :class:`~kernelscope.similarity.ContrastiveLoss` on pairs from :func:`make_pairs`).
    ``inputs=3``: ``[anchor, positive, negative] -> [d(a, p), d(a, n)]`` of shape
    ``(N, 2)``, for a triplet-margin ``train_step`` as in keras-io's ``siamese_network``.
    For batch-mined triplets, train the embedding network itself with
    :class:`~kernelscope.similarity.TripletLoss` on class labels instead.
    """
    from ..layers import Concatenate, Input
    from ..models import Model

    if inputs not in (2, 3):
        raise ValueError(f"`inputs` must be 2 (pairs) or 3 (triplets). Received: inputs={inputs!r}.")
    shape = getattr(embedding, "input_shape", None)
    if not shape:
        raise ValueError(f"The embedding network '{getattr(embedding, 'name', embedding)}' has no known input shape: "
                         "start it with ks.Input(shape).")
    names = ("left", "right") if inputs == 2 else ("anchor", "positive", "negative")
    tensors = [Input(tuple(shape[1:]), name=n) for n in names]
    embedded = [embedding(t) for t in tensors]
    if inputs == 2:
        output = PairDistance(distance, name="distance")(embedded)
    else:
        to_positive = PairDistance(distance, name="anchor_positive")([embedded[0], embedded[1]])
        to_negative = PairDistance(distance, name="anchor_negative")([embedded[0], embedded[2]])
        output = Concatenate(name="distances")([to_positive, to_negative])
    return Model(tensors, output, name=name)


def _by_class(y) -> tuple:
    labels = np.asarray(y).reshape(-1)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError(f"Pairs and triplets need at least two classes. Received: labels of {len(classes)} class.")
    return labels, classes, {c: np.flatnonzero(labels == c) for c in classes}


def make_pairs(x, y, seed=None) -> tuple:
    """Per sample, one pair with another sample of its class (label 0) and one with another class (label 1).

    As keras-io's ``siamese_contrastive`` ``make_pairs``: returns ``(a, b, labels)``
    with ``2 * len(x)`` pairs and float32 labels, 0 for matching pairs.
    """
    from .. import rng as rng_module

    x = np.asarray(x)
    labels, classes, members = _by_class(y)
    if len(x) != len(labels):
        raise ValueError(f"`x` and `y` must have the same length. Received: {len(x)} samples, {len(labels)} labels.")
    gen = rng_module.make_rng(seed)
    left, right, same = [], [], []
    for i, label in enumerate(labels):
        left += [i, i]
        right.append(gen.choice(members[label]))
        other = gen.choice(classes[classes != label])
        right.append(gen.choice(members[other]))
        same += [0.0, 1.0]
    return x[left], x[right], np.asarray(same, dtype=np.float32)


def make_triplets(x, y, seed=None) -> tuple:
    """Per sample, an (anchor, positive, negative) triplet: another sample of its class and one of another class."""
    from .. import rng as rng_module

    x = np.asarray(x)
    labels, classes, members = _by_class(y)
    if len(x) != len(labels):
        raise ValueError(f"`x` and `y` must have the same length. Received: {len(x)} samples, {len(labels)} labels.")
    gen = rng_module.make_rng(seed)
    positive = [gen.choice(members[label]) for label in labels]
    negative = [gen.choice(members[gen.choice(classes[classes != label])]) for label in labels]
    return x, x[positive], x[negative]
