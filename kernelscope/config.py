"""Process-wide switches: worker threads, BLAS pinning, malloc tuning (``ks.config``).

Defaults, and what each changes in the process (see ``kernelscope/_runtime/``):

- ``set_num_workers(n)``: ``fit``, ``evaluate``, ``predict`` and ``train_on_batch`` split each
  batch over ``n`` worker threads (default: the usable cores), BLAS pinned to one thread while
  they run. ``1`` runs every step unsplit on the calling thread; ``KERNELSCOPE_NUM_WORKERS``
  in the environment sets the default.
- ``set_fast(on)``: with ``kernelscope[fast]`` (numba) installed, numba kernels run the
  memory-bound passes (2x2 max pooling, im2col, bias+ReLU, Adam), compiled on first use and cached
  (default on; ``KERNELSCOPE_FAST=0`` in the environment turns them off as well). The results
  equal the NumPy path's to float32 rounding: most loops bit for bit; Winograd (below) and, where no
  gradient is recorded or for a one-filter layer's input gradient, a direct loop for 3x3
  convolutions of one input channel round differently.
- ``set_fusion(on)``: a ``Sequential`` runs each ``Conv2D(activation="relu")`` followed by a
  ``MaxPooling2D()`` (2x2, stride 2, "valid") as one op, pooling before the bias and ReLU
  (default on; ``KERNELSCOPE_FUSION=0`` in the environment turns it off as well). The outputs are
  bit-identical; see ``models/fusion.py``.
- ``set_winograd(on)``: on the fast path, 3x3 stride-1 convolutions with 32 or more input
  channels run as Winograd F(4x4, 3x3) in inference and in the input gradient (default on;
  ``KERNELSCOPE_WINOGRAD=0`` in the environment turns it off as well). Their float32 error is
  about 1e-5 of the output's largest value instead of im2col's 6e-7; see ``kernels/conv.py``. It
  does not cover the one-channel direct loop (only ``set_fast(False)`` does).
- ``set_malloc_tuning(on)``: glibc's malloc keeps freed memory between steps (default on,
  applied when the first ``fit``/``evaluate``/``predict`` starts; nothing at import;
  ``KERNELSCOPE_MALLOC_TUNING=0`` in the environment turns it off as well).
- ``OPENBLAS_THREAD_TIMEOUT=4`` is set by ``import kernelscope`` when NumPy is not loaded yet
  (OpenBLAS reads it only then, so it has no setter here); ``KERNELSCOPE_BLAS_TIMEOUT=0`` in the
  environment leaves it alone.

>>> import kernelscope as ks
>>> ks.config.set_num_workers(1)
>>> ks.config.num_workers()
1
>>> ks.config.set_num_workers(None)  # back to the default: one per usable core
"""

from __future__ import annotations

import numbers
import os

from ._runtime import allocator, fast, switched_off, workers

__all__ = ["set_num_workers", "num_workers", "set_fast", "fast_enabled", "set_fusion", "fusion_enabled",
           "set_winograd", "winograd_enabled", "set_malloc_tuning", "malloc_tuning"]

_state = {"num_workers": None, "malloc_tuning": True, "fusion": True}


def set_num_workers(n: int | None) -> None:
    """Split training and inference batches over ``n`` threads (None: one per usable core)."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1):
        raise ValueError(f"`n` must be a positive integer or None (one worker per usable core). Received: n={n!r}.")
    _state["num_workers"] = None if n is None else int(n)


def num_workers() -> int:
    """The number of batch-split workers ``fit``/``evaluate``/``predict`` use.

    Unless set here: ``KERNELSCOPE_NUM_WORKERS`` from the environment, else the usable cores.
    """
    n = _state["num_workers"]
    if n is None:
        n = os.environ.get("KERNELSCOPE_NUM_WORKERS", "").strip()
        return int(n) if n.isdigit() and int(n) > 0 else workers.usable_cores()
    return n


def _check_flag(enabled) -> None:
    """The argument of every on/off switch here: a bool (1, "yes" or None are refused, not coerced)."""
    if not isinstance(enabled, bool):
        raise TypeError(f"`enabled` must be a bool. Received: enabled={enabled!r}.")


def set_fast(enabled: bool) -> None:
    """Use the numba kernels of ``kernelscope[fast]`` when numba is installed (see ``_runtime/fast.py``)."""
    _check_flag(enabled)
    fast.set_enabled(enabled)


def fast_enabled() -> bool:
    """Whether the numba kernels run: switched on, numba installed, ``KERNELSCOPE_FAST`` not 0."""
    return fast.enabled()


def set_fusion(enabled: bool) -> None:
    """Fuse Conv2D(activation="relu") -> MaxPooling2D() pairs of Sequential models into one op (see ``models/fusion.py``)."""
    _check_flag(enabled)
    _state["fusion"] = enabled


def fusion_enabled() -> bool:
    """Whether Sequential models fuse conv -> ReLU -> 2x2 max-pool: switched on and ``KERNELSCOPE_FUSION`` not 0."""
    return _state["fusion"] and not switched_off("KERNELSCOPE_FUSION")


def set_winograd(enabled: bool) -> None:
    """Let 3x3 convolutions run as Winograd F(4x4, 3x3) on the fast path (see ``kernels/conv.py``)."""
    _check_flag(enabled)
    fast.set_winograd(enabled)


def winograd_enabled() -> bool:
    """Whether Winograd convolutions run: switched on, the fast path on, ``KERNELSCOPE_WINOGRAD`` not 0."""
    return fast.winograd_enabled()


def set_malloc_tuning(enabled: bool) -> None:
    """Whether the first ``fit``/``evaluate``/``predict`` tunes glibc's malloc (see ``_runtime/allocator.py``).

    Once applied, the settings stay for the life of the process.
    """
    _check_flag(enabled)
    _state["malloc_tuning"] = enabled


def malloc_tuning() -> bool:
    return _state["malloc_tuning"]


def apply_process_settings() -> None:
    """What a training or inference loop turns on first (idempotent and cheap)."""
    if _state["malloc_tuning"]:
        allocator.tune_malloc()
