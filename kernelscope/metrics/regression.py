"""Regression and similarity metrics with Keras 3's names and formulas (keras/src/metrics/regression_metrics.py).

Each is a mean over samples of a per-sample value, computed in float64 on NumPy
arrays; ``epsilon`` is ``keras.backend.epsilon()`` (1e-7), as in Keras.
"""

from __future__ import annotations

import numpy as np

from .base import Mean, MeanMetricWrapper, _array, _same_shape, _squeeze_or_expand

__all__ = ["MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "RootMeanSquaredError",
           "CosineSimilarity", "LogCoshError", "mean_absolute_percentage_error", "mean_squared_logarithmic_error",
           "cosine_similarity", "log_cosh"]

_EPSILON = 1e-7


def _pair(y_true, y_pred, what: str) -> tuple:
    y_true, y_pred = _squeeze_or_expand(_array(y_true, np.float64), _array(y_pred, np.float64))
    _same_shape(y_true, y_pred, what)
    return y_true, y_pred


def mean_absolute_percentage_error(y_true, y_pred) -> np.ndarray:
    """``100 * mean(|y_true - y_pred| / max(|y_true|, epsilon))`` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_absolute_percentage_error")
    return 100.0 * np.mean(np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), _EPSILON)), axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred) -> np.ndarray:
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2)`` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred, "mean_squared_logarithmic_error")
    diff = np.log1p(np.maximum(y_pred, _EPSILON)) - np.log1p(np.maximum(y_true, _EPSILON))
    return np.mean(np.square(diff), axis=-1)


def cosine_similarity(y_true, y_pred, axis: int = -1) -> np.ndarray:
    """``sum(l2_normalize(y_true) * l2_normalize(y_pred))`` along ``axis`` (norms floored at epsilon)."""
    y_true, y_pred = _pair(y_true, y_pred, "cosine_similarity")

    def unit(x):
        return x / np.maximum(np.sqrt(np.sum(np.square(x), axis=axis, keepdims=True)), _EPSILON)

    return np.sum(unit(y_true) * unit(y_pred), axis=axis)


def log_cosh(y_true, y_pred) -> np.ndarray:
    """``mean(log(cosh(y_pred - y_true)))`` over the last axis, written stably as ``x + softplus(-2x) - log 2``."""
    y_true, y_pred = _pair(y_true, y_pred, "log_cosh")
    x = y_pred - y_true
    return np.mean(x + np.logaddexp(0.0, -2.0 * x) - np.log(2.0), axis=-1)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean of ``100 * |y_true - y_pred| / max(|y_true|, epsilon)``."""

    _direction = "down"

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name, dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean of the squared difference of ``log(1 + max(y, epsilon))``."""

    _direction = "down"

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name, dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between ``y_true`` and ``y_pred`` along ``axis``."""

    _direction = "up"

    def __init__(self, name="cosine_similarity", dtype=None, axis: int = -1):
        super().__init__(cosine_similarity, name, dtype, axis=axis)


class LogCoshError(MeanMetricWrapper):
    """Mean of ``log(cosh(y_pred - y_true))``."""

    _direction = "down"

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name, dtype)


class RootMeanSquaredError(Mean):
    """``sqrt`` of the (weighted) mean of ``(y_pred - y_true)**2`` over every entry, as Keras."""

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _pair(y_true, y_pred, "root_mean_squared_error")
        super().update_state(np.square(y_pred - y_true), sample_weight)

    def result(self) -> float:
        return float(np.sqrt(super().result()))
