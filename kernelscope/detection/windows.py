"""Sliding windows: a tile classifier scored at every window of a big scene, over an image pyramid.

The lecture's ship finder: "build a classifier that works on small tiles, slide a
window with the size of your tiles over the big scene". :func:`sliding_windows`
is a zero-copy view of every window; :func:`scan` scores them with the model, in
batches, and returns a score map with each window's box; :func:`detect` scans
each level of an image pyramid, keeps windows scoring above a threshold, maps
their boxes back to the scene and cleans them up with non-max suppression.

>>> import numpy as np
>>> scene = np.arange(5 * 6).reshape(5, 6)
>>> windows, boxes = sliding_windows(scene, window=3, strides=(2, 3))
>>> windows.shape, boxes[1, 1].tolist()
((2, 2, 3, 3), [3, 2, 6, 5])
>>> np.shares_memory(windows, scene)
True
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from .._checks import normalize_tuple
from ..explain.views import resize
from .boxes import non_max_suppression

__all__ = ["sliding_windows", "scan", "image_pyramid", "detect", "ScanResult", "SCAN_METHODS"]

SCAN_METHODS = ("windows", "fully_convolutional")


@dataclasses.dataclass
class ScanResult:
    """What :func:`scan` found: one score per window position, and the windows' boxes.

    ``score_map`` is ``(rows, cols)``; ``boxes`` is ``(rows * cols, 4)`` xyxy in scene
    pixels and ``scores`` the matching ``score_map.ravel()``.
    """

    score_map: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray


def _as_scene(scene, name: str = "scene") -> np.ndarray:
    array = np.asarray(scene)
    if array.ndim not in (2, 3):
        raise ValueError(f"`{name}` must be (height, width) or (height, width, channels). "
                         f"Received: {name}.shape={array.shape}.")
    return array


def _window_grid(scene_hw: tuple, window, strides) -> tuple:
    window = normalize_tuple(window, 2, "window")
    strides = window if strides is None else normalize_tuple(strides, 2, "strides")
    for axis, n, w in zip(("height", "width"), scene_hw, window):
        if w > n:
            raise ValueError(f"`window` must fit in the scene. Received: window={window} for a scene of "
                             f"{axis} {n} (scene shape {tuple(scene_hw)}).")
    return window, strides, tuple((n - w) // s + 1 for n, w, s in zip(scene_hw, window, strides))


def _grid_boxes(grid: tuple, window: tuple, strides: tuple) -> np.ndarray:
    y = np.arange(grid[0]) * strides[0]
    x = np.arange(grid[1]) * strides[1]
    yy, xx = np.meshgrid(y, x, indexing="ij")
    return np.stack([xx, yy, xx + window[1], yy + window[0]], axis=-1)


def sliding_windows(scene, window, strides=None) -> tuple:
    """Every ``window`` of ``scene`` at ``strides`` as a read-only view, and each window's box.

    Parameters
    ----------
    scene : array (H, W) or (H, W, C)
    window : int or (height, width)
    strides : int or (rows, cols), default ``window`` (windows that tile the scene)

    Returns
    -------
    windows : view ``(rows, cols, height, width[, C])`` into ``scene`` (no copy)
    boxes : int array ``(rows, cols, 4)``, each window's ``[x1, y1, x2, y2]``
    """
    array = _as_scene(scene)
    window, strides, grid = _window_grid(array.shape[:2], window, strides)
    view = np.lib.stride_tricks.sliding_window_view(array, window, axis=(0, 1))
    view = view[::strides[0], ::strides[1]]
    if array.ndim == 3:  # sliding_window_view puts the window axes last: (rows, cols, C, h, w)
        view = np.moveaxis(view, 2, -1)
    return view, _grid_boxes(grid, window, strides)


def _model_window(model) -> tuple:
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4 or shape[1] is None or shape[2] is None:
        raise ValueError(f"`window` is needed: the model's input shape {shape} does not fix a tile size.")
    return shape[1], shape[2]


def _scores(outputs: np.ndarray, class_index) -> np.ndarray:
    """Object scores from model outputs (..., units): the one unit, or column ``class_index``."""
    if outputs.shape[-1] == 1 and class_index in (None, 0):
        return outputs[..., 0]
    if class_index is None:
        raise ValueError("`class_index` is needed: the model has several outputs per window "
                         f"({outputs.shape[-1]} units); say which one scores an object.")
    if not isinstance(class_index, numbers.Integral) or not 0 <= class_index < outputs.shape[-1]:
        raise ValueError(f"`class_index` must be an integer in [0, {outputs.shape[-1]}). "
                         f"Received: class_index={class_index!r}.")
    return outputs[..., class_index]


def _scene_batch(model, scene: np.ndarray) -> np.ndarray:
    """The scene with the channel axis the model expects."""
    array = scene[..., None] if scene.ndim == 2 else scene
    channels = model.inputs[0].shape[-1]
    if channels is not None and array.shape[-1] != channels:
        raise ValueError(f"`scene` has {array.shape[-1]} channel(s) but the model expects {channels}. "
                         f"Received: scene.shape={scene.shape}.")
    return array


def _check_batch_size(batch_size) -> int:
    if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"`batch_size` must be an integer >= 1. Received: batch_size={batch_size!r}.")
    return int(batch_size)


def scan(model, scene, window=None, strides=None, batch_size: int = 256, method: str = "windows",
         class_index: int | None = None) -> ScanResult:
    """Score every window of ``scene`` with a tile classifier.

    ``window`` defaults to the model's input size and ``strides`` to ``window``.
    ``method="windows"`` crops each window and runs the model on batches of
    ``batch_size`` of them; ``method="fully_convolutional"`` runs
    :func:`~kernelscope.detection.fully_convolutional` once over the whole scene
    (the same scores to float32 rounding, much faster; ``strides`` must then be a
    multiple of the model's total stride). A model with several output units needs
    ``class_index``, the unit that scores an object.
    """
    array = _scene_batch(model, _as_scene(scene))
    window = _model_window(model) if window is None else window
    window, strides, grid = _window_grid(array.shape[:2], window, strides)
    batch_size = _check_batch_size(batch_size)
    if method == "fully_convolutional":
        from .fully_convolutional import fully_convolutional_scores
        outputs = fully_convolutional_scores(model, array, window, strides, grid)
    elif method == "windows":
        views, _ = sliding_windows(array, window, strides)
        outputs = []
        for start in range(0, grid[0] * grid[1], batch_size):  # gathered batch by batch: memory stays bounded
            batch = views[np.unravel_index(np.arange(start, min(start + batch_size, grid[0] * grid[1])), grid)]
            outputs.append(np.asarray(model.predict(batch.astype(np.float32, copy=False), verbose=0)))
        outputs = np.concatenate(outputs).reshape(grid + (-1,))
    else:
        raise ValueError(f"`method` must be one of {list(SCAN_METHODS)}. Received: method={method!r}.")
    score_map = _scores(outputs, class_index)
    return ScanResult(score_map, _grid_boxes(grid, window, strides).reshape(-1, 4), score_map.reshape(-1))


def image_pyramid(scene, scales=(1.0, 0.75, 0.5)) -> list:
    """``[(scale, resized scene), ...]``: the scene resized (bilinear) by each scale factor."""
    array = _as_scene(scene).astype(np.float32, copy=False)
    if not isinstance(scales, (list, tuple)) or not scales or any(
            not isinstance(s, numbers.Real) or isinstance(s, bool) or not s > 0 for s in scales):
        raise ValueError(f"`scales` must be a non-empty list of positive numbers. Received: scales={scales!r}.")
    levels = []
    for scale in scales:
        size = tuple(max(1, int(round(n * scale))) for n in array.shape[:2])
        if size == array.shape[:2]:
            levels.append((float(scale), array))
            continue
        planes = array[..., None] if array.ndim == 2 else array
        resized = np.stack([resize(planes[..., c], size) for c in range(planes.shape[-1])], axis=-1)
        levels.append((float(scale), resized.astype(np.float32).reshape(size + array.shape[2:])))
    return levels


def detect(model, scene, window=None, strides=None, scales=(1.0,), score_threshold: float = 0.5,
           iou_threshold: float = 0.3, max_outputs: int | None = None, method: str = "windows",
           batch_size: int = 256, class_index: int | None = None) -> dict:
    """The ship finder: scan each pyramid level, keep confident windows, merge them with NMS.

    Returns ``{"boxes": (k, 4) xyxy in scene pixels, "scores": (k,)}``, best first.
    A window at scale ``s`` covers ``window / s`` scene pixels, so smaller scales
    find bigger objects. Levels smaller than the window are skipped.
    """
    window = _model_window(model) if window is None else normalize_tuple(window, 2, "window")
    boxes, scores = [], []
    for scale, level in image_pyramid(scene, list(scales)):
        if level.shape[0] < window[0] or level.shape[1] < window[1]:
            continue
        found = scan(model, level, window, strides, batch_size, method, class_index)
        keep = found.scores > score_threshold
        boxes.append(found.boxes[keep] / scale)
        scores.append(found.scores[keep])
    if not boxes:  # no level holds a window: say so as scan would
        _window_grid(_as_scene(scene).shape[:2], window, strides)
    boxes = np.concatenate(boxes) if boxes else np.zeros((0, 4))
    scores = np.concatenate(scores) if scores else np.zeros(0)
    kept = non_max_suppression(boxes, scores, iou_threshold, max_outputs=max_outputs)
    return {"boxes": boxes[kept].astype(np.float32), "scores": scores[kept].astype(np.float32)}
