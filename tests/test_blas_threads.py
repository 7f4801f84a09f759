"""kernelscope/_runtime/blas.py: OpenBLAS's idle threads sleep instead of spinning, when it can still be said."""

import os
import subprocess
import sys

import pytest

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


def test_without_threadpoolctl_ctypes_pins_numpys_openblas(monkeypatch):
    import numpy as np
    import threadpoolctl

    from kernelscope._runtime import blas

    info = [lib for lib in threadpoolctl.threadpool_info() if lib["internal_api"] == "openblas"]
    if not info or not sys.platform.startswith("linux"):
        pytest.skip("the ctypes fallback drives OpenBLAS on Linux; this NumPy has another BLAS")
    before = info[0]["num_threads"]
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # `import threadpoolctl` now raises ImportError
    monkeypatch.setattr(blas, "_controller", None)
    libraries = blas._blas_libraries()
    assert blas.can_pin() and {lib.filepath for lib in libraries} >= {info[0]["filepath"]}
    assert "openblas" in blas.describe() and info[0]["architecture"] in blas.describe()
    a = np.ones((300, 300))
    with blas.single_threaded():
        assert [lib.num_threads for lib in libraries] == [1] * len(libraries)
        np.testing.assert_allclose(a @ a, 300.0)
    monkeypatch.delitem(sys.modules, "threadpoolctl")
    assert [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["filepath"] == info[0]["filepath"]] \
        == [before]
    monkeypatch.setattr(blas, "_controller", None)


def test_ctypes_fallback_without_proc_maps_finds_nothing(tmp_path):
    from kernelscope._runtime import blas

    assert blas._ctypes_openblas(str(tmp_path / "absent")) == []
