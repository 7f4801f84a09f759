"""Balanced batches for metric learning, as ``ks.utils.PyDataset``: several classes, several samples of each.

Batch mining (:class:`~kernelscope.similarity.TripletLoss`) only finds a
triplet where the batch holds two samples of a class and a sample of another:
a shuffled batch of a many-class data set often holds neither. These samplers
draw ``classes_per_batch`` classes and ``batch_size // classes_per_batch``
samples of each (FaceNet's and the batch-hard paper's "P x K" batches).

Every batch is drawn from its own generator seeded by ``(seed, epoch, index)``,
so a run repeats exactly whatever order or thread the batches are made in.

# N batch, P classes per batch, K samples per class
"""

from __future__ import annotations

import numbers

import numpy as np

from ..utils.py_dataset import PyDataset

__all__ = ["TripletSampler", "PairSampler", "rotated_classes"]


def _positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}.")
    return int(value)


class TripletSampler(PyDataset):
    """``(x, labels)`` batches of ``classes_per_batch`` classes with ``batch_size // classes_per_batch``
    samples each (the first classes drawn take one more when it does not divide), for ``fit`` with
    :class:`~kernelscope.similarity.TripletLoss`.

    Parameters
    ----------
    x, y : arrays
        The samples ``(n, ...)`` and their class labels ``(n,)``, at least two classes.
    batch_size : int, default=32
        At least two samples of each class of the batch.
    classes_per_batch : int, optional
        Classes in each batch, drawn without replacement per batch; by default
        ``min(n_classes, batch_size // 4)`` (at least 2), about four samples of each.
    steps_per_epoch : int, optional
        Batches per epoch; by default ``len(x) // batch_size`` (at least 1).
    augment : callable, optional
        ``augment(x_batch, rng) -> x_batch``, applied to every batch with that batch's generator.
    seed : int, optional
        The batches of epoch ``e`` are the same for the same seed.
    **kwargs
        ``workers``, ``max_queue_size`` of ``ks.utils.PyDataset``.

    A class with fewer samples than a batch takes from it is drawn with replacement.

    >>> import numpy as np
    >>> sampler = TripletSampler(np.zeros((30, 2)), np.repeat([0, 1, 2], 10), batch_size=4, classes_per_batch=2,
    ...                          seed=0)
    >>> x, labels = sampler[0]
    >>> x.shape, int(np.bincount(labels, minlength=3).max())
    ((4, 2), 2)
    """

    def __init__(self, x, y, batch_size: int = 32, classes_per_batch: int | None = None,
                 steps_per_epoch: int | None = None, augment=None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.x = np.asarray(x)
        self.labels = np.asarray(y).reshape(-1)
        if len(self.x) != len(self.labels):
            raise ValueError(f"`x` and `y` must have the same length. Received: {len(self.x)} samples and "
                             f"{len(self.labels)} labels.")
        self.classes = np.unique(self.labels)
        if len(self.classes) < 2:
            raise ValueError("Triplets need at least two classes (a negative for every anchor). "
                             f"Received: labels of {len(self.classes)} class.")
        self.members = [np.flatnonzero(self.labels == c) for c in self.classes]
        self.batch_size = _positive_int("batch_size", batch_size, 4)
        # by default about four samples of a class in a batch, as many classes as that leaves room for
        self.classes_per_batch = max(2, min(len(self.classes), self.batch_size // 4)) \
            if classes_per_batch is None else _positive_int("classes_per_batch", classes_per_batch, 2)
        if self.classes_per_batch > len(self.classes):
            raise ValueError(f"`classes_per_batch` must be at most the number of classes, {len(self.classes)}. "
                             f"Received: classes_per_batch={classes_per_batch}.")
        if self.batch_size < 2 * self.classes_per_batch:
            raise ValueError("`batch_size` must hold at least two samples of each of the `classes_per_batch` "
                             f"classes. Received: batch_size={batch_size}, classes_per_batch={self.classes_per_batch}.")
        self.samples_per_class = self.batch_size // self.classes_per_batch  # the first classes drawn take the rest
        self.steps_per_epoch = max(1, len(self.x) // self.batch_size) if steps_per_epoch is None else \
            _positive_int("steps_per_epoch", steps_per_epoch)
        if augment is not None and not callable(augment):
            raise TypeError(f"`augment` must be a callable (x_batch, rng) -> x_batch. Received: augment={augment!r}.")
        self.augment = augment
        from .. import rng as rng_module

        self.seed = seed
        # no seed: one drawn from ks.utils.set_random_seed's root generator, so that seeds the batches too
        self._base_seed = int(rng_module.make_rng(seed).integers(2**63)) if not isinstance(seed, numbers.Integral) \
            else int(seed)
        self.epoch = 0

    def __len__(self) -> int:
        return self.steps_per_epoch

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self._base_seed, self.epoch, int(index)])

    def _indices(self, rng: np.random.Generator) -> np.ndarray:
        chosen = rng.choice(len(self.classes), self.classes_per_batch, replace=False)
        extra = self.batch_size - self.samples_per_class * self.classes_per_batch
        counts = [self.samples_per_class + (i < extra) for i in range(self.classes_per_batch)]
        return np.concatenate([rng.choice(self.members[c], k, replace=len(self.members[c]) < k)
                               for c, k in zip(chosen, counts)])

    def _batch(self, index: int) -> tuple:
        """The generator and the sample rows of batch ``index``."""
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} is out of range for {len(self)} batches.")
        rng = self._rng(index)
        return rng, self._indices(rng)

    def __getitem__(self, index: int):
        rng, rows = self._batch(index)
        x = self.x[rows]
        if self.augment is not None:
            x = np.asarray(self.augment(x, rng), dtype=x.dtype)
        return x, self.labels[rows]

    def on_epoch_end(self) -> None:
        self.epoch += 1


class PairSampler(TripletSampler):
    """``([a, b], different)`` batches for a two-input siamese model and
    :class:`~kernelscope.similarity.ContrastiveLoss`: half matching pairs, half not.

    Same parameters as :class:`TripletSampler` (``batch_size`` is the number of
    pairs); each batch's samples are paired within their class for the matching
    half and across classes for the other. ``different`` is 0 for a matching
    pair and 1 otherwise (keras-io's convention, as :func:`make_pairs`).
    """

    def __getitem__(self, index: int):
        rng, rows = self._batch(index)
        labels = self.labels[rows]
        half = len(rows) // 2
        # matching: each sample with another of its class in the batch; different: with one of another class
        same_partner = np.array([rng.choice(np.flatnonzero((labels == labels[i]) & (np.arange(len(rows)) != i)))
                                 for i in range(half)])
        other_partner = np.array([rng.choice(np.flatnonzero(labels != labels[i])) for i in range(half, len(rows))])
        left = rows
        right = rows[np.concatenate([same_partner, other_partner])]
        different = np.r_[np.zeros(half), np.ones(len(rows) - half)].astype(np.float32)
        a, b = self.x[left], self.x[right]
        if self.augment is not None:
            a, b = (np.asarray(self.augment(v, rng), dtype=v.dtype) for v in (a, b))
        return [a, b], different


def rotated_classes(x, y, rotations=(1, 2, 3)) -> tuple:
    """More classes from the same images: each quarter turn of every class is a class of its own.

    Returns ``(x', y')`` with the images and, for each ``r`` in ``rotations``, the
    images turned ``r`` quarter turns (``np.rot90`` over height and width), labelled
    ``y + (i + 1) * n_labels``. An embedding trained on more classes keeps more of
    what tells unseen classes apart (the class augmentation of Omniglot few-shot
    learning, e.g. Prototypical Networks).
    """
    x, labels = np.asarray(x), np.asarray(y).reshape(-1)
    if x.ndim != 4:
        raise ValueError(f"`x` must be images of shape (n, height, width, channels). Received: shape={x.shape}.")
    if len(x) != len(labels):
        raise ValueError(f"`x` and `y` must have the same length. Received: {len(x)} samples and {len(labels)} labels.")
    if labels.dtype.kind not in "iu" or (len(labels) and labels.min() < 0):
        raise ValueError("`y` must hold non-negative integer labels. Received: "
                         f"dtype={labels.dtype}{', min ' + str(labels.min()) if labels.dtype.kind in 'iu' else ''}.")
    turns = [int(r) for r in rotations]
    if any(r % 2 for r in turns) and x.shape[1] != x.shape[2]:
        raise ValueError(f"Quarter turns need square images. Received: images of {x.shape[1]}x{x.shape[2]}.")
    offset = int(labels.max()) + 1 if len(labels) else 0
    images = [x] + [np.rot90(x, r, axes=(1, 2)) for r in turns]
    return (np.ascontiguousarray(np.concatenate(images)),
            np.concatenate([labels.astype(np.int64) + i * offset for i in range(len(images))]))
