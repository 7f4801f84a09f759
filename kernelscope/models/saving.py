"""Model files: one zip holding ``config.json`` and ``weights.npz``.

``config.json`` names the format and its version, the architecture (Keras 3's
config layout) and the compile settings; ``weights.npz`` holds every weight
under ``model/layers/<layer name>/vars/<i>`` and the optimizer state under
``optimizer/<key>``. Writes go to a temporary file in the destination folder,
renamed into place once complete (see :mod:`kernelscope._io`). Loading lives in
:mod:`kernelscope.models.loading`: sizes checked before reading, nothing
unpickled or executed, nothing assigned before every array is checked.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile

import numpy as np

from .._io import atomic_write

from .serialization import serialize_layer

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "weight_items", "FORMAT_NAME",
           "FORMAT_VERSION"]

FORMAT_NAME = "kernelscope.model"
FORMAT_VERSION = 1


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




# loading lives in .loading (it imports weight_items from here); re-exported for the public names
from .loading import load_model, load_weights  # noqa: E402
