"""MNIST and Fashion-MNIST from their IDX files, as ``keras.datasets`` returns them.

``load_mnist()`` / ``load_fashion_mnist()`` return
``(x_train, y_train), (x_test, y_test)`` with ``x`` of shape ``(n, 28, 28)``
and ``y`` of shape ``(n,)``, both ``uint8`` (60,000 training and 10,000 test
images), exactly Keras's shapes and dtypes.

The four IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each gzipped or not)
are read from ``path`` or from the cache folder
``$KERNELSCOPE_HOME/<dataset>/`` (default ``~/.cache/kernelscope/<dataset>/``).
``download=True`` fetches the missing ``.gz`` files from the mirrors below and
checks their SHA-256 (the values published alongside the files and used by
several independent loaders; torchvision lists the same files with MD5).

- MNIST (Y. LeCun, C. Cortes, C. Burges; CC BY-SA 3.0): Google's CVDF mirror
  and PyTorch's OSSCI mirror (the original yann.lecun.com host is unreliable).
- Fashion-MNIST (Zalando Research, MIT license): Keras's
  ``tf-keras-datasets`` bucket and the project's own S3 bucket.
"""

from __future__ import annotations

import gzip
import os
import pathlib

import numpy as np

from ._download import cache_dir, download_file

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

MIRRORS = {
    "mnist": [
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ],
    "fashion_mnist": [
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ],
}
# SHA-256 of the gzipped files.
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
        "train-labels-idx1-ubyte": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
        "t10k-images-idx3-ubyte": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
        "t10k-labels-idx1-ubyte": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
    },
}
FASHION_MNIST_CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

# IDX type byte -> big-endian dtype.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: os.PathLike | str) -> np.ndarray:
    """Read one IDX file (gzipped or not) into an array, checking it strictly.

    Raises
    ------
    ValueError
        Naming the file, when the magic number is wrong or the data size does
        not match the dimensions in the header (truncated or padded file).
    """
    path = pathlib.Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file: wrong magic number {raw[:4].hex() or '(empty file)'}.")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path} is truncated: its header announces {ndim} dimensions but the file ends first.")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{path} has {len(raw) - header} data bytes but its header {dims} announces {expected}: "
            "the file is truncated or corrupted."
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _read_bytes(path: pathlib.Path) -> bytes:
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as error:
        raise ValueError(f"{path} is a damaged gzip file ({error}).") from None


def load_mnist(path: os.PathLike | str | None = None, download: bool = False):
    """MNIST handwritten digits: ``(x_train, y_train), (x_test, y_test)``, all ``uint8``.

    Parameters
    ----------
    path : folder holding the four IDX files; default the cache folder
        ``$KERNELSCOPE_HOME/mnist`` (``~/.cache/kernelscope/mnist``).
    download : fetch missing files (SHA-256 verified) into that folder.
    """
    return _load_idx_dataset("mnist", path, download)


def load_fashion_mnist(path: os.PathLike | str | None = None, download: bool = False):
    """Fashion-MNIST (Zalando): same shapes and dtypes as :func:`load_mnist`.

    Class names, by label: ``FASHION_MNIST_CLASS_NAMES``.
    """
    return _load_idx_dataset("fashion_mnist", path, download)


# Keras spelling: ``ks.datasets.mnist.load_data()``.
load_data = load_mnist


def _load_idx_dataset(name: str, path, download: bool):
    folder = pathlib.Path(path).expanduser() if path is not None else cache_dir(name)
    found = {base: _find(folder, base) for base in FILES}
    missing = [base for base, file in found.items() if file is None]
    if missing and download:
        for base in missing:
            urls = [mirror + base + ".gz" for mirror in MIRRORS[name]]
            found[base] = download_file(urls, folder / (base + ".gz"), SHA256[name][base])
    elif missing:
        raise FileNotFoundError(
            f"{name} files not found in {folder}: missing " + ", ".join(f"{base}[.gz]" for base in missing)
            + f". Place the four IDX files ({', '.join(FILES)}, gzipped or not) in that folder, "
            "or pass download=True to fetch them."
        )
    arrays = {base: read_idx(file) for base, file in found.items()}
    return _split(arrays, "train", found), _split(arrays, "t10k", found)


def _find(folder: pathlib.Path, base: str) -> pathlib.Path | None:
    for candidate in (folder / base, folder / (base + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _split(arrays: dict, prefix: str, files: dict):
    images, labels = arrays[f"{prefix}-images-idx3-ubyte"], arrays[f"{prefix}-labels-idx1-ubyte"]
    image_file, label_file = files[f"{prefix}-images-idx3-ubyte"], files[f"{prefix}-labels-idx1-ubyte"]
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{image_file} must hold uint8 images of shape (n, rows, cols). "
                         f"Received: dtype={images.dtype}, shape={images.shape}.")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(f"{label_file} must hold uint8 labels of shape (n,). "
                         f"Received: dtype={labels.dtype}, shape={labels.shape}.")
    if len(images) != len(labels):
        raise ValueError(f"{image_file} holds {len(images)} images but {label_file} holds {len(labels)} labels.")
    return images, labels
