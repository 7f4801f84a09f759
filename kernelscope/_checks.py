"""Argument checks shared by ops and layers: every error names the argument,
what was expected and what was received."""

from __future__ import annotations

import importlib
import math
import numbers

import numpy as np

# the old name of geometry.standardize_tuple, which many modules import from here
from .geometry import standardize_tuple as normalize_tuple  # noqa: F401
from .geometry import check_int, is_int


# how pip spells the package that provides an optional import
_PACKAGES = {"PIL": "Pillow", "sklearn": "scikit-learn", "h5py": "h5py", "onnx": "onnx", "matplotlib": "matplotlib"}


def require(module: str, extra: str, what: str, note: str = ""):
    """Import the optional ``module``, or raise an ImportError that names the extra to install.

    The message reads ``'<what> needs <package><note>: pip install "kernelscope[<extra>]"'``.
    """
    top = module.split(".")[0]
    try:
        importlib.import_module(top)  # first: a package blocked in sys.modules hides its loaded submodules
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f'{what} needs {_PACKAGES.get(top, top)}{note}: pip install "kernelscope[{extra}]"') from None


def check_choice(value, choices, name: str):
    """``value`` if it is one of ``choices``, else Keras's ValueError naming the argument."""
    if value not in choices:
        raise ValueError(f"Invalid value for argument `{name}`. Expected one of {choices}. "
                         f"Received: {name}={value!r}.")
    return value


def optional_int(value, name: str, minimum: int):
    """None, or ``value`` as an int >= ``minimum``; else a ValueError naming ``name``."""
    return None if value is None else check_int(value, name, minimum, expected=f"None or an integer >= {minimum}")


def check_axis(axis, name: str = "axis") -> int:
    """``axis`` as an int (negative counts from the end), else a ValueError naming ``name``."""
    if not is_int(axis):
        raise ValueError(f"`{name}` must be an integer. Received: {name}={axis!r}.")
    return int(axis)


def check_number(value, name: str, what: str = "must be a number") -> float:
    """``value`` as a float if it is a real number (not a bool), else the ValueError
    "`name` <what>. Received: name=value." (``what`` words the requirement)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValueError(f"`{name}` {what}. Received: {name}={value!r}.")
    return float(value)


def check_numeric(array: np.ndarray, name: str) -> None:
    if array.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must hold numbers. Received: dtype={array.dtype}.")


def check_ndim(shape, ndim: int, name, layout: str = "", minimum: bool = False) -> None:
    """Refuse a rank other than ``ndim`` (less than ``ndim`` with ``minimum``).

    ``shape`` is a shape or anything with ``.shape``. ``name`` is an op's argument name, or the
    layer whose input this is, which gives Keras's InputSpec message.
    """
    shape = tuple(getattr(shape, "shape", shape))
    if len(shape) >= ndim if minimum else len(shape) == ndim:
        return
    if isinstance(name, str):
        hint = f" {layout}" if layout else ""
        raise ValueError(f"`{name}` must be a {ndim}-D array{hint}. Received: shape={shape}.")
    raise ValueError(f"Input 0 of layer '{name.name}' is incompatible with the layer: expected "
                     f"{'min_ndim' if minimum else 'ndim'}={ndim}, found ndim={len(shape)}. "
                     f"Full shape received: {shape}.")


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
