"""Model files: one zip holding ``config.json`` and ``weights.npz``.

``config.json`` names the format and its version, the architecture (Keras 3's
config layout) and the compile settings; ``weights.npz`` holds every weight
under ``model/layers/<layer name>/vars/<i>`` and the optimizer state under
``optimizer/<key>``. Loading reads JSON and ``np.load(..., allow_pickle=False)``
only: nothing in the file is unpickled or executed. Writes go to a temporary
file in the destination folder, renamed into place once complete.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import warnings
import zipfile
import zlib

import numpy as np

from .._io import atomic_write

from ..layers.lambda_layer import safe_mode_scope
from .serialization import deserialize_layer, serialize_layer

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "weight_items", "FORMAT_NAME",
           "FORMAT_VERSION"]

FORMAT_NAME = "kernelscope.model"
FORMAT_VERSION = 1
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, RuntimeError)


# ------------------------------------------------------------------ weights
def weight_items(model) -> list:
    """``[(key, Variable)]`` in a stable order: ``layers/<name>/vars/<i>``, then the model's own."""
    items, seen = [], set()
    for layer in model.layers:
        for i, var in enumerate(layer.weights):
            if id(var) not in seen:
                seen.add(id(var))
                items.append((f"layers/{layer.name}/vars/{i}", var))
    for i, var in enumerate(model._weights):
        if id(var) not in seen:
            seen.add(id(var))
            items.append((f"vars/{i}", var))
    return items


def _assign_weights(model, arrays: dict, path: str) -> None:
    items = weight_items(model)
    expected = {key for key, _ in items}
    missing = sorted(expected - set(arrays))
    unexpected = sorted(set(arrays) - expected)
    if missing or unexpected:
        raise ValueError(f"The weights in '{path}' do not match model '{model.name}': missing {missing[:5]}"
                         f"{' ...' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}"
                         f"{' ...' if len(unexpected) > 5 else ''}.")
    for key, var in items:
        if arrays[key].shape != var.data.shape:
            raise ValueError(f"Weight '{key}' in '{path}' has shape {arrays[key].shape}, but model "
                             f"'{model.name}' expects {var.data.shape}.")
    for key, var in items:
        var.assign(arrays[key].astype(var.data.dtype, copy=False))


def _atomic_write(path: str, write) -> None:
    """Durable atomic write: fsync'd temporary file renamed over ``path``."""
    atomic_write(path, write, fsync=True)


def _fspath(filepath) -> str:
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError("`filepath` must be a string or a path-like object such as 'model.keras'. "
                        f"Received: filepath={filepath!r} (of type {type(filepath).__name__}).")
    return os.fspath(filepath)


def _check_target(path, overwrite: bool) -> str:
    path = _fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"Cannot save to '{path}': it is a directory. Give a file path such as 'model.keras'.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"Cannot save to '{path}': the folder '{folder}' does not exist. "
                         "Create it first (os.makedirs) or choose another path.")
    if not overwrite and os.path.exists(path):
        raise ValueError(f"File '{path}' already exists and overwrite=False.")
    return path


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Write the model's weights to an ``.npz`` file atomically."""
    path = _check_target(filepath, overwrite)
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet, so it has no weights to save.")
    arrays = {key: var.data for key, var in weight_items(model)}
    _atomic_write(path, lambda handle: np.savez(handle, **arrays))


def load_weights(model, filepath) -> None:
    """Load weights written by :func:`save_weights` or contained in a :func:`save_model` file."""
    path = _existing(filepath)
    if zipfile.is_zipfile(path) and _is_model_archive(path):
        arrays, _ = _read_archive_weights(path)
        model_arrays = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
    else:
        model_arrays = _read_npz(path, pathlib.Path(path).read_bytes, None)
    _assign_weights(model, model_arrays, path)


# ------------------------------------------------------------------- saving
def _compile_entry(value, module, what: str):
    """A JSON-able form of a loss/metric/optimizer identifier (strings stay strings)."""
    from .. import saving as registry

    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_compile_entry(v, module, what) for v in value]
    if isinstance(value, dict):
        return {k: _compile_entry(v, module, what) for k, v in value.items()}
    if isinstance(value, type) or not hasattr(value, "get_config"):
        name = registry.get_registered_name(value)
        if getattr(module, name, None) is value or registry.get_registered_object(name) is value:
            return name
        raise TypeError(f"The {what} {value!r} cannot be saved: register it with "
                        "@ks.saving.register_keras_serializable().")
    cls = type(value)
    return {"class_name": registry.get_registered_name(cls), "config": value.get_config()}


def compile_config(model) -> dict | None:
    """The arguments of ``compile`` as JSON-able data, or None when not compiled."""
    from .. import losses, metrics, optimizers

    if not model.compiled:
        return None
    cfg = model._compile_config
    try:
        return {"optimizer": _compile_entry(model.optimizer, optimizers, "optimizer"),
                "loss": _compile_entry(cfg["loss"], losses, "loss"),
                "metrics": _compile_entry(cfg["metrics"], metrics, "metric"),
                "loss_weights": cfg["loss_weights"]}
    except TypeError as err:
        warnings.warn(f"The compile settings are not saved: {err}", stacklevel=3)
        return None


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


def _write_weights_npz(archive: zipfile.ZipFile, arrays: dict) -> None:
    with archive.open("weights.npz", "w", force_zip64=True) as member:
        np.savez(member, **arrays)


def _write_archive(handle, config_text: str, arrays: dict) -> None:
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("config.json", config_text, compress_type=zipfile.ZIP_DEFLATED)
        _write_weights_npz(archive, arrays)


def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Save architecture, weights, compile settings and optimizer state to one zip file (atomically)."""
    from .. import __version__

    path = _check_target(filepath, overwrite)
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet; build it (give it an input shape, call it or "
                         "fit it) before saving.")
    config = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "kernelscope_version": __version__,
              "model": serialize_layer(model), "compile_config": compile_config(model)}
    config_text = json.dumps(config, default=_json_default, indent=1)
    arrays = {f"model/{key}": var.data for key, var in weight_items(model)}
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and optimizer.built:
        arrays.update({f"optimizer/{k}": np.asarray(v) for k, v in optimizer.get_state().items()})
    _atomic_write(path, lambda handle: _write_archive(handle, config_text, arrays))


# ------------------------------------------------------------------ loading
def _existing(filepath) -> str:
    path = _fspath(filepath)
    if not os.path.exists(path):
        raise ValueError(f"File not found: filepath={path}. Please ensure the file is an accessible model file.")
    if os.path.isdir(path):
        raise ValueError(f"'{path}' is a directory, not a model file.")
    return path


def _is_model_archive(path: str) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "config.json" in archive.namelist()
    except _READ_ERRORS:
        return False


class _NotNpz(ValueError):
    pass


def _read_npz(path: str, read_bytes, member: str | None) -> dict:
    """The arrays of an ``.npz`` (a standalone file, or ``member`` of a model archive); nothing is unpickled."""
    try:
        loaded = np.load(io.BytesIO(read_bytes()), allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise _NotNpz(f"it holds a single array of shape {getattr(loaded, 'shape', '?')} (a .npy file), "
                             "not named weights")
        with loaded as npz:
            return {key: npz[key] for key in npz.files}
    except _READ_ERRORS as err:
        reason = _npz_problem(err)
        if member is not None:
            raise ValueError(f"'{path}' is corrupted or not a kernelscope file: {member} could not be read "
                             f"({reason}).") from None
        raise ValueError(f"'{path}' is not a kernelscope weights file (.npz): {reason}.") from None


def _npz_problem(err: Exception) -> str:
    """What went wrong, in words that never suggest unpickling the file."""
    text = str(err)
    if isinstance(err, _NotNpz):
        return text
    if "pickle" in text:
        if "Object arrays" in text:
            return "it holds arrays of Python objects, which kernelscope never loads (they could run code)"
        return "it is text or pickled Python data, not NumPy arrays"
    return f"{type(err).__name__}: {text}"


def _open_archive(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except _READ_ERRORS as err:
        raise ValueError(f"'{path}' is not a kernelscope model file: it is not a readable zip archive "
                         f"(a different kind of file, or truncated). ({err})") from err


def _read_config(archive: zipfile.ZipFile, path: str) -> dict:
    names = archive.namelist()
    if "config.json" not in names or "weights.npz" not in names:
        hint = (" It looks like a Keras .keras file; load its weights with ks.interop.load_keras_weights."
                if "model.weights.h5" in names else "")
        raise ValueError(f"'{path}' is a zip archive but not a kernelscope model file: it must contain "
                         f"config.json and weights.npz, and it holds {names[:5]}.{hint}")
    try:
        config = json.loads(archive.read("config.json").decode("utf-8"))
    except _READ_ERRORS + (UnicodeDecodeError,) as err:
        raise ValueError(f"'{path}' is corrupted: its config.json could not be read ({err}).") from err
    if not isinstance(config, dict) or config.get("format") != FORMAT_NAME:
        raise ValueError(f"'{path}' is not a kernelscope model file: its config.json does not declare "
                         f"format '{FORMAT_NAME}'.")
    if not isinstance(config.get("format_version"), int) or config["format_version"] > FORMAT_VERSION:
        raise ValueError(f"'{path}' uses format version {config.get('format_version')!r}; this kernelscope "
                         f"reads versions up to {FORMAT_VERSION}. Upgrade kernelscope to load it.")
    return config


def _read_archive_weights(path: str) -> tuple:
    with _open_archive(path) as archive:
        config = _read_config(archive, path)
        arrays = _read_npz(path, lambda: archive.read("weights.npz"), "weights.npz")
    return arrays, config


def _restore_compile(model, config: dict, arrays: dict, custom_objects) -> None:
    from .. import losses, metrics, optimizers

    def resolve(value, module):
        if isinstance(value, dict) and "class_name" in value and "config" in value:
            from .. import saving as registry

            cls = registry.get_registered_object(value["class_name"], custom_objects)
            return cls.from_config(value["config"]) if cls is not None else module.get(value)
        if isinstance(value, list):
            return [resolve(v, module) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v, module) for k, v in value.items()}
        if isinstance(value, str):
            from .. import saving as registry

            return registry.get_registered_object(value, custom_objects) or value
        return value

    model.compile(optimizer=resolve(config["optimizer"], optimizers), loss=resolve(config["loss"], losses),
                  metrics=resolve(config["metrics"], metrics), loss_weights=config.get("loss_weights"))
    state = {k[len("optimizer/"):]: v for k, v in arrays.items() if k.startswith("optimizer/")}
    if state:
        model.optimizer.set_state(state, model.trainable_weights)


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True):
    """Rebuild a model saved by ``model.save``: architecture, weights, compile settings, optimizer state.

    Raises ValueError naming the file when it is missing, not a zip, a foreign or
    truncated zip, corrupted, or names a layer class that is not registered.
    """
    path = _existing(filepath)
    arrays, config = _read_archive_weights(path)
    try:
        with safe_mode_scope(safe_mode):  # Lambda bytecode only when the caller trusts the file
            model = deserialize_layer(config["model"], custom_objects)
    except (ValueError, TypeError, KeyError) as err:
        raise ValueError(f"Cannot rebuild the model in '{path}': {err}") from err
    model_arrays = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
    _assign_weights(model, model_arrays, path)
    if compile and config.get("compile_config"):
        _restore_compile(model, config["compile_config"], arrays, custom_objects)
    return model
