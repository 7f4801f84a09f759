"""Differentiable batch normalization and dropout, with Keras's arguments and defaults."""

from __future__ import annotations

import functools
import numbers

import numpy as np

from ..autograd import Tensor, as_tensor, make_result
from .._runtime import workers
from ..kernels import normalization as K
from ..rng import make_rng

__all__ = ["batch_norm", "batch_norm_with_stats", "dropout"]


def _feature_axis(x: Tensor, axis) -> int:
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"`axis` must be an integer in [-{x.ndim}, {x.ndim}) for an input of shape "
                         f"{x.shape}. Received: axis={axis!r}.")
    return int(axis) % x.ndim


def _param(value, name: str, size: int) -> Tensor | None:
    """A per-feature parameter as a Tensor of shape (size,), or None."""
    if value is None:
        return None
    value = as_tensor(value)
    if value.shape != (size,):
        raise ValueError(f"`{name}` must have shape ({size},), one value per feature of the normalized "
                         f"axis. Received: {name}.shape={value.shape}.")
    return value


def _data(param: Tensor | None, dtype) -> np.ndarray | None:
    """Parameter values in the input's dtype, so float32 inputs stay float32."""
    return None if param is None else param.data.astype(dtype, copy=False)


def _grad(param: Tensor | None, grad: np.ndarray):
    if param is None or not param.requires_grad:
        return None
    return grad.astype(param.dtype, copy=False)


def _train(x, gamma, beta, epsilon, axis) -> tuple:
    x = as_tensor(x)
    axis = _feature_axis(x, axis)
    size = x.shape[axis]
    gamma, beta = _param(gamma, "gamma", size), _param(beta, "beta", size)
    member = workers.current()  # a slice of a batch split over workers: statistics of the whole batch
    reduce = None if member is None else functools.partial(member[0].allreduce, member[1])
    y, mean, var, cache = K.batch_norm_train_forward(
        x.data, _data(gamma, x.dtype), _data(beta, x.dtype), axis, epsilon, reduce)

    def backward(g):
        dx, dgamma, dbeta = K.batch_norm_train_backward(g, cache)
        return dx, _grad(gamma, dgamma), _grad(beta, dbeta)

    return make_result(y, (x, gamma, beta), backward), mean, var


def _infer(x, gamma, beta, moving_mean, moving_variance, epsilon, axis) -> Tensor:
    x = as_tensor(x)
    axis = _feature_axis(x, axis)
    if moving_mean is None or moving_variance is None:
        raise ValueError("batch_norm with training=False normalizes with the moving statistics: "
                         "`moving_mean` and `moving_variance` are required. "
                         f"Received: moving_mean={'None' if moving_mean is None else 'given'}, "
                         f"moving_variance={'None' if moving_variance is None else 'given'}.")
    size = x.shape[axis]
    params = (_param(gamma, "gamma", size), _param(beta, "beta", size),
              _param(moving_mean, "moving_mean", size), _param(moving_variance, "moving_variance", size))
    y, cache = K.batch_norm_infer_forward(x.data, *(_data(p, x.dtype) for p in params), axis, epsilon)

    def backward(g):
        dx, *dparams = K.batch_norm_infer_backward(g, cache)
        return (dx, *(_grad(p, d) for p, d in zip(params, dparams)))

    return make_result(y, (x, *params), backward)


def _check_epsilon(epsilon) -> float:
    if not isinstance(epsilon, numbers.Real) or isinstance(epsilon, bool) or not epsilon > 0:
        raise ValueError(f"`epsilon` must be a positive number. Received: epsilon={epsilon!r}.")
    return float(epsilon)


def batch_norm(x, gamma=None, beta=None, moving_mean=None, moving_variance=None,
               training: bool = False, epsilon: float = 1e-3, axis: int = -1) -> Tensor:
    """Batch normalization over every axis but ``axis`` (Keras ``BatchNormalization``).

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``, with the batch's mean and
    biased variance when ``training`` is True, else ``moving_mean`` and
    ``moving_variance``. ``gamma``/``beta`` may be None (no scale / no center).

    Parameters
    ----------
    x : Tensor or array_like
    gamma, beta, moving_mean, moving_variance : Tensor, array_like of shape (C,) or None
        C = ``x.shape[axis]``. The moving statistics are required when not training.
    training : bool
    epsilon : float
        Added to the variance (Keras's default 1e-3, PyTorch's is 1e-5).
    axis : int
        The feature axis, channels last by default.

    Returns
    -------
    Tensor of the shape of ``x``.
    """
    epsilon = _check_epsilon(epsilon)
    if training:
        return _train(x, gamma, beta, epsilon, axis)[0]
    return _infer(x, gamma, beta, moving_mean, moving_variance, epsilon, axis)


def batch_norm_with_stats(x, gamma=None, beta=None, epsilon: float = 1e-3, axis: int = -1) -> tuple:
    """Training-mode :func:`batch_norm` that also returns the batch statistics.

    Returns
    -------
    (Tensor, batch_mean, batch_var): the statistics are ndarrays of shape (C,), the
    variance biased, as Keras's ``BatchNormalization`` feeds its moving averages.
    """
    return _train(x, gamma, beta, _check_epsilon(epsilon), axis)


# ------------------------------------------------------------------- dropout
def _noise_shape(noise_shape, shape: tuple) -> tuple:
    """Keras-style noise_shape: None entries take the input's size; each entry is that size or 1."""
    if noise_shape is None:
        return shape
    if isinstance(noise_shape, (tuple, list)) and len(noise_shape) == len(shape):
        resolved = tuple(n if d is None else d for d, n in zip(noise_shape, shape))
        if all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d in (1, n)
               for d, n in zip(resolved, shape)):
            return tuple(int(d) for d in resolved)
    raise ValueError(f"`noise_shape` must have one entry per input axis, each None, 1 or the input's "
                     f"size. Received: noise_shape={noise_shape!r} for an input of shape {shape}.")


def dropout(x, rate: float, training: bool = False, seed=None, noise_shape=None) -> Tensor:
    """Inverted dropout (Keras ``Dropout``): zero cells with probability ``rate``, scale the rest.

    Kept values are multiplied by 1/(1 - rate) so the expected output equals the
    input. Identity when ``training`` is False or ``rate`` is 0.

    Parameters
    ----------
    x : Tensor or array_like
    rate : float in [0, 1)
    training : bool
    seed : None, int or numpy.random.Generator
    noise_shape : tuple or None
        Shape of the mask, broadcast to ``x`` (e.g. ``(N, 1, 1, C)`` drops whole
        feature maps); None entries take the input's size.
    """
    if not isinstance(rate, numbers.Real) or isinstance(rate, bool) or not 0 <= rate < 1:
        raise ValueError(f"`rate` must be a number in [0, 1). Received: rate={rate!r}.")
    x = as_tensor(x)
    shape = _noise_shape(noise_shape, x.shape)
    if not training or rate == 0:
        return x
    y, mask = K.dropout_forward(x.data, float(rate), make_rng(seed), shape)
    return make_result(y, (x,), lambda g: (K.dropout_backward(g, mask),))


from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), __all__)
