"""kernelscope's own formats: ``.npz`` weights (written and read) and the model zip of earlier versions (read).

A kernelscope model file is a zip holding ``config.json`` (``"format":
"kernelscope.model"``, the architecture and compile settings) and ``weights.npz``
(``model/layers/<layer name>/vars/<i>``, ``optimizer/<key>``). ``model.save``
now writes Keras 3's ``.keras`` format; these files are still read, so models
saved before keep loading.

The order is what makes a hostile file harmless: ``config.json`` is read with a
64 MiB cap; the model is rebuilt with an allocation budget equal to the size
``weights.npz`` declares, at most 100 times its compressed size (a config
cannot ask for more weights than the file holds); ``weights.npz`` is read only
if its declared size fits the rebuilt architecture; each array's ``.npy``
header must carry the expected shape before its data is read; every array is
checked (finite, real, float) and converted; only then is anything assigned.
Nothing is unpickled or executed. :mod:`kernelscope.saving.keras_file` reuses
the budget, the bounds and the rebuilding.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib

import numpy as np

from .._io import atomic_write, open_regular_file
from .._safe_load import (MAX_CONFIG_BYTES, RefusedFile, allocation_budget, npy_bound, read_header, read_member,
                          read_npz, weight_array)
from .paths import existing_file
from .serialization import deserialize_layer

__all__ = ["load_model", "load_weights", "save_weights", "weight_items", "rebuild", "arrays_bound",
           "weights_budget", "open_archive", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "kernelscope.model"
FORMAT_VERSION = 1

_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, RuntimeError)
_MAX_RATIO = 100  # as Keras's own zip-bomb guard (saving_lib._ZIP_MEMBER_MAX_EXPANSION)
_OPTIMIZER_SLOTS = 3  # the most slot arrays per weight of any optimizer (Adam amsgrad, centered RMSprop)


# ------------------------------------------------------------------ opening
def _looks_truncated(handle) -> bool:
    """A file that starts as a zip but whose end-of-central-directory record does not end it was cut short.

    (zipfile alone may instead find the directory of the stored ``weights.npz``
    inside it and open that.)
    """
    handle.seek(0)
    if handle.read(4) != b"PK\x03\x04":
        return False
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - (1 << 16) - 22))
    tail = handle.read()
    end = tail.rfind(b"PK\x05\x06")
    return end < 0 or end + 22 + int.from_bytes(tail[end + 20:end + 22], "little") != len(tail)


def open_archive(handle, path: str) -> zipfile.ZipFile:
    """The zip archive in ``handle``, or a RefusedFile naming ``path`` (truncated, or not a zip)."""
    try:
        if _looks_truncated(handle):
            raise EOFError("the end of the file is missing")
        handle.seek(0)
        return zipfile.ZipFile(handle)
    except _READ_ERRORS + (ValueError,) as err:
        if _looks_truncated(handle):
            raise RefusedFile(f"'{path}' is not a kernelscope model file that can be read: it is truncated (it starts "
                           "as a zip archive but its end, the zip directory, is missing). Save or copy it again."
                           ) from None
        raise RefusedFile(f"'{path}' is not a kernelscope model file: it is not a readable zip archive "
                       f"(a different kind of file, or truncated). ({err})") from None


def _read_config(archive: zipfile.ZipFile, path: str) -> dict:
    names = archive.namelist()
    if "config.json" not in names or "weights.npz" not in names:
        raise RefusedFile(f"'{path}' is a zip archive but not a kernelscope model file: it must contain "
                       f"config.json and weights.npz (a kernelscope file) or config.json and "
                       f"model.weights.h5 (a Keras 3 file), and it holds {names[:5]}.")
    try:
        text = read_member(archive, "config.json", MAX_CONFIG_BYTES, path, "the 64 MiB cap for a config")
        config = json.loads(text.decode("utf-8"))
    except _READ_ERRORS + (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RefusedFile(f"'{path}' is corrupted: its config.json could not be read ({err}).") from err
    if not isinstance(config, dict) or config.get("format") != FORMAT_NAME:
        raise RefusedFile(f"'{path}' is not a kernelscope model file: its config.json does not declare "
                       f"format '{FORMAT_NAME}'.")
    if not isinstance(config.get("format_version"), int) or config["format_version"] > FORMAT_VERSION:
        raise RefusedFile(f"'{path}' uses format version {config.get('format_version')!r}; this kernelscope "
                       f"reads versions up to {FORMAT_VERSION}. Upgrade kernelscope to load it.")
    return config


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


def save_weights(model, path: str) -> None:
    """Write the model's weights to the ``.npz`` file ``path`` (a checked target) atomically."""
    arrays = {key: var.data for key, var in weight_items(model)}
    atomic_write(path, lambda handle: np.savez(handle, **arrays), fsync=True)


def arrays_bound(shapes) -> int:
    """The most bytes an honest weights file holding arrays of ``shapes`` (and optimizer slots) declares."""
    return (1 + _OPTIMIZER_SLOTS) * sum(npy_bound(s) for s in shapes) + (1 << 20)


def _weights_npz_bytes(archive: zipfile.ZipFile, path: str, shapes) -> bytes:
    """The archive's ``weights.npz``, refused unread when it declares more than the architecture can need."""
    what = "the model's weights and optimizer state can take, even in float64"
    try:
        return read_member(archive, "weights.npz", arrays_bound(shapes), path, what)
    except _READ_ERRORS as err:
        raise RefusedFile(f"'{path}' is corrupted or not a kernelscope file: weights.npz could not be read "
                       f"({type(err).__name__}: {err}).") from None


def _npz_keys(data: bytes, path: str) -> list:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as npz:
            return [name[:-4] for name in npz.namelist() if name.endswith(".npy")]
    except _READ_ERRORS + (ValueError,) as err:
        raise RefusedFile(f"'{path}' is corrupted or not a kernelscope file: weights.npz could not be read "
                       f"({type(err).__name__}: {err}).") from None


def _read_npz_guarded(source, path: str, expected: dict, skip: str | None, member: str | None, model) -> dict:
    try:
        return read_npz(source, path, expected, skip, owner=f"model '{model.name}'")
    except RefusedFile:
        raise
    except _READ_ERRORS + (ValueError,) as err:
        if member is not None:
            raise RefusedFile(f"'{path}' is corrupted or not a kernelscope file: {member} could not be read "
                           f"({type(err).__name__}: {err}).") from None
        raise RefusedFile(f"'{path}' is not a kernelscope weights file (.npz): {type(err).__name__}: {err}.") from None


def _converted(arrays: dict, targets: dict, path: str) -> dict:
    """Every array checked and converted to its target's dtype, before anything is assigned."""
    return {key: weight_array(arrays[key], var.data.dtype, path, key) for key, var in targets.items()}


def _model_targets(model, prefix: str = "") -> dict:
    return {f"{prefix}{key}": var for key, var in weight_items(model)}


def load_weights(model, filepath) -> None:
    """Load weights written by ``save_weights`` (or the weights inside a ``save`` file) into ``model``.

    Raises ValueError naming the file and the array when the file does not match
    the model or holds a bad array; the model is then left unchanged.
    """
    path = existing_file(filepath)
    targets = _model_targets(model)
    expected = {key: var.data.shape for key, var in targets.items()}
    with open_regular_file(path, "a weights file") as handle:
        if _is_model_archive(handle):
            with open_archive(handle, path) as archive:
                _read_config(archive, path)
                data = _weights_npz_bytes(archive, path, expected.values())
            prefixed = {f"model/{key}": shape for key, shape in expected.items()}
            arrays = _read_npz_guarded(io.BytesIO(data), path, prefixed, "optimizer/", "weights.npz", model)
            arrays = {key[len("model/"):]: value for key, value in arrays.items()}
        elif not zipfile.is_zipfile(handle):
            raise RefusedFile(f"'{path}' is not a kernelscope weights file (.npz): {_not_npz_reason(handle)}.")
        else:
            arrays = _read_npz_guarded(handle, path, expected, None, None, model)
    converted = _converted(arrays, targets, path)
    for key, var in targets.items():
        var.assign(converted[key])


def _not_npz_reason(handle) -> str:
    """What a file that is not a zip holds, in words that never suggest unpickling it."""
    handle.seek(0)
    if handle.read(6) != b"\x93NUMPY":
        return "it is text or pickled Python data, not NumPy arrays"
    handle.seek(0)
    try:
        shape = read_header(handle)[0]
    except ValueError:
        return "it is a damaged .npy file"
    return f"it holds a single array of shape {shape} (a .npy file), not named weights"


def _is_model_archive(handle) -> bool:
    if _looks_truncated(handle):
        return True  # so that _open_archive calls it truncated
    try:
        with zipfile.ZipFile(handle) as archive:
            return "config.json" in archive.namelist()
    except _READ_ERRORS + (ValueError,):
        return False


# ------------------------------------------------------------------ models
def weights_budget(info: zipfile.ZipInfo) -> int:
    """The most weight bytes a config may ask for: what ``weights.npz`` declares, a compressed one at most
    ``_MAX_RATIO`` times its stored bytes (random float weights hardly compress; a bomb of zeros does)."""
    if info.compress_type == zipfile.ZIP_STORED:
        return min(info.file_size, info.compress_size)
    return min(info.file_size, _MAX_RATIO * info.compress_size)


def rebuild(config: dict, custom_objects, path: str, budget: int, safe_mode: bool = True):
    """The model of ``config`` (a serialized layer), its weights charged against ``budget`` bytes."""
    from ..layers.lambda_layer import safe_mode_scope

    try:
        # Lambda bytecode only when the caller trusts the file (safe_mode=False), as Keras
        with allocation_budget(budget, path), safe_mode_scope(safe_mode):
            return deserialize_layer(config, custom_objects)
    except RefusedFile:
        raise
    except (ValueError, TypeError, KeyError, NotImplementedError) as err:
        raise ValueError(f"Cannot rebuild the model in '{path}': {err}") from err


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True):
    """Rebuild a model from a kernelscope model file: architecture, weights, compile settings, optimizer state.

    Raises ValueError naming the file when it is missing, not a regular file, not
    a zip, a foreign or truncated zip, corrupted, larger than its architecture
    needs, holds a non-finite or non-float weight, has bad compile settings, or
    names a layer class that is not registered. With ``safe_mode=True`` (the
    default) nothing in the file is executed; ``safe_mode=False`` lets a
    ``Lambda`` layer's saved bytecode load, as in Keras: only for files you trust.
    """
    from .compile import optimizer_targets, restore_compile, set_optimizer_state

    path = existing_file(filepath)
    with open_regular_file(path, "a model file") as handle, open_archive(handle, path) as archive:
        config = _read_config(archive, path)
        model = rebuild(config["model"], custom_objects, path, weights_budget(archive.getinfo("weights.npz")),
                        safe_mode)
        targets = _model_targets(model, "model/")
        data = _weights_npz_bytes(archive, path, [var.data.shape for var in targets.values()])
    restored = compile and config.get("compile_config")
    if restored:
        restore_compile(model, config["compile_config"], path, custom_objects)
    has_state = any(key.startswith("optimizer/") for key in _npz_keys(data, path))
    state = optimizer_targets(model) if restored and has_state else {}
    expected = {key: var.data.shape for key, var in targets.items()}
    expected.update({key: np.shape(value) for key, value in state.items()})
    skip = None if state else "optimizer/"
    arrays = _read_npz_guarded(io.BytesIO(data), path, expected, skip, "weights.npz", model)
    converted = _converted(arrays, targets, path)
    if state:
        set_optimizer_state(model, arrays, state, path)
    for key, var in targets.items():
        var.assign(converted[key])
    return model
