"""Element-wise maths of ``keras.ops`` (its ``numpy`` and ``math`` files), differentiable.

Each unary op states its derivative next to its forward. Binary ops broadcast
as NumPy does and send each operand the gradient summed back to its own shape.
Integer inputs of a floating op (``sqrt``, ``exp``...) are computed in
``ks.backend.floatx()``, as Keras does; comparisons and logical ops return
boolean tensors outside the graph.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..autograd import Tensor, _binary, _pair, as_tensor, make_result, unbroadcast
from ..autograd import maximum as _maximum
from ..autograd import minimum as _minimum
from ..autograd import where as _where

__all__ = [
    "add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum", "mod",
    "floor_divide", "negative", "square", "sqrt", "rsqrt", "reciprocal", "abs", "absolute", "exp", "exp2",
    "expm1", "log", "log1p", "log2", "log10", "sign", "floor", "ceil", "round", "sin", "cos", "tan",
    "sinh", "cosh", "arcsin", "arccos", "arctan", "arctan2", "clip", "where", "equal", "not_equal", "greater",
    "greater_equal", "less", "less_equal", "logical_and", "logical_or", "logical_not", "logical_xor",
    "isnan", "isfinite", "isinf", "erf",
]


def maximum(x1, x2) -> Tensor:
    """Element-wise maximum; at ties the gradient goes to ``x1``."""
    return _maximum(*_pair(x1, x2))


def minimum(x1, x2) -> Tensor:
    """Element-wise minimum; at ties the gradient goes to ``x1``."""
    return _minimum(*_pair(x1, x2))


def _floating(x) -> Tensor:
    """``x`` as a Tensor; integer and boolean tensors become floatx (they carry no gradient)."""
    x = as_tensor(x)
    if x.dtype.kind != "f":
        from ..backend import floatx

        return Tensor._constant(x.data.astype(floatx()))
    return x


def _unary(x, forward: Callable, derivative: Callable | None) -> Tensor:
    """Record ``forward(x)``; ``derivative(x, out)`` is d out / d x (None: zero almost everywhere)."""
    x = _floating(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = forward(x.data)

    def backward(g):
        if derivative is None:
            return (np.zeros_like(x.data),)
        with np.errstate(divide="ignore", invalid="ignore"):
            return ((g * derivative(x.data, out)).astype(x.dtype, copy=False),)

    return make_result(out, (x,), backward)


# ------------------------------------------------------------ arithmetic
def add(x1, x2) -> Tensor:
    """``x1 + x2`` with broadcasting."""
    a, b = _pair(x1, x2)
    return a + b


def subtract(x1, x2) -> Tensor:
    """``x1 - x2`` with broadcasting."""
    a, b = _pair(x1, x2)
    return a - b


def multiply(x1, x2) -> Tensor:
    """``x1 * x2`` with broadcasting."""
    a, b = _pair(x1, x2)
    return a * b


def divide(x1, x2) -> Tensor:
    """``x1 / x2`` (true division) with broadcasting."""
    a, b = _pair(x1, x2)
    return _floating(a) / _floating(b)


true_divide = divide


def power(x1, x2) -> Tensor:
    """``x1 ** x2`` with broadcasting (gradients for both)."""
    a, b = _pair(x1, x2)
    return a ** b


def mod(x1, x2) -> Tensor:
    """``x1 % x2`` with the sign of ``x2`` (NumPy's); d/dx1 = 1, d/dx2 = -floor(x1 / x2)."""
    a, b = _pair(x1, x2)
    return a % b


def floor_divide(x1, x2) -> Tensor:
    """``x1 // x2``; piecewise constant, so no gradient flows."""
    a, b = _pair(x1, x2)
    return a // b


def arctan2(x1, x2) -> Tensor:
    """The angle of the point ``(x2, x1)``, element-wise."""
    a, b = _pair(_floating(x1), _floating(x2))
    out = _binary("arctan2", np.arctan2, a.data, b.data)
    r2 = a.data * a.data + b.data * b.data
    return make_result(out, (a, b), lambda g: (unbroadcast(g * b.data / r2, a.shape),
                                               unbroadcast(-g * a.data / r2, b.shape)))


def negative(x) -> Tensor:
    """``-x``."""
    return -as_tensor(x)


# ----------------------------------------------------------- unary maths
def square(x) -> Tensor:
    """``x * x``."""
    return _unary(x, np.square, lambda x, y: 2 * x)


def sqrt(x) -> Tensor:
    """Square root."""
    return _unary(x, np.sqrt, lambda x, y: 0.5 / y)


def rsqrt(x) -> Tensor:
    """``1 / sqrt(x)``."""
    return _unary(x, lambda x: 1 / np.sqrt(x), lambda x, y: -0.5 * y / x)


def reciprocal(x) -> Tensor:
    """``1 / x``."""
    return _unary(x, np.reciprocal, lambda x, y: -y * y)


def abs(x) -> Tensor:  # noqa: A001 - Keras name
    """Absolute value; the gradient at 0 is 0."""
    x = as_tensor(x)
    if x.dtype.kind != "f":
        return Tensor._constant(np.abs(x.data))
    return x.abs()


absolute = abs


def exp(x) -> Tensor:
    """``e ** x``."""
    return _unary(x, np.exp, lambda x, y: y)


def exp2(x) -> Tensor:
    """``2 ** x``."""
    return _unary(x, np.exp2, lambda x, y: y * np.log(2.0))


def expm1(x) -> Tensor:
    """``exp(x) - 1``, accurate near 0."""
    return _unary(x, np.expm1, lambda x, y: y + 1)


def log(x) -> Tensor:
    """Natural logarithm."""
    return _unary(x, np.log, lambda x, y: 1 / x)


def log1p(x) -> Tensor:
    """``log(1 + x)``, accurate near 0."""
    return _unary(x, np.log1p, lambda x, y: 1 / (1 + x))


def log2(x) -> Tensor:
    """Base-2 logarithm."""
    return _unary(x, np.log2, lambda x, y: 1 / (x * np.log(2.0)))


def log10(x) -> Tensor:
    """Base-10 logarithm."""
    return _unary(x, np.log10, lambda x, y: 1 / (x * np.log(10.0)))


def _constant_unary(x, fn: Callable) -> Tensor:
    """Piecewise-constant ops keep integer inputs integer and pass a zero gradient."""
    x = as_tensor(x)
    if x.dtype.kind != "f":
        return Tensor._constant(fn(x.data))
    return _unary(x, fn, None)


def sign(x) -> Tensor:
    """-1, 0 or 1 by the sign of ``x`` (zero gradient)."""
    return _constant_unary(x, np.sign)


def floor(x) -> Tensor:
    """Round down (zero gradient)."""
    return _unary(x, np.floor, None)


def ceil(x) -> Tensor:
    """Round up (zero gradient)."""
    return _unary(x, np.ceil, None)


def round(x, decimals: int = 0) -> Tensor:  # noqa: A001 - Keras name
    """Round half to even to ``decimals`` digits (zero gradient)."""
    return _constant_unary(x, lambda a: np.round(a, decimals))


def sin(x) -> Tensor:
    """Sine."""
    return _unary(x, np.sin, lambda x, y: np.cos(x))


def cos(x) -> Tensor:
    """Cosine."""
    return _unary(x, np.cos, lambda x, y: -np.sin(x))


def tan(x) -> Tensor:
    """Tangent."""
    return _unary(x, np.tan, lambda x, y: 1 + y * y)


def sinh(x) -> Tensor:
    """Hyperbolic sine."""
    return _unary(x, np.sinh, lambda x, y: np.cosh(x))


def cosh(x) -> Tensor:
    """Hyperbolic cosine."""
    return _unary(x, np.cosh, lambda x, y: np.sinh(x))


def arcsin(x) -> Tensor:
    """Inverse sine."""
    return _unary(x, np.arcsin, lambda x, y: 1 / np.sqrt(1 - x * x))


def arccos(x) -> Tensor:
    """Inverse cosine."""
    return _unary(x, np.arccos, lambda x, y: -1 / np.sqrt(1 - x * x))


def arctan(x) -> Tensor:
    """Inverse tangent."""
    return _unary(x, np.arctan, lambda x, y: 1 / (1 + x * x))


def erf(x) -> Tensor:
    """The error function; d erf / dx = 2 / sqrt(pi) * exp(-x**2)."""
    from .activations import _normal_cdf

    # erf(x) = 2 * Phi(x * sqrt(2)) - 1, with the normal CDF the GELU already uses
    # computed in whatever precision the CDF uses, returned in the input's dtype (as Keras)
    return _unary(x, lambda a: (2 * _normal_cdf(a * np.sqrt(2.0)) - 1).astype(a.dtype, copy=False),
                  lambda x, y: (2 / np.sqrt(np.pi) * np.exp(-x * x)).astype(x.dtype, copy=False))


def clip(x, x_min, x_max) -> Tensor:
    """Limit ``x`` to ``[x_min, x_max]``; the gradient passes only inside."""
    x = as_tensor(x)
    bounds = [b.data if isinstance(b, Tensor) else b for b in (x_min, x_max)]
    if x.dtype.kind != "f":
        return Tensor._constant(np.clip(x.data, *bounds))
    return x.clip(*bounds)


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` holds, else ``x2``; with only ``condition``, the indices where it holds."""
    if x1 is None and x2 is None:
        cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
        return tuple(Tensor._constant(i.astype(np.int32)) for i in np.nonzero(cond))
    if x1 is None or x2 is None:
        raise ValueError("`x1` and `x2` either both should be `None` or both should have non-None value. "
                         f"Received: x1={x1!r}, x2={x2!r}.")
    return _where(condition, x1, x2)


# --------------------------------------------------- comparisons and logic
def _compare(name: str, fn: Callable, x1, x2) -> Tensor:
    a = x1.data if isinstance(x1, Tensor) else np.asarray(x1)
    b = x2.data if isinstance(x2, Tensor) else np.asarray(x2)
    return Tensor._constant(_binary(name, fn, a, b))


def _comparison(name: str, fn: Callable, doc: str) -> Callable:
    """A public two-argument comparison, ``ops.<name>(x1, x2)``, run by :func:`_compare`."""
    def op(x1, x2) -> Tensor:
        return _compare(name, fn, x1, x2)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


equal = _comparison("equal", np.equal, "``x1 == x2`` element-wise (boolean).")
not_equal = _comparison("not_equal", np.not_equal, "``x1 != x2`` element-wise (boolean).")
greater = _comparison("greater", np.greater, "``x1 > x2`` element-wise (boolean).")
greater_equal = _comparison("greater_equal", np.greater_equal, "``x1 >= x2`` element-wise (boolean).")
less = _comparison("less", np.less, "``x1 < x2`` element-wise (boolean).")
less_equal = _comparison("less_equal", np.less_equal, "``x1 <= x2`` element-wise (boolean).")
logical_and = _comparison("logical_and", np.logical_and, "Truth of both (non-zero is true).")
logical_or = _comparison("logical_or", np.logical_or, "Truth of either (non-zero is true).")
logical_xor = _comparison("logical_xor", np.logical_xor, "Truth of exactly one (non-zero is true).")


def logical_not(x) -> Tensor:
    """Negated truth (zero is false)."""
    return Tensor._constant(np.logical_not(as_tensor(x).data))


def isnan(x) -> Tensor:
    """Where ``x`` is NaN (boolean)."""
    return Tensor._constant(np.isnan(as_tensor(x).data))


def isfinite(x) -> Tensor:
    """Where ``x`` is neither infinite nor NaN (boolean)."""
    return Tensor._constant(np.isfinite(as_tensor(x).data))


def isinf(x) -> Tensor:
    """Where ``x`` is +-inf (boolean)."""
    return Tensor._constant(np.isinf(as_tensor(x).data))


from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), __all__)
