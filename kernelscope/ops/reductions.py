"""Reductions of ``keras.ops`` beyond ``sum``/``mean``/``max``/``min`` (which live in ``core``).

``std``, ``var`` and ``prod`` are differentiable; ``argmax``/``argmin`` return
int32 indices and ``any``/``all`` booleans, outside the graph.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, as_tensor, make_result
from .core import max as _max
from .core import min as _min
from .core import normalize_axes, normalize_axis

__all__ = ["amax", "amin", "var", "std", "prod", "argmax", "argmin", "any", "all", "cumsum", "cumprod",
           "count_nonzero", "average"]


def amax(x, axis=None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis`` (``keras.ops.amax``)."""
    return _max(x, axis=axis, keepdims=keepdims)


def amin(x, axis=None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis`` (``keras.ops.amin``)."""
    return _min(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims: bool = False) -> Tensor:
    """Population variance (divisor ``n``, as Keras) over ``axis``."""
    x = _float(x)
    return x.var(axis=normalize_axes(axis, x.ndim), keepdims=keepdims)


def std(x, axis=None, keepdims: bool = False) -> Tensor:
    """Population standard deviation over ``axis``."""
    from .elementwise import sqrt

    return sqrt(var(x, axis=axis, keepdims=keepdims))


def _float(x) -> Tensor:
    from .elementwise import _floating

    return _floating(x)


def prod(x, axis=None, keepdims: bool = False, dtype=None) -> Tensor:
    """Product over ``axis``; the gradient is the product of the other factors (exact with zeros)."""
    x = as_tensor(x)
    if dtype is not None:
        from .core import cast

        x = cast(x, dtype)
    axes = normalize_axes(axis, x.ndim)
    a = x.data
    kept = np.prod(a, axis=axes, keepdims=True)

    def backward(g):
        g = np.reshape(g, kept.shape)
        # product of the others = exclusive cumulative products from both sides, so zeros are fine
        moved = a.reshape(-1) if axes is None else np.moveaxis(a, axes, tuple(range(-len(axes), 0)))
        flat = moved.reshape(moved.shape[:moved.ndim - (1 if axes is None else len(axes))] + (-1,))
        left = np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), flat[..., :-1]], -1), -1)
        right = np.flip(np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), np.flip(flat, -1)[..., :-1]], -1),
                                   -1), -1)
        others = (left * right).reshape(moved.shape)
        others = others.reshape(a.shape) if axes is None else np.moveaxis(
            others, tuple(range(-len(axes), 0)), axes)
        return (g * others,)

    out = kept if keepdims else kept.reshape([n for i, n in enumerate(kept.shape)
                                              if axes is not None and i not in axes])
    return make_result(out, (x,), backward)


def _arg(reducer, x, axis, keepdims) -> Tensor:
    a = as_tensor(x).data
    if axis is None:
        out = reducer(a.reshape(-1))
        if keepdims:
            out = np.reshape(out, (1,) * a.ndim)
        return Tensor._constant(np.asarray(out, np.int32))
    axis = normalize_axis(axis, a.ndim)
    return Tensor._constant(reducer(a, axis=axis, keepdims=keepdims).astype(np.int32))


def argmax(x, axis=None, keepdims: bool = False) -> Tensor:
    """Index of the maximum along ``axis`` (``None``: of the flattened tensor), int32."""
    return _arg(np.argmax, x, axis, keepdims)


def argmin(x, axis=None, keepdims: bool = False) -> Tensor:
    """Index of the minimum along ``axis`` (``None``: of the flattened tensor), int32."""
    return _arg(np.argmin, x, axis, keepdims)


def any(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001 - Keras name
    """Whether any element along ``axis`` is true (non-zero)."""
    a = as_tensor(x).data
    return Tensor._constant(np.any(a, axis=normalize_axes(axis, a.ndim), keepdims=keepdims))


def all(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001 - Keras name
    """Whether every element along ``axis`` is true (non-zero)."""
    a = as_tensor(x).data
    return Tensor._constant(np.all(a, axis=normalize_axes(axis, a.ndim), keepdims=keepdims))


def count_nonzero(x, axis=None) -> Tensor:
    """The number of non-zero elements along ``axis``, int32."""
    a = as_tensor(x).data
    return Tensor._constant(np.asarray(np.count_nonzero(a, axis=normalize_axes(axis, a.ndim)), np.int32))


def cumsum(x, axis=None, dtype=None) -> Tensor:
    """Running sum along ``axis`` (``None``: of the flattened tensor); the gradient is a reversed cumsum."""
    x = as_tensor(x) if dtype is None else _cast(x, dtype)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = normalize_axis(axis, x.ndim)
    out = np.cumsum(x.data, axis=axis)
    return make_result(out, (x,), lambda g: (np.flip(np.cumsum(np.flip(g, axis), axis), axis),))


def cumprod(x, axis=None, dtype=None) -> Tensor:
    """Running product along ``axis`` (``None``: of the flattened tensor)."""
    x = as_tensor(x) if dtype is None else _cast(x, dtype)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = normalize_axis(axis, x.ndim)
    a = x.data
    out = np.cumprod(a, axis=axis)

    def backward(g):
        # d out_j / d a_i = prod_{k <= j, k != i} a_k; summing g_j * that over j >= i, without dividing by a_i
        n = a.shape[axis]
        moved, gm = np.moveaxis(a, axis, -1), np.moveaxis(g, axis, -1)
        grad = np.zeros_like(moved)
        for i in range(n):
            others = np.concatenate([moved[..., :i], np.ones_like(moved[..., i:i + 1]), moved[..., i + 1:]], -1)
            grad[..., i] = np.sum(gm[..., i:] * np.cumprod(others, -1)[..., i:], -1)
        return (np.moveaxis(grad, -1, axis),)

    return make_result(out, (x,), backward)


def _cast(x, dtype) -> Tensor:
    from .core import cast

    return cast(x, dtype)


def average(x, axis=None, weights=None) -> Tensor:
    """Weighted mean along ``axis`` (``weights`` of ``x``'s shape, or 1-D along ``axis``)."""
    x = _float(x)
    if weights is None:
        return x.mean(axis=None if axis is None else normalize_axis(axis, x.ndim))
    w = as_tensor(weights, like=x)
    if axis is not None and w.ndim == 1 and x.ndim > 1:
        axis = normalize_axis(axis, x.ndim)
        w = w.reshape((-1,) + (1,) * (x.ndim - axis - 1))
    reduce_axis = None if axis is None else normalize_axis(axis, x.ndim)
    return (x * w).sum(axis=reduce_axis) / (w * np.ones(x.shape, x.dtype)).sum(axis=reduce_axis)


from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), __all__)
