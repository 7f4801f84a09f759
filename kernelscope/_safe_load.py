"""Reading weights from untrusted files: sizes checked before anything is inflated or allocated.

- :func:`read_member`: a zip member whose declared uncompressed size is
  checked against a cap first, then read with a bounded read.
- :func:`read_npz`: the arrays of an ``.npz`` whose every ``.npy`` header
  (shape, dtype) is checked against the shapes the model expects before its
  data is read; object arrays are refused, so nothing is ever unpickled.
- :func:`weight_array`: a weight converted to the model's dtype, refused unless
  it is a finite real float array (no complex, datetime, string, NaN, or a
  float64 value beyond the target dtype's range); an integer weight (a
  counter) must hold integers within its dtype's range.
- :func:`allocation_budget` / :func:`charge_allocation`: while a model is
  rebuilt from a file, the weights its config asks for may not exceed what the
  file holds, so ``Dense(units=10**12)`` is refused before it is allocated.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import zipfile

import numpy as np

__all__ = ["RefusedFile", "MAX_CONFIG_BYTES", "read_member", "read_npz", "read_header", "weight_array",
           "allocation_budget", "charge_allocation", "npy_bound"]

MAX_CONFIG_BYTES = 64 << 20  # a config.json larger than 64 MiB is refused unread
_NPY_OVERHEAD = 1 << 16  # npy header (NumPy caps it near 10 kB) plus zip entry records, per array

class RefusedFile(ValueError):
    """A file refused with a message that already names it (callers pass it on unchanged)."""


_BUDGET: contextvars.ContextVar = contextvars.ContextVar("kernelscope_allocation_budget", default=None)


def read_member(archive: zipfile.ZipFile, name: str, cap: int, path, what: str) -> bytes:
    """The bytes of member ``name``, refused unread when its declared size exceeds ``cap``."""
    info = archive.getinfo(name)
    if info.file_size > cap:
        raise RefusedFile(f"'{path}' is refused: its {name} declares {info.file_size:,} bytes uncompressed, "
                         f"more than {what} ({cap:,} bytes). Nothing was inflated.")
    with archive.open(info) as member:
        return member.read(cap + 1)[:cap]


def npy_bound(shape, itemsize: int = 8) -> int:
    """The most bytes an honest ``.npy`` of ``shape`` takes (data up to float64, plus its header)."""
    return math.prod(int(s) for s in shape) * itemsize + _NPY_OVERHEAD


def read_header(member) -> tuple:
    """``(shape, fortran_order, dtype)`` of the ``.npy`` stream ``member`` (NumPy caps the header's length)."""
    version = np.lib.format.read_magic(member)
    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    return reader(member)


def _read_npy(member, path, key: str, shape: tuple) -> np.ndarray:
    found, fortran, dtype = read_header(member)
    if tuple(found) != tuple(shape):
        raise RefusedFile(f"'{path}': array '{key}' has shape {tuple(found)}, but the model expects {tuple(shape)}.")
    size = math.prod(found) * dtype.itemsize  # Python ints: no overflow
    data = member.read(size)
    if len(data) != size:
        raise RefusedFile(f"'{path}' is truncated: array '{key}' should have {size:,} data bytes but only "
                         f"{len(data):,} remain.")
    return np.frombuffer(data, dtype=dtype).reshape(found, order="F" if fortran else "C")


def _header(npz: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple:
    with npz.open(info) as member:
        return read_header(member)


def read_npz(source, path, expected: dict, skip: str | None = None, owner: str = "the model") -> dict:
    """``{key: array}`` for every ``key -> shape`` of ``expected``, read from the ``.npz`` ``source``.

    Members whose key starts with ``skip`` are ignored; the others must match
    ``expected`` exactly (else an error naming ``owner``). Each member's declared size and ``.npy`` header
    (shape, dtype) are checked before its data is read. Raises ValueError naming
    ``path`` and the array.
    """
    with zipfile.ZipFile(source) as npz:
        members = {info.filename[:-4]: info for info in npz.infolist() if info.filename.endswith(".npy")
                   and not (skip and info.filename.startswith(skip))}
        for key, info in members.items():
            if _header(npz, info)[2].hasobject:
                raise RefusedFile(f"'{path}' is not a kernelscope weights file (.npz): it holds arrays of Python "
                                 f"objects ('{key}'), which kernelscope never loads (they could run code).")
        missing = sorted(set(expected) - set(members))
        unexpected = sorted(set(members) - set(expected))
        if missing or unexpected:
            raise RefusedFile(f"The weights in '{path}' do not match {owner}: missing {missing[:5]}"
                             f"{' ...' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}"
                             f"{' ...' if len(unexpected) > 5 else ''}.")
        arrays = {}
        for key, shape in expected.items():
            info = members[key]
            if info.file_size > npy_bound(shape):
                raise RefusedFile(f"'{path}' is refused: array '{key}' declares {info.file_size:,} bytes, more than "
                                 f"its expected shape {tuple(shape)} can take ({npy_bound(shape):,}). "
                                 "Nothing was inflated.")
            with npz.open(info) as member:
                arrays[key] = _read_npy(member, path, key, tuple(shape))
                member.read(1)  # reach the member's end, so zipfile checks its CRC
    return arrays


def weight_array(array, dtype, path, key: str) -> np.ndarray:
    """``array`` as a new ``dtype`` array, refused unless it is finite, real and of a float dtype."""
    array = np.asarray(array)
    if np.dtype(dtype).kind in "iu":  # a counter (Normalization's count): whole numbers that fit
        return _integer_weight(array, np.dtype(dtype), path, key)
    if array.dtype.kind != "f":
        raise RefusedFile(f"'{path}': weight '{key}' has dtype {array.dtype}; weights must be real floating-point "
                         "numbers (float16, float32 or float64).")
    with np.errstate(over="ignore", invalid="ignore"):
        converted = np.array(array, dtype=dtype)
    if not np.isfinite(converted).all():
        where = "in the file" if not np.isfinite(array).all() else f"once converted to {np.dtype(dtype).name}"
        raise RefusedFile(f"'{path}': weight '{key}' holds NaN or infinite values {where}; weights must be "
                         "finite.")
    return converted


def _integer_weight(array: np.ndarray, dtype: np.dtype, path, key: str) -> np.ndarray:
    info = np.iinfo(dtype)
    if array.dtype.kind not in "iu" or (array.size and (array.min() < info.min or array.max() > info.max)):
        raise RefusedFile(f"'{path}': weight '{key}' must hold integers within {dtype.name}'s range. Received "
                          f"dtype {array.dtype}.")
    return np.array(array, dtype=dtype)


@contextlib.contextmanager
def allocation_budget(nbytes: int, path):
    """Within this block, :func:`charge_allocation` refuses weights beyond ``nbytes`` in total (from ``path``)."""
    token = _BUDGET.set([int(nbytes), str(path)])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def charge_allocation(shape, dtype, what: str) -> None:
    """Count a weight about to be allocated against the active budget; no-op outside one."""
    budget = _BUDGET.get()
    if budget is None:
        return
    size = math.prod(int(s) for s in shape) * np.dtype(dtype).itemsize
    if size > budget[0]:
        raise RefusedFile(f"'{budget[1]}' is refused: its config asks for {what} of shape {tuple(shape)} "
                         f"({size:,} bytes), more than the weights the file holds allow ({budget[0]:,} bytes "
                         "left). Nothing was allocated.")
    budget[0] -= size
