"""Array creation and conversion of ``keras.ops`` (``zeros``, ``arange``, ``convert_to_tensor``...).

Float results default to ``ks.backend.floatx()``; integer ranges stay integer
(``arange(3)`` is int32, as in Keras). Created tensors are constants: wrap
one in ``ks.Variable`` to train it.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd import Tensor, as_tensor

__all__ = [
    "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "empty", "arange", "eye", "identity",
    "linspace", "tri", "convert_to_tensor", "convert_to_numpy", "shape", "dtype", "size", "ndim",
    "stop_gradient", "is_tensor",
]


def _dtype(dtype, default=None) -> np.dtype:
    from ..backend import floatx, standardize_dtype

    if dtype is None:
        return np.dtype(default or floatx())
    return np.dtype(standardize_dtype(dtype))


def _shape(shape) -> tuple:
    items = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    if any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 0 for d in items):
        raise ValueError(f"`shape` must be a tuple of non-negative integers. Received: shape={shape!r}.")
    return tuple(int(d) for d in items)


def zeros(shape, dtype=None) -> Tensor:
    """A tensor of zeros."""
    return Tensor._constant(np.zeros(_shape(shape), _dtype(dtype)))


def ones(shape, dtype=None) -> Tensor:
    """A tensor of ones."""
    return Tensor._constant(np.ones(_shape(shape), _dtype(dtype)))


def empty(shape, dtype=None) -> Tensor:
    """A tensor of the given shape (zero-filled here, so results never depend on memory garbage)."""
    return zeros(shape, dtype)


def full(shape, fill_value, dtype=None) -> Tensor:
    """A tensor filled with ``fill_value`` (broadcast to ``shape``)."""
    value = as_tensor(fill_value).data
    return Tensor._constant(np.full(_shape(shape), value, _dtype(dtype, value.dtype.name)))


def _like_dtype(x, dtype) -> np.dtype:
    return _dtype(dtype, as_tensor(x).dtype.name)


def zeros_like(x, dtype=None) -> Tensor:
    """Zeros of the shape (and, by default, dtype) of ``x``."""
    return Tensor._constant(np.zeros(as_tensor(x).shape, _like_dtype(x, dtype)))


def ones_like(x, dtype=None) -> Tensor:
    """Ones of the shape (and, by default, dtype) of ``x``."""
    return Tensor._constant(np.ones(as_tensor(x).shape, _like_dtype(x, dtype)))


def full_like(x, fill_value, dtype=None) -> Tensor:
    """``fill_value`` in the shape (and, by default, dtype) of ``x``."""
    value = as_tensor(fill_value).data
    return Tensor._constant(np.full(as_tensor(x).shape, value, _like_dtype(x, dtype)))


def arange(start, stop=None, step=None, dtype=None) -> Tensor:
    """Evenly spaced values in ``[start, stop)``; int32 for integer arguments, else floatx."""
    values = [v for v in (start, stop, step) if v is not None]
    integral = all(isinstance(v, numbers.Integral) for v in values)
    if step == 0:
        raise ValueError("`step` must not be 0. Received: step=0.")
    out = np.arange(start, stop, 1 if step is None else step)
    return Tensor._constant(out.astype(_dtype(dtype, "int32" if integral else None)))


def eye(N, M=None, k: int = 0, dtype=None) -> Tensor:  # noqa: N803 - Keras names
    """A 2-D tensor with ones on the ``k``-th diagonal."""
    return Tensor._constant(np.eye(N, M, k, dtype=_dtype(dtype)))


def identity(n, dtype=None) -> Tensor:
    """The ``n x n`` identity matrix."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k: int = 0, dtype=None) -> Tensor:  # noqa: N803 - Keras names
    """Ones at and below the ``k``-th diagonal."""
    return Tensor._constant(np.tri(N, M, k, dtype=_dtype(dtype)))


def linspace(start, stop, num: int = 50, endpoint: bool = True, retstep: bool = False, dtype=None, axis: int = 0):
    """``num`` evenly spaced values from ``start`` to ``stop``; with ``retstep``, also the spacing."""
    start, stop = (v.data if isinstance(v, Tensor) else v for v in (start, stop))
    values, step = np.linspace(start, stop, num, endpoint=endpoint, retstep=True, axis=axis)
    out = Tensor._constant(values.astype(_dtype(dtype)))
    return (out, step) if retstep else out


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None) -> Tensor:
    """``x`` as a ``ks.Tensor`` (a Tensor is returned as is unless ``dtype`` changes it).

    Python floats become floatx, Python ints int32, NumPy arrays keep their dtype;
    ``sparse=True`` and ``ragged=True`` are refused (NumPy tensors are dense).
    """
    if sparse or ragged:
        raise ValueError(f"kernelscope tensors are dense NumPy arrays: `sparse` and `ragged` must be False "
                         f"or None. Received: sparse={sparse!r}, ragged={ragged!r}.")
    if isinstance(x, Tensor):
        return x if dtype is None or np.dtype(_dtype(dtype)) == x.dtype else _cast(x, _dtype(dtype))
    array = np.asarray(x)
    if dtype is not None:
        array = array.astype(_dtype(dtype))
    elif not isinstance(x, (np.ndarray, np.generic)):  # Python data: Keras's defaults
        array = array.astype({"f": _dtype(None), "i": np.dtype("int32")}.get(array.dtype.kind, array.dtype))
    if array.dtype.kind not in "biuf":
        raise TypeError(f"`x` must be numeric or boolean. Received: dtype={array.dtype}.")
    return Tensor(array) if array.dtype.kind == "f" else Tensor._constant(array)


def _cast(x: Tensor, dtype: np.dtype) -> Tensor:
    from .core import cast

    return cast(x, dtype)


def convert_to_numpy(x) -> np.ndarray:
    """The values of a Tensor, Variable or array-like as a NumPy array."""
    if isinstance(x, Tensor):
        return x.data
    return np.asarray(x)


def shape(x) -> tuple:
    """The shape as a tuple (``None`` for unknown sizes of a KerasTensor)."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def dtype(x) -> str:
    """The dtype's name (``"float32"``...)."""
    from ..backend import standardize_dtype

    return standardize_dtype(x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype)


def size(x) -> int:
    """The number of elements."""
    return int(np.prod(shape(x), dtype=np.int64))


def ndim(x) -> int:
    """The number of axes."""
    return len(shape(x))


def is_tensor(x) -> bool:
    """Whether ``x`` is a ``ks.Tensor`` (Variables included)."""
    return isinstance(x, Tensor)


def stop_gradient(variable) -> Tensor:
    """The same values, with no gradient flowing back through them."""
    x = as_tensor(variable)
    return Tensor._constant(x.data)


from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), __all__)
