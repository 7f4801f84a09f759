"""Confusion-count metrics: Precision, Recall and AUC at thresholds, as Keras computes them."""

from __future__ import annotations

import numpy as np

from .base import EPSILON, Metric, _array, _divide_no_nan, _squeeze_or_expand

__all__ = ["Precision", "Recall", "AUC"]


def _confusion_inputs(y_true, y_pred, sample_weight, class_id=None, top_k=None) -> tuple:
    """Flattened boolean labels, float64 scores and weights, as Keras's update_confusion_matrix_variables."""
    y_true, y_pred = _squeeze_or_expand(_array(y_true), _array(y_pred, np.float64))
    if y_true.shape != y_pred.shape:
        raise ValueError("`y_true` and `y_pred` must have the same shape. "
                         f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}.")
    weights = np.ones(y_pred.shape) if sample_weight is None else _array(sample_weight, np.float64)
    if weights.shape != y_pred.shape:
        _, weights = _squeeze_or_expand(y_pred, weights)
        weights = weights.reshape(weights.shape + (1,) * (y_pred.ndim - weights.ndim))
        weights = np.broadcast_to(weights, y_pred.shape)
    if top_k is not None:  # only the k highest scores of each sample may count as positive
        kth = -np.sort(-y_pred, axis=-1)[..., top_k - 1:top_k]
        y_pred = np.where(y_pred >= kth, y_pred, -1e10)
    if class_id is not None:
        y_true, y_pred, weights = y_true[..., class_id], y_pred[..., class_id], weights[..., class_id]
    return y_true.reshape(-1) != 0, y_pred.reshape(-1), weights.reshape(-1)


def _counts_above(thresholds: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum(weights * (scores > t))`` for every sorted threshold ``t``, in O(N + T)."""
    above = np.searchsorted(thresholds, scores, side="left")  # number of thresholds below each score
    buckets = np.bincount(above, weights=weights, minlength=len(thresholds) + 1)
    return np.cumsum(buckets[::-1])[::-1][1:]


class _ConfusionMetric(Metric):
    """Weighted TP/FP/FN counts at one or several thresholds."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype)
        single = thresholds is None or np.ndim(thresholds) == 0
        default = 0.5 if top_k is None else -1e10  # with top_k every top-k score counts, as Keras
        values = [default if thresholds is None else thresholds] if single else list(thresholds)
        bad = [t for t in values if t is None or (t != default and not 0 <= t <= 1)]
        if bad:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {bad}")
        self.init_thresholds = thresholds
        self.thresholds = np.sort(np.asarray(values, dtype=np.float64))
        self._single = single
        self.top_k = top_k
        self.class_id = class_id
        self.reset_state()

    def reset_state(self) -> None:
        n = len(self.thresholds)
        self.true_positives, self.false_positives, self.false_negatives = np.zeros(n), np.zeros(n), np.zeros(n)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        labels, scores, weights = _confusion_inputs(y_true, y_pred, sample_weight, self.class_id, self.top_k)
        tp = _counts_above(self.thresholds, scores[labels], weights[labels])
        fp = _counts_above(self.thresholds, scores[~labels], weights[~labels])
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += weights[labels].sum() - tp

    def _finish(self, values: np.ndarray):
        return float(values[0]) if self._single else [float(v) for v in values]

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_ConfusionMetric):
    """``TP / (TP + FP)``: the fraction of predicted positives (``y_pred > thresholds``) that are right."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        return self._finish(_divide_no_nan(self.true_positives, self.true_positives + self.false_positives))


class Recall(_ConfusionMetric):
    """``TP / (TP + FN)``: the fraction of actual positives that are predicted positive."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        return self._finish(_divide_no_nan(self.true_positives, self.true_positives + self.false_negatives))


class AUC(Metric):
    """Area under the ROC or precision-recall curve, from confusion counts at thresholds.

    The default grid is Keras's: ``num_thresholds - 2`` evenly spaced interior
    thresholds plus ``-1e-7`` and ``1 + 1e-7``. ``summation_method="interpolation"``
    uses trapezoids for ROC and Davis & Goadrich's interpolation for PR, as Keras.
    """

    _curves = ("ROC", "PR")
    _summations = ("interpolation", "minoring", "majoring")

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        if str(curve).upper() not in self._curves:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]')
        if str(summation_method).lower() not in self._summations:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             'Expected values are ["interpolation", "majoring", "minoring"]')
        if thresholds is None and (isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int)
                                   or num_thresholds <= 1):
            raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: "
                             f"num_thresholds={num_thresholds}")
        super().__init__(name or "auc", dtype)
        if thresholds is not None:
            interior = sorted(float(t) for t in thresholds)
        else:
            interior = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds = len(interior) + 2
        self._init_thresholds = thresholds
        self.thresholds = np.array([0.0 - EPSILON] + interior + [1.0 + EPSILON])
        self.curve = str(curve).upper()
        self.summation_method = str(summation_method).lower()
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, dtype=np.float64)
        self.from_logits = from_logits
        self.reset_state()

    def reset_state(self) -> None:
        self.true_positives = self.false_positives = self.true_negatives = self.false_negatives = None

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = _array(y_pred, np.float64)
        if self.from_logits:
            y_pred = 0.5 * (1.0 + np.tanh(0.5 * y_pred))  # sigmoid without overflow
        y_pred = np.clip(y_pred, 0.0, 1.0)
        y_true = _array(y_true)
        if self.multi_label:
            if y_pred.ndim != 2:
                raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. "
                                 f"Found rank {y_pred.ndim}. Full shape received for `y_pred`: {y_pred.shape}")
            columns = [(y_true[:, j], y_pred[:, j], None if sample_weight is None else sample_weight)
                       for j in range(y_pred.shape[1])]  # one curve per label
        else:
            if self.label_weights is not None:
                base = 1.0 if sample_weight is None else _array(sample_weight, np.float64)
                base = np.reshape(base, np.shape(base) + (1,) * (y_pred.ndim - np.ndim(base)))
                sample_weight = base * self.label_weights
            columns = [(y_true, y_pred, sample_weight)]
        counts = [self._column_counts(*column) for column in columns]
        stacked = [np.stack(c, axis=-1) for c in zip(*counts)]  # each (T, labels)
        if self.true_positives is None:
            self.true_positives, self.false_positives, self.true_negatives, self.false_negatives = stacked
        else:
            for total, new in zip((self.true_positives, self.false_positives, self.true_negatives,
                                   self.false_negatives), stacked):
                total += new

    def _column_counts(self, y_true, y_pred, sample_weight) -> tuple:
        labels, scores, weights = _confusion_inputs(y_true, y_pred, sample_weight)
        tp = _counts_above(self.thresholds, scores[labels], weights[labels])
        fp = _counts_above(self.thresholds, scores[~labels], weights[~labels])
        return tp, fp, weights[~labels].sum() - fp, weights[labels].sum() - tp

    def _interpolate_pr_auc(self) -> np.ndarray:
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return _divide_no_nan(slope * (dtp + intercept * np.log(np.where(ratio > 0, ratio, 1.0))),
                              np.maximum(tp[1:] + fn[1:], 0))

    def _areas(self) -> np.ndarray:
        """Per-threshold-interval area contributions, shape (T - 1, labels)."""
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return (x[:-1] - x[1:]) * heights

    def result(self) -> float:
        if self.true_positives is None:
            return 0.0
        by_label = self._areas().sum(axis=0)
        if not self.multi_label:
            return float(by_label[0])
        if self.label_weights is None:
            return float(by_label.mean())
        return float(_divide_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights)))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "thresholds": self._init_thresholds,
                "multi_label": self.multi_label, "num_labels": self.num_labels,
                "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
                "from_logits": self.from_logits}
