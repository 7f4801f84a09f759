"""Process-level machinery behind the pure kernels: what kernelscope changes in the process.

``kernels/`` stays "arrays in, arrays out, no state"; everything that lives for the whole
process is here, each effect switchable through :mod:`kernelscope.config`:

- ``blas``: ``OPENBLAS_THREAD_TIMEOUT`` (set by ``import kernelscope`` before NumPy loads,
  unless ``KERNELSCOPE_BLAS_TIMEOUT=0``), and pinning BLAS to one thread while batch-split
  workers run (``ks.config.set_num_workers``);
- ``allocator``: glibc's malloc keeps freed memory between steps (applied when the first
  ``fit``/``evaluate``/``predict`` starts, or by the ``kernelscope`` command; off with
  ``ks.config.set_malloc_tuning(False)`` or ``KERNELSCOPE_MALLOC_TUNING=0``);
- ``buffers``: a pool of reusable im2col work arrays, one per worker;
- ``parallel``: a small thread pool splitting memory-bound passes when one thread runs;
- ``workers``: the batch-split workers and their all-reduce (BatchNormalization's sums);
  ``ks.config.set_num_workers`` or ``KERNELSCOPE_NUM_WORKERS``;
- ``fast``: whether the numba loops of ``kernels/loops.py`` run (``kernelscope[fast]``;
  ``ks.config.set_fast`` or ``KERNELSCOPE_FAST=0``), compiled lazily and cached.
"""

import os as _os

_OFF_WORDS = ("0", "false", "no", "off")


def switched_off(variable: str) -> bool:
    """Whether the environment variable ``variable`` says off (0, false, no or off, any case); unset means on."""
    return _os.environ.get(variable, "1").strip().lower() in _OFF_WORDS
