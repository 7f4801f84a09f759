"""A folder of images, one subfolder per class, read into NumPy arrays.

``image_folder`` mirrors ``keras.utils.image_dataset_from_directory`` (same
arguments and defaults, same file order, shuffling and validation split) but
returns whole arrays instead of a batched ``tf.data.Dataset``, so the images
must fit in memory. Like Keras, images are float32 with pixel values in
[0, 255] (no rescaling: put a ``Rescaling(1/255)`` layer in the model), and
``label_mode="int"`` labels are int32. Resizing uses Pillow's filters, which
anti-alias when shrinking, so values differ slightly from TensorFlow's
``tf.image.resize``. Needs Pillow (``pip install "kernelscope[image]"``).
"""

from __future__ import annotations

import os
import pathlib
import warnings
from typing import NamedTuple

import numpy as np

from .._checks import normalize_tuple, require
from ..rng import make_rng

ALLOWED_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
_LABEL_MODES = ("int", "categorical", "binary", None)


class ImageFolderData(NamedTuple):
    """``images`` (n, height, width, channels) float32, ``labels`` (or None), ``class_names``."""

    images: np.ndarray
    labels: np.ndarray | None
    class_names: list


def image_folder(directory, labels="inferred", label_mode="int", class_names=None, color_mode="rgb",
                 image_size=(256, 256), shuffle=True, seed=None, validation_split=None, subset=None,
                 interpolation="bilinear", follow_links=False, crop_to_aspect_ratio=False):
    """Read ``directory/<class>/*.{png,jpg,jpeg,bmp,gif}`` into arrays.

    Returns an :class:`ImageFolderData` ``(images, labels, class_names)``, or
    a pair ``(training, validation)`` of them when ``subset="both"``.
    Unreadable image files are skipped with a warning that names them.

    >>> x, y, class_names = image_folder("flowers", image_size=(64, 64))  # doctest: +SKIP
    """
    directory = pathlib.Path(directory)
    _check_arguments(directory, labels, label_mode, color_mode, validation_split, subset, shuffle, seed)
    image_size = normalize_tuple(image_size, 2, "image_size")
    paths, label_list, class_names = _index(directory, labels, class_names, follow_links)
    if not paths:
        raise ValueError(f"No images found in {directory}. Allowed formats: {ALLOWED_FORMATS}.")
    if shuffle:
        # seed=None draws from ks.utils.set_random_seed's root generator, so seeded runs repeat
        order = make_rng(seed).permutation(len(paths))
        paths = [paths[i] for i in order]
        label_list = None if label_list is None else [label_list[i] for i in order]
    parts = _split(paths, label_list, validation_split, subset)
    loaded = [_load_part(p, lab, class_names, color_mode, image_size, interpolation, crop_to_aspect_ratio,
                         label_mode) for p, lab in parts]
    return tuple(loaded) if subset == "both" else loaded[0]


def _check_arguments(directory, labels, label_mode, color_mode, validation_split, subset, shuffle, seed):
    if not directory.is_dir():
        raise FileNotFoundError(f"`directory` must be an existing folder. Received: directory={str(directory)!r}.")
    if not (labels in ("inferred", None) or isinstance(labels, (list, tuple, np.ndarray))):
        raise ValueError(f"`labels` must be 'inferred', None or a list of integer labels. Received: labels={labels!r}.")
    if label_mode not in _LABEL_MODES:
        raise ValueError(f"`label_mode` must be one of {_LABEL_MODES}. Received: label_mode={label_mode!r}.")
    if color_mode not in _MODES:
        raise ValueError(f"`color_mode` must be one of {tuple(_MODES)}. Received: color_mode={color_mode!r}.")
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1. Received: validation_split={validation_split!r}.")
    if subset not in (None, "training", "validation", "both"):
        raise ValueError(f"`subset` must be None, 'training', 'validation' or 'both'. Received: subset={subset!r}.")
    if (subset is None) != (validation_split is None):
        raise ValueError("`subset` and `validation_split` must be given together. "
                         f"Received: subset={subset!r}, validation_split={validation_split!r}.")
    if validation_split is not None and shuffle and seed is None:
        raise ValueError("With `validation_split` and `shuffle=True`, pass a `seed` so that the training and "
                         "validation subsets do not overlap. Received: seed=None.")


def _index(directory: pathlib.Path, labels, class_names, follow_links):
    if labels != "inferred":
        paths = _list_images(directory, follow_links)
        if labels is not None and len(labels) != len(paths):
            raise ValueError(f"`labels` must have one label per image file: found {len(paths)} files in "
                             f"{directory}. Received: len(labels)={len(labels)}.")
        return paths, None if labels is None else [int(v) for v in labels], class_names
    found = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if class_names is None:
        class_names = found
    elif set(class_names) != set(found):
        raise ValueError(f"`class_names` must match the subfolders of {directory}: {found}. "
                         f"Received: class_names={list(class_names)}.")
    paths, label_list = [], []
    for index, name in enumerate(class_names):
        files = _list_images(directory / name, follow_links)
        paths += files
        label_list += [index] * len(files)
    return paths, label_list, list(class_names)


def _list_images(folder: pathlib.Path, follow_links: bool) -> list:
    """Image files under ``folder``; with ``follow_links``, every link must stay inside ``folder`` without a cycle."""
    paths, top = [], pathlib.Path(os.path.realpath(folder))
    for root, dirs, files in os.walk(folder, followlinks=follow_links):
        dirs.sort()
        if follow_links:
            for name in [*dirs, *files]:
                _check_link(pathlib.Path(root) / name, top, name in dirs)
        paths += [pathlib.Path(root) / f for f in sorted(files) if f.lower().endswith(ALLOWED_FORMATS)]
    return paths


def _check_link(path: pathlib.Path, top: pathlib.Path, is_dir: bool) -> None:
    """Refuse a followed link that leaves ``top`` (another class's or folder's files) or loops back above itself."""
    if not path.is_symlink():
        return
    target = pathlib.Path(os.path.realpath(path))
    if target != top and top not in target.parents:
        raise ValueError(f"follow_links=True: the link {path} points to {target}, outside {top}; its images would "
                         "get this folder's label. Remove the link or point it inside the folder.")
    here = pathlib.Path(os.path.realpath(path.parent))
    if is_dir and (target == here or target in here.parents):
        raise ValueError(f"follow_links=True: the link {path} points to {target}, a folder that contains it, "
                         "so following it would loop forever. Remove the link.")


def _split(paths, label_list, validation_split, subset):
    if validation_split is None:
        return [(paths, label_list)]
    n_val = int(validation_split * len(paths))
    cut = len(paths) - n_val
    train = (paths[:cut], None if label_list is None else label_list[:cut])
    val = (paths[cut:], None if label_list is None else label_list[cut:])
    return {"training": [train], "validation": [val], "both": [train, val]}[subset]


def _load_part(paths, label_list, class_names, color_mode, image_size, interpolation, crop, label_mode):
    image_module = require("PIL.Image", "image", "Reading image files")
    resample = _resample(image_module, interpolation)
    images, keep, bad = [], [], []
    for i, path in enumerate(paths):
        try:
            images.append(_read_image(path, _MODES[color_mode], image_size, resample, crop))
            keep.append(i)
        except (OSError, ValueError, SyntaxError, image_module.DecompressionBombError) as error:
            bad.append(f"{path} ({error})")
    if bad:
        warnings.warn(f"image_folder skipped {len(bad)} unreadable image file(s): " + "; ".join(bad), stacklevel=3)
    channels = len(_MODES[color_mode])
    x = np.stack(images) if images else np.zeros((0, *image_size, channels), np.float32)
    if x.ndim == 3:
        x = x[..., None]
    y = None if label_list is None or label_mode is None else _encode([label_list[i] for i in keep], label_mode,
                                                                      len(class_names or []))
    return ImageFolderData(x, y, list(class_names or []))


def _read_image(path, mode, image_size, resample, crop):
    from ..utils.image_utils import open_image  # the one reader: regular files only, pixel cap

    image = open_image(path).convert(mode)  # animated GIFs: the first frame, as Keras
    height, width = image_size
    if crop:
        image = _center_crop(image, width / height)
    return np.asarray(image.resize((width, height), resample), dtype=np.float32)


def _center_crop(image, target_ratio):
    width, height = image.size
    crop_w, crop_h = min(width, round(height * target_ratio)), min(height, round(width / target_ratio))
    left, top = (width - crop_w) // 2, (height - crop_h) // 2
    return image.crop((left, top, left + crop_w, top + crop_h))


def _encode(labels, label_mode, n_classes):
    labels = np.asarray(labels, dtype=np.int32)
    if label_mode == "int":
        return labels
    if label_mode == "binary":
        if n_classes not in (0, 2) or (labels.size and labels.max() > 1):
            raise ValueError(f"`label_mode='binary'` needs exactly 2 classes. Received: {n_classes} classes.")
        return labels.astype(np.float32)[:, None]
    n_classes = n_classes or int(labels.max(initial=-1)) + 1
    return np.eye(n_classes, dtype=np.float32)[labels]


def _resample(image_module, interpolation):
    filters = {"nearest": "NEAREST", "bilinear": "BILINEAR", "bicubic": "BICUBIC", "lanczos3": "LANCZOS",
               "lanczos5": "LANCZOS", "area": "BOX"}
    if interpolation not in filters:
        raise ValueError(f"`interpolation` must be one of {tuple(filters)}. Received: interpolation={interpolation!r}.")
    return getattr(image_module.Resampling, filters[interpolation])
