"""Bounding boxes: formats, conversions, pairwise IoU and non-max suppression (NumPy, vectorised).

Boxes are arrays of shape ``(..., 4)`` in continuous pixel coordinates (x to the
right, y down), as in Keras's ``keras.utils.bounding_boxes``; a box's area is
``(x2 - x1) * (y2 - y1)`` (no "+1"). Formats (case-insensitive):

- ``"xyxy"``: ``[left, top, right, bottom]`` (the one everything else converts to)
- ``"yxyx"``: ``[top, left, bottom, right]``
- ``"xywh"``: ``[left, top, width, height]`` (COCO's)
- ``"center_xywh"``: ``[center_x, center_y, width, height]``
- ``"center_yxhw"``: ``[center_y, center_x, height, width]``
- ``"center_xyhw"``: ``[b_x, b_y, b_h, b_w]``, the order of the slides' target vector
- each with a ``"rel_"`` prefix: coordinates divided by the image's width and height.

>>> import numpy as np
>>> a = np.array([[0, 0, 2, 2]]); b = np.array([[1, 1, 3, 3], [0, 0, 2, 2]])
>>> iou(a, b).round(4)
array([[0.1429, 1.    ]])
>>> convert_format([[10, 20, 30, 40]], "xyxy", "center_xyhw")
array([[20., 30., 20., 20.]])
"""

from __future__ import annotations

import numbers

import numpy as np

from .._checks import optional_int

__all__ = ["BOX_FORMATS", "convert_format", "box_area", "iou", "non_max_suppression"]

_BASE_FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "center_xyhw")
BOX_FORMATS = _BASE_FORMATS + tuple(f"rel_{f}" for f in _BASE_FORMATS)


def _check_format(box_format, name: str) -> tuple:
    """(base format, is relative) of a format string."""
    key = box_format.lower() if isinstance(box_format, str) else box_format
    if key not in BOX_FORMATS:
        raise ValueError(f"`{name}` must be one of {list(BOX_FORMATS)}. Received: {name}={box_format!r}.")
    return (key[4:], True) if key.startswith("rel_") else (key, False)


def _as_boxes(boxes, name: str) -> np.ndarray:
    array = np.asarray(boxes, dtype=np.float64)
    if array.ndim == 1 and array.size == 0:
        array = array.reshape(0, 4)
    if array.ndim < 1 or array.shape[-1] != 4:
        raise ValueError(f"`{name}` must have shape (..., 4). Received: {name}.shape={array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError(f"`{name}` must hold finite numbers. Received a NaN or an infinity in {name}.")
    return array


def _to_xyxy(boxes: np.ndarray, base: str) -> np.ndarray:
    a, b, c, d = np.moveaxis(boxes, -1, 0)
    if base == "xyxy":
        return boxes
    if base == "yxyx":
        return np.stack([b, a, d, c], axis=-1)
    if base == "xywh":
        return np.stack([a, b, a + c, b + d], axis=-1)
    if base == "center_xywh":
        return np.stack([a - c / 2, b - d / 2, a + c / 2, b + d / 2], axis=-1)
    if base == "center_yxhw":
        return np.stack([b - d / 2, a - c / 2, b + d / 2, a + c / 2], axis=-1)
    return np.stack([a - d / 2, b - c / 2, a + d / 2, b + c / 2], axis=-1)  # center_xyhw: b_x, b_y, b_h, b_w


def _from_xyxy(boxes: np.ndarray, base: str) -> np.ndarray:
    x1, y1, x2, y2 = np.moveaxis(boxes, -1, 0)
    w, h, cx, cy = x2 - x1, y2 - y1, (x1 + x2) / 2, (y1 + y2) / 2
    return np.stack({"xyxy": (x1, y1, x2, y2), "yxyx": (y1, x1, y2, x2), "xywh": (x1, y1, w, h),
                     "center_xywh": (cx, cy, w, h), "center_yxhw": (cy, cx, h, w),
                     "center_xyhw": (cx, cy, h, w)}[base], axis=-1)


_AXES = {"xyxy": "xyxy", "yxyx": "yxyx", "xywh": "xyxy", "center_xywh": "xyxy", "center_yxhw": "yxyx",
         "center_xyhw": "xyyx"}  # which image side each column is measured along


def _image_scale(height, width, fmt: str, name: str) -> np.ndarray:
    for arg, value in (("height", height), ("width", width)):
        if value is None:
            raise ValueError(f"`{arg}` is required for the relative format {name}={fmt!r}. Received: {arg}=None.")
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value > 0:
            raise ValueError(f"`{arg}` must be a positive number. Received: {arg}={value!r}.")
    return np.array([width if axis == "x" else height for axis in _AXES[fmt.lower()[4:]]], dtype=np.float64)


def _check_extents(xyxy: np.ndarray, name: str) -> None:
    bad = (xyxy[..., 2] < xyxy[..., 0]) | (xyxy[..., 3] < xyxy[..., 1])
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"`{name}` has a box with x2 < x1 or y2 < y1 (a negative width or height): "
                         f"{name}[{', '.join(map(str, where))}] = {xyxy[where].tolist()} in xyxy. "
                         "Expected x1 <= x2 and y1 <= y2.")


def convert_format(boxes, source: str, target: str, height=None, width=None) -> np.ndarray:
    """Convert boxes between formats (see the module docstring); returns float64 ``(..., 4)``.

    ``height`` and ``width`` (the image's, in pixels) are needed when ``source`` or
    ``target`` is relative (``"rel_..."``). Boxes with a negative width or height are
    refused.

    >>> convert_format([[0.5, 0.5, 0.2, 0.4]], "rel_center_xywh", "xyxy", height=100, width=200)
    array([[ 80.,  30., 120.,  70.]])
    """
    array = _as_boxes(boxes, "boxes")
    (src, src_rel), (dst, dst_rel) = _check_format(source, "source"), _check_format(target, "target")
    if src_rel:
        array = array * _image_scale(height, width, source, "source")
    xyxy = _to_xyxy(array, src)
    _check_extents(xyxy, "boxes")
    out = _from_xyxy(xyxy, dst)
    if dst_rel:
        out = out / _image_scale(height, width, target, "target")
    return out


def _xyxy(boxes, name: str, box_format: str) -> np.ndarray:
    base, _ = _check_format(box_format, "box_format")  # IoU is scale-free: relative boxes compare as they are
    xyxy = _to_xyxy(_as_boxes(boxes, name), base)
    _check_extents(xyxy, name)
    return xyxy


def box_area(boxes, box_format: str = "xyxy") -> np.ndarray:
    """Area of each box, shape ``boxes.shape[:-1]``."""
    xyxy = _xyxy(boxes, "boxes", box_format)
    return (xyxy[..., 2] - xyxy[..., 0]) * (xyxy[..., 3] - xyxy[..., 1])


def _broadcast_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of xyxy arrays broadcast against each other (..., 4); 0 where both boxes are empty."""
    width = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    height = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    inter = np.clip(width, 0, None) * np.clip(height, 0, None)
    union = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]) + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = union - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _pairwise_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of xyxy arrays (n, 4) x (m, 4)."""
    return _broadcast_iou(a[:, None, :], b[None, :, :])


def iou(boxes_a, boxes_b, box_format: str = "xyxy") -> np.ndarray:
    """Pairwise intersection over union: a ``(len(boxes_a), len(boxes_b))`` float64 matrix.

    ``IoU = area(a & b) / area(a | b)``: 1 for identical boxes, 0 for disjoint or
    merely touching ones. Two empty boxes have IoU 0. Relative formats compare as
    they are (IoU does not change when both boxes are scaled alike).

    >>> iou([[0, 0, 4, 4]], [[1, 1, 3, 3], [4, 0, 6, 4]])  # nested, touching
    array([[0.25, 0.  ]])
    """
    a, b = _xyxy(boxes_a, "boxes_a", box_format), _xyxy(boxes_b, "boxes_b", box_format)
    for name, array in (("boxes_a", a), ("boxes_b", b)):
        if array.ndim != 2:
            raise ValueError(f"`{name}` must be 2-D (num_boxes, 4). Received: {name}.shape={array.shape}.")
    return _pairwise_iou(a, b)


def _check_unit_interval(value, name: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"`{name}` must be a number in [0, 1]. Received: {name}={value!r}.")
    return float(value)


def non_max_suppression(boxes, scores, iou_threshold: float = 0.5, score_threshold: float = float("-inf"),
                        max_outputs: int | None = None, classes=None, box_format: str = "xyxy") -> np.ndarray:
    """Greedy non-max suppression: indices of the kept boxes, best score first.

    Boxes scoring ``<= score_threshold`` are dropped; then, from the best score down,
    a box is kept unless its IoU with an already kept box is ``> iou_threshold``
    (``tf.image.non_max_suppression``'s rule). With ``classes`` (one label per box),
    boxes of different classes never suppress each other. ``max_outputs`` caps how
    many indices are returned (None: all). Each kept box costs one vectorised IoU
    against the remaining candidates, so there is no loop over box pairs.

    >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]
    >>> non_max_suppression(boxes, [0.9, 0.8, 0.7], iou_threshold=0.5)
    array([0, 2])
    """
    xyxy = _xyxy(boxes, "boxes", box_format)
    if xyxy.ndim != 2:
        raise ValueError(f"`boxes` must be 2-D (num_boxes, 4). Received: boxes.shape={xyxy.shape}.")
    scores = np.asarray(scores, dtype=np.float64).reshape(-1) if np.ndim(scores) else np.asarray(scores)
    if scores.shape != (len(xyxy),):
        raise ValueError(f"`scores` must hold one score per box, shape ({len(xyxy)},). "
                         f"Received: scores.shape={np.shape(scores)}.")
    iou_threshold = _check_unit_interval(iou_threshold, "iou_threshold")
    max_outputs = optional_int(max_outputs, "max_outputs", 0)
    labels = None
    if classes is not None:
        labels = np.asarray(classes).reshape(-1)
        if labels.shape != (len(xyxy),):
            raise ValueError(f"`classes` must hold one label per box, shape ({len(xyxy)},). "
                             f"Received: classes.shape={np.shape(classes)}.")
    candidates = np.flatnonzero(scores > score_threshold)
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    kept = []
    while order.size and (max_outputs is None or len(kept) < max_outputs):
        best, order = order[0], order[1:]
        kept.append(best)
        overlap = _pairwise_iou(xyxy[best][None], xyxy[order])[0] > iou_threshold
        if labels is not None:
            overlap &= labels[order] == labels[best]
        order = order[~overlap]
    return np.asarray(kept, dtype=np.int64)
