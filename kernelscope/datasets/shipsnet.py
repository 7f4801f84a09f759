"""The Planet "Ships in satellite imagery" data the lecture's ship finder uses (bring your own copy).

``shipsnet.json`` (from https://osf.io/f3cu4/ or Kaggle's rhammell/ships-in-satellite-imagery)
holds one JSON object with parallel lists: ``data`` (19,200 integers per 80x80
tile: the red plane, then green, then blue, each row-major), ``labels`` (1 ship,
0 no ship), ``locations`` (longitude, latitude) and ``scene_ids``. The
``scenes/`` folder holds the big PNG scenes to search.
"""

from __future__ import annotations

import json
import os
import pathlib

import numpy as np

from .._checks import require

__all__ = ["load_shipsnet", "load_scene", "TILE_SIZE"]

TILE_SIZE = 80
_VALUES = TILE_SIZE * TILE_SIZE * 3


def _read_json(path: pathlib.Path):
    try:
        with open(path, "rb") as f:
            return json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"No shipsnet file at {str(path)!r}.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{str(path)!r} is not a shipsnet.json file: it is not valid JSON ({error}); "
                         "a truncated download looks like this.") from None


def _tiles(rows, path: pathlib.Path) -> np.ndarray:
    if not isinstance(rows, list):
        raise ValueError(f"{str(path)!r}: 'data' must be a list of tiles. Received: {type(rows).__name__}.")
    images = np.empty((len(rows), TILE_SIZE, TILE_SIZE, 3), np.uint8)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != _VALUES:
            size = len(row) if isinstance(row, list) else type(row).__name__
            raise ValueError(f"{str(path)!r}: tile {i} of 'data' has {size} values; expected {_VALUES} "
                             f"({TILE_SIZE}x{TILE_SIZE} pixels x 3 planes). Is the file truncated?")
        values = np.asarray(row)
        if values.dtype.kind not in "iu" or values.min() < 0 or values.max() > 255:
            raise ValueError(f"{str(path)!r}: tile {i} of 'data' must hold integers in 0..255.")
        # planes first (R, G, B), each row-major: (3, 80, 80) -> channels-last (80, 80, 3)
        images[i] = values.reshape(3, TILE_SIZE, TILE_SIZE).transpose(1, 2, 0)
    return images


def load_shipsnet(path, with_metadata: bool = False):
    """Tiles and labels from a ``shipsnet.json``: ``(images, labels)``.

    ``images`` is uint8 ``(n, 80, 80, 3)`` (channels-last RGB), ``labels`` uint8
    ``(n,)``. With ``with_metadata=True`` a third item ``{"locations": (n, 2)
    float64, "scene_ids": list of str}`` is returned (empty when the file has none).
    A file that is not JSON, lacks ``data`` or ``labels``, or has a tile of the
    wrong size gets a ValueError naming the file.
    """
    path = pathlib.Path(os.fspath(path))
    content = _read_json(path)
    if not isinstance(content, dict):
        raise ValueError(f"{str(path)!r} is not a shipsnet.json file: expected a JSON object with keys 'data' "
                         f"and 'labels'. Received: a JSON {type(content).__name__}.")
    for key in ("data", "labels"):
        if key not in content:
            raise ValueError(f"{str(path)!r} is not a shipsnet.json file: it has no {key!r} key. "
                             f"Received keys: {sorted(content)[:10]}.")
    images = _tiles(content["data"], path)
    labels = np.asarray(content["labels"])
    if labels.shape != (len(images),) or labels.dtype.kind not in "iub" or (len(labels) and labels.min() < 0):
        raise ValueError(f"{str(path)!r}: 'labels' must hold one non-negative integer per tile ({len(images)}). "
                         f"Received: shape={labels.shape}, dtype={labels.dtype}.")
    labels = labels.astype(np.uint8)
    if not with_metadata:
        return images, labels
    locations = np.asarray(content.get("locations", np.zeros((0, 2))), np.float64).reshape(-1, 2)
    return images, labels, {"locations": locations, "scene_ids": [str(s) for s in content.get("scene_ids", [])]}


def load_scene(path) -> np.ndarray:
    """A scene image (PNG, JPEG...) as uint8 ``(H, W, 3)`` RGB (needs the ``image`` extra: Pillow)."""
    Image = require("PIL.Image", "image", "load_scene()")
    path = pathlib.Path(os.fspath(path))
    if not path.is_file():
        raise FileNotFoundError(f"No scene image at {str(path)!r}.")
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except OSError as error:
        raise ValueError(f"{str(path)!r} is not a readable image: {error}") from None
