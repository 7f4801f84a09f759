"""Run memory-bound NumPy passes on all cores.

BLAS already uses every core for the GEMMs, but NumPy's copies and ufuncs run on
one. They release the GIL, so splitting one big pass into a slice per core with a
small thread pool makes it up to ~1.5x faster on 2 cores (im2col copy of
64x32x32x(3x3x32) float32: 5.8 ms -> 4.0 ms). Small arrays are not worth the
hand-off and stay on the calling thread, and so does everything a batch-split
worker runs (``_runtime/workers.py``): the cores are already taken by the workers.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import workers as _workers

__all__ = ["copyto", "for_slices", "workers"]

_MIN_BYTES = 2**20  # below this, the thread hand-off costs more than it saves
_pool: ThreadPoolExecutor | None = None
_pool_pid = None  # a forked child has no worker threads: it builds its own pool


def workers() -> int:
    """Number of threads a pass is split over: the CPUs this process may use."""
    return _workers.usable_cores()


def _slices(length: int, parts: int) -> list:
    bounds = np.linspace(0, length, parts + 1).astype(int)
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def for_slices(fn, length: int, nbytes: int) -> None:
    """Call ``fn(part)`` for slices ``part`` covering ``range(length)``, one per worker.

    ``fn`` must only touch its own slice of the arrays it works on. ``nbytes`` (the
    size of the data involved) decides whether splitting is worth it.
    """
    global _pool, _pool_pid
    parts = min(workers(), length)
    # a pool thread waiting on the pool could deadlock; a batch-split worker already has its core
    nested = threading.current_thread().name.startswith("kernelscope") or _workers.in_worker()
    if parts < 2 or nbytes < _MIN_BYTES or nested:
        fn(slice(0, length))
        return
    if _pool is None or _pool_pid != os.getpid():
        _pool, _pool_pid = ThreadPoolExecutor(workers(), thread_name_prefix="kernelscope"), os.getpid()
    list(_pool.map(fn, _slices(length, parts)))


def copyto(dst: np.ndarray, src: np.ndarray, axis: int = 0) -> None:
    """``np.copyto(dst, src)``, split along ``axis`` (dst and src of the same shape) over the workers."""
    head = (slice(None),) * axis
    for_slices(lambda part: np.copyto(dst[head + (part,)], src[head + (part,)]), dst.shape[axis], dst.nbytes)
