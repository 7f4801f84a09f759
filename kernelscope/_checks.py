"""Argument checks shared by ops and layers: every error names the argument,
what was expected and what was received."""

from __future__ import annotations

import math

import numpy as np

# the old name of geometry.standardize_tuple, which many modules import from here
from .geometry import standardize_tuple as normalize_tuple  # noqa: F401


def check_numeric(array: np.ndarray, name: str) -> None:
    if array.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must hold numbers. Received: dtype={array.dtype}.")


def check_ndim(array, ndim: int, name: str, layout: str = "") -> None:
    if array.ndim != ndim:
        hint = f" {layout}" if layout else ""
        raise ValueError(f"`{name}` must be a {ndim}-D array{hint}. Received: shape={tuple(array.shape)}.")


# 2**32 values (16 GiB of float32): past any machine this runs on, yet far below the sizes at which
# NumPy itself fails with "array is too big" or a MemoryError naming no argument.
MAX_ELEMENTS = 2 ** 32


def check_allocation(shape, name: str, value, what: str, input_shape=None) -> None:
    """Refuse an argument that would make an op allocate an array of ``shape`` beyond ``MAX_ELEMENTS``.

    ``what`` says which array and why, e.g. "a padded input (padding='same' on input shape (1, 8, 8, 1))".
    With ``input_shape``, only an array more than 4 times the input's size is the argument's fault
    (a big batch padded by a few pixels is not refused here).
    """
    count = math.prod(int(d) for d in shape)  # Python ints: a huge product cannot wrap around
    baseline = 0 if input_shape is None else 4 * math.prod(int(d) for d in input_shape)
    if count > max(MAX_ELEMENTS, baseline):
        raise ValueError(f"`{name}`={value!r} would need {what} of shape {tuple(int(d) for d in shape)}: "
                         f"{count:,} values, more than the {MAX_ELEMENTS:,} kernelscope allocates at once. "
                         f"Use a smaller `{name}`. Received: {name}={value!r}.")
