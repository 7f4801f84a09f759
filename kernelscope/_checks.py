"""Argument checks shared by ops and layers: every error names the argument,
what was expected and what was received."""

from __future__ import annotations

import numbers

import numpy as np


def normalize_tuple(value, n: int, name: str, minimum: int = 1) -> tuple:
    """Turn an int or a length-``n`` sequence of ints into a tuple of ``n`` ints >= ``minimum``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        items = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        items = tuple(int(v) for v in value)
    else:
        raise ValueError(f"`{name}` must be an integer or a tuple of {n} integers. Received: {name}={value!r}.")
    if any(v < minimum for v in items):
        raise ValueError(f"`{name}` must be >= {minimum}. Received: {name}={value!r}.")
    return items


def check_numeric(array: np.ndarray, name: str) -> None:
    if array.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must hold numbers. Received: dtype={array.dtype}.")


def check_ndim(array, ndim: int, name: str, layout: str = "") -> None:
    if array.ndim != ndim:
        hint = f" {layout}" if layout else ""
        raise ValueError(f"`{name}` must be a {ndim}-D array{hint}. Received: shape={tuple(array.shape)}.")
