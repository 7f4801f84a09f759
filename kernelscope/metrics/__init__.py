"""Stateful metrics with Keras 3's names, defaults and formulas, on NumPy arrays.

``m.update_state(y_true, y_pred, sample_weight=None)`` accumulates over batches,
``m.result()`` returns a float and ``m.reset_state()`` starts again. Mean-type
metrics (accuracies, errors) average per-sample values, weighting each sample by
``sample_weight``; Precision, Recall and AUC accumulate weighted confusion counts
at thresholds (a prediction is positive when ``y_pred > threshold``), and AUC
integrates them as Keras does (200 thresholds, mid-point "interpolation").

>>> m = SparseCategoricalAccuracy()
>>> m.update_state([2, 1], [[0.1, 0.6, 0.3], [0.05, 0.95, 0.0]])
>>> m.result()
0.5
"""

from __future__ import annotations

from .. import _keras_object
from .._keras_object import serialize
from .base import (Accuracy, BinaryAccuracy, CategoricalAccuracy, Mean, MeanAbsoluteError, MeanMetricWrapper,
                   MeanSquaredError, Metric, SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
                   TopKCategoricalAccuracy, _loss_metric, accuracy, binary_accuracy, categorical_accuracy,
                   reduce_to_samplewise_values, sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
                   top_k_categorical_accuracy)
from .confusion import AUC, Precision, Recall
from .regression import (CosineSimilarity, LogCoshError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
                         RootMeanSquaredError, cosine_similarity, log_cosh, mean_absolute_percentage_error,
                         mean_squared_logarithmic_error)

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
           "MeanAbsoluteError", "MeanSquaredError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
           "RootMeanSquaredError", "CosineSimilarity", "LogCoshError", "cosine_similarity", "log_cosh",
           "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "Precision", "Recall", "AUC", "get", "serialize",
           "deserialize", "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
           "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "reduce_to_samplewise_values"]


# ---------------------------------------------------------------- registry
_CLASSES = {cls.__name__: cls for cls in (
    Mean, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, RootMeanSquaredError, CosineSimilarity, LogCoshError, Precision, Recall, AUC)}
_NAMES = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy, "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "root_mean_squared_error": RootMeanSquaredError, "cosine_similarity": CosineSimilarity,
    "logcosh": LogCoshError,
    "precision": Precision, "recall": Recall, "auc": AUC,
}
_LOSS_NAMES = ("binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy", "huber")


def _loss_key(loss) -> str:
    if loss is None:
        return ""
    if isinstance(loss, str):
        return loss
    from .. import losses
    for cls, key in ((losses.SparseCategoricalCrossentropy, "sparse_categorical_crossentropy"),
                     (losses.BinaryCrossentropy, "binary_crossentropy")):
        if isinstance(loss, cls):
            return key
    return getattr(getattr(loss, "fn", loss), "__name__", type(loss).__name__)


def _resolve_accuracy(name: str, loss, output_shape, y_true_shape) -> Metric:
    if output_shape is not None and y_true_shape is not None:  # Keras 3's rule, from the data's shapes
        binary = output_shape[-1] == 1
        sparse = len(y_true_shape) < len(output_shape) or (y_true_shape[-1] == 1 and output_shape[-1] > 1)
    else:
        key = _loss_key(loss)
        binary = (output_shape is not None and output_shape[-1] == 1) or key in ("binary_crossentropy", "bce")
        sparse = "sparse_categorical" in key
    if binary:
        return BinaryAccuracy(name=name)
    return SparseCategoricalAccuracy(name=name) if sparse else CategoricalAccuracy(name=name)


def deserialize(config: dict, custom_objects: dict | None = None) -> Metric:
    """Rebuild a metric from :func:`serialize` output (``{"class_name": ..., "config": ...}``)."""
    # the ks.detection metric is imported on first use
    return _keras_object.deserialize(config, _CLASSES, custom_objects, "metric",
                                     {"MeanBoxIoU": lambda: __getattr__("MeanBoxIoU")})


def get(identifier, loss=None, output_shape=None, y_true_shape=None) -> Metric:
    """A metric from a name, a config dict, an instance or a function ``fn(y_true, y_pred)``.

    ``"accuracy"``/``"acc"`` resolve as Keras does: to BinaryAccuracy for one
    output unit or a binary cross-entropy loss, SparseCategoricalAccuracy for
    integer labels (a sparse loss, or ``y_true_shape`` of lower rank than
    ``output_shape``), CategoricalAccuracy otherwise. A string identifier becomes
    the metric's name.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return _resolve_accuracy(identifier, loss, output_shape, y_true_shape)
        if identifier in _NAMES:
            return _NAMES[identifier](name=identifier)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        if identifier in _LOSS_NAMES:
            metric = MeanMetricWrapper(_loss_metric(identifier), name=identifier)
            metric._direction = "down"
            return metric
        raise ValueError(f"Could not interpret metric identifier: {identifier!r}. Expected one of "
                         f"{sorted(['accuracy', 'acc', *_NAMES, *_LOSS_NAMES])} or a class name {sorted(_CLASSES)}.")
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}. "
                     "Expected a string, a config dict, a Metric instance or a callable.")


def __getattr__(name: str):  # MeanBoxIoU (boxes, not Keras's segmentation MeanIoU) lives with ks.detection
    if name == "MeanBoxIoU":
        from ..detection.localization import MeanBoxIoU
        return MeanBoxIoU
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
