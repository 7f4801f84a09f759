"""Shape and indexing ops of ``keras.ops`` (``tile``, ``repeat``, ``take``, ``flip``...).

Every op here only moves or copies elements, so all share one backward:
:func:`_gather` runs the NumPy function on the data and on a tensor of flat
positions, and the gradient is the upstream gradient summed back onto those
positions (``np.bincount``), so repeated copies add up.
"""

from __future__ import annotations

import numbers
from typing import Callable

import numpy as np

from ..autograd import Tensor, as_tensor, make_result
from .core import normalize_axis, normalize_axes

__all__ = [
    "tile", "repeat", "take", "take_along_axis", "slice", "flip", "moveaxis", "swapaxes", "broadcast_to",
    "ravel", "unstack", "roll", "sort", "argsort", "tril", "triu", "diagonal", "get_item", "pad_with_mode",
    "slice_update", "scatter", "scatter_update",
]


def _gather(x, move: Callable[[np.ndarray], np.ndarray]) -> Tensor:
    """``move(x)`` for a function that only selects, orders or copies elements; differentiable."""
    x = as_tensor(x)
    out = move(x.data)
    if not (x.requires_grad and _recording()):
        return make_result(out, (x,), None)
    shape, dtype = x.shape, x.dtype
    positions = move(np.arange(x.size).reshape(shape))

    def backward(g):
        full = np.bincount(positions.ravel(), weights=np.ravel(g), minlength=int(np.prod(shape)))
        return (full.reshape(shape).astype(dtype, copy=False),)

    return make_result(np.ascontiguousarray(out) if out.base is not None and out.ndim else out, (x,), backward)


def _recording() -> bool:
    from ..autograd import is_grad_enabled

    return is_grad_enabled()


def _int_array(indices, name: str) -> np.ndarray:
    array = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if array.dtype.kind not in "iu" and not (array.dtype.kind == "f" and np.all(np.mod(array, 1) == 0)):
        raise TypeError(f"`{name}` must hold integers. Received: dtype={array.dtype}.")
    return array.astype(np.intp)


def tile(x, repeats) -> Tensor:
    """``x`` repeated ``repeats`` times along each axis (``np.tile``)."""
    return _gather(x, lambda a: np.tile(a, repeats))


def repeat(x, repeats, axis=None) -> Tensor:
    """Each element repeated ``repeats`` times along ``axis`` (``None``: flattened first)."""
    repeats = _int_array(repeats, "repeats") if not isinstance(repeats, numbers.Integral) else int(repeats)
    return _gather(x, lambda a: np.repeat(a, repeats, axis=axis))


def take(x, indices, axis=None) -> Tensor:
    """Elements at ``indices`` along ``axis`` (``None``: of the flattened ``x``); negative indices count back."""
    x = as_tensor(x)
    idx = _int_array(indices, "indices")
    if axis is None:
        return _gather(x, lambda a: a.reshape(-1)[idx])
    axis = normalize_axis(axis, x.ndim)
    n = x.shape[axis]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise ValueError(f"`indices` must be in [-{n}, {n}) for axis {axis} of size {n}. "
                         f"Received: indices in [{idx.min()}, {idx.max()}].")
    return _gather(x, lambda a: np.take(a, idx, axis=axis))


def take_along_axis(x, indices, axis=None) -> Tensor:
    """``np.take_along_axis``: pick, along ``axis``, the entries ``indices`` names for each position."""
    idx = _int_array(indices, "indices")
    if axis is None:
        return _gather(x, lambda a: np.take_along_axis(a.reshape(-1), idx.reshape(-1), axis=0))
    return _gather(x, lambda a: np.take_along_axis(a, idx, axis=axis))


def slice(inputs, start_indices, shape) -> Tensor:  # noqa: A001 - Keras name
    """The block of size ``shape`` starting at ``start_indices`` (one entry per axis)."""
    x = as_tensor(inputs)
    starts, sizes = tuple(int(i) for i in start_indices), tuple(int(s) for s in shape)
    if len(starts) != x.ndim or len(sizes) != x.ndim:
        raise ValueError(f"`start_indices` and `shape` need one entry per axis ({x.ndim}). "
                         f"Received: start_indices={start_indices!r}, shape={shape!r}.")
    if any(s < 0 or s + n > d for s, n, d in zip(starts, sizes, x.shape)):
        raise ValueError(f"The slice starting at {starts} of size {sizes} does not fit in shape {x.shape}.")
    return x[tuple(np.s_[s:s + n] for s, n in zip(starts, sizes))]


def flip(x, axis=None) -> Tensor:
    """Reverse the order of elements along ``axis`` (``None``: all axes)."""
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim)
    return _gather(x, lambda a: np.flip(a, axes))


def moveaxis(x, source, destination) -> Tensor:
    """Move axes ``source`` to positions ``destination`` (others keep their order)."""
    return _gather(x, lambda a: np.moveaxis(a, source, destination))


def swapaxes(x, axis1, axis2) -> Tensor:
    """Exchange two axes."""
    return _gather(x, lambda a: np.swapaxes(a, axis1, axis2))


def broadcast_to(x, shape) -> Tensor:
    """``x`` broadcast to ``shape`` (NumPy rules); the gradient sums the copies."""
    x = as_tensor(x)
    try:
        np.broadcast_shapes(x.shape, tuple(shape))
    except ValueError:
        raise ValueError(f"Cannot broadcast a tensor of shape {x.shape} to `shape`={tuple(shape)}.") from None
    return _gather(x, lambda a: np.broadcast_to(a, tuple(shape)).copy())


def ravel(x) -> Tensor:
    """The elements as a 1-D tensor."""
    return as_tensor(x).reshape(-1)


def unstack(x, num=None, axis: int = 0) -> list:
    """The slices of ``x`` along ``axis``, as a list."""
    x = as_tensor(x)
    axis = normalize_axis(axis, x.ndim)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"`num` must equal the size {x.shape[axis]} of axis {axis}. Received: num={num}.")
    return [x[(np.s_[:],) * axis + (i,)] for i in range(x.shape[axis])]


def roll(x, shift, axis=None) -> Tensor:
    """Shift elements cyclically along ``axis`` (``None``: the flattened tensor)."""
    return _gather(x, lambda a: np.roll(a, shift, axis=axis))


def sort(x, axis: int = -1) -> Tensor:
    """Values sorted ascending along ``axis``; gradients follow the values."""
    x = as_tensor(x)
    order = np.argsort(x.data, axis=axis, kind="stable")
    return take_along_axis(x, order, axis=axis)


def argsort(x, axis: int = -1) -> Tensor:
    """Indices that sort ``x`` along ``axis`` (int32, stable)."""
    data = as_tensor(x).data
    return Tensor._constant(np.argsort(data, axis=axis, kind="stable").astype(np.int32))


def tril(x, k: int = 0) -> Tensor:
    """Zero the elements above the ``k``-th diagonal of the last two axes."""
    x = as_tensor(x)
    return x * np.tril(np.ones(x.shape[-2:], dtype=x.dtype), k)


def triu(x, k: int = 0) -> Tensor:
    """Zero the elements below the ``k``-th diagonal of the last two axes."""
    x = as_tensor(x)
    return x * np.triu(np.ones(x.shape[-2:], dtype=x.dtype), k)


def diagonal(x, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The ``offset`` diagonal of the ``(axis1, axis2)`` planes (``np.diagonal``)."""
    return _gather(x, lambda a: np.diagonal(a, offset, axis1, axis2).copy())


def get_item(x, key) -> Tensor:
    """``x[key]`` (what ``KerasTensor.__getitem__`` records in a functional graph)."""
    return as_tensor(x)[key]


def slice_update(inputs, start_indices, updates) -> Tensor:
    """``inputs`` with the block at ``start_indices`` replaced by ``updates`` (gradients to both)."""
    x = as_tensor(inputs)
    u = as_tensor(updates, like=x)
    starts = tuple(int(i) for i in start_indices)
    if len(starts) != x.ndim or u.ndim != x.ndim or any(
            s < 0 or s + n > d for s, n, d in zip(starts, u.shape, x.shape)):
        raise ValueError(f"`updates` of shape {u.shape} at `start_indices`={starts} must fit inside `inputs` of "
                         f"shape {x.shape}.")
    block = tuple(np.s_[s:s + n] for s, n in zip(starts, u.shape))
    out = x.data.copy()
    out[block] = u.data

    def backward(g):
        kept = g.copy()
        kept[block] = 0
        return kept, g[block]

    return make_result(out, (x, u), backward)


def _index_tuple(indices) -> tuple:
    idx = _int_array(indices, "indices")
    if idx.ndim < 1:
        raise ValueError(f"`indices` must have a last axis of coordinates. Received: indices.shape={idx.shape}.")
    return tuple(idx.reshape(-1, idx.shape[-1]).T)


def scatter(indices, values, shape) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at ``indices`` (rows of coordinates); duplicates add up."""
    v = as_tensor(values)
    shape = tuple(int(d) for d in shape)
    idx = _index_tuple(indices)
    tail = shape[len(idx):]
    flat_values = v.reshape((-1,) + tail)
    out = np.zeros(shape, dtype=v.dtype)
    np.add.at(out, idx, flat_values.data)
    return make_result(out, (flat_values,), lambda g: (g[idx],))


def scatter_update(inputs, indices, updates, reduction=None) -> Tensor:
    """``inputs`` with the entries at ``indices`` (rows of coordinates) set to ``updates``, or, with
    ``reduction="add"``, with ``updates`` added there (duplicates add up)."""
    if reduction not in (None, "add"):
        if reduction in ("max", "min", "mul"):
            raise ValueError(f"scatter_update(reduction={reduction!r}) is not supported (no gradient rule here); "
                             "use reduction=None or 'add'.")
        raise ValueError(f"Unsupported reduction: {reduction}")
    x = as_tensor(inputs)
    u = as_tensor(updates, like=x)
    idx = _index_tuple(indices)
    out = x.data.copy()
    if reduction == "add":
        np.add.at(out, idx, u.data)
    else:
        out[idx] = u.data

    def backward(g):
        kept = g.copy()
        if reduction is None:
            kept[idx] = 0
        return kept, np.reshape(g[idx], u.shape)

    return make_result(out, (x, u), backward)


_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad_with_mode(x, widths: tuple, mode: str) -> Tensor:
    """``np.pad`` with a mode that copies input elements (edge, reflect, symmetric, wrap)."""
    return _gather(x, lambda a: np.pad(a, widths, mode=mode))


from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), __all__)
