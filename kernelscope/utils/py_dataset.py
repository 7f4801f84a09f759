"""``ks.utils.PyDataset``: batches computed by Python code, as Keras 3's class (``Sequence`` before it).

A subclass implements ``__getitem__(index)`` (one whole batch) and ``__len__``
(the number of batches) or the ``num_batches`` property (None for an endless
dataset); ``on_epoch_begin`` / ``on_epoch_end`` run around every epoch of
``fit``. With ``workers > 1`` batches are prepared ahead by that many threads,
at most ``max_queue_size`` at a time, and still come out in index order.

>>> import numpy as np, kernelscope as ks
>>> class Squares(ks.utils.PyDataset):
...     def __init__(self, **kwargs):
...         super().__init__(**kwargs)
...     def __len__(self):
...         return 3
...     def __getitem__(self, index):
...         x = np.full((2, 1), float(index), dtype="float32")
...         return x, x * x
>>> [float(y[0, 0]) for _, y in Squares()]
[0.0, 1.0, 4.0]
"""

from __future__ import annotations

import itertools
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from ..geometry import check_int

__all__ = ["PyDataset", "Sequence", "iterate_py_dataset"]


def _setting(name: str, check=None) -> property:
    """A PyDataset setting stored as ``_<name>`` and checked when set (by default: a positive
    integer); reading it warns when the subclass's ``__init__`` did not call ``super().__init__``
    (as Keras does)."""
    check = check or (lambda value: check_int(value, name, expected="a positive integer"))

    def get(self):
        self._warn_if_super_not_called()
        return getattr(self, "_" + name)

    def set(self, value) -> None:
        setattr(self, "_" + name, check(value))

    return property(get, set)


def _refuse_multiprocessing(value) -> bool:
    if value:
        raise ValueError("PyDataset(use_multiprocessing=True) is not supported by kernelscope: batches are "
                         "prepared by threads. Use `workers=N` (with use_multiprocessing=False) instead. "
                         f"Received: use_multiprocessing={value!r}.")
    return False


class PyDataset:
    """Base class for a dataset of batches written in Python.

    Parameters
    ----------
    workers : int
        Threads that prepare batches ahead of the training step (1: none).
    use_multiprocessing : bool
        Refused: kernelscope prefetches with threads only (NumPy releases the
        GIL in its heavy work), so forked worker processes are not offered.
    max_queue_size : int
        Most batches prepared ahead at a time when ``workers > 1``.
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def _warn_if_super_not_called(self) -> None:
        missing = [k for k in ("_workers", "_use_multiprocessing", "_max_queue_size") if k not in self.__dict__]
        if missing:  # each missing setting gets its default, as Keras's adapter does (one may have been set)
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in its constructor. "
                          "`**kwargs` can include `workers`, `use_multiprocessing`, `max_queue_size`. Do not "
                          "pass these arguments to `fit()`, as they will be ignored.", stacklevel=3)
            defaults = {"_workers": 1, "_use_multiprocessing": False, "_max_queue_size": 10}
            for key in missing:
                self.__dict__[key] = defaults[key]

    workers = _setting("workers")
    use_multiprocessing = _setting("use_multiprocessing", _refuse_multiprocessing)
    max_queue_size = _setting("max_queue_size")

    def __getitem__(self, index: int):
        """The batch at position ``index``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index), returning one batch.")

    @property
    def num_batches(self) -> int | None:
        """Number of batches (``len(self)``), or None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(f"{type(self).__name__} must implement __len__ or the `num_batches` property "
                                  "(return None for an endless dataset).")

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch (e.g. to reshuffle)."""

    def __iter__(self):
        return iterate_py_dataset(self, None)


Sequence = PyDataset  # the Keras 2 name, which Keras 3 keeps as an alias


def iterate_py_dataset(dataset: PyDataset, order=None):
    """The batches of ``dataset`` in ``order`` (default: 0, 1, ...), prefetched by its ``workers``."""
    if order is None:
        count = dataset.num_batches
        order = itertools.count() if count is None else range(count)
    workers = dataset.workers
    if dataset.use_multiprocessing:  # set after __init__ by assigning the private attribute
        raise ValueError("PyDataset(use_multiprocessing=True) is not supported by kernelscope; use `workers`.")
    if workers <= 1:
        for index in order:
            yield dataset[int(index)]
        return
    yield from _prefetch(dataset, iter(order), workers, dataset.max_queue_size)


def _prefetch(dataset: PyDataset, indices, workers: int, depth: int):
    pending: deque = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ks-pydataset") as pool:
        try:
            for index in itertools.islice(indices, depth):
                pending.append(pool.submit(dataset.__getitem__, int(index)))
            while pending:
                batch = pending.popleft().result()
                for index in itertools.islice(indices, 1):
                    pending.append(pool.submit(dataset.__getitem__, int(index)))
                yield batch
        finally:  # the consumer stopped early (steps_per_epoch): drop the batches not yet taken
            for future in pending:
                future.cancel()
