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
import math
import os
import pathlib
import struct
import zlib

import numpy as np

from .._io import open_regular_file
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

# An IDX file announcing more data than this (1 GiB; MNIST's largest file holds 47 MB) is refused unread.
IDX_MAX_BYTES = 1 << 30

# IDX type byte -> big-endian dtype.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: os.PathLike | str) -> np.ndarray:
    """Read one IDX file (gzipped or not) into an array, checking it strictly.

    The header's dimensions are multiplied with Python integers and the data
    size they announce is checked against ``IDX_MAX_BYTES`` (1 GiB) and, for a
    plain file, against the file's size before any data is read; a gzipped file
    is inflated with a bounded read, never beyond the announced size plus one
    byte.

    Raises
    ------
    ValueError
        Naming the file, when it is not a regular file, the magic number is
        wrong, the announced size exceeds the cap, or the data size does not
        match the dimensions in the header (truncated or padded file).
    """
    path = pathlib.Path(path)
    with open_regular_file(path, "an IDX file") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
        handle.seek(0)
        if not gzipped:
            return _read_idx_stream(handle, path, os.fstat(handle.fileno()).st_size)
        try:
            with gzip.GzipFile(fileobj=handle) as stream:
                return _read_idx_stream(stream, path, None)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{path} is a damaged gzip file ({error}).") from None


def _read_idx_stream(stream, path: pathlib.Path, file_size: int | None) -> np.ndarray:
    magic = stream.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file: wrong magic number {magic.hex() or '(empty file)'}.")
    ndim, dtype = magic[3], np.dtype(_IDX_DTYPES[magic[2]])
    raw_dims = stream.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise ValueError(f"{path} is truncated: its header announces {ndim} dimensions but the file ends first.")
    dims = struct.unpack(f">{ndim}I", raw_dims)
    expected = math.prod(dims) * dtype.itemsize  # Python ints: 65536**4 does not wrap to 0
    if expected > IDX_MAX_BYTES:
        raise ValueError(f"{path} is refused: its header {dims} announces {expected:,} data bytes, more than "
                         f"the {IDX_MAX_BYTES:,}-byte cap (kernelscope.datasets.mnist.IDX_MAX_BYTES). Nothing was "
                         "read.")
    header = 4 + 4 * ndim
    if file_size is not None and file_size - header != expected:
        found = f"{file_size - header}"
    else:
        data = stream.read(expected + 1)
        if len(data) == expected:
            return np.frombuffer(data, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))
        found = f"{len(data)}" if len(data) < expected else f"more than {expected}"
    raise ValueError(f"{path} has {found} data bytes but its header {dims} announces {expected}: "
                     "the file is truncated or corrupted.")


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
