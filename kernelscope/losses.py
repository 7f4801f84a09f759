"""Loss functions with Keras 3's names, defaults, formulas and reduction.

A loss object is called as ``loss(y_true, y_pred, sample_weight=None)``:
``y_pred`` is a :class:`~kernelscope.autograd.Tensor` (or array), ``y_true`` an
array. The per-sample losses (the mean over the last axis, or the cross-entropy
over the class axis) are multiplied by ``sample_weight`` and reduced as Keras's
``"sum_over_batch_size"``: the weighted sum divided by the number of per-sample
values (not by the sum of the weights). The result is a scalar Tensor in
``y_pred``'s dtype, ready for ``.backward()``.

Cross-entropies from logits use the stable forms (log-sum-exp, and
``max(x, 0) - x*t + log1p(exp(-|x|))``); from probabilities they clip to
``[1e-7, 1 - 1e-7]`` as Keras does.

>>> import numpy as np
>>> float(MeanSquaredError()(np.array([[0.0, 1.0]]), np.array([[1.0, 1.0]])).item())
0.5
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _keras_object
from ._keras_object import serialize
from .autograd import Tensor, make_result, where

__all__ = ["Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError", "Huber",
           "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "mean_squared_error", "mean_absolute_error", "huber", "binary_crossentropy",
           "categorical_crossentropy", "sparse_categorical_crossentropy", "get", "serialize", "deserialize"]

EPSILON = 1e-7  # keras.backend.epsilon()'s default; the losses read ks.backend.epsilon() at call time
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# ------------------------------------------------------------------ helpers
def _as_pred(y_pred) -> Tensor:
    return y_pred if isinstance(y_pred, Tensor) else Tensor(np.asarray(y_pred))


def _as_true(y_true, dtype) -> np.ndarray:
    y_true = y_true.data if isinstance(y_true, Tensor) else y_true
    return np.asarray(y_true, dtype=dtype)


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
    """Keras's rule: if ranks differ by one and the longer has a trailing 1, align them."""
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.reshape(tuple(x2.shape) + (1,))
        else:
            x1 = x1.reshape(tuple(x1.shape[:-1]))
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.reshape(tuple(x1.shape) + (1,))
        else:
            x2 = x2.reshape(tuple(x2.shape[:-1]))
    return x1, x2


def _prepare(y_true, y_pred):
    y_pred = _as_pred(y_pred)
    y_true = _as_true(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError("`y_true` and `y_pred` must have the same shape. "
                         f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}.")
    return y_true, y_pred


def _match_weights(values: Tensor, sample_weight) -> tuple:
    weights = np.asarray(sample_weight, dtype=values.dtype)
    values, weights = squeeze_or_expand_to_same_rank(values, weights)
    if weights.shape != values.shape and weights.size != 1:
        if weights.ndim < values.ndim and weights.shape == values.shape[:weights.ndim]:
            weights = weights.reshape(weights.shape + (1,) * (values.ndim - weights.ndim))
        else:
            raise ValueError(f"`sample_weight` of shape {weights.shape} does not match the per-sample losses "
                             f"of shape {values.shape}.")
    return values, weights


def reduce_weighted_values(values: Tensor, sample_weight=None, reduction="sum_over_batch_size",
                           mask: np.ndarray | None = None) -> Tensor:
    """Weight and reduce per-sample losses as Keras's ``reduce_weighted_values``."""
    if mask is not None:
        mask = mask.astype(values.dtype)
        if reduction in ("sum_over_batch_size", "mean"):
            valid = mask.sum()  # masked entries leave the divisor, as Keras's apply_mask does
            mask = mask * (mask.size / valid if valid else 0.0)
        sample_weight = mask if sample_weight is None else np.asarray(sample_weight, values.dtype) * mask
    weights = None
    if sample_weight is not None:
        values, weights = _match_weights(values, sample_weight)
        values = values * weights
    if reduction in (None, "none") or values.ndim == 0 or values.shape == (0,):
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weights is not None:
        divisor = float(weights.sum())
        return total * (1.0 / divisor if divisor else 0.0)
    return total * (1.0 / values.size)


# ---------------------------------------------------------- fused kernels
def _sigmoid_xent_with_logits(labels: np.ndarray, logits: Tensor) -> Tensor:
    """Element-wise ``-t log(sigmoid(x)) - (1-t) log(1 - sigmoid(x))``, stable for any x."""
    x = logits.data
    e = np.exp(-np.abs(x))
    loss = np.maximum(x, 0) - x * labels + np.log1p(e)

    def backward(g):
        sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return (g * (sig - labels),)

    return make_result(loss, (logits,), backward)


def _log_softmax_parts(x: np.ndarray, axis: int) -> tuple:
    shifted = x - x.max(axis=axis, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted - log_norm


def _softmax_xent_with_logits(labels: np.ndarray, logits: Tensor, axis: int) -> Tensor:
    """``-sum(t * log_softmax(x), axis)`` with gradient ``softmax(x) * sum(t) - t``."""
    log_probs = _log_softmax_parts(logits.data, axis)
    loss = -(labels * log_probs).sum(axis=axis)

    def backward(g):
        probs = np.exp(log_probs)
        g = np.expand_dims(g, axis)
        return (g * (probs * labels.sum(axis=axis, keepdims=True) - labels),)

    return make_result(loss, (logits,), backward)


def _sparse_softmax_xent_with_logits(labels: np.ndarray, logits: Tensor) -> Tensor:
    """``logsumexp(x) - x[label]`` over the last axis, gradient ``softmax(x) - one_hot``."""
    log_probs = _log_softmax_parts(logits.data, -1)
    index = labels[..., None]
    loss = -np.take_along_axis(log_probs, index, axis=-1)[..., 0]

    def backward(g):
        grad = np.exp(log_probs)
        np.put_along_axis(grad, index, np.take_along_axis(grad, index, axis=-1) - 1, axis=-1)
        return (grad * g[..., None],)

    return make_result(loss, (logits,), backward)


def _epsilon() -> float:
    from .backend import epsilon

    return epsilon()


def _clipped_log_probs(y_pred: Tensor, axis: int) -> Tensor:
    probs = y_pred / y_pred.sum(axis=axis, keepdims=True)
    eps = _epsilon()
    return probs.clip(eps, 1.0 - eps).log()


# ------------------------------------------------------- per-sample losses
def mean_squared_error(y_true, y_pred) -> Tensor:
    """``mean((y_true - y_pred)**2, axis=-1)``, one value per sample."""
    y_true, y_pred = _prepare(y_true, y_pred)
    diff = y_pred - y_true
    return (diff * diff).mean(axis=-1)


def mean_absolute_error(y_true, y_pred) -> Tensor:
    """``mean(|y_true - y_pred|, axis=-1)``, one value per sample."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return (y_pred - y_true).abs().mean(axis=-1)


def huber(y_true, y_pred, delta: float = 1.0) -> Tensor:
    """``0.5 * e**2`` where ``|e| <= delta``, else ``delta * |e| - 0.5 * delta**2``; mean over the last axis."""
    y_true, y_pred = _prepare(y_true, y_pred)
    error = y_pred - y_true
    abs_error = error.abs()
    quadratic = error * error * 0.5
    linear = abs_error * float(delta) - 0.5 * float(delta) ** 2
    return where(abs_error.data <= delta, quadratic, linear).mean(axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> Tensor:
    """Binary cross-entropy, mean over ``axis``.

    Label smoothing squeezes the targets towards 0.5: ``t * (1 - s) + 0.5 * s``.
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = _sigmoid_xent_with_logits(y_true, y_pred)
    else:
        eps = _epsilon()
        probs = y_pred.clip(eps, 1.0 - eps)
        values = -(probs.log() * y_true + (1.0 - probs).log() * (1.0 - y_true))
    return values.mean(axis=axis)


def _check_axis(axis) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis!r} of type {type(axis)}")
    return int(axis)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> Tensor:
    """Cross-entropy against one-hot (or soft) targets, summed over ``axis``.

    Label smoothing spreads mass uniformly: ``t * (1 - s) + s / num_classes``.
    """
    axis = _check_axis(axis)
    y_pred = _as_pred(y_pred)
    y_true = _as_true(y_true, y_pred.dtype)
    if y_true.shape != y_pred.shape:
        raise ValueError("Arguments `target` and `output` must have the same shape. "
                         f"Received: target.shape={y_true.shape}, output.shape={y_pred.shape}")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        return _softmax_xent_with_logits(y_true, y_pred, axis)
    return -(_clipped_log_probs(y_pred, axis) * y_true).sum(axis=axis)


def _sparse_values(y_true, y_pred, from_logits, ignore_class, axis) -> tuple:
    y_pred = _as_pred(y_pred)
    if _check_axis(axis) not in (-1, y_pred.ndim - 1):
        raise ValueError(f"Sparse categorical cross-entropy needs the classes on the last axis. "
                         f"Received: axis={axis} for y_pred.shape={y_pred.shape}")
    labels = np.asarray(y_true.data if isinstance(y_true, Tensor) else y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != y_pred.shape[:-1]:
        hint = ("; y looks one-hot (it has the output's shape): use categorical_crossentropy for one-hot "
                "labels, or pass integer class indices" if np.shape(y_true) == y_pred.shape else "")
        raise ValueError("Arguments `target` and `output` must have the same shape up until the last "
                         f"dimension: target.shape={labels.shape}, output.shape={y_pred.shape}{hint}")
    if labels.dtype.kind == "f" and np.any(labels != np.round(labels)):
        raise ValueError("Sparse labels must be integer class indices. Received non-integer values in `y_true`.")
    labels = labels.astype(np.int64)
    valid = None if ignore_class is None else labels != ignore_class
    checked = labels if valid is None else labels[valid]
    num_classes = y_pred.shape[-1]
    if checked.size and (checked.min() < 0 or checked.max() >= num_classes):
        bad = checked[(checked < 0) | (checked >= num_classes)][0]
        raise ValueError(f"Received a label value of {bad} which is outside the valid range of "
                         f"[0, {num_classes - 1}] for y_pred with {num_classes} classes.")
    if valid is not None:
        labels = np.where(valid, labels, 0)
    if from_logits:
        values = _sparse_softmax_xent_with_logits(labels, y_pred)
    else:
        one_hot = (labels[..., None] == np.arange(num_classes)).astype(y_pred.dtype)
        values = -(_clipped_log_probs(y_pred, -1) * one_hot).sum(axis=-1)
    if valid is not None:
        values = values * valid.astype(values.dtype)
    return values, valid


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, ignore_class=None,
                                    axis: int = -1) -> Tensor:
    """Cross-entropy against integer labels; entries labelled ``ignore_class`` give 0."""
    return _sparse_values(y_true, y_pred, from_logits, ignore_class, axis)[0]


# ------------------------------------------------------------ loss classes
def _check_label_smoothing(value) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"`label_smoothing` must be a number in [0, 1]. Received: label_smoothing={value!r}.")


class Loss:
    """Base class: ``call(y_true, y_pred)`` gives per-sample losses, ``__call__`` weights and reduces them."""

    def __init__(self, name: str | None = None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"Invalid value for argument `reduction`. Expected one of {list(_REDUCTIONS)}. "
                             f"Received: reduction={reduction!r}")
        self.name = name or type(self).__name__.lower()
        self.reduction = reduction
        self.dtype = None if dtype is None else np.dtype(dtype)

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        y_pred = _as_pred(y_pred)
        if self.dtype is not None and y_pred.dtype != self.dtype:
            y_pred = y_pred.astype(self.dtype)
        values, mask = self._values(y_true, y_pred)
        return reduce_weighted_values(values, sample_weight, self.reduction, mask)

    def _values(self, y_true, y_pred) -> tuple:
        return self.call(y_true, y_pred), None

    def call(self, y_true, y_pred) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class LossFunctionWrapper(Loss):
    """A :class:`Loss` around a function ``fn(y_true, y_pred, **kwargs) -> per-sample Tensor``."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", None), reduction, dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred) -> Tensor:
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


class MeanSquaredError(LossFunctionWrapper):
    """``mean(square(y_true - y_pred))``."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction, name, dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """``mean(abs(y_true - y_pred))``."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction, name, dtype)


class Huber(LossFunctionWrapper):
    """Quadratic for errors up to ``delta``, linear beyond."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not delta > 0:
            raise ValueError(f"`delta` must be a number > 0. Received: delta={delta!r}.")
        super().__init__(huber, reduction, name, dtype, delta=delta)


class _Crossentropy(LossFunctionWrapper):
    """The arguments binary and categorical cross-entropy share (Keras names and defaults)."""

    def __init__(self, fn, from_logits, label_smoothing, axis, reduction, name, dtype):
        _check_label_smoothing(label_smoothing)
        super().__init__(fn, reduction, name, dtype, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class BinaryCrossentropy(_Crossentropy):
    """Binary cross-entropy for 0/1 targets; ``from_logits=True`` for unsquashed outputs."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, from_logits, label_smoothing, axis, reduction, name, dtype)


class CategoricalCrossentropy(_Crossentropy):
    """Cross-entropy for one-hot targets; ``from_logits=True`` applies a stable log-softmax."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, from_logits, label_smoothing, axis, reduction, name, dtype)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer labels; ``ignore_class`` entries leave the loss and its divisor."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         ignore_class=ignore_class)
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def _values(self, y_true, y_pred) -> tuple:
        return _sparse_values(y_true, y_pred, self.from_logits, self.ignore_class, -1)


# ------------------------------------------------------------ registry
_CLASSES = {cls.__name__: cls for cls in (MeanSquaredError, MeanAbsoluteError, Huber, BinaryCrossentropy,
                                          CategoricalCrossentropy, SparseCategoricalCrossentropy)}
_ALIASES = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber, "huber_loss": Huber,
    "binary_crossentropy": BinaryCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


def deserialize(config: dict, custom_objects: dict | None = None) -> Loss:
    """Rebuild a loss from :func:`serialize` output (``{"class_name": ..., "config": ...}``)."""
    # the ks.detection loss is imported on first use
    return _keras_object.deserialize(config, _CLASSES, custom_objects, "loss",
                                     {"LocalizationLoss": lambda: __getattr__("LocalizationLoss")})


def get(identifier):
    """A :class:`Loss` from a string (``"mse"``, ``"sparse_categorical_crossentropy"``, ...), a config
    dict, a Loss instance or a function ``fn(y_true, y_pred)`` (wrapped). ``None`` gives ``None``."""
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret loss identifier: {identifier!r}. "
                             f"Expected one of {sorted(_ALIASES)} or a class name {sorted(_CLASSES)}.")
        return cls() if identifier in _CLASSES else cls(name=identifier)
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}. "
                     "Expected a string, a config dict, a Loss instance or a callable.")


def __getattr__(name: str):  # LocalizationLoss lives with ks.detection, imported on first use
    if name == "LocalizationLoss":
        from .detection.localization import LocalizationLoss
        return LocalizationLoss
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
