"""Activation functions with Keras 3 names, arguments and defaults.

Each activation computes its output and its local derivative in closed form
(one NumPy pass each), rather than as a chain of recorded Tensor operations.
The exponential families never evaluate ``exp`` of a large positive number,
so they stay finite and warning-free for inputs up to +-1e4 in float32.
Constants are Python floats so that float32 inputs stay float32.
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import numpy as np

from ..autograd import Tensor, as_tensor, make_result
from .core import normalize_axes, normalize_axis

__all__ = [
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "gelu",
    "sigmoid",
    "hard_sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "silu",
    "swish",
    "softplus",
    "log_sigmoid",
    "exponential",
    "linear",
    "logsumexp",
    "get",
]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CUBIC = 0.044715


def _elementwise(x, out: np.ndarray, local_grad: Callable[[], np.ndarray]) -> Tensor:
    """Record ``out`` whose derivative w.r.t. ``x`` is ``local_grad()`` element-wise."""
    return make_result(out, (x,), lambda g: (g * local_grad(),))


def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softplus_array(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


# ------------------------------------------------------------- ReLU family
def relu(x, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> Tensor:
    """Rectified linear unit, as ``keras.activations.relu`` / ``keras.layers.ReLU``.

    ``f(x) = max_value`` for ``x >= max_value``, ``x`` for ``threshold < x < max_value``,
    ``negative_slope * (x - threshold)`` otherwise.

    >>> relu([-10.0, -5.0, 0.0, 5.0, 10.0], negative_slope=0.5).numpy()
    array([-5. , -2.5,  0. ,  5. , 10. ], dtype=float32)
    """
    x = as_tensor(x)
    if max_value is None and threshold == 0.0:
        if negative_slope != 0.0:
            return leaky_relu(x, negative_slope)
        a = x.data  # the common case: one pass forward, the mask only if backward runs
        return make_result(np.maximum(a, 0, dtype=a.dtype), (x,), lambda g: (g * (a > 0),))
    a = x.data
    # Keras: the positive part keeps x strictly above the threshold, then clips to [0, max_value]
    positive = np.where(a > threshold, a, 0) if threshold != 0.0 else np.maximum(a, 0)
    passes = a > threshold if threshold != 0.0 else a > 0
    if max_value is not None:
        passes = passes & (positive > 0) & (positive < max_value)
        positive = np.clip(positive, 0, max_value)
    out = positive
    if negative_slope != 0.0:
        out = positive - negative_slope * np.maximum(threshold - a, 0)

    def local():
        grad = passes.astype(a.dtype)
        if negative_slope != 0.0:
            grad += np.asarray(negative_slope, dtype=a.dtype) * (a < threshold)
        return grad

    return _elementwise(x, out.astype(a.dtype, copy=False), local)


def relu6(x) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return relu(x, max_value=6.0)


def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise (Keras 3 default slope 0.2)."""
    x = as_tensor(x)
    a = x.data
    positive = a > 0
    out = np.where(positive, a, a * negative_slope)
    return _elementwise(x, out, lambda: np.where(positive, 1, negative_slope).astype(a.dtype))


def elu(x, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    x = as_tensor(x)
    a = x.data
    positive = a > 0
    negative_part = np.exp(np.minimum(a, 0))  # exp of a non-positive number only
    out = np.where(positive, a, alpha * np.expm1(np.minimum(a, 0)))
    return _elementwise(x, out, lambda: np.where(positive, 1, alpha * negative_part).astype(a.dtype))


_ERF_SPLIT, _ERFC_LAST = 2.0, 26.5  # beyond 26.5, erfc underflows in float64 anyway


@functools.lru_cache(maxsize=None)
def _erf_polynomials() -> tuple:
    """Polynomials for erf and erfc, fitted once to libm's ``math.erf``/``math.erfc``.

    NumPy has no erf. ``erf(z) = z * P(z^2)`` for ``|z| <= 2`` and
    ``erfc(z) = exp(-z^2) * Q(1/z) / z`` for ``z > 2``: both P and Q are smooth,
    so degree-18/16 Chebyshev interpolants reach ~1e-14 (relative ~1e-13 in the tail).
    """
    erf, erfc = np.frompyfunc(math.erf, 1, 1), np.frompyfunc(math.erfc, 1, 1)

    def p_target(t):
        z = np.sqrt(np.maximum(t, 1e-300))
        return erf(z).astype(np.float64) / z

    def q_target(w):
        z = 1 / w
        return z * np.exp(z * z) * erfc(z).astype(np.float64)

    p = np.polynomial.Chebyshev.interpolate(p_target, 18, domain=[0.0, _ERF_SPLIT ** 2])
    q = np.polynomial.Chebyshev.interpolate(q_target, 16, domain=[1 / _ERFC_LAST, 1 / _ERF_SPLIT])
    return p.convert(kind=np.polynomial.Polynomial, domain=p.domain, window=p.window), \
        q.convert(kind=np.polynomial.Polynomial, domain=q.domain, window=q.window)


def _horner(poly, values: np.ndarray) -> np.ndarray:
    off, scale = poly.mapparms()
    s = off + scale * values
    out = np.full_like(s, poly.coef[-1])
    for c in poly.coef[-2::-1]:  # loop over the polynomial's degree, not over elements
        out *= s
        out += c
    return out


def _normal_cdf(a: np.ndarray) -> np.ndarray:
    """``Phi(a) = erfc(-a / sqrt 2) / 2``, accurate in relative terms far into the left tail."""
    p, q = _erf_polynomials()
    z = -np.asarray(a, dtype=np.float64) * _INV_SQRT_2
    size = np.abs(z)
    out = np.empty_like(z)
    small = size <= _ERF_SPLIT
    zs = z[small]
    out[small] = 0.5 - 0.5 * zs * _horner(p, zs * zs)
    zl, sl = z[~small], np.minimum(size[~small], _ERFC_LAST)
    tail = 0.5 * np.exp(-sl * sl) * _horner(q, 1 / sl) / sl  # erfc(|z|) / 2
    out[~small] = np.where(zl > 0, tail, 1 - tail)
    return out.astype(a.dtype, copy=False)


def gelu(x, approximate: bool = True) -> Tensor:
    """Gaussian error linear unit ``x * Phi(x)``.

    ``approximate=True`` (the ``keras.ops.gelu`` default) uses
    ``0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``; ``approximate=False``
    (the ``keras.activations.gelu`` default, used by ``get("gelu")``) the exact erf form.
    """
    x = as_tensor(x)
    a = x.data
    if approximate:
        t = np.tanh(_SQRT_2_OVER_PI * (a + _GELU_CUBIC * a ** 3))
        out = 0.5 * a * (1 + t)
        return _elementwise(x, out, lambda: 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * _SQRT_2_OVER_PI
                            * (1 + 3 * _GELU_CUBIC * a * a))
    cdf = _normal_cdf(a)
    return _elementwise(x, a * cdf, lambda: cdf + a * _INV_SQRT_2PI * np.exp(-0.5 * a * a))


# ---------------------------------------------------------- sigmoid family
def sigmoid(x) -> Tensor:
    """``1 / (1 + exp(-x))``, finite and warning-free for any input."""
    x = as_tensor(x)
    out = _sigmoid_array(x.data)
    return _elementwise(x, out, lambda: out * (1 - out))


def hard_sigmoid(x) -> Tensor:
    """Keras 3 hard sigmoid: ``0`` for ``x <= -3``, ``1`` for ``x >= 3``, ``x/6 + 0.5`` between."""
    x = as_tensor(x)
    a = x.data
    inside = (a > -3) & (a < 3)
    out = np.clip(a / 6 + 0.5, 0, 1)
    return _elementwise(x, out, lambda: inside * np.asarray(1 / 6, dtype=a.dtype))


def tanh(x) -> Tensor:
    """Hyperbolic tangent."""
    x = as_tensor(x)
    out = np.tanh(x.data)
    return _elementwise(x, out, lambda: 1 - out * out)


def silu(x) -> Tensor:
    """Sigmoid linear unit ``x * sigmoid(x)`` (also called swish)."""
    x = as_tensor(x)
    a = x.data
    s = _sigmoid_array(a)
    return _elementwise(x, a * s, lambda: s * (1 + a * (1 - s)))


swish = silu


def softplus(x) -> Tensor:
    """``log(1 + exp(x))``, computed as ``max(x, 0) + log1p(exp(-|x|))``."""
    x = as_tensor(x)
    a = x.data
    return _elementwise(x, _softplus_array(a), lambda: _sigmoid_array(a))


def log_sigmoid(x) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, finite for any input."""
    x = as_tensor(x)
    a = x.data
    return _elementwise(x, -_softplus_array(-a), lambda: _sigmoid_array(-a))


def exponential(x) -> Tensor:
    """``exp(x)``."""
    return as_tensor(x).exp()


def linear(x) -> Tensor:
    """The identity (Keras's ``"linear"`` activation)."""
    return as_tensor(x)


# ---------------------------------------------------------- softmax family
def _shifted(a: np.ndarray, axis) -> np.ndarray:
    peak = np.max(a, axis=axis, keepdims=True)
    return a - np.where(np.isfinite(peak), peak, 0)  # an all -inf row must not become nan


def softmax(x, axis: int | tuple = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``, with the maximum subtracted first."""
    x = as_tensor(x)
    axis = _reduction_axis(axis, x.ndim)
    e = np.exp(_shifted(x.data, axis))
    out = e / np.sum(e, axis=axis, keepdims=True)

    def backward(g):
        return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)

    return make_result(out, (x,), backward)


def log_softmax(x, axis: int | tuple = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``, with the maximum subtracted first."""
    x = as_tensor(x)
    axis = _reduction_axis(axis, x.ndim)
    shifted = _shifted(x.data, axis)
    out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))

    def backward(g):
        return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)

    return make_result(out, (x,), backward)


def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis`` (``None``: all axes), computed stably."""
    x = as_tensor(x)
    a = x.data
    axes = normalize_axes(axis, a.ndim)
    peak = np.max(a, axis=axes, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    with np.errstate(divide="ignore"):  # all -inf: log(0) = -inf, as torch returns
        kept = np.log(np.sum(np.exp(a - peak), axis=axes, keepdims=True)) + peak
    out = kept if keepdims else kept.reshape([n for i, n in enumerate(kept.shape)
                                              if axes is not None and i not in axes])

    def backward(g):
        return (np.reshape(g, kept.shape) * np.exp(a - kept),)

    return make_result(out, (x,), backward)


def _reduction_axis(axis, ndim: int):
    if ndim == 0:
        raise ValueError("`x` must have rank >= 1 to take a softmax along an axis. Received: shape=().")
    if isinstance(axis, (tuple, list)):
        return normalize_axes(axis, ndim)
    return normalize_axis(axis, ndim)


# ------------------------------------------------------------------ lookup
def _gelu_exact(x) -> Tensor:
    return gelu(x, approximate=False)


_gelu_exact.__name__ = _gelu_exact.__qualname__ = "gelu"  # serialises as Keras's "gelu"

from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), __all__)  # before the lookup table, so ops.get("relu") is ops.relu

_ACTIVATIONS = {
    "relu": relu, "relu6": relu6, "leaky_relu": leaky_relu, "elu": elu, "gelu": _gelu_exact,
    "sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid, "tanh": tanh, "softmax": softmax,
    "log_softmax": log_softmax, "silu": silu, "swish": swish, "softplus": softplus,
    "log_sigmoid": log_sigmoid, "exponential": exponential, "linear": linear,
}


def get(identifier) -> Callable:
    """Return the activation for a Keras name (``"relu"``, ...), ``None`` (linear) or a callable.

    As in ``keras.activations.get``, ``"gelu"`` is the exact (erf) GELU.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier in _ACTIVATIONS:
            return _ACTIVATIONS[identifier]
        raise ValueError(f"Unknown activation: {identifier!r}. Valid names are "
                         f"{', '.join(sorted(_ACTIVATIONS))} (or None, or a callable).")
    if callable(identifier):
        return identifier
    raise TypeError(f"`activation` must be a string, None or a callable. Received: activation={identifier!r}.")
