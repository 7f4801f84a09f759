"""A tested recipe for embeddings of small images that recognise classes never trained on.

What it takes (measured on the bundled 8x8 digits, trained on 0-4, one-shot on 5-9;
see ``tests/test_similarity_recipe.py``): keep spatial detail (one average pooling,
then flatten), a wide L2-normalised embedding (128-d), balanced batches
(:class:`~kernelscope.similarity.TripletSampler`), each quarter turn of a class as
a class of its own (:func:`~kernelscope.similarity.rotated_classes`: more classes
to tell apart, so less of what separates unseen ones is thrown away), and each
batch shifted as a whole by up to a pixel.
"""

from __future__ import annotations

import numpy as np

from .losses import TripletLoss
from .sampling import TripletSampler, rotated_classes

__all__ = ["embedding_network", "shift_batch", "fit_embedding"]


def embedding_network(input_shape: tuple = (8, 8, 1), embedding_size: int = 128, filters: tuple = (32, 64),
                      scale: float | None = None, name: str = "embedding"):
    """``Conv2D -> AveragePooling2D -> Conv2D -> Flatten -> Dense(embedding_size) -> UnitNormalization``.

    A small CNN that keeps the spatial layout (one 2x2 pooling only) and ends on the
    unit sphere, where the squared Euclidean distance is ``2 - 2 cos``. ``scale``, when
    given, starts it with ``Rescaling(scale)`` (e.g. ``1 / 255`` for raw pixels).
    """
    from .. import layers
    from ..models import Sequential

    return Sequential([
        layers.Input(tuple(input_shape)),
        *([layers.Rescaling(scale, name="rescaling")] if scale is not None else []),
        layers.Conv2D(filters[0], 3, padding="same", activation="relu", name="conv1"),
        layers.AveragePooling2D(2, name="pool1"),
        layers.Conv2D(filters[1], 3, padding="same", activation="relu", name="conv2"),
        layers.Flatten(name="flatten"),
        layers.Dense(embedding_size, name="dense"),
        layers.UnitNormalization(name="unit_norm"),
    ], name=name)


def shift_batch(x: np.ndarray, rng: np.random.Generator, max_shift: int = 1) -> np.ndarray:
    """The whole batch ``(N, H, W, C)`` moved by the same random ``(dy, dx)`` in ``[-max_shift, max_shift]``,
    zeros coming in. One shift per batch keeps pairs aligned with each other: shift invariance is not what
    tells an 8x8 digit from another."""
    dy, dx = (int(v) for v in rng.integers(-max_shift, max_shift + 1, size=2))
    h, w = x.shape[1:3]
    out = np.zeros_like(x)
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        x[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def fit_embedding(model, x, y, epochs: int = 10, batch_size: int = 80, classes_per_batch: int = 10,
                  margin: float = 0.2, learning_rate: float = 1e-3, rotations=(1, 2, 3), max_shift: int = 1,
                  seed: int = 0, optimizer=None, callbacks=None, verbose: int = 0):
    """Train ``model`` with semi-hard triplets on ``(x, y)``; returns the ``History``.

    Parameters
    ----------
    rotations : quarter turns added as new classes (:func:`rotated_classes`); ``()`` for none.
    max_shift : pixels of :func:`shift_batch` (0: no shift).
    optimizer : by default ``Adam(learning_rate)``; an optimizer instance is used as is.
    batch_size, classes_per_batch : the :class:`TripletSampler` batches; an epoch is as many
        samples as the rotated data holds.
    """
    from ..optimizers import Adam

    images, labels = rotated_classes(x, y, rotations) if rotations else (np.asarray(x), np.asarray(y).reshape(-1))
    augment = (lambda batch, rng: shift_batch(batch, rng, max_shift)) if max_shift else None
    sampler = TripletSampler(images, labels, batch_size=batch_size,
                             classes_per_batch=min(classes_per_batch, len(np.unique(labels))),
                             steps_per_epoch=max(1, len(images) // batch_size), augment=augment, seed=seed)
    model.compile(optimizer=Adam(learning_rate) if optimizer is None else optimizer, loss=TripletLoss(margin=margin, mining="semi-hard"))
    return model.fit(sampler, epochs=epochs, callbacks=callbacks, verbose=verbose)
