"""Local stand-in data for scripts/run_keras_examples.py (there is no network here).

Two halves:

- folder writers (``write_*``), called by the runner before an example starts, put small
  image folders into the example's working directory in the layout the example reads
  (Kaggle's ``PetImages/Cat``, Oxford pets' ``images/`` + ``annotations/trimaps/``,
  Totally-Looks-Like's ``~/.keras/left`` + ``right``);
- loaders, called from inside the example by the substituted lines, return arrays of
  the shapes and dtypes of the real downloads (``mnist_load_data``, ``cifar10_load_data``,
  ``image_file`` for ``keras.utils.get_file`` of a picture, ``tfds_load`` for
  ``tensorflow_datasets.load("cats_vs_dogs")``).

Everything is seeded, so two runs see the same data. Images carry a class-dependent
pattern under the noise, so a model can learn something in one epoch.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

# Seeds are fixed per loader, so reruns compare like with like.
_SEED = 1337


def _digit_like(rng: np.random.Generator, labels: np.ndarray, size: int) -> np.ndarray:
    """uint8 images (n, size, size): noise plus a bright bar whose place codes the label."""
    n = len(labels)
    images = rng.integers(0, 60, size=(n, size, size)).astype(np.int32)
    band = max(size // 10, 1)
    for i, label in enumerate(labels):
        row = (int(label) * band) % (size - band)
        images[i, row:row + band, size // 4: 3 * size // 4] += 190
    return np.clip(images, 0, 255).astype(np.uint8)


def mnist_load_data(n_train: int = 1000, n_test: int = 200):
    """Stand-in for ``keras.datasets.mnist.load_data()``: uint8 (n, 28, 28), uint8 labels."""
    rng = np.random.default_rng(_SEED)
    y_train = rng.integers(0, 10, size=n_train).astype(np.uint8)
    y_test = rng.integers(0, 10, size=n_test).astype(np.uint8)
    # Every class present, as in MNIST (the siamese pair makers index each class).
    y_train[:10] = np.arange(min(n_train, 10))
    y_test[:10] = np.arange(min(n_test, 10))
    return ((_digit_like(rng, y_train, 28), y_train), (_digit_like(rng, y_test, 28), y_test))


def cifar10_load_data(n_train: int = 500, n_test: int = 100):
    """Stand-in for ``keras.datasets.cifar10.load_data()``: uint8 (n, 32, 32, 3), (n, 1)."""
    rng = np.random.default_rng(_SEED + 1)
    y_train = rng.integers(0, 10, size=(n_train, 1)).astype(np.uint8)
    y_test = rng.integers(0, 10, size=(n_test, 1)).astype(np.uint8)
    x_train = np.stack([_digit_like(rng, y_train[:, 0], 32)] * 3, axis=-1)
    x_test = np.stack([_digit_like(rng, y_test[:, 0], 32)] * 3, axis=-1)
    return (x_train, y_train), (x_test, y_test)


def _photo(rng: np.random.Generator, height: int, width: int, tint: int = 0) -> np.ndarray:
    """A uint8 RGB picture: a smooth gradient, a tinted disc and some noise."""
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 255 // max(width - 1, 1), yy * 255 // max(height - 1, 1),
                     np.full_like(xx, 128)], axis=-1).astype(np.int32)
    disc = (yy - height / 2) ** 2 + (xx - width / 2) ** 2 < (min(height, width) / 3) ** 2
    base[disc, tint % 3] = 230
    base += rng.integers(-20, 20, size=base.shape)
    return np.clip(base, 0, 255).astype(np.uint8)


def _save(array: np.ndarray, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def image_file(fname: str, height: int = 120, width: int = 160) -> str:
    """Stand-in for ``keras.utils.get_file(fname, url)`` of a picture: writes it, returns its path."""
    rng = np.random.default_rng(sum(map(ord, fname)))
    path = Path.cwd() / "downloads" / fname
    # keras-io's "jpg" downloads are sometimes PNGs; Pillow picks the format from the suffix.
    _save(_photo(rng, height, width, tint=len(fname)), path)
    return str(path)


def write_pet_images(root: Path, per_class: int = 24, size: int = 64) -> None:
    """Kaggle cats-vs-dogs layout: PetImages/{Cat,Dog}/N.jpg (JFIF), one corrupt file each."""
    rng = np.random.default_rng(_SEED + 2)
    for tint, folder in enumerate(("Cat", "Dog")):
        # 6779.jpg is the file the example predicts on at its end.
        names = ["6779"] + [str(i) for i in range(per_class - 1)]
        for name in names:
            _save(_photo(rng, size, size + 8, tint=tint), root / "PetImages" / folder / f"{name}.jpg")
        # The example deletes files without a JFIF header; give it one to delete.
        (root / "PetImages" / folder / "corrupt.jpg").write_bytes(b"\x00" * 64)


def write_oxford_pets(root: Path, count: int = 28, size: int = 72) -> None:
    """Oxford-IIIT pets layout: images/NAME.jpg and annotations/trimaps/NAME.png (values 1..3)."""
    rng = np.random.default_rng(_SEED + 3)
    for i in range(count):
        name = f"pet_{i:03d}"
        _save(_photo(rng, size, size, tint=i), root / "images" / f"{name}.jpg")
        trimap = np.ones((size, size), dtype=np.uint8)  # 1 = pet
        trimap[: size // 4] = 2  # 2 = background
        trimap[size // 4: size // 4 + 2] = 3  # 3 = border
        _save(trimap, root / "annotations" / "trimaps" / f"{name}.png")
    # The real archive holds macOS "._" files the example filters out.
    (root / "annotations" / "trimaps" / "._pet_000.png").write_bytes(b"\x00")


def write_totally_looks_like(home: Path, count: int = 10, size: int = 40) -> None:
    """Totally-Looks-Like layout: ~/.keras/left/NAME.jpg and ~/.keras/right/NAME.jpg."""
    rng = np.random.default_rng(_SEED + 4)
    for i in range(count):
        picture = _photo(rng, size, size, tint=i)
        _save(picture, home / ".keras" / "left" / f"{i:05d}.jpg")
        _save(np.clip(picture.astype(int) + 10, 0, 255).astype(np.uint8),
              home / ".keras" / "right" / f"{i:05d}.jpg")


def tfds_load(name: str, split, as_supervised: bool = False, sizes=(16, 8, 8)):
    """Stand-in for ``tensorflow_datasets.load("cats_vs_dogs", split=[3 splits], as_supervised=True)``.

    Returns one unbatched dataset per split, of (uint8 image (60, 80, 3), int64 label), built
    with the tf.data-like ``kernelscope.data`` (the API the example goes on to use).
    """
    if name != "cats_vs_dogs" or not as_supervised or len(split) != len(sizes):
        raise ValueError(f"stand-in covers only cats_vs_dogs, as_supervised, 3 splits. Received: "
                         f"name={name!r}, split={split!r}, as_supervised={as_supervised}")
    from kernelscope import data as tf_data

    rng = np.random.default_rng(_SEED + 5)
    datasets = []
    for n in sizes:
        labels = rng.integers(0, 2, size=n).astype(np.int64)
        images = np.stack([_photo(rng, 60, 80, tint=int(label)) for label in labels])
        datasets.append(tf_data.Dataset.from_tensor_slices((images, labels)))
    return datasets


class Tfds:
    """The two ``tensorflow_datasets`` functions transfer_learning calls."""

    load = staticmethod(tfds_load)

    @staticmethod
    def disable_progress_bar() -> None:
        """No progress bar to disable."""


tfds = Tfds()

# Which folder writer each example needs before it starts (runner side).
FOLDERS = {
    "image_classification_from_scratch": lambda cwd, home: write_pet_images(cwd),
    "oxford_pets_image_segmentation": lambda cwd, home: write_oxford_pets(cwd),
    "siamese_network": lambda cwd, home: write_totally_looks_like(home),
}


def prepare(name: str, cwd: Path, home: Path) -> None:
    """Write the folders example ``name`` reads from disk (nothing for most examples)."""
    writer = FOLDERS.get(name)
    if writer is not None:
        writer(Path(cwd), Path(home))
    os.makedirs(home, exist_ok=True)
