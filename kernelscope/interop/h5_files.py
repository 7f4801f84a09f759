"""Opening Keras weight files and reading their HDF5 layouts (needs h5py).

Three layouts exist:

- Keras 3 ``.weights.h5`` (also inside a ``.keras`` zip as ``model.weights.h5``):
  ``layers/<class_name>[_<n>]/vars/0, 1, ...``, one group per layer, named
  after the layer's class and numbered per class in ``model.layers`` order;
  nested models hold their own ``layers/`` group. Recent Keras 3 versions
  record the layer's name in the ``name`` attribute of each ``vars`` group.
- Legacy Keras 2 ``model.save("x.h5")``: ``model_weights/<layer>/<weight name>``
  with the layer order in the ``layer_names`` attribute of ``model_weights`` and
  each layer's weight order in its ``weight_names`` attribute.
- Legacy Keras 2 ``save_weights("x.h5")``: the same without ``model_weights``,
  at the root of the file.
"""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np

__all__ = ["import_h5py", "open_h5", "open_weight_file", "read_attribute_list", "weight_dataset", "KERAS3", "LEGACY"]

KERAS3, LEGACY = "keras3", "legacy"
_INSTALL = "pip install h5py"


def import_h5py():
    """h5py, or an ImportError that says how to install it."""
    try:
        import h5py
    except ImportError as err:
        raise ImportError(f"Keras files (.keras, .weights.h5, .h5) need h5py, a dependency of kernelscope that is "
                          f"missing from this environment. Install it with: {_INSTALL}") from err
    return h5py


def open_h5(source, path: str):
    """``h5py.File(source)`` for reading, or a ValueError naming ``path`` when it is not HDF5."""
    h5py = import_h5py()
    try:
        return h5py.File(source, "r")
    except OSError as err:
        raise ValueError(f"'{path}' is not a Keras weight file: it is not a readable HDF5 file ({err}).") from err


def _open_zip(h5py, path: str, cap: int):
    from .._safe_load import read_member

    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if "model.weights.h5" not in names:
            hint = " It looks like a kernelscope model file: use ks.models.load_model." \
                if "weights.npz" in names else ""
            raise ValueError(f"'{path}' is a zip archive but not a Keras .keras file: it has no "
                             f"model.weights.h5 (members: {', '.join(names[:8])}).{hint}")
        what = ("twice the model's weights in float64 plus 256 MiB; to load a bigger file by name, extract "
                "model.weights.h5 from the zip and load that")
        data = read_member(archive, "model.weights.h5", cap, path, what)
    return open_h5(io.BytesIO(data), path)


def hard_child(group, key: str, path: str):
    """``group[key]`` unless it is an external link (which would read another file)."""
    link = group.get(key, getlink=True)
    if link is None:
        return None
    if not isinstance(link, (import_h5py().HardLink, import_h5py().SoftLink)):
        raise ValueError(f"'{path}' is refused: '{group.name.rstrip('/')}/{key}' is an external link to another "
                         "file, which Keras weight files never hold.")
    return group[key]


def weight_dataset(group, key: str, path: str):
    """The dataset ``group[key]``, refused unless it is a plain dataset stored inside the file.

    External storage and virtual datasets would copy other files' bytes into the
    weights; a group or a missing entry gets an error naming the file.
    """
    where = f"'{group.name.rstrip('/')}/{key}'"
    obj = hard_child(group, key, path)
    if obj is None:
        raise ValueError(f"'{path}' is incomplete: the dataset {where} is missing.")
    if not isinstance(obj, import_h5py().Dataset):
        raise ValueError(f"'{path}' is not a valid Keras weight file: {where} is a {type(obj).__name__.lower()}, "
                         "where a dataset of weights was expected.")
    if obj.is_virtual or obj.id.get_create_plist().get_external_count():
        kind = "a virtual dataset" if obj.is_virtual else "stored in external files"
        raise ValueError(f"'{path}' is refused: the dataset {where} is {kind}, which would read other files' "
                         "bytes as weights.")
    return obj


def open_weight_file(path, cap: int) -> tuple:
    """``(h5py.File, layout, root group)`` for a ``.weights.h5``, ``.keras`` or legacy ``.h5`` file.

    ``cap`` bounds the bytes read into memory from a ``.keras`` zip's ``model.weights.h5``.
    """
    from .._io import open_regular_file

    h5py = import_h5py()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"Keras weight file '{path}' does not exist.")
    with open_regular_file(path, "a Keras weight file") as handle:  # a folder or FIFO is refused here
        is_zip = zipfile.is_zipfile(handle)
    handle = _open_zip(h5py, path, cap) if is_zip else open_h5(path, path)
    if "layer_names" in handle.attrs or "layer_names0" in handle.attrs:
        return handle, LEGACY, handle
    weights = hard_child(handle, "model_weights", path) if "model_weights" in handle else None
    if weights is not None and any(k.startswith("layer_names") for k in weights.attrs):
        return handle, LEGACY, weights
    if "layers" in handle or "vars" in handle:
        return handle, KERAS3, handle
    keys = ", ".join(list(handle.keys())[:10]) or "none"
    handle.close()
    raise ValueError(f"'{path}' is an HDF5 file but not in a Keras weight layout: expected a 'layers' group "
                     f"(Keras 3) or a 'layer_names' attribute (legacy Keras .h5). Top-level groups: {keys}.")


def _text(value) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def read_attribute_list(group, name: str) -> list:
    """A list-of-strings attribute; Keras splits attributes over 64 KB into ``name0``, ``name1``, ..."""
    if name in group.attrs:
        return [_text(v) for v in np.atleast_1d(group.attrs[name])]
    values, chunk = [], 0
    while f"{name}{chunk}" in group.attrs:
        values.extend(_text(v) for v in np.atleast_1d(group.attrs[f"{name}{chunk}"]))
        chunk += 1
    return values


def read_text_attribute(group, name: str):
    """A single string attribute, or None."""
    return _text(group.attrs[name]) if name in group.attrs else None
