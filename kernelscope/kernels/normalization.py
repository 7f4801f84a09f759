"""Batch normalization and dropout kernels.

Batch normalization normalizes over every axis except the feature ``axis``
(channels last by default): ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``.
In training the statistics are the batch's own (biased variance, as Keras uses
for both the output and the moving-statistics update); at inference they are
the moving averages. ``gamma``/``beta`` may be None (no scale / no center).
"""

# N batch, H/W height/width, C channels (the normalized feature axis)

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

__all__ = [
    "BatchNormTrainCache",
    "BatchNormInferCache",
    "batch_norm_train_forward",
    "batch_norm_train_backward",
    "batch_norm_infer_forward",
    "batch_norm_infer_backward",
    "dropout_forward",
    "dropout_backward",
]


def _param_shape(ndim: int, axis: int, size: int) -> tuple:
    """Shape that broadcasts a per-feature vector along ``axis`` of an ``ndim`` array."""
    shape = [1] * ndim
    shape[axis] = size
    return tuple(shape)


def _reduce_axes(ndim: int, axis: int) -> tuple:
    return tuple(a for a in range(ndim) if a != axis)


# ------------------------------------------------------------------ training
def _per_feature_dot(a: np.ndarray, b: np.ndarray, axes: tuple, shape: tuple) -> np.ndarray:
    """sum(a * b) over ``axes``, shaped like ``shape``; channels last needs no temporary."""
    if axes == tuple(range(a.ndim - 1)):
        c = a.shape[-1]
        return np.einsum("ij,ij->j", a.reshape(-1, c), b.reshape(-1, c)).reshape(shape)
    return np.sum(a * b, axis=axes, keepdims=True)


class BatchNormTrainCache(NamedTuple):
    """What ``batch_norm_train_backward`` needs from the forward pass."""
    centered: np.ndarray  # x - mean
    inv_std: np.ndarray  # 1 / sqrt(var + epsilon), broadcastable
    scale: np.ndarray  # inv_std * gamma
    axes: tuple  # the reduced axes
    shape: tuple  # broadcast shape of a per-feature vector
    count: int  # cells per feature in the whole batch (all workers)
    reduce: Callable | None  # sums an array over the batch-split workers; None: one batch


def batch_norm_train_forward(x: np.ndarray, gamma, beta, axis: int, epsilon: float,
                             reduce: Callable | None = None) -> tuple:
    """Normalize with the batch statistics.

    Returns ``(y, mean, var, cache)``; ``mean`` and ``var`` (biased) have shape (C,).
    Two-pass variance (mean first, then the mean square of x - mean) for accuracy; the
    centered input is the only temporary, kept for the backward pass. When ``x`` is one
    slice of a batch split over workers, ``reduce(a)`` returns the sum of ``a`` over all
    slices, so the statistics (and the gradients) are those of the whole batch.
    """
    axes = _reduce_axes(x.ndim, axis)
    shape = _param_shape(x.ndim, axis, x.shape[axis])
    m = x.size // x.shape[axis]  # cells per feature
    if reduce is None:
        mean = x.mean(axis=axes, keepdims=True)
    else:
        totals = reduce(np.append(x.sum(axis=axes).astype(np.float64), m))
        m = int(totals[-1])
        mean = (totals[:-1] / m).astype(x.dtype).reshape(shape)
    centered = x - mean
    squares = _per_feature_dot(centered, centered, axes, shape)
    var = (squares if reduce is None else reduce(squares)) / m
    inv_std = 1.0 / np.sqrt(var + epsilon)
    scale = inv_std if gamma is None else inv_std * gamma.reshape(shape)
    y = centered * scale
    if beta is not None:
        y += beta.reshape(shape)
    return y, mean.reshape(-1), var.reshape(-1), BatchNormTrainCache(centered, inv_std, scale, axes, shape, m, reduce)


def batch_norm_train_backward(dy: np.ndarray, cache: BatchNormTrainCache) -> tuple:
    """Closed-form gradient through the batch statistics: returns ``(dx, dgamma, dbeta)``.

    With m cells per feature, x_hat = centered * inv_std and scale = inv_std * gamma:
    ``dx = scale * (dy - sum(dy)/m - x_hat * sum(dy * x_hat)/m)``, computed as
    ``dy * scale - centered * (scale * inv_std**2 * sum(dy * centered)/m) - scale * sum(dy)/m``.
    Split over workers, dx needs the whole batch's sums; dgamma and dbeta stay this
    slice's share (the caller adds the workers' parameter gradients).
    """
    centered, inv_std, scale, axes, shape, m, reduce = cache
    dbeta = dy.sum(axis=axes, keepdims=True)
    dy_centered = _per_feature_dot(dy, centered, axes, shape)  # sum(dy * centered)
    sum_dy, sum_dy_centered = dbeta, dy_centered
    if reduce is not None:
        both = reduce(np.concatenate([dbeta.reshape(-1), dy_centered.reshape(-1)]))
        sum_dy, sum_dy_centered = both[:both.size // 2].reshape(shape), both[both.size // 2:].reshape(shape)
    dx = dy * scale
    dx -= centered * (scale * inv_std * inv_std * sum_dy_centered / m)
    dx -= scale * sum_dy / m
    return dx, (dy_centered * inv_std).reshape(-1), dbeta.reshape(-1)


# ----------------------------------------------------------------- inference
class BatchNormInferCache(NamedTuple):
    """What ``batch_norm_infer_backward`` needs (statistics and scale broadcastable)."""
    x: np.ndarray
    mean: np.ndarray
    inv_std: np.ndarray
    scale: np.ndarray
    gamma: np.ndarray | None
    axes: tuple
    shape: tuple


def batch_norm_infer_forward(x: np.ndarray, gamma, beta, mean: np.ndarray, var: np.ndarray,
                             axis: int, epsilon: float) -> tuple:
    """Normalize with fixed (moving) statistics; returns ``(y, cache)``.

    Folded to ``y = x * scale + shift`` (two passes, one temporary): inference is where
    this runs most, e.g. 53 times per ResNet50 forward.
    """
    shape = _param_shape(x.ndim, axis, x.shape[axis])
    inv_std = 1.0 / np.sqrt(var.reshape(shape) + epsilon)
    scale = inv_std if gamma is None else inv_std * gamma.reshape(shape)
    shift = -mean.reshape(shape) * scale
    if beta is not None:
        shift = shift + beta.reshape(shape)
    y = np.multiply(x, scale, dtype=np.result_type(x, scale))
    y += shift
    return y, BatchNormInferCache(x, mean.reshape(shape), inv_std, scale, gamma, _reduce_axes(x.ndim, axis), shape)


def batch_norm_infer_backward(dy: np.ndarray, cache: BatchNormInferCache) -> tuple:
    """Returns ``(dx, dgamma, dbeta, dmean, dvar)``, the last four of shape (C,)."""
    x, mean, inv_std, scale, gamma, axes, shape = cache
    dx = dy * scale
    dbeta = dy.sum(axis=axes)
    dy_centered = np.sum(dy * (x - mean), axis=axes)
    inv = inv_std.reshape(-1)
    dgamma = dy_centered * inv
    dmean = -dbeta * scale.reshape(-1)
    gamma_flat = 1.0 if gamma is None else gamma.reshape(-1)
    dvar = -0.5 * dy_centered * gamma_flat * inv ** 3
    return dx, dgamma, dbeta, dmean, dvar


# ------------------------------------------------------------------- dropout
def dropout_forward(x: np.ndarray, rate: float, rng: np.random.Generator, noise_shape: tuple) -> tuple:
    """Inverted dropout: zero each cell with probability ``rate``, scale the rest by 1/(1-rate).

    ``noise_shape`` broadcasts to ``x.shape`` (1 where the same mask is shared).
    Returns ``(y, mask)``, the mask already holding the scale.
    """
    keep = rng.random(noise_shape, dtype=np.float32) >= rate
    mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - rate))
    return x * mask, mask


def dropout_backward(dy: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return dy * mask
