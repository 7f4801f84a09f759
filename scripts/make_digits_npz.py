"""Write kernelscope/data/digits.npz from scikit-learn's bundled digits.

Run once by hand (``python scripts/make_digits_npz.py``); the result is
committed so that ``ks.datasets.load_digits()`` needs NumPy only.

Source: scikit-learn's copy of the UCI ML "Optical Recognition of Handwritten
Digits" test set (1,797 images, 8x8, values 0..16), distributed with
scikit-learn under the BSD-3-Clause license.

The train/test split is fixed here, once, and stored in the file (rather than
drawn at load time) so that it never changes with a NumPy or scikit-learn
version: stratified by class, 360 test images, ``random_state=0``.
"""

from __future__ import annotations

import pathlib

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

TEST_SIZE = 360
OUT = pathlib.Path(__file__).resolve().parents[1] / "kernelscope" / "data" / "digits.npz"


def main() -> None:
    digits = load_digits()
    images = digits.images.astype(np.uint8)  # integral values 0..16
    if not np.array_equal(images, digits.images):
        raise SystemExit("digits.images are expected to hold integers 0..16")
    labels = digits.target.astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=TEST_SIZE, stratify=labels, random_state=0
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes): train {len(x_train)}, test {len(x_test)}")


if __name__ == "__main__":
    main()
