"""Datasets as NumPy arrays, in ``keras.datasets``'s shapes and dtypes.

- :func:`load_digits`: 1,797 8x8 digits bundled with the package (no download).
- :func:`load_mnist`, :func:`load_fashion_mnist`: the IDX files from a folder or
  the cache (``$KERNELSCOPE_HOME``, default ``~/.cache/kernelscope``),
  ``download=True`` to fetch them with SHA-256 checks.
- :func:`image_folder`: ``keras.utils.image_dataset_from_directory`` as arrays.

The Keras spellings ``ks.datasets.mnist.load_data()`` and
``ks.datasets.fashion_mnist.load_data()`` work too.
"""

from __future__ import annotations

from types import SimpleNamespace

from . import mnist
from ._download import cache_dir, data_home
from .digit_scenes import make_digit_scenes, make_digit_tiles
from .digits import load_digits
from .image_folder import ImageFolderData, image_folder
from .shipsnet import load_scene, load_shipsnet
from .mnist import FASHION_MNIST_CLASS_NAMES, load_fashion_mnist, load_mnist, read_idx

fashion_mnist = SimpleNamespace(load_data=load_fashion_mnist)

__all__ = [
    "load_digits", "load_mnist", "load_fashion_mnist", "image_folder", "ImageFolderData", "read_idx",
    "FASHION_MNIST_CLASS_NAMES", "data_home", "cache_dir", "mnist", "fashion_mnist",
    "make_digit_scenes", "make_digit_tiles", "load_shipsnet", "load_scene",
]
