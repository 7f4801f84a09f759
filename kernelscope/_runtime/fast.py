"""The ``kernelscope[fast]`` switch: numba-compiled loop kernels, compiled on first use.

``compiled(fn)`` returns the numba version of a loop in ``kernels/loops.py``, or None when the
fast path is off: numba is not installed, ``KERNELSCOPE_FAST=0`` is in the environment, or
``ks.config.set_fast(False)`` was called. Callers then run their NumPy path, which gives the
same numbers.

- ``nogil=True``: the loops run on the batch-split workers and on ``_runtime/parallel.py``'s
  pool, in parallel, so no kernel uses numba's own threading (``parallel=True``). Should one
  ever need it, the workqueue layer is selected: the OpenMP one loads a second libgomp beside
  PyTorch's and the two stall each other.
- ``error_model="numpy"``: a division by zero gives inf or NaN, as it does in NumPy, instead of
  numba's default Python semantics, whose zero check inside a loop keeps it from vectorising: the
  Adam loop ran at 0.59-0.8x NumPy's ten passes on 1.2M float32 weights with the check, 4.3-5.4x
  without (benchmarks/fast_kernels.py, PERF_NOTES.md). No loop divides by an integer zero.
  numba's cache key is the function's bytecode and ``loops.py``'s timestamp, not these options:
  after changing them, delete the cached ``loops.*.nbi``/``.nbc`` files or the old code loads.
- ``cache=True``: compiled code is kept between runs (16 s of compiling for all the kernels
  uncached, 0.3 s warm, in the study of benchmarks/PERF_NOTES.md). numba writes the cache
  beside ``kernels/loops.py`` if it can, else in the user's cache directory
  (``~/.cache/numba``), so read-only installs work; ``NUMBA_CACHE_DIR`` overrides both.
- The first compilation in a process prints one line to stderr saying so, on a terminal only
  (logs and the output of scripted runs stay as they were).
- ``set_winograd`` / ``KERNELSCOPE_WINOGRAD=0``: whether 3x3 convolutions may run as Winograd
  F(4x4, 3x3) on the fast path (``kernels/conv.py``); its float32 error is about 10x im2col's. The
  one-channel direct loop, whose error is im2col's, is not under this switch.
"""

from __future__ import annotations

import sys
import threading
import time

import numpy as np

from . import switched_off

__all__ = ["set_enabled", "enabled", "compiled", "handles", "set_winograd", "winograd_enabled"]

_lock = threading.Lock()
_state = {"enabled": True, "numba": None, "noticed": False, "winograd": True}
_dispatchers: dict = {}
_NOTICE_SECONDS = 0.5  # a first call this slow compiled (a cached kernel loads in milliseconds)


def _env_off() -> bool:
    return switched_off("KERNELSCOPE_FAST")


def _numba():
    if _state["numba"] is None:
        try:
            import numba
        except ImportError:
            _state["numba"] = False
        else:
            numba.config.THREADING_LAYER = "workqueue"
            _state["numba"] = numba
    return _state["numba"] or None


def set_enabled(flag: bool) -> None:
    _state["enabled"] = bool(flag)


def enabled() -> bool:
    """Whether the numba kernels run (switched on, not turned off by the environment, numba installed)."""
    return _state["enabled"] and not _env_off() and _numba() is not None


def set_winograd(flag: bool) -> None:
    _state["winograd"] = bool(flag)


def winograd_enabled() -> bool:
    """Whether Winograd convolutions may run: the fast path on, switched on, ``KERNELSCOPE_WINOGRAD`` not 0."""
    return _state["winograd"] and not switched_off("KERNELSCOPE_WINOGRAD") and enabled()


def handles(*arrays) -> bool:
    """Whether the loop kernels take these arrays: float32/float64 only (numba has no float16
    arithmetic on the CPU: it raises NotImplementedError), so anything else takes the NumPy path."""
    return all(a.dtype == np.float32 or a.dtype == np.float64 for a in arrays)


def compiled(fn):
    """The compiled ``fn`` (a function of ``kernels/loops.py``), or None on the NumPy path."""
    if not enabled():
        return None
    dispatcher = _dispatchers.get(fn)
    if dispatcher is None:
        with _lock:
            dispatcher = _dispatchers.get(fn)
            if dispatcher is None:
                dispatcher = _dispatchers[fn] = _Noticing(_numba().njit(cache=True, nogil=True, error_model="numpy")(fn))
    return dispatcher


class _Noticing:
    """Calls a numba dispatcher; says once per process when a call had to compile."""

    __slots__ = ("dispatcher", "_signatures")

    def __init__(self, dispatcher):
        self.dispatcher, self._signatures = dispatcher, 0

    def __call__(self, *args):
        # ``overloads`` is the dispatcher's dict of compiled signatures (``signatures`` copies it into a
        # list: 14 us a call, a tenth of a small predict batch's glue)
        if len(self.dispatcher.overloads) == self._signatures:  # a known signature: just run it
            return self.dispatcher(*args)
        start = time.perf_counter()
        result = self.dispatcher(*args)
        self._signatures = len(self.dispatcher.overloads)
        seconds = time.perf_counter() - start
        if seconds >= _NOTICE_SECONDS and not _state["noticed"] and sys.stderr.isatty():
            _state["noticed"] = True  # a cached kernel loads in milliseconds: this one was compiled
            print(f"kernelscope[fast]: compiling numba kernels on first use ({seconds:.1f} s for this one; cached for "
                  "later runs; KERNELSCOPE_FAST=0 turns them off)", file=sys.stderr)
        return result
