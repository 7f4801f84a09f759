"""Detection metrics: precision and recall at an IoU threshold, average precision (VOC and COCO).

Both arguments are lists with one entry per image, in Keras's bounding-box dict
layout: ``y_true[i] = {"boxes": (n, 4), "labels": (n,)}`` and
``y_pred[i] = {"boxes": (m, 4), "scores": (m,), "labels": (m,)}`` (``labels``
may be left out when there is one class). A detection is a true positive when,
taking the image's detections of its class from the best score down, it overlaps
a not yet matched ground-truth box of that class with IoU ``>= iou_threshold``
(the best such box is taken); otherwise it is a false positive. This is
``pycocotools``' rule, and the COCO numbers here equal its own.

- :func:`precision_recall`: the two numbers at a score threshold, classes pooled.
- :func:`average_precision`: the mean over classes (with ground truth) of the area
  under each class's precision-recall curve, interpolated as ``method`` says:
  ``"all_points"`` (VOC 2010 on), ``"voc11"`` (VOC 2007's 11 recall points) or
  ``"coco101"`` (COCO's 101 recall points).
- :func:`coco_average_precision`: COCO's AP@[.5:.95], the ``coco101`` AP averaged
  over the IoU thresholds 0.50, 0.55, ..., 0.95.

>>> truth = [{"boxes": [[0, 0, 10, 10]]}]
>>> found = [{"boxes": [[1, 0, 10, 10], [20, 20, 30, 30]], "scores": [0.9, 0.8]}]
>>> precision_recall(truth, found, iou_threshold=0.5)
(0.5, 1.0)
>>> average_precision(truth, found, iou_threshold=0.5)
1.0
"""

from __future__ import annotations

import numpy as np

from .._checks import optional_int
from .boxes import _check_unit_interval, _pairwise_iou, _xyxy

__all__ = ["match_detections", "precision_recall", "precision_recall_curve", "average_precision",
           "coco_average_precision", "AP_METHODS", "COCO_IOU_THRESHOLDS"]

AP_METHODS = ("all_points", "voc11", "coco101")
COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)  # pycocotools' own spacing, so thresholds compare equal
_COCO_RECALLS = np.linspace(0.0, 1.0, 101)


def match_detections(true_boxes, pred_boxes, pred_scores, iou_threshold: float = 0.5,
                     box_format: str = "xyxy") -> np.ndarray:
    """True-positive flags of one image's detections (one class), in the order given.

    >>> match_detections([[0, 0, 4, 4]], [[0, 0, 4, 4], [0, 0, 4, 3]], [0.5, 0.9]).tolist()
    [False, True]
    """
    iou_threshold = _check_unit_interval(iou_threshold, "iou_threshold")
    truth, pred = _xyxy(true_boxes, "true_boxes", box_format), _xyxy(pred_boxes, "pred_boxes", box_format)
    truth, pred = truth.reshape(-1, 4), pred.reshape(-1, 4)
    scores = np.asarray(pred_scores, dtype=np.float64).reshape(-1)
    if scores.shape != (len(pred),):
        raise ValueError(f"`pred_scores` must hold one score per box, shape ({len(pred)},). "
                         f"Received: pred_scores.shape={np.shape(pred_scores)}.")
    overlaps = _pairwise_iou(pred, truth)
    threshold = min(iou_threshold, 1 - 1e-10)  # as pycocotools: IoU 1 still matches at threshold 1
    matched = np.zeros(len(truth), dtype=bool)
    positive = np.zeros(len(pred), dtype=bool)
    for d in np.argsort(-scores, kind="mergesort"):  # one step per detection, vectorised over the truth
        candidates = np.where(matched, -1.0, overlaps[d])
        if candidates.size and candidates.max() >= threshold:
            matched[candidates.argmax()] = positive[d] = True
    return positive


def _field(entry, key: str, name: str, index: int, n: int | None = None, required: bool = True):
    if not isinstance(entry, dict):
        raise TypeError(f"`{name}` must be a list of dicts, one per image. Received: {name}[{index}] of type "
                        f"{type(entry).__name__}.")
    if key not in entry:
        if required:
            keys = "'boxes', 'scores', 'labels'" if name == "y_pred" else "'boxes', 'labels'"
            raise ValueError(f"`{name}[{index}]` has no {key!r}. Expected keys {keys}. Received: {sorted(entry)}.")
        return np.zeros(n, dtype=np.int64)
    value = np.asarray(entry[key])
    if n is not None and value.reshape(-1).shape != (n,):
        raise ValueError(f"`{name}[{index}]['{key}']` must hold one value per box ({n}). "
                         f"Received: shape={value.shape}.")
    return value.reshape(-1) if n is not None else value


def _records(y_true, y_pred, iou_threshold, max_detections, box_format) -> dict:
    """{class: (scores, true-positive flags, number of true boxes)} pooled over the images."""
    if len(y_true) != len(y_pred):
        raise ValueError("`y_true` and `y_pred` must have one entry per image. "
                         f"Received: len(y_true)={len(y_true)}, len(y_pred)={len(y_pred)}.")
    records: dict = {}
    for i, (truth, pred) in enumerate(zip(y_true, y_pred)):
        t_boxes = np.asarray(_field(truth, "boxes", "y_true", i), dtype=np.float64).reshape(-1, 4)
        p_boxes = np.asarray(_field(pred, "boxes", "y_pred", i), dtype=np.float64).reshape(-1, 4)
        t_labels = _field(truth, "labels", "y_true", i, len(t_boxes), required=False)
        p_labels = _field(pred, "labels", "y_pred", i, len(p_boxes), required=False)
        p_scores = _field(pred, "scores", "y_pred", i, len(p_boxes)).astype(np.float64)
        for c in np.union1d(t_labels, p_labels):
            scores, boxes = p_scores[p_labels == c], p_boxes[p_labels == c]
            top = np.argsort(-scores, kind="mergesort")[:max_detections]
            flags = match_detections(t_boxes[t_labels == c], boxes[top], scores[top], iou_threshold, box_format)
            old = records.get(c, (np.zeros(0), np.zeros(0, bool), 0))
            records[c] = (np.concatenate([old[0], scores[top]]), np.concatenate([old[1], flags]),
                          old[2] + int(np.sum(t_labels == c)))
    return records


def _curve(scores, flags, n_true) -> tuple:
    order = np.argsort(-scores, kind="mergesort")
    tp = np.cumsum(flags[order])
    fp = np.cumsum(~flags[order])
    return tp / max(n_true, 1), tp / np.maximum(tp + fp, 1), scores[order]


def precision_recall_curve(y_true, y_pred, iou_threshold: float = 0.5, box_format: str = "xyxy") -> tuple:
    """``(precision, recall, thresholds)`` after each detection, best score first, classes pooled."""
    records = _records(y_true, y_pred, iou_threshold, None, box_format)
    scores = np.concatenate([r[0] for r in records.values()] or [np.zeros(0)])
    flags = np.concatenate([r[1] for r in records.values()] or [np.zeros(0, bool)])
    recall, precision, thresholds = _curve(scores, flags, sum(r[2] for r in records.values()))
    return precision, recall, thresholds


def precision_recall(y_true, y_pred, iou_threshold: float = 0.5, score_threshold: float = 0.0,
                     box_format: str = "xyxy") -> tuple:
    """``(precision, recall)`` of the detections scoring ``>= score_threshold``, classes pooled.

    Precision is 1.0 when nothing is detected; recall is 1.0 when there is nothing to find.
    """
    records = _records(y_true, y_pred, iou_threshold, None, box_format)
    n_true = sum(r[2] for r in records.values())
    kept = [r[1][r[0] >= score_threshold] for r in records.values()]
    tp = int(sum(k.sum() for k in kept))
    n_pred = sum(k.size for k in kept)
    return (tp / n_pred if n_pred else 1.0), (tp / n_true if n_true else 1.0)


def _area(recall, precision, method: str) -> float:
    envelope = np.maximum.accumulate(precision[::-1])[::-1]  # best precision at this recall or more
    if method == "coco101":
        index = np.searchsorted(recall, _COCO_RECALLS, side="left")
        return float(np.where(index < len(envelope), envelope[np.minimum(index, len(envelope) - 1)], 0.0).mean()
                     if len(envelope) else 0.0)
    if method == "voc11":
        return float(np.mean([envelope[recall >= t].max() if (recall >= t).any() else 0.0
                              for t in np.linspace(0, 1, 11)]))
    steps = np.diff(np.concatenate([[0.0], recall]))  # all points: a step function under the envelope
    return float(np.sum(steps * envelope))


def _check_method(method) -> str:
    if method not in AP_METHODS:
        raise ValueError(f"`method` must be one of {list(AP_METHODS)}. Received: method={method!r}.")
    return method


def average_precision(y_true, y_pred, iou_threshold: float = 0.5, method: str = "all_points",
                      max_detections: int | None = None, box_format: str = "xyxy") -> float:
    """Mean over the classes that have true boxes of the AP at ``iou_threshold``.

    ``max_detections`` keeps each image's best detections of each class (COCO uses
    100). A class with true boxes and no detection scores 0; with no true box at
    all the result is NaN.
    """
    method, max_detections = _check_method(method), optional_int(max_detections, "max_detections", 1)
    records = _records(y_true, y_pred, iou_threshold, max_detections, box_format)
    aps = [_area(*_curve(s, f, n)[:2], method) for s, f, n in records.values() if n > 0]
    return float(np.mean(aps)) if aps else float("nan")


def coco_average_precision(y_true, y_pred, max_detections: int = 100, box_format: str = "xyxy") -> float:
    """COCO's AP@[.5:.95]: the 101-point AP averaged over the IoU thresholds 0.50 to 0.95."""
    return float(np.mean([average_precision(y_true, y_pred, t, "coco101", max_detections, box_format)
                          for t in COCO_IOU_THRESHOLDS]))
