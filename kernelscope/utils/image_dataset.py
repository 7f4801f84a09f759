"""``keras.utils.image_dataset_from_directory``: a folder of images as a batched ``ks.data.Dataset``.

Keras's semantics: class subfolders in alphanumeric order (hidden ones left
out), files in sorted order, shuffled once with ``seed`` before the validation
split (the same file order as Keras for the same seed) and again each epoch in
a buffer of ``8 * batch_size`` for the training part; images float32 in
[0, 255], labels int32 / one-hot float32 / binary float32 ``(1,)``. Images are
read lazily, batch by batch. Resizing uses Pillow's filters, which anti-alias
when shrinking, so pixel values differ slightly from ``tf.image.resize``.

>>> import kernelscope as ks
>>> train, val = ks.utils.image_dataset_from_directory(  # doctest: +SKIP
...     "flowers", image_size=(64, 64), validation_split=0.2, subset="both", seed=1)
"""

from __future__ import annotations

import os
import pathlib

import numpy as np

from ..data import Dataset
from ..rng import make_rng
from .image_utils import open_image, resize_image

__all__ = ["image_dataset_from_directory", "ALLOWLIST_FORMATS"]

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
# tf.image.resize's names -> the Pillow filters of image_utils.resize_image
_INTERPOLATIONS = {"bilinear": "bilinear", "nearest": "nearest", "bicubic": "bicubic", "area": "box",
                   "lanczos3": "lanczos", "lanczos5": "lanczos"}
_CHANNELS = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                 color_mode="rgb", batch_size=32, image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, data_format=None,
                                 verbose=True):
    """A :class:`kernelscope.data.Dataset` of ``(images, labels)`` batches read from ``directory``.

    Arguments and defaults are Keras 3's. The dataset has ``class_names`` (None when ``labels=None``)
    and ``file_paths``; ``subset="both"`` returns ``[training, validation]``.
    """
    _check_arguments(labels, label_mode, class_names, color_mode, interpolation, data_format,
                     crop_to_aspect_ratio, pad_to_aspect_ratio, batch_size)
    if labels is None or label_mode is None:  # as Keras: no labels at all, so no class folders either
        labels = label_mode = None
    image_size = _image_size(image_size)
    _check_validation_split(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = int(make_rng(None).integers(1_000_000))  # from ks.utils.set_random_seed's root generator
    paths, label_list, class_names = _index(pathlib.Path(directory), labels, class_names, follow_links, verbose)
    if shuffle:
        # Keras's own shuffle (RandomState(seed).shuffle), so a seed gives Keras's file order
        np.random.RandomState(seed).shuffle(paths)
        if label_list is not None:
            np.random.RandomState(seed).shuffle(label_list)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f"`label_mode='binary'` needs exactly 2 classes. Received: class_names={class_names}.")
    load = _loader(image_size, _CHANNELS[color_mode][0], _INTERPOLATIONS[interpolation], crop_to_aspect_ratio,
                   pad_to_aspect_ratio)
    parts = ["training", "validation"] if subset == "both" else [subset]
    datasets = []
    for part in parts:
        part_paths, part_labels = _split(paths, label_list, validation_split, part)
        if not part_paths:
            which = {"training": "training ", "validation": "validation "}.get(part, "")
            raise ValueError(f"No {which}images found in directory {directory}. Allowed formats: "
                             f"{ALLOWLIST_FORMATS}.")
        ds = _paths_to_dataset(part_paths, part_labels, label_mode, len(class_names or ()), load,
                               shuffle and part != "validation", batch_size, seed)
        ds.class_names, ds.file_paths = class_names, part_paths
        datasets.append(ds)
    return datasets if subset == "both" else datasets[0]


def _check_arguments(labels, label_mode, class_names, color_mode, interpolation, data_format, crop, pad,
                     batch_size):
    if labels is not None and not (isinstance(labels, str) and labels == "inferred"):
        if not isinstance(labels, (list, tuple)):
            raise ValueError("`labels` must be 'inferred', None or a list/tuple of integer labels, one per image "
                             f"file in sorted order. Received: labels={labels!r}.")
        if class_names:
            raise ValueError("`class_names` can only be given with labels='inferred'. "
                             f"Received: labels={labels!r}, class_names={class_names!r}.")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError("`label_mode` must be one of 'int', 'categorical', 'binary' or None. "
                         f"Received: label_mode={label_mode!r}.")
    if color_mode not in _CHANNELS:
        raise ValueError(f"`color_mode` must be one of {tuple(_CHANNELS)}. Received: color_mode={color_mode!r}.")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"`interpolation` must be one of {tuple(_INTERPOLATIONS)} (Keras's 'gaussian' and "
                         f"'mitchellcubic' have no Pillow filter). Received: interpolation={interpolation!r}.")
    if data_format not in (None, "channels_last"):
        raise ValueError("kernelscope is channels-last only: `data_format` must be None or 'channels_last'. "
                         f"Received: data_format={data_format!r}.")
    if crop and pad:
        raise ValueError("Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be True. "
                         "Received: both True.")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                   or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive integer or None. Received: batch_size={batch_size!r}.")


def _image_size(image_size) -> tuple:
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if (not isinstance(image_size, (list, tuple)) or len(image_size) != 2
            or not all(isinstance(v, (int, np.integer)) and v > 0 for v in image_size)):
        raise ValueError(f"`image_size` must be a tuple of 2 positive integers (height, width). "
                         f"Received: image_size={image_size!r}.")
    return int(image_size[0]), int(image_size[1])


def _check_validation_split(validation_split, subset, shuffle, seed):
    if validation_split and not 0 < validation_split < 1:
        raise ValueError("`validation_split` must be between 0 and 1. "
                         f"Received: validation_split={validation_split!r}.")
    if bool(validation_split) != bool(subset):
        raise ValueError("`subset` and `validation_split` must be given together. "
                         f"Received: subset={subset!r}, validation_split={validation_split!r}.")
    if subset not in (None, "training", "validation", "both"):
        raise ValueError(f"`subset` must be 'training', 'validation', 'both' or None. Received: subset={subset!r}.")
    if validation_split and shuffle and seed is None:
        raise ValueError("With `validation_split` and `shuffle=True`, pass a `seed` so that the training and "
                         "validation subsets do not overlap. Received: seed=None.")


def _index(directory: pathlib.Path, labels, class_names, follow_links, verbose):
    from ..datasets.image_folder import _list_images  # one directory walker for image_folder and this

    if not directory.is_dir():
        raise FileNotFoundError(f"`directory` must be an existing folder. Received: directory={str(directory)!r}.")
    if isinstance(labels, str):
        found = sorted(e.name for e in os.scandir(directory) if e.is_dir() and not e.name.startswith("."))
        if class_names is not None and not set(class_names) <= set(found):
            raise ValueError(f"`class_names` must name subfolders of {directory}: {found} (or a subset). "
                             f"Received: class_names={list(class_names)}.")
        class_names = list(found if class_names is None else class_names)
        folders = [(directory / name, index) for index, name in enumerate(class_names)]
    else:
        folders = [(directory, None)]
    paths, label_list = [], []
    for folder, index in folders:
        # Keras lists files by (folder path, file name): sort the walker's output the same way
        files = sorted(_list_images(folder, follow_links), key=lambda p: (str(p.parent), p.name))
        paths += [str(p) for p in files]
        label_list += [index] * len(files)
    if labels is None:
        label_list, class_names = None, None
    elif not isinstance(labels, str):
        if len(labels) != len(paths):
            raise ValueError(f"`labels` must have one label per image file: found {len(paths)} files in "
                             f"{directory}. Received: len(labels)={len(labels)}.")
        label_list = [int(v) for v in labels]
        class_names = [str(v) for v in sorted(set(label_list))]
    if verbose:
        print(f"Found {len(paths)} files." if labels is None else
              f"Found {len(paths)} files belonging to {len(class_names)} classes.")
    return paths, label_list, class_names


def _split(paths, label_list, validation_split, subset):
    if not validation_split:
        return paths, label_list
    n_val = int(validation_split * len(paths))
    cut = len(paths) - n_val
    print(f"Using {cut} files for training." if subset == "training" else f"Using {n_val} files for validation.")
    keep = slice(None, cut) if subset == "training" else slice(cut, None)
    return paths[keep], None if label_list is None else label_list[keep]


def _loader(image_size, mode, interpolation, crop, pad):
    def load(path) -> np.ndarray:
        image = resize_image(open_image(str(path)).convert(mode), image_size, interpolation,
                             crop_to_aspect_ratio=crop, pad_to_aspect_ratio=pad)
        array = np.asarray(image, dtype=np.float32)
        return array[:, :, None] if array.ndim == 2 else array
    return load


def _paths_to_dataset(paths, label_list, label_mode, n_classes, load, shuffle, batch_size, seed) -> Dataset:
    from ..datasets.image_folder import _encode  # the label encodings image_folder uses

    if label_mode is None:
        ds = Dataset.from_tensor_slices(np.array(paths))
    else:
        ds = Dataset.from_tensor_slices((np.array(paths), _encode(label_list, label_mode, n_classes)))
    if shuffle:
        ds = ds.shuffle(8 * batch_size if batch_size is not None else 1024, seed=seed)
    ds = ds.map(load) if label_mode is None else ds.map(lambda path, label: (load(path), label))
    return ds if batch_size is None else ds.batch(batch_size)
