"""Products and norms of ``keras.ops``: ``dot``, ``tensordot``, ``einsum``, ``outer``, ``norm``.

``dot`` and ``tensordot`` are transposes, reshapes and one matmul of Tensors, so
their gradients come from those ops. ``einsum``'s gradient for an operand is
itself an einsum: the upstream gradient contracted with the other operands
into that operand's subscripts.
"""

from __future__ import annotations

import numbers
import string

import numpy as np

from ..autograd import Tensor, _pair, as_tensor, make_result
from .core import normalize_axes

__all__ = ["dot", "tensordot", "einsum", "outer", "inner", "vdot", "norm"]


def tensordot(x1, x2, axes=2) -> Tensor:
    """Sum products over the last ``axes`` axes of ``x1`` and first of ``x2``, or over the given axis pairs."""
    a, b = _pair(x1, x2)
    if isinstance(axes, numbers.Integral):
        axes_a, axes_b = list(range(a.ndim - int(axes), a.ndim)), list(range(int(axes)))
    else:
        axes_a, axes_b = ([x] if isinstance(x, numbers.Integral) else list(x) for x in axes)
    axes_a, axes_b = [i % a.ndim for i in axes_a], [i % b.ndim for i in axes_b]
    if [a.shape[i] for i in axes_a] != [b.shape[i] for i in axes_b]:
        raise ValueError(f"`tensordot` contracts axes of unequal sizes: {[a.shape[i] for i in axes_a]} and "
                         f"{[b.shape[i] for i in axes_b]}. Received: axes={axes!r}, shapes {a.shape} and {b.shape}.")
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    k = int(np.prod([a.shape[i] for i in axes_a], dtype=np.int64))
    left = a.transpose(free_a + axes_a).reshape(-1, k)
    right = b.transpose(axes_b + free_b).reshape(k, -1)
    return (left @ right).reshape([a.shape[i] for i in free_a] + [b.shape[i] for i in free_b])


def dot(x1, x2) -> Tensor:
    """NumPy's ``dot``: scalars multiply, vectors give their inner product, else contract the last axis
    of ``x1`` with the second-to-last of ``x2``."""
    a, b = _pair(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim == 1:
        return tensordot(a, b, axes=([-1], [0]))
    return tensordot(a, b, axes=([-1], [-2]))


def outer(x1, x2) -> Tensor:
    """The outer product of the flattened inputs."""
    a, b = _pair(x1, x2)
    return a.reshape(-1, 1) * b.reshape(1, -1)


def inner(x1, x2) -> Tensor:
    """Sum of products over the last axes."""
    a, b = _pair(x1, x2)
    return a * b if a.ndim == 0 or b.ndim == 0 else tensordot(a, b, axes=([-1], [-1]))


def vdot(x1, x2) -> Tensor:
    """The inner product of the flattened inputs."""
    a, b = _pair(x1, x2)
    return (a.reshape(-1) * b.reshape(-1)).sum()


# ------------------------------------------------------------------ einsum
def _parse(subscripts: str, operands: list) -> tuple:
    """Explicit subscripts per operand and for the output, with ``...`` spelled out as letters."""
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"`subscripts` names {len(terms)} operands but {len(operands)} were given. "
                         f"Received: subscripts={subscripts!r}.")
    used = set(spec) - set(".,->")
    spare = [c for c in string.ascii_letters if c not in used]
    ell = max([op.ndim - len(t.replace("...", "")) for t, op in zip(terms, operands) if "..." in t] or [0])
    fill = "".join(spare[:ell])
    expanded = []
    for t, op in zip(terms, operands):
        if "..." in t:
            t = t.replace("...", fill[ell - (op.ndim - len(t.replace("...", ""))):])
        if len(t) != op.ndim:
            raise ValueError(f"einsum term {t!r} has {len(t)} subscripts but its operand has {op.ndim} axes.")
        expanded.append(t)
    if arrow:
        output = output.replace("...", fill)
    else:  # implicit mode: the letters used once, in alphabetical order, after the ellipsis
        counts = "".join(expanded)
        output = fill + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in fill))
    return expanded, output


def _operand_grad(g, terms: list, output: str, arrays: list, i: int, shape: tuple) -> np.ndarray:
    target = terms[i]
    if len(set(target)) != len(target):
        raise ValueError(f"einsum cannot differentiate an operand with a repeated subscript (a diagonal): "
                         f"{target!r}.")
    others = [(t, a) for j, (t, a) in enumerate(zip(terms, arrays)) if j != i]
    available = set(output).union(*(set(t) for t, _ in others))
    kept = "".join(c for c in target if c in available)  # letters summed only inside this operand: broadcast
    spec = ",".join([output] + [t for t, _ in others]) + "->" + kept
    grad = np.einsum(spec, g, *[a for _, a in others])
    for axis, c in enumerate(target):
        if c not in available:
            grad = np.expand_dims(grad, axis)
    grad = np.broadcast_to(grad, [1 if c not in available else n for c, n in zip(target, grad.shape)])
    grad = np.broadcast_to(grad, np.broadcast_shapes(grad.shape, shape))
    # size-1 axes of this operand that broadcast against the others: sum them back
    axes = tuple(k for k, (n, m) in enumerate(zip(shape, grad.shape)) if n == 1 and m != 1)
    return np.sum(grad, axis=axes, keepdims=True) if axes else np.array(grad)


def einsum(subscripts: str, *operands, **kwargs) -> Tensor:
    """Einstein summation over ``operands`` (NumPy's spelling, ``...`` included), differentiable."""
    if kwargs:
        raise TypeError(f"kernelscope's einsum takes no keyword arguments. Received: {sorted(kwargs)}.")
    if not isinstance(subscripts, str):
        raise TypeError(f"`subscripts` must be a string. Received: subscripts={subscripts!r}.")
    tensors = [as_tensor(o) for o in operands]
    dtype = np.result_type(*[t.dtype for t in tensors])
    tensors = [t if t.dtype == dtype or t.dtype.kind != "f" else t.astype(dtype) for t in tensors]
    terms, output = _parse(subscripts, tensors)
    arrays = [t.data for t in tensors]
    out = np.einsum(",".join(terms) + "->" + output, *arrays)

    def backward(g):
        return tuple(_operand_grad(g, terms, output, arrays, i, t.shape).astype(t.dtype, copy=False)
                     if t.requires_grad else None for i, t in enumerate(tensors))

    return make_result(out, tensors, backward)


# -------------------------------------------------------------------- norm
def norm(x, ord=None, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A002 - Keras name
    """Vector norms (``ord`` None/2, 1, inf, -inf, 0 or any p) and the Frobenius matrix norm.

    ``axis=None`` takes the 2-norm of the flattened tensor (Frobenius for a matrix);
    a pair of axes supports ``ord`` None or "fro" (other matrix norms are refused).
    """
    from .elementwise import _floating

    x = _floating(x)
    axes = normalize_axes(axis, x.ndim)
    if axis is None and ord is not None and x.ndim >= 2:
        # NumPy/Keras: with axis=None an `ord` means the matrix norm of a 2-D input (and is an error for more
        # dimensions); never silently the vector norm of the flattened entries
        if x.ndim > 2 or ord != "fro":
            raise ValueError(f"`ord={ord!r}` with axis=None asks for a matrix norm of a {x.ndim}-D input; only the "
                             'Frobenius norm (ord=None or "fro") is supported for matrices. Pass `axis` for vector '
                             "norms along an axis.")
    if axes is not None and len(axes) == 2 or ord == "fro":
        if ord not in (None, "fro"):
            raise ValueError(f'Matrix norms other than the Frobenius norm are not supported: `ord` must be None '
                             f'or "fro" with two axes. Received: ord={ord!r}.')
        return ((x * x).sum(axis=axes, keepdims=keepdims)) ** 0.5
    if axes is not None and len(axes) > 2:
        raise ValueError(f"`axis` must be None, an int or a pair of ints. Received: axis={axis!r}.")
    if ord is None or ord == 2:
        return (x * x).sum(axis=axes, keepdims=keepdims) ** 0.5
    if ord in (np.inf, float("inf")):
        return x.abs().max(axis=axes, keepdims=keepdims)
    if ord in (-np.inf, float("-inf")):
        return x.abs().min(axis=axes, keepdims=keepdims)
    if ord == 0:
        return Tensor._constant(np.sum(x.data != 0, axis=axes, keepdims=keepdims).astype(x.dtype))
    if isinstance(ord, numbers.Real) and not isinstance(ord, bool):
        return (x.abs() ** float(ord)).sum(axis=axes, keepdims=keepdims) ** (1.0 / ord)
    raise ValueError(f"Invalid `ord` for a vector norm: {ord!r}.")


from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), __all__)
