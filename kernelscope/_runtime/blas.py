"""OpenBLAS's threads: sleep right after a GEMM, and one thread per call while workers run.

**Thread timeout.** After every multiplication OpenBLAS keeps its worker threads spinning for
about 2**28 CPU cycles (~0.1 s) waiting for the next one. Between GEMMs kernelscope runs its
copies and element-wise passes on every core (``_runtime/parallel.py``), so on a laptop's few
cores those spinning threads take CPU time from them; they also slow any other framework in
the same process (measured: PyTorch's lenet28 inference at half speed right after
kernelscope's). ``OPENBLAS_THREAD_TIMEOUT=4`` (2**4 cycles, the smallest OpenBLAS accepts)
makes them sleep at once. OpenBLAS reads the variable once, when NumPy loads it, so
``import kernelscope`` sets it only when NumPy is not loaded yet, never over a value already
in the environment, and not at all with ``KERNELSCOPE_BLAS_TIMEOUT=0``.

**One thread per call.** Batch-split workers (``_runtime/workers.py``) each multiply their own
slice; a threaded GEMM per worker would put 2 x cores threads on the cores. ``single_threaded()``
pins every loaded BLAS to one thread and restores the previous counts afterwards: through
threadpoolctl when it is installed (the ``fast`` extra), else, on Linux, through ctypes on the
OpenBLAS libraries the process has loaded (NumPy's wheels bundle one; found in
``/proc/self/maps``, driven by their ``openblas_set_num_threads`` under its plain or
``scipy_``/``64_`` names). Elsewhere without threadpoolctl nothing is pinned.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading

from . import switched_off

VARIABLE, VALUE = "OPENBLAS_THREAD_TIMEOUT", "4"

_controller = None  # threadpoolctl's view of the loaded BLAS libraries
_modules_seen = 0  # len(sys.modules) at the last scan
_lock = threading.Lock()
_depth = 0  # nested single_threaded() blocks (fit -> evaluate on validation data) pin once


def set_thread_timeout() -> bool:
    """Set ``OPENBLAS_THREAD_TIMEOUT`` if NumPy is not loaded yet and it is unset; return whether it was."""
    if switched_off("KERNELSCOPE_BLAS_TIMEOUT"):
        return False
    if "numpy" in sys.modules or VARIABLE in os.environ:
        return False
    os.environ[VARIABLE] = VALUE
    return True


def _blas_libraries() -> list:
    """threadpoolctl's controllers of the BLAS libraries in the process ([] without threadpoolctl).

    Scanned again when Python modules were imported since the last scan: a new module may have
    loaded another BLAS (numba loads SciPy's OpenBLAS).
    """
    global _controller, _modules_seen
    if _controller is None or (_controller and len(sys.modules) != _modules_seen):
        _modules_seen = len(sys.modules)
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _controller = tuple(_ctypes_openblas())
        else:
            _controller = tuple(ThreadpoolController().select(user_api="blas").lib_controllers)
    return list(_controller)


class _OpenBLAS:
    """The part of threadpoolctl's controller ``single_threaded`` and ``describe`` use, over ctypes."""

    internal_api = "openblas"

    def __init__(self, path: str, library, prefix: str, suffix: str):
        self.filepath = path
        self._set = getattr(library, f"{prefix}openblas_set_num_threads{suffix}")
        self._get = getattr(library, f"{prefix}openblas_get_num_threads{suffix}")
        self._set.argtypes, self._set.restype = [ctypes.c_int], None
        self._get.argtypes, self._get.restype = [], ctypes.c_int
        config = getattr(library, f"{prefix}openblas_get_config{suffix}", None)
        corename = getattr(library, f"{prefix}openblas_get_corename{suffix}", None)
        for fn in (config, corename):
            if fn is not None:
                fn.argtypes, fn.restype = [], ctypes.c_char_p
        words = (config().decode(errors="replace").split() if config is not None else []) + ["?", "?"]
        self.version = words[1] if words[0] == "OpenBLAS" else "?"
        self.architecture = corename().decode(errors="replace") if corename is not None else "?"

    @property
    def num_threads(self) -> int:
        return int(self._get())

    def set_num_threads(self, n: int) -> None:
        self._set(int(n))


_NAMES = [("", ""), ("scipy_", "64_"), ("", "64_"), ("scipy_", "")]  # plain, NumPy >= 2's, ILP64 builds


def _ctypes_openblas(maps: str = "/proc/self/maps") -> list:
    """Controllers of the OpenBLAS libraries mapped into this process (Linux), one per file."""
    try:
        with open(maps) as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:
        return []
    found = []
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in _NAMES:
            if hasattr(library, f"{prefix}openblas_set_num_threads{suffix}"):
                found.append(_OpenBLAS(path, library, prefix, suffix))
                break
    return found


def can_pin() -> bool:
    """Whether :func:`single_threaded` can pin BLAS (threadpoolctl or, on Linux, ctypes finds one)."""
    return bool(_blas_libraries())


def describe() -> str:
    """The BLAS libraries in use, e.g. ``openblas 0.3.31 (SkylakeX, 2 threads)``; '' if unknown."""
    return "; ".join(f"{lib.internal_api} {lib.version} ({getattr(lib, 'architecture', '?')}, "
                     f"{lib.num_threads} threads)" for lib in _blas_libraries())


@contextlib.contextmanager
def single_threaded():
    """Inside the block every BLAS call runs on the calling thread alone."""
    global _depth
    libraries = _blas_libraries()
    with _lock:
        _depth += 1
        saved = [(lib, lib.num_threads) for lib in libraries] if _depth == 1 else []
        for lib, _ in saved:
            lib.set_num_threads(1)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            for lib, threads in saved:
                lib.set_num_threads(threads)
