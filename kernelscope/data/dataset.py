"""A small ``tf.data.Dataset``: re-iterable pipelines of NumPy elements.

A :class:`Dataset` is a recipe, not a buffer: each ``iter(dataset)`` starts a new
pass from the source (a shuffle draws a new order each pass, as tf.data's
default ``reshuffle_each_iteration=True``). Elements are NumPy arrays, or
tuples/dicts of them; ``len()`` works when the number of elements is finite and
known (:meth:`Dataset.cardinality`). So a batched Dataset is exactly what
``Model.fit`` takes: a re-iterable iterable of batches with a ``__len__``.

Work happens on demand in the consumer's thread: ``num_parallel_calls`` and
``prefetch`` change nothing but are accepted so tf.data code runs unchanged.

>>> import numpy as np
>>> from kernelscope import data
>>> ds = data.Dataset.from_tensor_slices((np.arange(5), np.arange(5) * 10)).batch(2)
>>> len(ds), [y.tolist() for _, y in ds]
(3, [[0, 10], [20, 30], [40]])
"""

from __future__ import annotations

import math
from typing import Callable, Iterator

import numpy as np

from ..autograd import no_grad
from ..rng import make_rng

__all__ = ["Dataset", "AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY"]

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2
_IMPLEMENTED = ("from_tensor_slices", "range", "zip", "map", "filter", "batch", "unbatch", "shuffle", "prefetch",
                "take", "skip", "repeat", "cache", "concatenate", "cardinality", "as_numpy_iterator")


def _map_structure(fn: Callable, element):
    # tuples and dicts are structure (as in tf.data); anything else, lists included, is one array
    if isinstance(element, tuple):
        return tuple(_map_structure(fn, e) for e in element)
    if isinstance(element, dict):
        return {k: _map_structure(fn, v) for k, v in element.items()}
    return fn(element)


def _leaves(element) -> list:
    out = []
    _map_structure(out.append, element)
    return out


def _to_numpy(value):
    if isinstance(value, np.ndarray):
        return value
    numpy = getattr(value, "numpy", None)  # ks.Tensor, torch tensors
    return np.asarray(numpy() if callable(numpy) else value)


def _check_count(value, name: str, allow_minus_one: bool = True) -> int:
    low = -1 if allow_minus_one else 1
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        expected = "an integer >= -1" if allow_minus_one else "a positive integer"
        raise ValueError(f"`{name}` must be {expected}. Received: {name}={value!r}.")
    return int(value)


class Dataset:
    """A re-iterable pipeline of elements (see the module docstring). Build one with
    :meth:`from_tensor_slices`, :meth:`range` or :meth:`zip`, then chain transformations."""

    def __init__(self, make_iterator: Callable[[], Iterator], cardinality: int):
        self._make_iterator = make_iterator
        self._cardinality = int(cardinality)

    # -- sources -------------------------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors, name=None) -> "Dataset":
        """One element per row of ``tensors`` (an array, or a tuple/dict of arrays with the same first size)."""
        arrays = _map_structure(_to_numpy, tensors)
        leaves = _leaves(arrays)
        if not leaves or any(a.ndim == 0 for a in leaves):
            raise ValueError("`tensors` must be arrays of rank >= 1 (or tuples/dicts of them) to slice along "
                             f"their first axis. Received shapes: {[a.shape for a in leaves]}.")
        sizes = {a.shape[0] for a in leaves}
        if len(sizes) > 1:
            raise ValueError("All arrays in `tensors` must have the same size along their first axis. "
                             f"Received shapes: {[a.shape for a in leaves]}.")
        n = sizes.pop()
        return Dataset(lambda: (_map_structure(lambda a: a[i], arrays) for i in range(n)), n)

    @staticmethod
    def range(*args) -> "Dataset":
        """Integers as Python's ``range(start, stop, step)``, each a 0-d int64 array."""
        values = range(*args)
        return Dataset(lambda: (np.int64(v) for v in values), len(values))

    @staticmethod
    def zip(*datasets, name=None) -> "Dataset":
        """Elements of several datasets side by side: ``zip((a, b))``, ``zip(a, b)`` or ``zip({"x": a, ...})``;
        stops at the shortest."""
        structure = datasets[0] if len(datasets) == 1 and isinstance(datasets[0], (tuple, dict)) else datasets
        members = _leaves(structure)
        if not members or not all(isinstance(d, Dataset) for d in members):
            raise TypeError("`Dataset.zip` takes Datasets (as arguments, or one tuple or dict of them). "
                            f"Received: {[type(d).__name__ for d in members]}.")

        def make():
            iterators = _map_structure(iter, structure)
            while True:
                element = _map_structure(lambda it: next(it, _END), iterators)
                if any(leaf is _END for leaf in _leaves(element)):
                    return
                yield element
        counts = [d._cardinality for d in members]
        finite = [c for c in counts if c >= 0]
        if finite:
            return Dataset(make, min(finite))
        return Dataset(make, UNKNOWN_CARDINALITY if UNKNOWN_CARDINALITY in counts else INFINITE_CARDINALITY)

    # -- transformations -----------------------------------------------------------------------------------
    def map(self, map_func: Callable, num_parallel_calls=None, deterministic=None, name=None) -> "Dataset":
        """Apply ``map_func`` to each element (a tuple element is passed as separate arguments, as tf.data).

        ``map_func`` receives NumPy arrays (``ks.ops`` and layers accept them); ``ks.Tensor`` results are
        turned back into arrays. It runs without recording gradients.
        """
        if num_parallel_calls is not None:
            _check_count(num_parallel_calls, "num_parallel_calls")

        def apply(element):
            with no_grad():
                out = map_func(*element) if isinstance(element, tuple) else map_func(element)
            return _map_structure(_to_numpy, out)
        return Dataset(lambda: (apply(e) for e in self._make_iterator()), self._cardinality)

    def filter(self, predicate: Callable, name=None) -> "Dataset":
        """Keep the elements for which ``predicate`` (called as in :meth:`map`) is true."""
        def keep(element):
            with no_grad():
                return bool(_to_numpy(predicate(*element) if isinstance(element, tuple) else predicate(element)))
        return Dataset(lambda: (e for e in self._make_iterator() if keep(e)), UNKNOWN_CARDINALITY)

    def batch(self, batch_size: int, drop_remainder: bool = False, num_parallel_calls=None, deterministic=None,
              name=None) -> "Dataset":
        """Stack ``batch_size`` consecutive elements along a new first axis (the last batch may be smaller)."""
        batch_size = _check_count(batch_size, "batch_size", allow_minus_one=False)
        if num_parallel_calls is not None:
            _check_count(num_parallel_calls, "num_parallel_calls")

        def make():
            pending = []
            for element in self._make_iterator():
                pending.append(element)
                if len(pending) == batch_size:
                    yield _stack(pending)
                    pending = []
            if pending and not drop_remainder:
                yield _stack(pending)
        n = self._cardinality
        if n >= 0:
            n = n // batch_size if drop_remainder else math.ceil(n / batch_size)
        return Dataset(make, n)

    def unbatch(self, name=None) -> "Dataset":
        """Split each element along its first axis into separate elements (the inverse of :meth:`batch`)."""
        def make():
            for element in self._make_iterator():
                leaves = _leaves(element)
                sizes = {np.shape(a)[0] if np.ndim(a) else None for a in leaves}
                if None in sizes or len(sizes) != 1:
                    raise ValueError("`unbatch` needs elements whose arrays share a first axis. "
                                     f"Received shapes: {[np.shape(a) for a in leaves]}.")
                for i in range(sizes.pop()):
                    yield _map_structure(lambda a: a[i], element)
        return Dataset(make, UNKNOWN_CARDINALITY if self._cardinality >= 0 else self._cardinality)

    def shuffle(self, buffer_size: int, seed=None, reshuffle_each_iteration: bool = True,
                name=None) -> "Dataset":
        """Shuffle through a buffer of ``buffer_size`` elements (tf.data's algorithm: a buffer at least
        as large as the dataset gives a uniform permutation).

        ``seed=None`` draws from kernelscope's root generator, so ``ks.utils.set_random_seed`` repeats it.
        """
        buffer_size = _check_count(buffer_size, "buffer_size", allow_minus_one=False)
        seeds = make_rng(seed)
        fixed = int(seeds.integers(2**63))

        def make():
            rng = np.random.default_rng(int(seeds.integers(2**63)) if reshuffle_each_iteration else fixed)
            return _buffer_shuffle(self._make_iterator(), buffer_size, rng)
        return Dataset(make, self._cardinality)

    def prefetch(self, buffer_size: int, name=None) -> "Dataset":
        """Accepted for tf.data code; elements are produced on demand, so this returns the same pipeline."""
        _check_count(buffer_size, "buffer_size")
        return Dataset(self._make_iterator, self._cardinality)

    def take(self, count: int, name=None) -> "Dataset":
        """The first ``count`` elements (all of them for ``count=-1``)."""
        count = _check_count(count, "count")
        if count == -1:
            return Dataset(self._make_iterator, self._cardinality)

        def make():
            iterator = self._make_iterator()
            for _ in range(count):
                try:
                    yield next(iterator)
                except StopIteration:
                    return
        n = self._cardinality
        n = count if n == INFINITE_CARDINALITY else (min(n, count) if n >= 0 else n)
        return Dataset(make, n)

    def skip(self, count: int, name=None) -> "Dataset":
        """All but the first ``count`` elements (none for ``count=-1``)."""
        count = _check_count(count, "count")

        def make():
            iterator = self._make_iterator()
            if count == -1:
                return iter(())
            for _ in range(count):
                if next(iterator, _END) is _END:
                    break
            return iterator
        n = self._cardinality
        if n >= 0:
            n = 0 if count == -1 else max(0, n - count)
        return Dataset(make, n)

    def repeat(self, count: int | None = None, name=None) -> "Dataset":
        """``count`` passes over the dataset (forever for None or -1), each pass a new iteration."""
        count = -1 if count is None else _check_count(count, "count")

        def make():
            passes = 0
            while count == -1 or passes < count:
                passes += 1
                empty = True
                for element in self._make_iterator():
                    empty = False
                    yield element
                if empty:  # an empty dataset repeated forever is empty, not a hang
                    return
        n = self._cardinality
        if n >= 0:
            n = (INFINITE_CARDINALITY if n > 0 else 0) if count == -1 else n * count
        return Dataset(make, n)

    def cache(self, filename: str = "", name=None) -> "Dataset":
        """Keep the elements of the first complete pass in memory and replay them on later passes."""
        if filename != "":
            raise ValueError("kernelscope.data caches in memory only: `filename` must be ''. "
                             f"Received: filename={filename!r}.")
        store = {}

        def make():
            if "elements" in store:
                yield from store["elements"]
                return
            seen = []
            for element in self._make_iterator():
                seen.append(element)
                yield element
            store["elements"] = seen
        return Dataset(make, self._cardinality)

    def concatenate(self, dataset: "Dataset", name=None) -> "Dataset":
        """The elements of this dataset, then those of ``dataset``."""
        if not isinstance(dataset, Dataset):
            raise TypeError(f"`dataset` must be a Dataset. Received: {type(dataset).__name__}.")

        def make():
            yield from self._make_iterator()
            yield from dataset._make_iterator()
        a, b = self._cardinality, dataset._cardinality
        n = a + b if a >= 0 and b >= 0 else (INFINITE_CARDINALITY if INFINITE_CARDINALITY in (a, b) else
                                             UNKNOWN_CARDINALITY)
        return Dataset(make, n)

    # -- consuming -----------------------------------------------------------------------------------------
    def cardinality(self) -> int:
        """The number of elements, or ``INFINITE_CARDINALITY`` (-1) / ``UNKNOWN_CARDINALITY`` (-2)."""
        return self._cardinality

    def __len__(self) -> int:
        if self._cardinality == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if self._cardinality == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return self._cardinality

    def __bool__(self) -> bool:
        return True  # not len(): an infinite dataset is still a dataset

    def __iter__(self) -> Iterator:
        return iter(self._make_iterator())

    def as_numpy_iterator(self) -> Iterator:
        """An iterator over the elements (already NumPy arrays here)."""
        return iter(self)

    def __repr__(self) -> str:
        return f"<kernelscope.data.Dataset cardinality={self._cardinality}>"

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"kernelscope.data.Dataset has no `{name}`: it implements a small part of "
                             f"tf.data.Dataset ({', '.join(_IMPLEMENTED)}).")


_END = object()


def _stack(elements: list):
    def stack(*leaves):
        shapes = {np.shape(leaf) for leaf in leaves}
        if len(shapes) > 1:
            raise ValueError("`batch` needs elements of one shape to stack them. "
                             f"Received shapes: {sorted(shapes)}.")
        return np.stack(leaves)
    first = elements[0]
    if isinstance(first, tuple):
        return tuple(_stack([e[i] for e in elements]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _stack([e[k] for e in elements]) for k in first}
    return stack(*elements)


def _buffer_shuffle(iterator: Iterator, buffer_size: int, rng: np.random.Generator) -> Iterator:
    buffer = []
    for element in iterator:
        if len(buffer) == buffer_size:
            j = int(rng.integers(len(buffer)))
            yield buffer[j]
            buffer[j] = element
        else:
            buffer.append(element)
    while buffer:
        j = int(rng.integers(len(buffer)))
        buffer[j], buffer[-1] = buffer[-1], buffer[j]
        yield buffer.pop()
