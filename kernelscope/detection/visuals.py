"""Pictures of detections: boxes drawn on an image, and a scan's score map laid over its scene.

>>> import numpy as np
>>> picture = draw_boxes(np.zeros((20, 30)), [[2, 3, 12, 15]], thickness=1)
>>> picture.shape, picture[3, 5].tolist(), picture[8, 8].tolist()
((20, 30, 3), [255, 0, 0], [0, 0, 0])
"""

from __future__ import annotations

import numpy as np

from .._checks import normalize_tuple, require
from ..explain.views import _as_rgb255, overlay
from ..report.page import save_png
from ..geometry import check_int
from .boxes import _check_format, _to_xyxy, _as_boxes, _check_extents, convert_format

__all__ = ["draw_boxes", "score_map_overlay", "save_png"]


def _check_color(color, name: str) -> np.ndarray:
    values = np.asarray(color)
    if values.shape != (3,) or values.dtype.kind not in "iuf" or values.min() < 0 or values.max() > 255:
        raise ValueError(f"`{name}` must be an (r, g, b) triple of numbers in 0..255. Received: {name}={color!r}.")
    return values.astype(np.uint8)


def _captions(n: int, labels, scores, class_names) -> list | None:
    if labels is None and scores is None:
        return None
    parts = [[] for _ in range(n)]
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if labels.shape != (n,):
            raise ValueError(f"`labels` must hold one label per box ({n}). Received: shape={labels.shape}.")
        for i, label in enumerate(labels):
            parts[i].append(str(class_names[int(label)]) if class_names is not None else str(label))
    if scores is not None:
        scores = np.asarray(scores, np.float64).reshape(-1)
        if scores.shape != (n,):
            raise ValueError(f"`scores` must hold one score per box ({n}). Received: shape={scores.shape}.")
        for i, score in enumerate(scores):
            parts[i].append(f"{score:.2f}")
    return [" ".join(p) for p in parts]


def _write_captions(rgb: np.ndarray, boxes: np.ndarray, captions: list, color: np.ndarray) -> np.ndarray:
    Image = require("PIL.Image", "image", "draw_boxes() (to write labels or scores)")
    from PIL import ImageDraw

    image = Image.fromarray(rgb)
    draw = ImageDraw.Draw(image)
    for (x1, y1, _, _), caption in zip(boxes, captions):
        top = max(0, int(y1) - 11)
        draw.text((int(x1) + 1, top), caption, fill=tuple(int(c) for c in color))
    return np.asarray(image, dtype=np.uint8)


def draw_boxes(image, boxes, labels=None, scores=None, class_names=None, color=(255, 0, 0),
               thickness: int = 2, box_format: str = "xyxy", path=None) -> np.ndarray:
    """An RGB uint8 copy of ``image`` with each box outlined (and captioned with its label/score).

    ``image`` is (H, W), (H, W, 1) or (H, W, 3), 0..255 or floats in 0..1. Boxes are
    clipped to the image. Captions (``labels``, named through ``class_names``, and
    ``scores``) are written with Pillow; ``path`` also saves the picture as a PNG.
    """
    rgb = np.clip(np.rint(_as_rgb255(image)), 0, 255).astype(np.uint8)
    base, relative = _check_format(box_format, "box_format")
    xyxy = convert_format(boxes, box_format, "xyxy", rgb.shape[0], rgb.shape[1]) if relative else \
        _to_xyxy(_as_boxes(boxes, "boxes").reshape(-1, 4), base)
    _check_extents(xyxy, "boxes")
    xyxy = xyxy.reshape(-1, 4)
    color = _check_color(color, "color")
    thickness = check_int(thickness, "thickness")
    height, width = rgb.shape[:2]
    for x1, y1, x2, y2 in np.rint(xyxy).astype(int):
        x1, x2 = np.clip([x1, x2 - 1], 0, width - 1)
        y1, y2 = np.clip([y1, y2 - 1], 0, height - 1)
        t = thickness
        rgb[y1:y1 + t, x1:x2 + 1] = rgb[max(y2 - t + 1, y1):y2 + 1, x1:x2 + 1] = color
        rgb[y1:y2 + 1, x1:x1 + t] = rgb[y1:y2 + 1, max(x2 - t + 1, x1):x2 + 1] = color
    captions = _captions(len(xyxy), labels, scores, class_names)
    if captions:
        rgb = _write_captions(rgb, xyxy, captions, color)
    if path is not None:
        save_png(rgb, path)
    return rgb


def _between_centres(scores: np.ndarray, strides: tuple) -> np.ndarray:
    """Bilinear interpolation with score (i, j) exactly at pixel (i * stride_rows, j * stride_cols)."""
    def axis(n: int, step: int) -> tuple:
        position = np.arange((n - 1) * step + 1) / step
        low = np.minimum(np.floor(position).astype(int), max(n - 2, 0))
        return low, np.minimum(low + 1, n - 1), position - low

    r0, r1, rt = axis(scores.shape[0], strides[0])
    c0, c1, ct = axis(scores.shape[1], strides[1])
    top = scores[r0][:, c0] * (1 - ct) + scores[r0][:, c1] * ct
    bottom = scores[r1][:, c0] * (1 - ct) + scores[r1][:, c1] * ct
    return top * (1 - rt[:, None]) + bottom * rt[:, None]


def score_map_overlay(scene, score_map, window, strides=None, alpha: float = 0.5, colormap="jet") -> np.ndarray:
    """The scene with a scan's score map laid over it (:func:`kernelscope.explain.overlay`).

    Each score sits at its window's centre and is interpolated in between; the
    border that no window centre reaches stays at the lowest score.
    """
    rgb = _as_rgb255(scene)
    scores = np.asarray(score_map, np.float64)
    if scores.ndim != 2:
        raise ValueError(f"`score_map` must be 2-D (rows, cols). Received: score_map.shape={scores.shape}.")
    window = normalize_tuple(window, 2, "window")
    strides = window if strides is None else normalize_tuple(strides, 2, "strides")
    heat = np.full(rgb.shape[:2], scores.min(initial=0.0) if scores.size else 0.0)
    top, left = window[0] // 2, window[1] // 2
    rows = (scores.shape[0] - 1) * strides[0] + 1
    cols = (scores.shape[1] - 1) * strides[1] + 1
    spread = _between_centres(scores, strides)
    heat[top:top + rows, left:left + cols] = spread[:heat.shape[0] - top, :heat.shape[1] - left]
    return overlay(rgb / 255.0, heat, alpha=alpha, colormap=colormap)
