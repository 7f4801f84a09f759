"""A pool of reusable work arrays for the large per-step buffers (im2col columns).

A training step allocates the same big scratch arrays every time: each convolution's
im2col columns are tens of MB. Fresh allocations of that size come from ``mmap`` and
page-fault on first touch, which costs more than the copy that fills them (measured:
75 MB im2col copy 10 ms into a fresh array, 4 ms into an existing one).

``lease(size, dtype)`` hands out a 1-D array and a :class:`Lease` that owns it. The
array goes back to the pool when the lease is garbage collected, i.e. when whatever
holds it (a running im2col loop, a backward cache) is freed, so two users never share
a buffer, and ``retain_graph=True`` keeps a cached buffer as long as the graph lives.
An idle array serves any request up to its size: the layers of a network end up
sharing one or two buffers instead of one per layer shape. Each batch-split worker
(``_runtime/workers.py``) has a pool of its own, so two workers never trade buffers of
different sizes back and forth.
"""

from __future__ import annotations

import threading

import numpy as np

from .workers import worker_index

__all__ = ["Lease", "lease", "clear", "pooled_bytes"]

_MAX_FREE_PER_DTYPE = 4  # idle arrays kept per dtype; more are simply dropped
_lock = threading.Lock()
_free: dict = {}  # (worker index, dtype.str) -> idle 1-D arrays


class Lease:
    """Owns one pooled array; returns it to the pool when the lease itself is freed.

    ``array`` is a 1-D view of the requested size on a pooled array at least that large.
    """

    __slots__ = ("array", "_base", "_key", "__weakref__")

    def __init__(self, base: np.ndarray, size: int, key: tuple):
        self._base, self._key = base, key
        self.array = base[:size]

    def __del__(self):
        with _lock:  # back to the pool of the worker that leased it, whichever thread frees it
            idle = _free.setdefault(self._key, [])
            if len(idle) < _MAX_FREE_PER_DTYPE:
                idle.append(self._base)


def lease(size: int, dtype) -> Lease:
    """A :class:`Lease` on ``size`` uninitialised elements of ``dtype`` (the smallest idle array that fits)."""
    dtype = np.dtype(dtype)
    key = (worker_index(), dtype.str)
    with _lock:
        idle = _free.get(key, [])
        fits = [i for i, a in enumerate(idle) if a.size >= size]
        base = idle.pop(min(fits, key=lambda i: idle[i].size)) if fits else None
        if base is None:
            idle.clear()  # all too small: the new, larger array replaces them once returned
    return Lease(np.empty(size, dtype=dtype) if base is None else base, size, key)


def clear() -> None:
    """Drop every idle array (frees the memory the pool holds between steps)."""
    with _lock:
        _free.clear()


def pooled_bytes() -> int:
    """Bytes currently held by idle arrays."""
    with _lock:
        return sum(a.nbytes for idle in _free.values() for a in idle)
