"""Classification + localization: the slides' target vector, a Keras head, its loss and a box-IoU metric.

One object per image, described by the lecture's target

    y = [p_c, b_x, b_y, b_h, b_w, c_1, ..., c_K]

``p_c`` is 1 when there is an object (a sigmoid), ``b_x, b_y`` its centre and
``b_h, b_w`` its height and width as fractions of the image (the box), and
``c_1..c_K`` the one-hot class (a softmax). When ``p_c = 0`` the rest is "don't
care": :class:`LocalizationLoss` counts the box and class terms only where an
object is present, and :class:`MeanBoxIoU` averages only over those images.

>>> target = LocalizationTarget(num_classes=3, height=100, width=200)
>>> y = target.encode([{"boxes": [[20, 10, 60, 50]], "labels": [2]}, {"boxes": [], "labels": []}])
>>> print(y)
[[1.  0.2 0.3 0.4 0.2 0.  0.  1. ]
 [0.  0.  0.  0.  0.  0.  0.  0. ]]
>>> target.decode(y)[0]["boxes"].round(3).tolist()
[[20.0, 10.0, 60.0, 50.0]]
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import layers as L
from ..geometry import check_int
from ..losses import Loss, binary_crossentropy, categorical_crossentropy
from ..metrics.base import MeanMetricWrapper
from .boxes import _broadcast_iou, _check_unit_interval, convert_format

__all__ = ["LocalizationTarget", "localization_head", "LocalizationLoss", "MeanBoxIoU", "box_iou"]

_BOX = slice(1, 5)  # b_x, b_y, b_h, b_w in the target vector


class LocalizationTarget:
    """Encode ``(class, box)`` annotations as the slides' ``y`` vectors, and decode predictions back.

    Parameters
    ----------
    num_classes : int
        ``K``, the length of the one-hot class part.
    height, width : int
        The image size that absolute boxes refer to (boxes are relative in ``y``).
    box_format : str, default "xyxy"
        The format of the annotation boxes (see :mod:`kernelscope.detection.boxes`).
    """

    def __init__(self, num_classes: int, height: int, width: int, box_format: str = "xyxy"):
        self.num_classes = check_int(num_classes, "num_classes")
        self.height, self.width = check_int(height, "height"), check_int(width, "width")
        self.box_format = box_format

    @property
    def size(self) -> int:
        """Length of ``y``: 5 + num_classes."""
        return 5 + self.num_classes

    def encode(self, annotations) -> np.ndarray:
        """``(n, 5 + K)`` float32 targets from per-image ``{"boxes": (k, 4), "labels": (k,)}`` with k in {0, 1}."""
        y = np.zeros((len(annotations), self.size), np.float32)
        for i, item in enumerate(annotations):
            boxes = np.asarray(item["boxes"], np.float64).reshape(-1, 4)
            labels = np.asarray(item["labels"]).reshape(-1)
            if len(boxes) > 1 or len(labels) != len(boxes):
                raise ValueError(f"`annotations[{i}]` must hold at most one box with one label (localization is "
                                 f"one object per image). Received: {len(boxes)} boxes, {len(labels)} labels.")
            if not len(boxes):
                continue
            label = int(labels[0])
            if not 0 <= label < self.num_classes:
                raise ValueError(f"`annotations[{i}]` has label {label}; expected 0..{self.num_classes - 1} "
                                 f"(num_classes={self.num_classes}).")
            y[i, 0] = 1.0
            y[i, _BOX] = convert_format(boxes, self.box_format, "rel_center_xyhw", self.height, self.width)[0]
            y[i, 5 + label] = 1.0
        return y

    def split(self, y) -> dict:
        """``{"objectness": (n, 1), "box": (n, 4), "classes": (n, K)}``: the three parts of ``y``."""
        y = self._check(y, "y")
        return {"objectness": y[:, :1], "box": y[:, _BOX], "classes": y[:, 5:]}

    def decode(self, y, threshold: float = 0.5) -> list:
        """Per image ``{"boxes", "labels", "scores"}`` (absolute, ``box_format``), empty where ``p_c <= threshold``."""
        y = self._check(y, "y")
        threshold = _check_unit_interval(threshold, "threshold")
        boxes = convert_format(np.clip(y[:, _BOX], 0, None), "rel_center_xyhw", self.box_format,
                               self.height, self.width)
        out = []
        for row, box in zip(y, boxes):
            present = bool(row[0] > threshold)
            out.append({"boxes": box[None].astype(np.float32) if present else np.zeros((0, 4), np.float32),
                        "labels": np.array([np.argmax(row[5:])] if present else [], np.int64),
                        "scores": np.array([row[0]] if present else [], np.float32)})
        return out

    def _check(self, y, name: str) -> np.ndarray:
        array = np.asarray(y)
        if array.ndim != 2 or array.shape[1] != self.size:
            raise ValueError(f"`{name}` must have shape (n, {self.size}) = (n, 5 + num_classes). "
                             f"Received: {name}.shape={array.shape}.")
        return array


def localization_head(features, num_classes: int, box_activation: str = "sigmoid", class_features=None,
                      name: str = "y"):
    """The slides' three outputs on top of ``features``, concatenated into one ``y`` tensor.

    Three Dense layers named ``objectness`` (1 unit, sigmoid), ``box`` (4 units,
    ``box_activation``: sigmoid keeps the relative box in [0, 1]; the slides use
    "relu") and ``classes`` (``num_classes``, softmax) read the features (flattened
    if they are a feature map); ``classes`` reads ``class_features`` instead when
    given (e.g. globally pooled: what an object is does not depend on where it is).
    A Concatenate layer named ``name`` joins them in the order of ``y``, so
    :class:`LocalizationLoss` sees ``p_c`` next to the box it masks. The parts are
    reachable by name: ``model.get_layer("box").output``.
    """
    num_classes = check_int(num_classes, "num_classes")
    if len(features.shape) > 2:
        features = L.Flatten(name="head_flatten")(features)
    class_features = features if class_features is None else class_features
    if len(class_features.shape) > 2:
        class_features = L.Flatten(name="head_class_flatten")(class_features)
    parts = [L.Dense(1, activation="sigmoid", name="objectness")(features),
             L.Dense(4, activation=box_activation, name="box")(features),
             L.Dense(num_classes, activation="softmax", name="classes")(class_features)]
    return L.Concatenate(name=name)(parts)


def _check_weight(value, name: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value >= 0:
        raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}.")
    return float(value)


class LocalizationLoss(Loss):
    """The slides' loss on ``y`` vectors: objectness always, box and class only where an object is.

    Per image: ``objectness_weight * BCE(p_c) + p_c_true * (box_weight * sum((b - b_true)**2)
    + class_weight * CCE(c))``, on probabilities (the head's sigmoid and softmax), then
    reduced over the batch as every Keras loss (``reduction``).
    """

    def __init__(self, objectness_weight: float = 1.0, box_weight: float = 5.0, class_weight: float = 1.0,
                 reduction="sum_over_batch_size", name: str = "localization_loss", dtype=None):
        super().__init__(name, reduction, dtype)
        self.objectness_weight = _check_weight(objectness_weight, "objectness_weight")
        self.box_weight = _check_weight(box_weight, "box_weight")
        self.class_weight = _check_weight(class_weight, "class_weight")

    def call(self, y_true, y_pred):
        y_true = np.asarray(getattr(y_true, "data", y_true), dtype=y_pred.dtype)
        if y_true.shape != tuple(y_pred.shape) or y_true.ndim != 2 or y_true.shape[1] < 6:
            raise ValueError("`y_true` and `y_pred` must both have shape (n, 5 + num_classes). "
                             f"Received: y_true.shape={y_true.shape}, y_pred.shape={tuple(y_pred.shape)}.")
        present = y_true[:, 0]
        objectness = binary_crossentropy(y_true[:, :1], y_pred[:, 0:1])
        box = ((y_pred[:, 1:5] - y_true[:, _BOX]) ** 2).sum(axis=-1)
        classes = categorical_crossentropy(y_true[:, 5:], y_pred[:, 5:])
        return objectness * self.objectness_weight + (box * self.box_weight + classes * self.class_weight) * present

    def get_config(self) -> dict:
        return {**super().get_config(), "objectness_weight": self.objectness_weight,
                "box_weight": self.box_weight, "class_weight": self.class_weight}


def box_iou(y_true, y_pred) -> np.ndarray:
    """Per image, the IoU of the predicted and true boxes of two ``y`` arrays (relative b_x, b_y, b_h, b_w)."""
    y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    if y_true.shape != y_pred.shape or y_true.ndim != 2 or y_true.shape[1] < 5:
        raise ValueError("`y_true` and `y_pred` must both have shape (n, 5 + num_classes). "
                         f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}.")
    # a negative predicted height or width (a "relu" head can give 0, a linear one less) counts as an empty box
    true_box, pred_box = (convert_format(np.clip(y[:, _BOX], 0, None), "center_xyhw", "xyxy")
                          for y in (y_true, y_pred))
    return _broadcast_iou(true_box, pred_box)


class MeanBoxIoU(MeanMetricWrapper):
    """Mean IoU of predicted and true boxes over the images that hold an object (``p_c`` true = 1).

    For ``y`` vectors of :class:`LocalizationTarget` layout, usable in
    ``compile(metrics=[ks.metrics.MeanBoxIoU()])``. Not Keras's ``MeanIoU``, which
    scores segmentation masks class by class.
    """

    def __init__(self, name: str = "mean_box_iou", dtype=None):
        super().__init__(box_iou, name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true = np.asarray(getattr(y_true, "data", y_true))
        present = (y_true[:, 0] > 0.5).astype(np.float64) if y_true.ndim == 2 else None
        if sample_weight is not None and present is not None:
            present = present * np.asarray(sample_weight, np.float64).reshape(-1)
        super().update_state(y_true, y_pred, present)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype.name}
