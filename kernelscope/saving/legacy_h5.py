"""Legacy HDF5 model files (``model.save("x.h5")`` in Keras 2 and 3): read, never written.

The file holds the architecture as JSON in its ``model_config`` attribute, the
compile settings in ``training_config`` and the weights under
``model_weights`` (the layout :mod:`kernelscope.interop.keras_h5` reads).
Keras 3 writes its own config schema there; Keras 2 (tf.keras) writes
``batch_input_shape`` and its inbound nodes as ``[[name, node, tensor, kwargs],
...]``, which are translated to Keras 3's. The attributes' sizes are checked
before they are read, the model is rebuilt within the bytes the file holds,
and the optimizer state is not restored (the model is compiled afresh).
"""

from __future__ import annotations

import json
import os

from .._safe_load import MAX_CONFIG_BYTES, RefusedFile
from ..interop.h5_files import LEGACY, hard_child, open_h5
from ..interop.keras_h5 import checked_values
from .keras_config import from_keras
from .native import rebuild

__all__ = ["load_legacy_h5"]


def _json_attribute(handle, name: str, path: str):
    if name not in handle.attrs:
        return None
    size = handle.attrs.get_id(name).get_storage_size()
    if size > MAX_CONFIG_BYTES:
        raise RefusedFile(f"'{path}' is refused: its {name} attribute declares {size:,} bytes, more than the "
                          f"64 MiB cap for a config. Nothing was read.")
    value = handle.attrs[name]
    try:
        return json.loads(value.decode("utf-8") if isinstance(value, bytes) else str(value))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RefusedFile(f"'{path}' is corrupted: its {name} attribute is not JSON ({err}).") from None


def _keras2_node(node) -> dict:
    """A Keras 2 inbound node ``[[name, node_index, tensor_index, kwargs], ...]`` in Keras 3's form."""
    refs = [{"class_name": "__keras_tensor__", "config": {"keras_history": list(entry[:3])}} for entry in node]
    kwargs = node[0][3] if node and len(node[0]) > 3 and isinstance(node[0][3], dict) else {}
    return {"args": [refs[0] if len(refs) == 1 else refs], "kwargs": kwargs}


def _keras2_to_keras3(config):
    """Keras 2's spellings in a model config (``batch_input_shape``, list inbound nodes) as Keras 3's."""
    if isinstance(config, list):
        return [_keras2_to_keras3(v) for v in config]
    if not isinstance(config, dict):
        return config
    out = {k: _keras2_to_keras3(v) for k, v in config.items()}
    if out.get("class_name") == "InputLayer" and "batch_input_shape" in out.get("config", {}):
        out["config"]["batch_shape"] = out["config"].pop("batch_input_shape")
    nodes = out.get("inbound_nodes")
    if isinstance(nodes, list) and nodes and isinstance(nodes[0], list):
        out["inbound_nodes"] = [_keras2_node(node) for node in nodes]
    return out


def _compile_config(training: dict | None):
    if not isinstance(training, dict) or "optimizer_config" not in training:
        return None
    return {"optimizer": training["optimizer_config"], "loss": training.get("loss"),
            "metrics": training.get("metrics"), "loss_weights": training.get("loss_weights"),
            "weighted_metrics": training.get("weighted_metrics")}


def load_legacy_h5(path: str, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Rebuild the model of a legacy Keras ``.h5`` file: architecture, weights and compile settings."""
    from .compile import restore_compile

    handle = open_h5(path, path)
    try:
        config = _json_attribute(handle, "model_config", path)
        if config is None:
            raise RefusedFile(f"'{path}' is an HDF5 file without a model_config attribute: it holds weights "
                              "only. Build the model and call model.load_weights on it.")
        config = from_keras(_keras2_to_keras3(config))
        model = rebuild(config, custom_objects, path, os.path.getsize(path), safe_mode)
        weights = hard_child(handle, "model_weights", path) if "model_weights" in handle else None
        if weights is None:
            raise RefusedFile(f"'{path}' has a model_config but no model_weights group.")
        values = checked_values(model, weights, LEGACY, path)
        training = from_keras(_compile_config(_json_attribute(handle, "training_config", path)))
    finally:
        handle.close()
    if compile and training:
        restore_compile(model, training, path, custom_objects)
    for var, value in values:
        var.assign(value)
    return model
