"""``save_model`` / ``load_model`` / ``save_weights`` / ``load_weights``: each file name or file kind to its format.

=====================  ============================================  ==========================================
file                   written by                                    read by
=====================  ============================================  ==========================================
``x.keras``            ``model.save`` (Keras 3 zip)                  ``load_model``; ``load_weights``
``x.weights.h5``       ``model.save_weights`` (Keras 3 layout)       ``load_weights``
``x.h5`` (legacy)      refused: Keras 3 deprecates it                ``load_model``; ``load_weights``
``x.npz``              ``model.save_weights`` (NumPy arrays)         ``load_weights``
kernelscope zip        earlier kernelscope versions                  ``load_model``; ``load_weights``
=====================  ============================================  ==========================================

Readers pick the format from the file's content, not its name.
"""

from __future__ import annotations

import zipfile

from .._io import open_regular_file
from . import native
from .keras_file import load_keras_file, save_keras_file
from .paths import check_target, existing_file

__all__ = ["save_model", "load_model", "save_weights", "load_weights"]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _is_hdf5(path: str) -> bool:
    with open_regular_file(path, "a model file") as handle:
        return handle.read(8) == _HDF5_SIGNATURE


def _zip_members(path: str) -> list:
    """The member names of the zip ``path``, or [] when it is not a readable zip."""
    try:
        with open_regular_file(path, "a model file") as handle, zipfile.ZipFile(handle) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return []


def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Save architecture, weights, compile settings and optimizer state to a Keras 3 ``.keras`` file (atomically)."""
    path = check_target(filepath, overwrite)
    if path.endswith((".h5", ".hdf5")):
        raise ValueError("Saving whole models to the legacy HDF5 format is not supported (Keras 3 deprecates it); "
                         f"save to a '.keras' file, or the weights alone with save_weights('x.weights.h5'). "
                         f"Received: filepath={path}")
    if not path.endswith(".keras"):
        raise ValueError("Invalid filepath extension for saving. Please add a `.keras` extension for the Keras "
                         f"format. Received: filepath={path}")
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet; build it (give it an input shape, call it or "
                         "fit it) before saving.")
    save_keras_file(model, path, include_optimizer)


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True):
    """Rebuild a model from a ``.keras`` file (Keras 3 or kernelscope), a legacy Keras ``.h5`` file, or a
    kernelscope model file of an earlier version.

    Raises ValueError naming the file when it is missing, not a regular file, not
    a model file, truncated, corrupted, larger than its architecture needs, holds
    a non-finite or non-float weight, has bad compile settings, or names a layer
    class kernelscope does not have or that is not registered. With
    ``safe_mode=True`` (the default) nothing in the file is executed;
    ``safe_mode=False`` lets a ``Lambda`` layer's saved bytecode load, as in
    Keras: only for files you trust.
    """
    path = existing_file(filepath)
    if _is_hdf5(path):
        from .legacy_h5 import load_legacy_h5

        return load_legacy_h5(path, custom_objects, compile, safe_mode)
    if {"model.weights.h5", "model.weights.npz"} & set(_zip_members(path)):
        with open_regular_file(path, "a model file") as handle, native.open_archive(handle, path) as archive:
            return load_keras_file(archive, path, custom_objects, compile, safe_mode)
    return native.load_model(path, custom_objects, compile, safe_mode)


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Write the model's weights atomically: Keras 3's layout for ``.weights.h5``, NumPy arrays for ``.npz``."""
    path = check_target(filepath, overwrite)
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet, so it has no weights to save.")
    if path.endswith(".weights.h5"):
        from .._io import atomic_write
        from .keras_weights import weights_h5_bytes

        data = weights_h5_bytes(model)
        atomic_write(path, lambda handle: handle.write(data), fsync=True)
    elif path.endswith(".npz"):
        native.save_weights(model, path)
    else:
        raise ValueError("The filename must end in `.weights.h5` (Keras 3's weights format) or `.npz` (NumPy "
                         f"arrays). Received: filepath={path}")


def load_weights(model, filepath) -> None:
    """Load weights from a ``.weights.h5``, ``.keras``, legacy ``.h5``, ``.npz`` or kernelscope model file.

    Raises ValueError naming the file and the array when the file does not match
    the model or holds a bad array; the model is then left unchanged.
    """
    path = existing_file(filepath)
    if _is_hdf5(path) or "model.weights.h5" in _zip_members(path):
        from ..interop import load_keras_weights

        load_keras_weights(model, path)
        return
    native.load_weights(model, path)
