"""Keras 3's ``.keras`` format: a zip of ``metadata.json``, ``config.json`` and ``model.weights.h5``.

Written so that ``keras.saving.load_model`` opens it (see
:mod:`kernelscope.saving.keras_config` and :mod:`kernelscope.saving.keras_weights`);
read from files Keras or kernelscope made with the guarantees of
:mod:`kernelscope.saving.native`: ``config.json`` capped at 64 MiB; the model
rebuilt within the weight bytes ``model.weights.h5`` declares (at most 100
times its stored size); ``model.weights.h5`` read only when its declared size
fits the architecture; every dataset's shape checked before it is read, stored
inside the file (no external storage, virtual datasets or links), finite and
real; nothing assigned before every array has passed; nothing unpickled, and
no code run unless ``safe_mode=False``.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile

import numpy as np

from .._io import atomic_write
from .._safe_load import MAX_CONFIG_BYTES, RefusedFile, read_member
from ..interop.h5_files import KERAS3, open_h5
from ..interop.keras_h5 import checked_values
from .keras_config import from_keras, to_keras
from .keras_weights import read_optimizer, weights_h5_bytes
from .native import arrays_bound, rebuild, weights_budget
from .serialization import serialize_layer

__all__ = ["save_keras_file", "load_keras_file", "KERAS_VERSION"]

KERAS_VERSION = "3.15.1"  # the Keras release whose format this writes (and whose loader the tests use)
_WEIGHTS = "model.weights.h5"
_READ_ERRORS = (zipfile.BadZipFile, EOFError, OSError, KeyError, RuntimeError, UnicodeDecodeError,
                json.JSONDecodeError)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, np.dtype):
        return value.name
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def model_config(model) -> dict:
    """The whole ``config.json``: the model in Keras's schema with its ``build_config`` and ``compile_config``."""
    from .compile import compile_config

    entry = serialize_layer(model)
    config = to_keras(entry, {"input_shape": entry["config"].get("build_input_shape")})
    config["compile_config"] = compile_config(model)
    return config


def save_keras_file(model, path: str, include_optimizer: bool = True) -> None:
    """Write ``model`` to the checked target ``path`` as a Keras 3 ``.keras`` file, atomically."""
    from .. import __version__

    config_text = json.dumps(model_config(model), default=_json_default)
    metadata = json.dumps({"keras_version": KERAS_VERSION, "kernelscope_version": __version__,
                           "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    weights = weights_h5_bytes(model, include_optimizer)
    atomic_write(path, lambda handle: _write_archive(handle, metadata, config_text, weights), fsync=True)


def _write_archive(handle, metadata: str, config_text: str, weights: bytes) -> None:
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("metadata.json", metadata, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("config.json", config_text, compress_type=zipfile.ZIP_DEFLATED)
        with archive.open(_WEIGHTS, "w", force_zip64=True) as member:
            member.write(weights)


def _read_config(archive: zipfile.ZipFile, path: str) -> dict:
    try:
        config = json.loads(read_member(archive, "config.json", MAX_CONFIG_BYTES, path,
                                        "the 64 MiB cap for a config").decode("utf-8"))
    except _READ_ERRORS as err:
        raise RefusedFile(f"'{path}' is corrupted: its config.json could not be read ({err}).") from err
    if not isinstance(config, dict) or "class_name" not in config:
        raise RefusedFile(f"'{path}' is not a Keras model file: its config.json is not a serialized model "
                          "(a dict with 'class_name' and 'config').")
    return config


def _weights_bytes(archive: zipfile.ZipFile, path: str, model) -> bytes:
    shapes = [var.data.shape for var in model.weights] + [(1,)] * 2
    cap = arrays_bound(shapes) + (16 << 10) * (len(model.layers) + 2)  # + HDF5 group records per layer
    try:
        return read_member(archive, _WEIGHTS, cap, path, "the model's weights and optimizer state can take, "
                                                          "even in float64")
    except _READ_ERRORS as err:
        raise RefusedFile(f"'{path}' is corrupted: {_WEIGHTS} could not be read ({type(err).__name__}: "
                          f"{err}).") from None


def load_keras_file(archive: zipfile.ZipFile, path: str, custom_objects=None, compile: bool = True,
                    safe_mode: bool = True):
    """Rebuild the model of an open ``.keras`` zip: architecture, weights, compile settings, optimizer state."""
    from .compile import optimizer_targets, restore_compile, set_optimizer_state

    if _WEIGHTS not in archive.namelist():
        raise RefusedFile(f"'{path}' holds config.json but not {_WEIGHTS}; Keras's npz weights format "
                          f"(model.weights.npz) is not read by kernelscope. Members: {archive.namelist()[:8]}.")
    config = from_keras(_read_config(archive, path))
    model = rebuild(config, custom_objects, path, weights_budget(archive.getinfo(_WEIGHTS)), safe_mode)
    restored = compile and config.get("compile_config")
    if restored:
        restore_compile(model, config["compile_config"], path, custom_objects)
    handle = open_h5(io.BytesIO(_weights_bytes(archive, path, model)), path)
    try:
        values = checked_values(model, handle, KERAS3, path)
        targets = optimizer_targets(model) if restored else {}
        state = read_optimizer(handle, model, targets, path) if restored else {}
    finally:
        handle.close()
    if state:
        set_optimizer_state(model, state, {k: targets[k] for k in state}, path)
    for var, value in values:
        var.assign(value)
    return model
