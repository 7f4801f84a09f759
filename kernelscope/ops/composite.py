"""More of ``keras.ops.numpy``, written with other ops, so their gradients come with them.

None of these has a backward rule of its own: each is a short composition of
the differentiable ops in ``elementwise``, ``shapes``, ``reductions`` and ``core``.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, as_tensor
from . import core, elementwise, shapes
from .creation import convert_to_tensor

__all__ = [
    "array", "copy", "empty_like", "hstack", "vstack", "append", "nonzero", "isclose", "allclose", "meshgrid",
    "diag", "trace", "median", "cbrt", "trunc", "nan_to_num", "divide_no_nan", "logaddexp", "hypot",
    "deg2rad", "rad2deg", "fliplr", "flipud", "rot90",
]


def array(x, dtype=None) -> Tensor:
    """A tensor of ``x`` (``keras.ops.array``)."""
    return convert_to_tensor(x, dtype=dtype)


def copy(x) -> Tensor:
    """A tensor with the values of ``x``; gradients flow back to ``x``."""
    return as_tensor(x) * 1


def empty_like(x, dtype=None) -> Tensor:
    """A tensor of the shape of ``x`` (zero-filled)."""
    from .creation import zeros_like

    return zeros_like(x, dtype=dtype)


def hstack(xs) -> Tensor:
    """Join along the second axis (the first for 1-D inputs)."""
    ts = [as_tensor(x) for x in xs]
    return core.concatenate(ts, axis=0 if ts[0].ndim == 1 else 1)


def vstack(xs) -> Tensor:
    """Join along the first axis (1-D inputs become rows)."""
    ts = [as_tensor(x) for x in xs]
    return core.concatenate([t.reshape(1, -1) if t.ndim == 1 else t for t in ts], axis=0)


def append(x1, x2, axis=None) -> Tensor:
    """``x2`` joined after ``x1`` along ``axis`` (``None``: both flattened)."""
    a, b = as_tensor(x1), as_tensor(x2)
    if axis is None:
        return core.concatenate([a.reshape(-1), b.reshape(-1)], axis=0)
    return core.concatenate([a, b], axis=axis)


def nonzero(x) -> tuple:
    """The indices of the non-zero elements, one int32 tensor per axis."""
    return elementwise.where(x)


def isclose(x1, x2, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """Where ``|x1 - x2| <= atol + rtol * |x2|`` (boolean)."""
    a, b = (np.asarray(v.data if isinstance(v, Tensor) else v) for v in (x1, x2))
    return Tensor._constant(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(x1, x2, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """Whether every element is close (a boolean scalar)."""
    return Tensor._constant(np.asarray(np.all(isclose(x1, x2, rtol, atol, equal_nan).data)))


def meshgrid(*x, indexing: str = "xy") -> list:
    """Coordinate grids from 1-D tensors (``"xy"`` or ``"ij"`` indexing)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Valid values for `indexing` are 'xy' and 'ij'. Received: indexing={indexing!r}.")
    ts = [as_tensor(v).reshape(-1) for v in x]
    shape = [t.shape[0] for t in ts]
    if indexing == "xy" and len(ts) >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for i, t in enumerate(ts):
        axis = {0: 1, 1: 0}.get(i, i) if indexing == "xy" and len(ts) >= 2 else i
        view = [1] * len(ts)
        view[axis] = t.shape[0]
        grids.append(shapes.broadcast_to(t.reshape(view), shape))
    return grids


def diag(x, k: int = 0) -> Tensor:
    """The ``k``-th diagonal of a matrix, or a matrix with a vector on its ``k``-th diagonal."""
    x = as_tensor(x)
    if x.ndim == 1:
        n = x.shape[0] + abs(k)
        mask = np.eye(n, k=k, dtype=bool)
        index = np.zeros((n, n), dtype=np.intp)
        index[mask] = np.arange(x.shape[0])  # row-major order walks the diagonal from its start
        return shapes.take(x, index) * mask.astype(x.dtype)
    if x.ndim == 2:
        return shapes.diagonal(x, offset=k)
    raise ValueError(f"`diag` needs a 1-D or 2-D input. Received: x.shape={x.shape}.")


def trace(x, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Sum along a diagonal."""
    return core.sum(shapes.diagonal(x, offset, axis1, axis2), axis=-1)


def median(x, axis=None, keepdims: bool = False) -> Tensor:
    """The median along ``axis`` (the mean of the two middle values for even counts)."""
    x = elementwise._floating(x)
    flat = axis is None
    data = x.reshape(-1) if flat else x
    axis_ = 0 if flat else core.normalize_axis(axis, x.ndim)
    ordered = shapes.sort(data, axis=axis_)
    n = ordered.shape[axis_]
    middle = shapes.take(ordered, np.array([(n - 1) // 2, n // 2]), axis=axis_)
    out = core.mean(middle, axis=axis_, keepdims=keepdims)
    if flat and keepdims:
        return out.reshape((1,) * x.ndim)
    return out


def cbrt(x) -> Tensor:
    """Cube root (real, for negative inputs too)."""
    x = elementwise._floating(x)
    return elementwise.sign(x) * elementwise.abs(x) ** (1.0 / 3.0)


def trunc(x) -> Tensor:
    """Round towards zero (zero gradient)."""
    return elementwise._unary(x, np.trunc, None)


def nan_to_num(x, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
    """Replace NaN and infinities by finite numbers; the gradient passes where ``x`` was finite."""
    x = elementwise._floating(x)
    replaced = np.nan_to_num(x.data, nan=nan, posinf=posinf, neginf=neginf)
    return elementwise.where(np.isfinite(x.data), x, Tensor._constant(replaced))


def divide_no_nan(x1, x2) -> Tensor:
    """``x1 / x2``, and 0 where ``x2`` is 0."""
    a, b = elementwise._pair(x1, x2)
    b = elementwise._floating(b)
    safe = elementwise.where(b.data == 0, 1.0, b)
    return elementwise.where(np.broadcast_to(b.data == 0, np.broadcast_shapes(a.shape, b.shape)), 0.0,
                             elementwise.divide(a, safe))


def logaddexp(x1, x2) -> Tensor:
    """``log(exp(x1) + exp(x2))``, computed stably."""
    a, b = elementwise._pair(elementwise._floating(x1), elementwise._floating(x2))
    high = elementwise.maximum(a, b)
    return high + elementwise.log1p(elementwise.exp(-elementwise.abs(a - b)))


def hypot(x1, x2) -> Tensor:
    """``sqrt(x1**2 + x2**2)``."""
    return elementwise.sqrt(elementwise.square(x1) + elementwise.square(x2))


def deg2rad(x) -> Tensor:
    """Degrees to radians."""
    return elementwise._floating(x) * (np.pi / 180.0)


def rad2deg(x) -> Tensor:
    """Radians to degrees."""
    return elementwise._floating(x) * (180.0 / np.pi)


def fliplr(x) -> Tensor:
    """Reverse the second axis."""
    return shapes.flip(x, axis=1)


def flipud(x) -> Tensor:
    """Reverse the first axis."""
    return shapes.flip(x, axis=0)


def rot90(array, k: int = 1, axes=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``axes``."""
    return shapes._gather(array, lambda a: np.rot90(a, k, axes).copy())


from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), __all__)
