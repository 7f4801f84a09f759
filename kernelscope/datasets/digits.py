"""The 8x8 handwritten digits bundled with kernelscope (no download, NumPy only).

Source: the UCI ML "Optical Recognition of Handwritten Digits" data set
(E. Alpaydin, C. Kaynak), 1,797 images of 8x8 pixels with values 0..16, as
shipped by scikit-learn (``sklearn.datasets.load_digits``, BSD-3-Clause
license). ``kernelscope/data/digits.npz`` was written from it once by
``scripts/make_digits_npz.py``, which also fixed the split: stratified by class,
``random_state=0``, 1,437 training and 360 test images (about 144 and 36 per
class).
"""

from __future__ import annotations

import pathlib

import numpy as np

_NPZ = pathlib.Path(__file__).resolve().parents[1] / "data" / "digits.npz"
N_TRAIN, N_TEST = 1437, 360


def load_digits():
    """The bundled 8x8 digits: ``(x_train, y_train), (x_test, y_test)``.

    ``x`` is float32 of shape ``(n, 8, 8, 1)`` scaled to [0, 1] (pixel / 16);
    ``y`` is uint8 in 0..9 (the label dtype of ``keras.datasets.mnist``).

    >>> (x_train, y_train), (x_test, y_test) = load_digits()
    >>> x_train.shape, x_test.shape, y_train.dtype.name
    ((1437, 8, 8, 1), (360, 8, 8, 1), 'uint8')
    """
    with np.load(_NPZ) as data:
        splits = [(data[f"x_{part}"], data[f"y_{part}"]) for part in ("train", "test")]
    return tuple((images[..., None].astype(np.float32) / np.float32(16.0), labels) for images, labels in splits)
