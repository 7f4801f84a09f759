"""Reverse-mode automatic differentiation over NumPy arrays.

A :class:`Tensor` wraps an ``ndarray``. Every differentiable operation builds its
result with :func:`make_result`, handing over the parents and a ``backward``
closure that maps the upstream gradient to one gradient per parent. Calling
``loss.backward()`` walks that graph once, in reverse topological order, and
frees each closure as soon as it has run.

Forward and backward of each elementary operation sit side by side below so
that one can be checked against the other at a glance.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable, Iterable, Sequence

import numpy as np

from ._tree import postorder

__all__ = [
    "Tensor",
    "as_tensor",
    "make_result",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "unbroadcast",
    "gradcheck",
    "numerical_grad",
    "maximum",
    "minimum",
    "where",
    "grad",
]

_state = threading.local()


def is_grad_enabled() -> bool:
    """Whether operations currently record the graph for ``backward``."""
    return getattr(_state, "enabled", True)


@contextlib.contextmanager
def _grad_mode(enabled: bool):
    previous = is_grad_enabled()
    _state.enabled = enabled
    try:
        yield
    finally:
        _state.enabled = previous


def no_grad():
    """Context manager in which no graph is recorded (inference, weight updates)."""
    return _grad_mode(False)


def enable_grad():
    """Context manager that turns graph recording back on inside ``no_grad``."""
    return _grad_mode(True)


def _to_array(value, dtype=None) -> np.ndarray:
    """Convert user data to an ndarray.

    Arrays keep a floating dtype; integers, booleans and Python lists or numbers
    become float32, the library's default dtype.
    """
    from_python = not isinstance(value, (np.ndarray, np.generic))
    array = np.asarray(value, dtype=dtype)
    if dtype is None:
        kind = array.dtype.kind
        if kind in "biu" or (from_python and kind == "f"):
            array = array.astype(np.float32)
        elif kind not in "f":
            raise TypeError(
                "Tensor data must be numeric (bool, int or float). "
                f"Received: dtype={array.dtype}."
            )
    return array


def _binary(op: str, fn: Callable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``fn(a, b)``; NumPy's broadcast / gufunc errors become one naming both shapes (checked only on failure).

    An integer or boolean operand meeting a float one takes its dtype first, as in Keras
    (NumPy would widen int32 * float32 to float64).
    """
    a, b = _promote(a, b)
    try:
        return fn(a, b)
    except ValueError:
        if op == "@":
            inner = (a.shape[-1], b.shape[0] if b.ndim == 1 else b.shape[-2])
            raise ValueError(f"Operands of `@` (matmul) must have matching inner dimensions (the last axis of the "
                             f"first, {inner[0]}, against the second-to-last of the second, {inner[1]}) and "
                             f"broadcastable batch axes. Received: shapes {a.shape} and {b.shape}.") from None
        _check_broadcast(op, a.shape, b.shape)
        raise  # shapes broadcast: the error is about something else


def _promote(a: np.ndarray, b: np.ndarray) -> tuple:
    """An integer or boolean array meeting a float one takes its dtype (Keras's promotion rule)."""
    if a.dtype.kind == "f" and b.dtype.kind in "biu":
        return a, b.astype(a.dtype)
    if b.dtype.kind == "f" and a.dtype.kind in "biu":
        return a.astype(b.dtype), b
    return a, b


def _check_broadcast(op: str, *shapes) -> None:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        listed = f"{', '.join(map(str, shapes[:-1]))} and {shapes[-1]}"
        raise ValueError(f"Operands of `{op}` must have broadcastable shapes (equal, or 1, on each axis counted "
                         f"from the last). Received: shapes {listed}.") from None


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class Tensor:
    """An ndarray that remembers how it was computed.

    Parameters
    ----------
    data : array_like
        The values. Integers and booleans are stored as float32; float16/32/64
        keep their dtype.
    requires_grad : bool
        Whether ``backward`` should compute a gradient for this tensor.

    Examples
    --------
    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([2., 4., 6.], dtype=float32)
    """

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_released", "name", "__weakref__")
    __array_ufunc__ = None  # make `ndarray + Tensor` defer to Tensor.__radd__
    __array_priority__ = 1000

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = _to_array(data, dtype)
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        if self.requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"Only floating-point tensors can require gradients. Received: dtype={self.data.dtype}.")
        self._parents: tuple = ()
        self._backward: Callable | None = None
        self._released = False
        self.name = name

    # ------------------------------------------------------------------ basics
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self._backward is None and not self._released

    def numpy(self) -> np.ndarray:
        """The values as an ndarray (shared, not copied)."""
        return self.data

    def item(self):
        return self.data.item()

    def detach(self) -> "Tensor":
        """The same values, cut off from the graph."""
        return Tensor(self.data)

    def astype(self, dtype) -> "Tensor":
        dtype = np.dtype(dtype)
        source = self.dtype

        def backward(g):
            return (g.astype(source, copy=False),)

        return make_result(self.data.astype(dtype), (self,), backward)

    def zero_grad(self) -> None:
        self.grad = None

    def __array__(self, dtype=None, copy=None):
        # NumPy 2's protocol: copy=False must not copy, copy=True always does.
        needs_cast = dtype is not None and np.dtype(dtype) != self.data.dtype
        if copy is False and needs_cast:
            raise ValueError(f"Cannot convert a {self.data.dtype} Tensor to {np.dtype(dtype)} without a copy "
                             "(copy=False was passed).")
        array = self.data.astype(dtype) if needs_cast else self.data
        return array.copy() if copy and not needs_cast else array

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor (a scalar) is undefined.")
        return len(self.data)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor (a scalar) is undefined.")
        return (self[i] for i in range(len(self.data)))

    # ------------------------------------------------- Python scalar conversions
    def _scalar(self, what: str):
        if self.data.size != 1:
            raise TypeError(f"Only one-element tensors can be converted to a Python {what}. "
                            f"Received: shape={self.shape}.")
        return self.data.reshape(()).item()

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex"))

    def __index__(self) -> int:
        if self.data.ndim != 0 or self.data.dtype.kind not in "iu":
            raise TypeError("Only integer scalar tensors can be used as an index. "
                            f"Received: shape={self.shape}, dtype={self.dtype}.")
        return int(self.data)

    def __round__(self, ndigits=None):
        if ndigits is None:  # round(t) is an int, as for a Python or NumPy float
            return round(self._scalar("int"))
        return Tensor._constant(np.round(self.data, ndigits))

    def __format__(self, spec: str) -> str:
        if not spec:
            return str(self)
        return format(self._scalar("number"), spec)

    def tolist(self):
        return self.data.tolist()

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}, dtype={self.dtype}{extra})"

    def __hash__(self):
        return id(self)

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"The truth value of a tensor with {self.data.size} elements is ambiguous; "
                             "use ks.ops.any(t) or ks.ops.all(t).")
        return bool(self._scalar("bool"))

    # ---------------------------------------------------------------- backward
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires it.

        ``grad`` defaults to 1 for a one-element tensor. The graph is freed as it is
        walked unless ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() called on a tensor that does not require grad "
                               "(no input had requires_grad=True, or it was computed under no_grad()).")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    "backward() without a `grad` argument needs a one-element tensor. "
                    f"Received: shape={self.shape}; pass grad= of that shape."
                )
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"`grad` must have the tensor's shape {self.shape}. Received: shape={grad.shape}.")

        order = _topological_order(self)
        grads: dict[int, np.ndarray] = {id(self): grad}
        for node in reversed(order):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if node._backward is None:
                if node._released:
                    raise RuntimeError("Trying to backward through the graph a second time; "
                                       "pass retain_graph=True to the first backward() call.")
                node.grad = g.copy() if node.grad is None else node.grad + g
                continue
            for parent, pg in zip(node._parents, node._backward(g)):
                if pg is not None and parent is not None and parent.requires_grad:
                    _accumulate(grads, parent, pg)
            if not retain_graph:
                node._backward = None
                node._parents = ()
                node._released = True

    # ------------------------------------------------------------- arithmetic
    def __add__(self, other):
        other = as_tensor(other, like=self)
        a_shape, b_shape = self.shape, other.shape

        def backward(g):
            return unbroadcast(g, a_shape), unbroadcast(g, b_shape)

        return make_result(_binary("+", np.add, self.data, other.data), (self, other), backward)

    def __radd__(self, other):
        return as_tensor(other, like=self).__add__(self)

    def __sub__(self, other):
        other = as_tensor(other, like=self)
        a_shape, b_shape = self.shape, other.shape

        def backward(g):
            return unbroadcast(g, a_shape), unbroadcast(-g, b_shape)

        return make_result(_binary("-", np.subtract, self.data, other.data), (self, other), backward)

    def __rsub__(self, other):
        return as_tensor(other, like=self).__sub__(self)

    def __mul__(self, other):
        other = as_tensor(other, like=self)
        a, b = self.data, other.data

        def backward(g):
            return (unbroadcast(g * b, a.shape) if self.requires_grad else None,
                    unbroadcast(g * a, b.shape) if other.requires_grad else None)

        return make_result(_binary("*", np.multiply, a, b), (self, other), backward)

    def __rmul__(self, other):
        return as_tensor(other, like=self).__mul__(self)

    def __truediv__(self, other):
        other = as_tensor(other, like=self)
        a, b = self.data, other.data

        def backward(g):
            return (unbroadcast(g / b, a.shape) if self.requires_grad else None,
                    unbroadcast(-g * a / (b * b), b.shape) if other.requires_grad else None)

        return make_result(_binary("/", np.true_divide, a, b), (self, other), backward)

    def __rtruediv__(self, other):
        return as_tensor(other, like=self).__truediv__(self)

    def __pow__(self, exponent):
        exponent = as_tensor(exponent, like=self)
        a, p = self.data, exponent.data
        out = _binary("**", np.power, a, p)

        def backward(g):
            ga = None
            if self.requires_grad:
                with np.errstate(divide="ignore", invalid="ignore"):
                    # d(a**0)/da is 0 everywhere, as in torch, not 0 * a**-1 = nan at a = 0
                    local = np.where(p == 0, 0, p * a ** np.where(p == 0, 1, p - 1))
                ga = unbroadcast(g * local.astype(a.dtype, copy=False), a.shape)
            gp = None
            if exponent.requires_grad:
                with np.errstate(divide="ignore", invalid="ignore"):
                    log_a = np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0)
                gp = unbroadcast(g * out * log_a, p.shape)
            return ga, gp

        return make_result(out, (self, exponent), backward)

    def __rpow__(self, base):
        return as_tensor(base, like=self).__pow__(self)

    def __mod__(self, other):
        """NumPy's ``%`` (the sign of the divisor): d/da = 1, d/db = -floor(a / b)."""
        other = as_tensor(other, like=self)
        a, b = self.data, other.data
        out = _binary("%", np.mod, a, b)

        def backward(g):
            return unbroadcast(g, a.shape), unbroadcast(-g * np.floor_divide(a, b), b.shape)

        return make_result(out, (self, other), backward)

    def __rmod__(self, other):
        return as_tensor(other, like=self).__mod__(self)

    def __floordiv__(self, other):  # piecewise constant: outside the graph
        other = as_tensor(other, like=self)
        return Tensor._constant(_binary("//", np.floor_divide, self.data, other.data))

    def __rfloordiv__(self, other):
        return as_tensor(other, like=self).__floordiv__(self)

    def __neg__(self):
        return make_result(-self.data, (self,), lambda g: (-g,))

    def __pos__(self):
        return self

    def __matmul__(self, other):
        other = as_tensor(other, like=self)
        a, b = self.data, other.data
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul needs at least 1-D operands. Received: shapes {a.shape} and {b.shape}.")

        def backward(g):
            a2 = a[None, :] if a.ndim == 1 else a
            b2 = b[:, None] if b.ndim == 1 else b
            g2 = np.asarray(g)
            if b.ndim == 1:  # restore the dropped axes: last (from b) first, then a's
                g2 = g2[..., None]
            if a.ndim == 1:
                g2 = np.expand_dims(g2, -2)
            ga = gb = None
            if self.requires_grad:
                ga = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
            if other.requires_grad:
                gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
            return ga, gb

        return make_result(_binary("@", np.matmul, a, b), (self, other), backward)

    def __rmatmul__(self, other):
        return as_tensor(other, like=self).__matmul__(self)

    # ------------------------------------------------------------ comparisons
    def _compare(self, other, op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._constant(op(self.data, other))

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __eq__(self, other):  # noqa: D105 - element-wise, as in NumPy
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    @staticmethod
    def _constant(array: np.ndarray) -> "Tensor":
        """A tensor holding ``array`` as is (any dtype, e.g. bool), outside the graph."""
        out = Tensor.__new__(Tensor)
        out.data, out.grad, out.requires_grad = np.asarray(array), None, False
        out._parents, out._backward, out._released, out.name = (), None, False, None
        return out

    # ---------------------------------------------------------------- indexing
    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        shape, dtype = self.shape, self.dtype
        basic = _is_basic_index(index)

        def backward(g):
            if basic:
                full = np.zeros(shape, dtype=dtype)
                full[index] += g
                return (full,)
            # Repeated fancy indices must add up: bincount over flat positions does that,
            # several times faster than np.add.at.
            size = int(np.prod(shape, dtype=np.int64))
            positions = np.arange(size).reshape(shape)[index]
            full = np.bincount(positions.ravel(), weights=np.ravel(g), minlength=size)
            return (full.reshape(shape).astype(dtype, copy=False),)

        return make_result(self.data[index], (self,), backward)

    # ----------------------------------------------------------- shape changes
    def reshape(self, *shape) -> "Tensor":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        source = self.shape
        return make_result(self.data.reshape(shape), (self,), lambda g: (g.reshape(source),))

    def flatten(self) -> "Tensor":
        return self.reshape(-1)

    def transpose(self, *axes) -> "Tensor":
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            axes = tuple(reversed(range(self.ndim)))
        inverse = tuple(np.argsort([a % max(self.ndim, 1) for a in axes]))
        return make_result(self.data.transpose(axes), (self,), lambda g: (g.transpose(inverse),))

    @property
    def T(self) -> "Tensor":
        return self.transpose()

    # -------------------------------------------------------------- reductions
    def sum(self, axis=None, keepdims: bool = False) -> "Tensor":
        shape = self.shape

        def backward(g):
            if not keepdims and axis is not None:
                g = np.expand_dims(g, _normalize_axes(axis, len(shape)))
            return (np.broadcast_to(g, shape),)

        return make_result(self.data.sum(axis=axis, keepdims=keepdims), (self,), backward)

    def mean(self, axis=None, keepdims: bool = False) -> "Tensor":
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / max(_reduced_count(self.shape, axis), 1))

    def var(self, axis=None, keepdims: bool = False, ddof: int = 0) -> "Tensor":
        centered = self - self.mean(axis=axis, keepdims=True)
        count = _reduced_count(self.shape, axis) - ddof
        return (centered * centered).sum(axis=axis, keepdims=keepdims) * (1.0 / max(count, 1))

    def _extremum(self, axis, keepdims, reducer) -> "Tensor":
        x = self.data
        out = reducer(x, axis=axis, keepdims=True)

        def backward(g):
            mask = x == out
            count = mask.sum(axis=axis, keepdims=True)  # ties share the gradient, as torch.amax does
            return (mask * (np.reshape(g, out.shape) / count).astype(x.dtype, copy=False),)

        if keepdims:
            value = out
        elif axis is None:
            value = out.reshape(())
        else:
            value = np.squeeze(out, axis=_normalize_axes(axis, x.ndim))
        return make_result(value, (self,), backward)

    def std(self, axis=None, keepdims: bool = False, ddof: int = 0) -> "Tensor":
        return self.var(axis=axis, keepdims=keepdims, ddof=ddof).sqrt()

    def argmax(self, axis=None) -> "Tensor":
        return Tensor._constant(np.argmax(self.data, axis=axis))

    def argmin(self, axis=None) -> "Tensor":
        return Tensor._constant(np.argmin(self.data, axis=axis))

    def squeeze(self, axis=None) -> "Tensor":
        return self.reshape(np.squeeze(self.data, axis=axis).shape)

    def max(self, axis=None, keepdims: bool = False) -> "Tensor":
        return self._extremum(axis, keepdims, np.max)

    def min(self, axis=None, keepdims: bool = False) -> "Tensor":
        return self._extremum(axis, keepdims, np.min)

    # ------------------------------------------------------ element-wise maths
    def exp(self) -> "Tensor":
        out = np.exp(self.data)
        return make_result(out, (self,), lambda g: (g * out,))

    def log(self) -> "Tensor":
        x = self.data
        return make_result(np.log(x), (self,), lambda g: (g / x,))

    def sqrt(self) -> "Tensor":
        out = np.sqrt(self.data)
        return make_result(out, (self,), lambda g: (g / (2 * out),))

    def abs(self) -> "Tensor":
        x = self.data
        return make_result(np.abs(x), (self,), lambda g: (g * np.sign(x),))

    def __abs__(self):
        return self.abs()

    def clip(self, min_value=None, max_value=None) -> "Tensor":
        x = self.data
        lo = -np.inf if min_value is None else min_value
        hi = np.inf if max_value is None else max_value
        inside = (x >= lo) & (x <= hi)
        return make_result(np.clip(x, lo, hi), (self,), lambda g: (g * inside,))

    def maximum(self, other) -> "Tensor":
        return maximum(self, other)

    def minimum(self, other) -> "Tensor":
        return minimum(self, other)


def _accumulate(grads: dict, parent: Tensor, pg: np.ndarray) -> None:
    if pg.dtype != parent.data.dtype:  # e.g. a float32 leaf inside a float64 expression
        pg = pg.astype(parent.data.dtype)
    key = id(parent)
    grads[key] = pg if key not in grads else grads[key] + pg


def _normalize_axes(axis, ndim: int) -> tuple:
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(sorted(a % ndim for a in axes))


def _reduced_count(shape: tuple, axis) -> int:
    if axis is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[a] for a in _normalize_axes(axis, len(shape))], dtype=np.int64))


def _is_basic_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


def _topological_order(root: Tensor) -> list:
    """Nodes reachable from ``root`` that need gradients, parents before children."""
    return _graph_order([root], set())


def as_tensor(value, like: Tensor | None = None) -> Tensor:
    """Return ``value`` as a Tensor; plain numbers take the dtype of ``like``."""
    if isinstance(value, Tensor):
        return value
    if like is not None and np.isscalar(value) and not isinstance(value, (str, bytes)):
        dtype = like.dtype
        if dtype.kind != "f" and isinstance(value, float):  # int tensor * 0.5 is float32, as in Keras
            dtype = np.dtype(np.float32)
        return Tensor._constant(np.asarray(value, dtype=dtype))
    return Tensor(value)


def will_record(parents: Sequence) -> bool:
    """Whether an op on ``parents`` (None entries allowed: an absent bias) goes on the tape."""
    return is_grad_enabled() and any(p is not None and p.requires_grad for p in parents)


def make_result(data: np.ndarray, parents: Sequence, backward: Callable) -> Tensor:
    """Wrap an op's output, recording ``backward`` if any parent needs a gradient.

    ``backward(g)`` receives the upstream gradient (shape of ``data``) and returns
    one gradient per parent, ``None`` where a parent needs none.
    """
    out = Tensor._constant(data)  # _constant turns NumPy scalars into 0-d arrays
    if will_record(parents):
        out.requires_grad = True
        out._parents = tuple(parents)
        out._backward = backward
    return out


def maximum(a, b) -> Tensor:
    """Element-wise maximum; at ties the gradient goes to the first argument."""
    a, b = _pair(a, b)
    out = _binary("maximum", np.maximum, a.data, b.data)
    pick_a = a.data >= b.data
    return make_result(out, (a, b),
                       lambda g: (unbroadcast(g * pick_a, a.shape), unbroadcast(g * ~pick_a, b.shape)))


def minimum(a, b) -> Tensor:
    """Element-wise minimum; at ties the gradient goes to the first argument."""
    a, b = _pair(a, b)
    out = _binary("minimum", np.minimum, a.data, b.data)
    pick_a = a.data <= b.data
    return make_result(out, (a, b),
                       lambda g: (unbroadcast(g * pick_a, a.shape), unbroadcast(g * ~pick_a, b.shape)))


def where(condition, a, b) -> Tensor:
    """Pick ``a`` where ``condition`` holds, else ``b``; gradients follow the pick."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    a, b = _pair(a, b)
    _check_broadcast("where", cond.shape, a.shape, b.shape)  # condition, a, b
    return make_result(np.where(cond, *_promote(a.data, b.data)), (a, b),
                       lambda g: (unbroadcast(np.where(cond, g, 0).astype(g.dtype), a.shape),
                                  unbroadcast(np.where(cond, 0, g).astype(g.dtype), b.shape)))


def _pair(a, b) -> tuple:
    if isinstance(a, Tensor):
        return a, as_tensor(b, like=a)
    if isinstance(b, Tensor):
        return as_tensor(a, like=b), b
    return Tensor(a), Tensor(b)


# ---------------------------------------------------------------- gradcheck
def numerical_grad(fn: Callable[..., Tensor], inputs: Sequence[np.ndarray], index: int,
                   eps: float = 1e-6, seed_grad: np.ndarray | None = None) -> np.ndarray:
    """Central-difference gradient of ``sum(fn(*inputs) * seed_grad)`` w.r.t. ``inputs[index]``."""
    x = inputs[index]
    grad = np.zeros_like(x)
    flat = x.reshape(-1)  # a view: inputs must be contiguous float64 arrays
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        plus = _weighted_output(fn, inputs, seed_grad)
        flat[i] = original - eps
        minus = _weighted_output(fn, inputs, seed_grad)
        flat[i] = original
        grad.reshape(-1)[i] = (plus - minus) / (2 * eps)
    return grad


def _weighted_output(fn, inputs, seed_grad) -> float:
    with no_grad():
        out = fn(*[Tensor(a) for a in inputs]).data
    return float(np.sum(out * (1.0 if seed_grad is None else seed_grad)))


def gradcheck(fn: Callable[..., Tensor], inputs: Iterable, eps: float = 1e-6,
              atol: float = 1e-6, rtol: float = 1e-6, seed: int = 0) -> bool:
    """Compare autograd gradients of ``fn`` with central differences, in float64.

    ``fn`` takes Tensors and returns a Tensor. A random upstream gradient is used so
    that every output element is checked. Raises ``AssertionError`` with the worst
    element on mismatch; returns True otherwise.
    """
    arrays = [np.array(a, dtype=np.float64, copy=True) for a in inputs]
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    rng = np.random.default_rng(seed)
    seed_grad = rng.standard_normal(out.shape)
    out.backward(seed_grad)
    for i, t in enumerate(tensors):
        expected = numerical_grad(fn, arrays, i, eps, seed_grad)
        actual = np.zeros_like(expected) if t.grad is None else t.grad
        if not np.allclose(actual, expected, atol=atol, rtol=rtol):
            worst = np.unravel_index(np.argmax(np.abs(actual - expected)), expected.shape)
            raise AssertionError(
                f"gradient of input {i} differs from central differences at {worst}: "
                f"autograd {actual[worst]!r}, numerical {expected[worst]!r} "
                f"(max abs diff {np.max(np.abs(actual - expected)):.3e})"
            )
    return True


# ------------------------------------------------------------ functional grad
def grad(outputs, inputs: Sequence[Tensor], grad_outputs=None, retain_graph: bool = False) -> list:
    """Gradients of ``outputs`` with respect to ``inputs``, as ``torch.autograd.grad`` (first order).

    Unlike :meth:`Tensor.backward` nothing is written to any tensor's ``.grad``.

    Parameters
    ----------
    outputs : Tensor or sequence of Tensors
        What to differentiate; several outputs add up (each seeded by its ``grad_outputs``).
    inputs : sequence of Tensors
        Leaves or intermediate tensors of the graph.
    grad_outputs : array_like or sequence, optional
        Upstream gradient per output; ones (of each output's shape) by default.
    retain_graph : bool
        Keep the graph for later calls; by default it is freed, as in ``backward``.

    Returns
    -------
    list
        One ndarray per input, ``None`` where the input does not reach ``outputs``.

    Examples
    --------
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> grad((x * x).sum(), [x])[0]
    array([2., 4.], dtype=float32)
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    seeds = _seed_grads(outputs, grad_outputs)
    wanted = {id(t) for t in inputs}
    grads: dict[int, np.ndarray] = {}
    found: dict[int, np.ndarray] = {}
    for out, seed in zip(outputs, seeds):
        if out.requires_grad or id(out) in wanted:
            _accumulate(grads, out, seed)
    for node in reversed(_graph_order(outputs, wanted)):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        if id(node) in wanted:
            found[id(node)] = g
        if node._backward is None:
            if node._released:
                raise RuntimeError("Trying to differentiate through a graph that was already freed; pass "
                                   "retain_graph=True to the first backward()/grad() call.")
            continue
        for parent, pg in zip(node._parents, node._backward(g)):
            if pg is not None and parent is not None and (parent.requires_grad or id(parent) in wanted):
                _accumulate(grads, parent, pg)
        if not retain_graph:
            node._backward, node._parents, node._released = None, (), True
    return [found.get(id(t)) for t in inputs]


def _seed_grads(outputs: list, grad_outputs) -> list:
    if grad_outputs is None:
        return [np.ones_like(o.data) for o in outputs]
    seeds = [grad_outputs] if len(outputs) == 1 and not isinstance(grad_outputs, (list, tuple)) else grad_outputs
    if len(seeds) != len(outputs):
        raise ValueError(f"`grad_outputs` must give one gradient per output ({len(outputs)}). "
                         f"Received: {len(seeds)}.")
    out = []
    for o, s in zip(outputs, seeds):
        s = np.ones_like(o.data) if s is None else np.asarray(s.data if isinstance(s, Tensor) else s, o.dtype)
        if s.shape != o.shape:
            raise ValueError(f"`grad_outputs` must have the output's shape {o.shape}. Received: shape={s.shape}.")
        out.append(s)
    return out


def _graph_order(roots: list, wanted: set) -> list:
    """Nodes reachable from ``roots`` through tensors that need gradients (or are in ``wanted``), parents first."""
    return postorder(roots, lambda node: [p for p in node._parents
                                          if p is not None and (p.requires_grad or id(p) in wanted)])
