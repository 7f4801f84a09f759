"""Pairwise distances between embeddings, differentiable through ``ks.Tensor``.

# N batch, D embedding size
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, as_tensor, maximum

__all__ = ["DISTANCES", "pairwise_distances", "l2_normalize", "check_distance"]

DISTANCES = ("squared_euclidean", "euclidean", "cosine")
# Squared distances below this are clipped before a square root: the gradient of sqrt is infinite at 0
# (the diagonal, duplicates), and clipping sends that entry's gradient to the constant instead.
_SQRT_FLOOR = 1e-12


def check_distance(distance) -> str:
    if distance not in DISTANCES:
        raise ValueError(f"`distance` must be one of {DISTANCES}. Received: distance={distance!r}.")
    return distance


def l2_normalize(x, axis: int = -1, epsilon: float = 1e-12) -> Tensor:
    """``x / max(||x||, sqrt(epsilon))`` along ``axis`` (as ``keras.ops.normalize`` / ``tf.math.l2_normalize``)."""
    x = as_tensor(x)
    norm_squared = (x * x).sum(axis=axis, keepdims=True)
    return x / maximum(norm_squared, epsilon).sqrt()


def pairwise_distances(embeddings, distance: str = "squared_euclidean", other=None) -> Tensor:
    """The ``(N, M)`` matrix of distances between the rows of ``embeddings`` ``(N, D)`` and those of
    ``other`` ``(M, D)`` (by default ``embeddings`` again: ``(N, N)``).

    ``"squared_euclidean"``: ``||a - b||^2`` (the slides' triplet loss); ``"euclidean"``:
    its square root; ``"cosine"``: ``1 - cos(a, b)``.

    >>> import numpy as np
    >>> pairwise_distances(np.array([[0.0, 0.0], [3.0, 4.0]]), "euclidean").numpy()
    array([[0., 5.],
           [5., 0.]])
    """
    check_distance(distance)
    x = as_tensor(embeddings)
    y = x if other is None else as_tensor(other)
    for name, t in (("embeddings", x), ("other", y)):
        if t.ndim != 2:
            raise ValueError(f"`{name}` must have shape (batch, embedding_size). Received: shape={t.shape}.")
    if distance == "cosine":
        return 1.0 - l2_normalize(x) @ l2_normalize(y).T
    d2 = maximum((x * x).sum(axis=1, keepdims=True) + (y * y).sum(axis=1, keepdims=True).T - 2.0 * (x @ y.T),
                 0.0)  # rounding can make it slightly negative
    if distance == "squared_euclidean":
        return d2
    return maximum(d2, _SQRT_FLOOR).sqrt() * Tensor._constant((np.asarray(d2.data) > _SQRT_FLOOR).astype(d2.dtype))
