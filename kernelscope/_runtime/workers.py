"""Batch-split workers: one thread per core, each running a whole step on its slice of the batch.

OpenBLAS's threaded GEMMs collapse when anything else competes for the cores (the study in
benchmarks/PERF_NOTES.md measured a 0.6 ms GEMM taking 15-3000 ms under load), while one
Python thread per core, each with single-threaded BLAS, scales 1.8x from one core to two:
NumPy releases the GIL inside BLAS and most ufuncs. ``run(fn, parts)`` calls ``fn(part)``
for each part on its own worker (the calling thread takes part 0) and returns the results
in part order, so whatever the caller sums, it sums in a fixed order.

Layers that couple the samples of a batch (BatchNormalization) call :func:`current` and
reduce their per-slice sums across the group with :meth:`Group.allreduce` before using
them: every worker sees the whole batch's statistics.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["Group", "current", "run", "in_worker", "worker_index", "usable_cores"]

_local = threading.local()  # .member: (Group, index) while a worker runs a part
_pool: ThreadPoolExecutor | None = None
_pool_key = None  # (pid, size): a forked child or a new worker count builds a new pool
_pool_lock = threading.Lock()


def usable_cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Group:
    """The workers of one ``run``: a barrier and one slot per worker for all-reduces."""

    def __init__(self, size: int):
        self.size = size
        self._barrier = threading.Barrier(size)
        self._slots: list = [None] * size

    def allreduce(self, index: int, value: np.ndarray) -> np.ndarray:
        """Sum of every worker's ``value``, added in worker order (the same bits on every worker)."""
        self._slots[index] = value
        self._barrier.wait()
        total = self._slots[0].copy()
        for other in self._slots[1:]:
            total += other
        self._barrier.wait()  # nobody overwrites a slot before everyone has read them all
        return total

    def abort(self) -> None:
        self._barrier.abort()  # a failed worker releases the others from their barrier


def current():
    """``(group, index)`` of the running worker, or None outside batch-split workers."""
    return getattr(_local, "member", None)


def in_worker() -> bool:
    return current() is not None


def worker_index() -> int:
    """The running worker's index (0 outside workers): keys its buffers."""
    member = current()
    return 0 if member is None else member[1]


def _executor(size: int) -> ThreadPoolExecutor:
    global _pool, _pool_key
    with _pool_lock:
        if _pool_key != (os.getpid(), size):
            _pool = ThreadPoolExecutor(size, thread_name_prefix="kernelscope-worker")
            _pool_key = (os.getpid(), size)
        return _pool


def run(fn, parts: list) -> list:
    """``[fn(part) for part in parts]``, each part on its own worker; the first error is raised."""
    group = Group(len(parts))

    def task(index: int):
        _local.member = (group, index)
        try:
            return fn(parts[index])
        except BaseException:
            group.abort()
            raise
        finally:
            _local.member = None

    if len(parts) == 1:
        return [task(0)]
    futures = [_executor(len(parts) - 1).submit(task, i) for i in range(1, len(parts))]
    results, errors = [None] * len(parts), [None] * len(parts)
    for i in range(len(parts)):
        try:
            results[i] = task(0) if i == 0 else futures[i - 1].result()
        except BaseException as error:  # noqa: BLE001 - collected, the root cause re-raised below
            errors[i] = error
    real = [e for e in errors if e is not None and not isinstance(e, threading.BrokenBarrierError)]
    if real or any(errors):
        raise (real or [e for e in errors if e is not None])[0]
    return results
