"""Synthetic localization and detection tasks made from the bundled 8x8 digits (no download).

This machine has no network, so the Planet ships data cannot be fetched; these
generators make honest stand-ins from :func:`~kernelscope.datasets.load_digits`:
digits scaled up (with scale jitter) and pasted on larger noisy canvases, with
their boxes. They are synthetic: use them to test a pipeline, not to claim
anything about real images.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..geometry import check_int, is_int
from ..explain.views import resize
from .digits import load_digits

__all__ = ["make_digit_scenes", "make_digit_tiles"]

_SUBSETS = ("train", "test")
_PLACEMENT_TRIES = 50


def _check_pair(value, name: str, minimum: int) -> tuple:
    pair = (value, value) if isinstance(value, numbers.Integral) else tuple(value)
    if len(pair) != 2 or any(not is_int(v) or v < minimum
                             for v in pair) or pair[0] > pair[1]:
        raise ValueError(f"`{name}` must be an integer >= {minimum} or a (low, high) pair with low <= high. "
                         f"Received: {name}={value!r}.")
    return int(pair[0]), int(pair[1])


def _digit_pool(subset: str) -> tuple:
    if subset not in _SUBSETS:
        raise ValueError(f"`subset` must be one of {list(_SUBSETS)}. Received: subset={subset!r}.")
    (x_train, y_train), (x_test, y_test) = load_digits()
    return (x_train, y_train) if subset == "train" else (x_test, y_test)


def _paste(canvas: np.ndarray, digit: np.ndarray, size: int, top: int, left: int) -> list:
    """Paste a digit scaled to size x size; returns that square [x1, y1, x2, y2]."""
    region = canvas[top:top + size, left:left + size]
    np.maximum(region, np.clip(resize(digit, (size, size)), 0.0, 1.0), out=region)
    return [left, top, left + size, top + size]


def _place(rng, scene_size: int, size: int, taken: list) -> tuple | None:
    for _ in range(_PLACEMENT_TRIES):
        top, left = (int(v) for v in rng.integers(0, scene_size - size + 1, 2))
        if all(left >= x2 or left + size <= x1 or top >= y2 or top + size <= y1 for x1, y1, x2, y2 in taken):
            return top, left
    return None


def make_digit_scenes(n: int, scene_size: int = 64, digits_per_scene=1, digit_size=(16, 24),
                      noise: float = 0.15, seed=None, subset: str = "train") -> tuple:
    """Synthetic scenes: bundled digits scaled and placed on noisy canvases, with their boxes.

    Synthetic data, made from :func:`load_digits` (the ``subset`` split, so test
    scenes hold digits never seen in training). Each scene is ``scene_size`` square,
    uniform noise in ``[0, noise]``, with ``digits_per_scene`` digits (an int or a
    (low, high) range) each scaled to a random side in ``digit_size`` (low, high)
    pixels and placed where it overlaps no other digit.

    Returns
    -------
    images : float32 array (n, scene_size, scene_size, 1), values in [0, 1]
    annotations : list of n dicts ``{"boxes": (k, 4) float32 xyxy, "labels": (k,) int64
        digit classes}`` (Keras's bounding-box dict layout). A digit's box is the
        square it was scaled into: the 8x8 digits were size-normalised to fill
        their frame, so that square is the digit's extent (a "1" is narrower).

    >>> images, annotations = make_digit_scenes(2, scene_size=32, digit_size=12, seed=0)
    >>> images.shape, annotations[0]["boxes"].shape
    ((2, 32, 32, 1), (1, 4))
    """
    n, scene_size = check_int(n, "n", 1), check_int(scene_size, "scene_size", 8)
    count = _check_pair(digits_per_scene, "digits_per_scene", 0)
    low, high = _check_pair(digit_size, "digit_size", 4)
    if high > scene_size:
        raise ValueError(f"`digit_size` must fit in the scene. Received: digit_size={digit_size!r}, "
                         f"scene_size={scene_size}.")
    if not isinstance(noise, numbers.Real) or not 0.0 <= noise <= 1.0:
        raise ValueError(f"`noise` must be a number in [0, 1]. Received: noise={noise!r}.")
    digits, labels = _digit_pool(subset)
    rng = np.random.default_rng(seed)
    images = (rng.uniform(0.0, noise, (n, scene_size, scene_size, 1))).astype(np.float32)
    annotations = [_fill(canvas[..., 0], rng, int(rng.integers(count[0], count[1] + 1)), (low, high),
                         digits, labels) for canvas in images]
    return images, annotations


def _fill(canvas: np.ndarray, rng, count: int, sizes: tuple, digits, labels) -> dict:
    """Paste ``count`` random digits on ``canvas`` where they overlap no other; their annotation dict."""
    boxes, classes = [], []
    for _ in range(count):
        size = int(rng.integers(sizes[0], sizes[1] + 1))
        spot = _place(rng, canvas.shape[0], size, boxes)
        if spot is None:  # the scene is full: fewer digits rather than overlapping ones
            break
        index = int(rng.integers(len(digits)))
        boxes.append(_paste(canvas, digits[index, ..., 0], size, *spot))
        classes.append(int(labels[index]))
    return {"boxes": np.asarray(boxes, np.float32).reshape(-1, 4), "labels": np.asarray(classes, np.int64)}


def make_digit_tiles(n: int, tile_size: int = 20, digit_size=(16, 20), noise: float = 0.15, seed=None,
                     subset: str = "train") -> tuple:
    """Synthetic tiles for a sliding-window classifier: half hold a centred digit, half do not.

    Synthetic data, made from :func:`load_digits`. A positive tile (label 1) is a
    digit of side in ``digit_size`` placed within 2 pixels of the tile's centre; a
    negative tile (label 0) is noise, possibly with part of a digit that is off
    centre by at least a third of the tile (what a window next to a digit sees), so
    the classifier learns where a digit is, not only that one is near.

    Returns ``(tiles, labels)``: float32 ``(n, tile_size, tile_size, 1)`` and uint8 ``(n,)``.
    """
    n, tile_size = check_int(n, "n", 1), check_int(tile_size, "tile_size", 4)
    low, high = _check_pair(digit_size, "digit_size", 4)
    if high > tile_size:
        raise ValueError(f"`digit_size` must fit in the tile. Received: digit_size={digit_size!r}, "
                         f"tile_size={tile_size}.")
    digits, _ = _digit_pool(subset)
    rng = np.random.default_rng(seed)
    pad = tile_size  # a canvas three tiles wide, so an off-centre digit may hang over the tile's edge
    canvas = rng.uniform(0.0, noise, (n, 3 * tile_size, 3 * tile_size)).astype(np.float32)
    labels = (np.arange(n) % 2).astype(np.uint8)
    rng.shuffle(labels)
    for image, label in zip(canvas, labels):
        size = int(rng.integers(low, high + 1))
        centre = pad + (tile_size - size) // 2
        if label:
            shift = rng.integers(-2, 3, 2)
        else:
            shift = rng.integers(-tile_size, tile_size + 1, 2)
            while np.abs(shift).max() < tile_size // 3:
                shift = rng.integers(-tile_size, tile_size + 1, 2)
        if label or rng.uniform() < 0.8:
            _paste(image, digits[int(rng.integers(len(digits))), ..., 0], size, *(centre + shift))
    return canvas[:, pad:2 * pad, pad:2 * pad, None].copy(), labels
