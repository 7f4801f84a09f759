"""Where ``weights="imagenet"`` comes from: Keras's own weight files, in a local cache.

kernelscope never reaches the network on its own. ``weights="imagenet"`` (the
default, as in Keras) reads the file Keras itself downloads, under the name
Keras caches it as (``keras.utils.get_file(fname, ...)`` in ``~/.keras/models``),
from the kernelscope model cache:

- ``$KERNELSCOPE_HOME/models/`` when ``KERNELSCOPE_HOME`` is set,
- ``~/.kernelscope/models/`` otherwise.

A missing file is an error naming the file, its URL and the folder to put it
in; ``download=True`` fetches it with :func:`ks.utils.get_file` instead, checking
Keras's pinned hash. A file the user placed is not hashed (the loader checks
every array's shape against the architecture, so a wrong or truncated file
still fails with a clear message).
"""

from __future__ import annotations

import json
import os
import pathlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["KerasWeights", "keras_file", "keras_hash", "tf_kernels_files", "models_dir", "resolve_weights"]

KERAS_BUCKET = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclass(frozen=True)
class KerasWeights:
    """One ImageNet weight file as Keras fetches it: cache name, URL and pinned hash (None: Keras pins none)."""

    fname: str
    origin: str
    file_hash: str | None = None


@lru_cache(maxsize=1)
def _hashes() -> dict:
    text = resources.files("kernelscope").joinpath("data/keras_weights_md5.json").read_text("utf-8")
    return json.loads(text)


def keras_hash(fname: str) -> str | None:
    """The MD5 Keras pins for its file ``fname`` (``kernelscope/data/keras_weights_md5.json``), or None."""
    return None if fname.startswith("_") else _hashes().get(fname)


def keras_file(folder: str, fname: str) -> KerasWeights:
    """A file from Keras's usual bucket, ``.../keras-applications/<folder>/<fname>``, with Keras's hash."""
    return KerasWeights(fname, f"{KERAS_BUCKET}{folder}/{fname}", keras_hash(fname))


def tf_kernels_files(folder: str, family: str):
    """``include_top -> KerasWeights`` for Keras's usual ``<family>_weights_tf_dim_ordering_tf_kernels[_notop].h5``."""
    def imagenet(include_top: bool) -> KerasWeights:
        return keras_file(folder, f"{family}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5")
    return imagenet


def _home() -> pathlib.Path:
    root = os.environ.get("KERNELSCOPE_HOME")
    return pathlib.Path(root).expanduser() if root else pathlib.Path.home() / ".kernelscope"


def models_dir() -> pathlib.Path:
    """The model cache: ``$KERNELSCOPE_HOME/models`` if the variable is set, else ``~/.kernelscope/models``."""
    return _home() / "models"


def resolve_weights(weights, imagenet: KerasWeights | None, download: bool = False) -> str | None:
    """The weight file to load for ``weights`` (None: random initialization).

    Raises
    ------
    FileNotFoundError
        ``weights="imagenet"``, the file is not in the cache and ``download`` is False.
    ValueError
        ``weights="imagenet"`` for an architecture without ImageNet weights.
    """
    if not isinstance(download, bool):
        raise TypeError(f"`download` must be True or False. Received: download={download!r}.")
    if weights != "imagenet":
        return None if weights is None else os.fspath(weights)
    if imagenet is None:
        raise ValueError("There are no ImageNet weights for this architecture: pass weights=None (random "
                         "initialization) or the path to a weight file. Received: weights='imagenet'.")
    cached = models_dir() / imagenet.fname
    if cached.is_file():
        return str(cached)
    if download:
        from ..utils import get_file

        return get_file(imagenet.fname, imagenet.origin, file_hash=imagenet.file_hash, cache_subdir="models",
                        cache_dir=_home())
    raise FileNotFoundError(
        f"The ImageNet weights are not in the kernelscope model cache: put Keras's file `{imagenet.fname}` "
        f"(from {imagenet.origin}) at {cached} (the cache is $KERNELSCOPE_HOME/models, else "
        "~/.kernelscope/models), pass download=True to fetch it, or pass weights=None for random weights.")
