"""kernelscope/_runtime/blas.py: OpenBLAS's idle threads sleep instead of spinning, when it can still be said."""

import os
import subprocess
import sys

PRINT = "import os; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))"


def child(code: str, **env) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**environ, **env})
    return out.stdout.strip()


def test_set_when_kernelscope_comes_before_numpy():
    assert child("import kernelscope; " + PRINT) == "4"


def test_numpy_loaded_first_is_left_alone():
    # OpenBLAS has read its environment already: setting it now would only mislead
    assert child("import numpy, kernelscope; " + PRINT) == "None"


def test_a_value_set_by_the_user_is_kept():
    assert child("import kernelscope; " + PRINT, OPENBLAS_THREAD_TIMEOUT="20") == "20"


def test_the_command_line_gets_it():
    assert child("import kernelscope.cli; " + PRINT) == "4"  # what the console script runs first
