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
pins every loaded BLAS to one thread (through threadpoolctl, when installed) and restores the
previous counts afterwards.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading

VARIABLE, VALUE = "OPENBLAS_THREAD_TIMEOUT", "4"

_controller = None  # threadpoolctl's view of the loaded BLAS libraries
_modules_seen = 0  # len(sys.modules) at the last scan
_lock = threading.Lock()
_depth = 0  # nested single_threaded() blocks (fit -> evaluate on validation data) pin once


def set_thread_timeout() -> bool:
    """Set ``OPENBLAS_THREAD_TIMEOUT`` if NumPy is not loaded yet and it is unset; return whether it was."""
    if os.environ.get("KERNELSCOPE_BLAS_TIMEOUT", "1").strip().lower() in ("0", "false", "no", "off"):
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
            _controller = ()
        else:
            _controller = tuple(ThreadpoolController().select(user_api="blas").lib_controllers)
    return list(_controller)


def can_pin() -> bool:
    """Whether :func:`single_threaded` can pin BLAS (threadpoolctl is installed and finds one)."""
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
