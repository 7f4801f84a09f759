"""Let OpenBLAS's idle threads sleep right after a GEMM instead of spinning.

After every multiplication OpenBLAS keeps its worker threads spinning for about 2**28
CPU cycles (~0.1 s) waiting for the next one. kernelscope runs its copies and
element-wise passes on every core between GEMMs (kernels/parallel.py), so on a laptop's
few cores those spinning threads take CPU time from them; they also slow any other
framework in the same process (measured: PyTorch's lenet28 inference at half speed
when run right after kernelscope's). ``OPENBLAS_THREAD_TIMEOUT=4`` (2**4 cycles, the
smallest OpenBLAS accepts) makes them sleep at once; waking them for the next GEMM
costs microseconds. Measured on 2 cores: kernelscope trains lenet28 ~17% and cifar32
~10-15% faster.

OpenBLAS reads the variable once, when NumPy loads it, so this only takes effect when
kernelscope is imported before NumPy (the ``kernelscope`` command always is). It never
overrides a value already in the environment. Otherwise set it yourself:
``OPENBLAS_THREAD_TIMEOUT=4 python train.py``.
"""

from __future__ import annotations

import os
import sys

VARIABLE, VALUE = "OPENBLAS_THREAD_TIMEOUT", "4"


def set_thread_timeout() -> bool:
    """Set ``OPENBLAS_THREAD_TIMEOUT`` if NumPy is not loaded yet and it is unset; return whether it was."""
    if "numpy" in sys.modules or VARIABLE in os.environ:
        return False
    os.environ[VARIABLE] = VALUE
    return True
