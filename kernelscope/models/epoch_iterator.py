"""Batches for fit/evaluate/predict from arrays, a PyDataset, a generator or any iterable.

Keras 3's ``EpochIterator`` semantics: without ``steps`` an epoch is one pass
over the data (a re-iterable source is iterated again each epoch); with
``steps`` each epoch takes that many batches from an iterator kept across
epochs, which starts over once it has given every batch. A one-shot generator
that runs dry ends the epoch with Keras's warning.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._tree import map_structure

__all__ = ["is_dataset", "unpack_x_y_sample_weight", "pack_x_y_sample_weight", "ArrayBatches", "StreamBatches",
           "check_steps"]

RAN_DRY = ("Your input ran out of data; interrupting training. Make sure that your dataset or generator can "
           "generate at least `steps_per_epoch * epochs` batches.")


def is_dataset(x) -> bool:
    """True for a PyDataset, an iterator/generator or a non-array iterable of batches (a torch DataLoader)."""
    from ..utils.py_dataset import PyDataset

    if isinstance(x, PyDataset) or hasattr(x, "__next__"):
        return True
    if isinstance(x, (np.ndarray, list, tuple, dict, str, bytes)) or hasattr(x, "__array__"):
        return False
    return hasattr(x, "__iter__")


def unpack_x_y_sample_weight(data) -> tuple:
    """``(x, y, sample_weight)`` from a batch given as ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sw)`` (as Keras)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`. "
                     f"Received: a tuple of {len(data)} elements.")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch as ``train_step`` receives it: ``x`` alone, ``(x, y)`` or ``(x, y, sample_weight)``."""
    if y is None:
        return x if not isinstance(x, (tuple, list)) else (x,)
    if sample_weight is None:
        return x, y
    return x, y, sample_weight


def check_steps(steps, name: str) -> int | None:
    """``steps`` as a positive int (or None), refused before any step runs otherwise."""
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"`{name}` must be a positive integer or None. Received: {name}={steps!r}.")
    return int(steps)


def _map(fn, structure):
    return map_structure(lambda leaf: None if leaf is None else fn(leaf), structure)


class _Batches:
    """Shared epoch logic; subclasses give ``_new_iterator()`` and ``num_batches``."""

    num_batches: int | None = None

    def __init__(self, steps: int | None):
        self.steps = steps
        self._iterator = None
        self._seen = 0
        self.ran_dry = False

    def epoch(self):
        """Yield ``(step, batch)`` for one epoch."""
        self.on_epoch_begin()
        if self._iterator is None or self.steps is None:
            self._iterator, self._seen = iter(self._new_iterator()), 0
        self.ran_dry = False
        step = 0
        while self.steps is None or step < self.steps:
            try:
                batch = next(self._iterator)
            except StopIteration:
                self._iterator, self.ran_dry = None, True
                if self.steps is not None or step == 0:
                    warnings.warn(RAN_DRY, stacklevel=4)
                break
            self._seen += 1
            yield step, batch
            step += 1
        if self.num_batches is not None and self._seen >= self.num_batches:
            self._iterator = None  # every batch given: the next epoch starts a new pass
        self.on_epoch_end()

    def on_epoch_begin(self) -> None:
        pass

    def on_epoch_end(self) -> None:
        pass

    @property
    def steps_hint(self) -> int | None:
        return self.steps or self.num_batches


class ArrayBatches(_Batches):
    """Slices of checked arrays (structures as the user gave them), shuffled per pass if asked."""

    def __init__(self, x, y, sample_weight, n: int, batch_size: int, shuffle, rng, steps=None):
        super().__init__(steps)
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.n, self.batch_size, self.shuffle, self.rng = n, batch_size, shuffle, rng
        self.num_batches = -(-n // batch_size)

    def _new_iterator(self):
        order = self.rng.permutation(self.n) if self.shuffle else None
        for start in range(0, self.n, self.batch_size):
            index = slice(start, start + self.batch_size) if order is None else order[start:start + self.batch_size]
            take = (lambda a: a[index])
            sw = None if self.sample_weight is None else take(self.sample_weight)
            yield pack_x_y_sample_weight(_map(take, self.x), _map(take, self.y), sw)


class StreamBatches(_Batches):
    """Batches from a PyDataset, a generator/iterator or a re-iterable; ``convert`` checks each one."""

    def __init__(self, source, convert, steps=None, shuffle: bool = False, rng=None):
        from ..utils.py_dataset import PyDataset

        super().__init__(steps)
        self.source, self.convert = source, convert
        self.py_dataset = isinstance(source, PyDataset)
        self.shuffle, self.rng = shuffle and self.py_dataset, rng
        if self.py_dataset:
            self.num_batches = source.num_batches
            if self.num_batches is None and shuffle:  # Keras's warning, word for word
                warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` was provided as "
                              "an infinite PyDataset. The PyDataset is expected to already be shuffled.",
                              stacklevel=4)
        elif not hasattr(source, "__next__") and hasattr(source, "__len__"):
            self.num_batches = len(source)

    def _new_iterator(self):
        from ..utils.py_dataset import iterate_py_dataset

        if self.py_dataset:
            order = None
            if self.shuffle and self.num_batches is not None:
                order = self.rng.permutation(self.num_batches)  # Keras shuffles a PyDataset's batch order
            source = iterate_py_dataset(self.source, order)
        else:
            source = self.source
        for batch in source:
            yield self.convert(batch)

    def on_epoch_begin(self) -> None:
        if self.py_dataset:
            self.source.on_epoch_begin()

    def on_epoch_end(self) -> None:
        if self.py_dataset:
            self.source.on_epoch_end()
