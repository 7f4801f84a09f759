"""Metric base classes, the Mean family and the per-sample accuracy and error functions."""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd import Tensor, no_grad

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
           "MeanAbsoluteError", "MeanSquaredError", "accuracy", "binary_accuracy", "categorical_accuracy",
           "sparse_categorical_accuracy", "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
           "reduce_to_samplewise_values"]

EPSILON = 1e-7  # keras.backend.epsilon()


def _array(x, dtype=None) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x, dtype=dtype)


def _squeeze_or_expand(x1: np.ndarray, x2: np.ndarray) -> tuple:
    from ..losses import squeeze_or_expand_to_same_rank
    return squeeze_or_expand_to_same_rank(x1, x2)


def _same_shape(y_true: np.ndarray, y_pred: np.ndarray, what: str) -> None:
    if y_true.shape != y_pred.shape:
        raise ValueError(f"`y_true` and `y_pred` must have the same shape for {what}. "
                         f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}.")


def _sparse_labels(y_true: np.ndarray, y_pred: np.ndarray, what: str) -> np.ndarray:
    """Integer labels shaped as ``y_pred`` without its class axis (a trailing 1 is dropped)."""
    if y_true.ndim == y_pred.ndim and y_true.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if y_pred.ndim == 0 or y_true.shape != y_pred.shape[:-1]:
        raise ValueError(f"{what} needs one integer label per row of scores: `y_true` must have the shape of "
                         f"`y_pred` without its last (class) axis. Received: y_true.shape={y_true.shape}, "
                         f"y_pred.shape={y_pred.shape}.")
    return y_true


def _divide_no_nan(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


# --------------------------------------------------------------- base classes
class Metric:
    """Base class of stateful metrics."""

    _direction = "up"

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or type(self).__name__.lower()
        self.dtype = np.dtype("float32" if dtype is None else dtype)

    def add_variable(self, shape, initializer, dtype=None, aggregation: str = "sum", name: str | None = None):
        """A non-trainable state variable of this metric (Keras 3's signature); ``reset_state`` zeroes it."""
        from .. import initializers
        from ..layers.base import Variable, _standardize_dtype
        from ..layers.weight_options import weight_shape

        shape = weight_shape(shape)
        dtype = _standardize_dtype(dtype or self.dtype)
        value = np.asarray(initializers.get(initializer)(shape, dtype=dtype), dtype=dtype)
        variables = self.__dict__.setdefault("_variables", [])
        var = Variable(value, name=name or f"variable_{len(variables)}", trainable=False, aggregation=aggregation)
        variables.append(var)
        return var

    def add_weight(self, shape=(), initializer=None, dtype=None, name: str | None = None):
        """Keras's backwards-compatible alias of :meth:`add_variable`."""
        return self.add_variable(shape, "zeros" if initializer is None else initializer, dtype=dtype, name=name)

    @property
    def variables(self) -> list:
        return list(self.__dict__.get("_variables", []))

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self) -> None:
        """Zero every variable made with :meth:`add_variable` (Keras 3's default)."""
        if "_variables" not in self.__dict__:
            raise NotImplementedError(f"{type(self).__name__} must implement reset_state() (or keep its state in "
                                      "variables made with add_variable, which the default zeroes).")
        for var in self._variables:
            var.assign(np.zeros_like(var.data))

    def __call__(self, *args, **kwargs):
        """Update with one batch and return the running result, a 0-d float32 Tensor as Keras's (``.numpy()``,
        ``float()``); ``result()`` itself stays a Python float."""
        self.update_state(*args, **kwargs)
        return Tensor(np.asarray(self.result(), dtype=np.float32))

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def reduce_to_samplewise_values(values: np.ndarray, sample_weight) -> tuple:
    """Keras's rule: average ``values`` down to the weight's rank, then to one value per sample."""
    values = _array(values, np.float64)
    if sample_weight is not None:
        sample_weight = _array(sample_weight, np.float64)
        values, sample_weight = _squeeze_or_expand(values, sample_weight)
        if values.ndim > sample_weight.ndim:
            values = values.mean(axis=tuple(range(sample_weight.ndim, values.ndim)))
        try:
            sample_weight = np.broadcast_to(sample_weight, values.shape)
        except ValueError:
            raise ValueError(f"`sample_weight` of shape {sample_weight.shape} cannot be broadcast to the "
                             f"per-sample values of shape {values.shape}.") from None
        values = values * sample_weight
        if sample_weight.ndim > 1:
            sample_weight = sample_weight.mean(axis=tuple(range(1, sample_weight.ndim)))
    if values.ndim > 1:
        values = values.mean(axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Mean(Metric):
    """The (weighted) mean of the values seen: ``sum(values * w) / sum(w)``."""

    _direction = "down"

    def __init__(self, name: str = "mean", dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def update_state(self, values, sample_weight=None) -> None:
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight)
        self.total += float(values.sum())
        if sample_weight is not None:
            self.count += float(np.sum(sample_weight))
        else:
            self.count += values.shape[0] if values.ndim else 1

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def result(self) -> float:
        return float(self.total / self.count) if self.count else 0.0


class MeanMetricWrapper(Mean):
    """A :class:`Mean` of ``fn(y_true, y_pred, **kwargs)``, a per-sample metric function."""

    _direction = "up"

    def __init__(self, fn, name: str | None = None, dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        super().update_state(self._fn(_array(y_true), _array(y_pred), **self._fn_kwargs), sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


# ------------------------------------------------------- per-sample functions
def accuracy(y_true, y_pred) -> np.ndarray:
    """Fraction of exactly equal entries, per sample."""
    y_true, y_pred = _squeeze_or_expand(_array(y_true), _array(y_pred))
    _same_shape(y_true, y_pred, "accuracy")
    return np.mean(y_true == y_pred, axis=-1, dtype=np.float64)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """Fraction of entries where ``y_pred > threshold`` matches the 0/1 label, per sample."""
    y_true, y_pred = _squeeze_or_expand(_array(y_true), _array(y_pred))
    _same_shape(y_true, y_pred, "binary_accuracy")
    return np.mean(y_true == (y_pred > threshold).astype(y_true.dtype), axis=-1, dtype=np.float64)


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """Whether ``argmax(y_pred)`` equals ``argmax(y_true)`` (one-hot labels)."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    _same_shape(y_true, y_pred, "categorical_accuracy (one-hot labels)")
    return sparse_categorical_accuracy(np.argmax(y_true, axis=-1), y_pred)


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """Whether ``argmax(y_pred)`` equals the integer label."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    y_true = _sparse_labels(y_true, y_pred, "sparse_categorical_accuracy")
    matches = (np.argmax(y_pred, axis=-1) == y_true).astype(np.float64)
    return matches


def _in_top_k(labels: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """TF's in_top_k: the label's score is beaten by fewer than ``k`` classes (ties count as in)."""
    y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    labels = labels.reshape(-1).astype(np.int64)
    target = np.take_along_axis(y_pred, labels[:, None], axis=-1)
    return ((y_pred > target).sum(axis=-1) < k).astype(np.float64)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """Whether the integer label is among the ``k`` highest scores."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    y_true = _sparse_labels(y_true, y_pred, "top_k_categorical_accuracy")
    return _in_top_k(y_true, y_pred, k).reshape(y_true.shape)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """Whether the one-hot label is among the ``k`` highest scores."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    _same_shape(y_true, y_pred, "top_k_categorical_accuracy (one-hot labels)")
    return sparse_top_k_categorical_accuracy(np.argmax(y_true, axis=-1), y_pred, k)


def _squared_error(y_true, y_pred) -> np.ndarray:
    y_true, y_pred = _squeeze_or_expand(_array(y_true, np.float64), _array(y_pred, np.float64))
    _same_shape(y_true, y_pred, "mean_squared_error")
    return np.mean(np.square(y_true - y_pred), axis=-1)


def _absolute_error(y_true, y_pred) -> np.ndarray:
    y_true, y_pred = _squeeze_or_expand(_array(y_true, np.float64), _array(y_pred, np.float64))
    _same_shape(y_true, y_pred, "mean_absolute_error")
    return np.mean(np.abs(y_true - y_pred), axis=-1)


# ------------------------------------------------------------ mean metrics
class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true`` exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches a 0/1 label."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, numbers.Real)):
            raise TypeError("Invalid value for argument `threshold`. Expected a number in interval (0, 1). "
                            f"Received: threshold={threshold!r} (of type {type(threshold).__name__})")
        if threshold is not None and not 0 < threshold < 1:
            raise ValueError("Invalid value for argument `threshold`. Expected a value in interval (0, 1). "
                             f"Received: threshold={threshold}")
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the highest score is at the one-hot label's position."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the highest score is at the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


def _check_k(k) -> None:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"`k` must be an integer >= 1 (how many top scores count). Received: k={k!r}.")


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the ``k`` highest scores."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        _check_k(k)
        super().__init__(top_k_categorical_accuracy, name, dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest scores."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        _check_k(k)
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=k)


class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``(y_true - y_pred)**2``."""

    _direction = "down"

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``|y_true - y_pred|``."""

    _direction = "down"

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(_absolute_error, name, dtype)


def _loss_metric(loss_name: str):
    """A metric function giving the per-sample values of the Keras loss ``loss_name``."""
    def fn(y_true, y_pred):
        from .. import losses
        with no_grad():
            return getattr(losses, loss_name)(y_true, np.asarray(y_pred, dtype=np.float64)).data
    fn.__name__ = loss_name
    return fn
