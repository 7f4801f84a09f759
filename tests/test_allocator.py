"""_runtime/allocator.py: glibc keeps freed memory for the next step instead of page-faulting it back."""

import os
import platform
import subprocess
import sys

import pytest

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Like a training step, holds four 12 MB arrays at once (activations kept for the backward
# pass), frees them, and does it again 10 times; prints the minor page faults after the first.
CHILD = """
import resource, numpy as np
from kernelscope._runtime.allocator import tune_malloc
tune_malloc()  # what the first fit/evaluate/predict does
def step():
    held = [np.ones(3 * 2**20, np.float32) for _ in range(4)]
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(tune_malloc(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def run_child(**env):
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True,
                         env={**os.environ, **env})
    tuned, faults = out.stdout.split()
    return tuned == "True", int(faults)


@pytest.mark.skipif(not GLIBC, reason="malloc tuning applies to glibc only")
def test_freed_arrays_are_reused_without_page_faults():
    tuned, faults = run_child()
    assert tuned
    assert faults < 100  # 10 x 48 MB would be ~120,000 faults of 4 KB pages


@pytest.mark.skipif(not GLIBC, reason="malloc tuning applies to glibc only")
def test_environment_variable_leaves_malloc_alone():
    tuned, faults = run_child(KERNELSCOPE_MALLOC_TUNING="0")
    assert not tuned
    assert faults > 10 * 1000  # glibc's defaults hand most of it back and fault it in again


def test_tuning_is_a_no_op_where_it_does_not_apply(monkeypatch):
    from kernelscope._runtime import allocator
    monkeypatch.setattr(allocator.platform, "system", lambda: "Darwin")
    assert allocator._apply() is False
