"""Keep freed memory in the process between training steps (glibc's malloc, Linux).

A training step allocates and frees the same large arrays every time: activations,
gradients, masks of a few MB each. With glibc's default settings, freed memory at the
top of the heap is handed back to the operating system and arrays above the dynamic
mmap threshold get fresh pages, so the next step page-faults all of it in again, and
the kernel zeroes every page first. Measured on the lenet28 benchmark (2 cores): about
5,000 page faults (20 MB) per step, about a quarter of the step's time; with the two
settings below, none, and the step is 25-30% faster. PyTorch's CPU tuning guides get
the same effect by preloading jemalloc or tcmalloc; a NumPy-only library can instead
tell glibc to keep what it frees:

- ``M_MMAP_THRESHOLD`` = 32 MiB (glibc's ceiling for it): arrays up to 32 MiB come from
  the heap, whose freed memory is reused without page faults;
- ``M_TRIM_THRESHOLD`` = 256 MiB: up to that much free memory at the top of the heap is
  kept for the next step instead of being returned.

So after training, the process may hold up to 256 MiB of freed memory it no longer
uses; peak memory is unchanged. The settings are process-wide (they also speed up any
other library in the process), so importing kernelscope does not apply them: the first
``fit``/``evaluate``/``predict`` does, unless ``ks.config.set_malloc_tuning(False)`` was
called or ``KERNELSCOPE_MALLOC_TUNING=0`` is in the environment. Elsewhere than glibc
(macOS, Windows, musl) nothing is changed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

from . import switched_off

__all__ = ["tune_malloc", "MMAP_THRESHOLD", "TRIM_THRESHOLD"]

MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 256 * 2**20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h

_tuned = None


def tune_malloc() -> bool:
    """Apply the settings above once; return whether glibc accepted them."""
    global _tuned
    if _tuned is None:
        _tuned = _apply()
    return _tuned


def _apply() -> bool:
    if switched_off("KERNELSCOPE_MALLOC_TUNING"):
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
