"""Writing kernelscope's earlier model file (config.json + weights.npz), which load_model still reads.

``model.save`` now writes Keras 3's ``.keras`` format; the tests of the native reader
(hostile and damaged files) make their files here, as kernelscope 0.1 wrote them.
"""

import json
import zipfile

import numpy as np

import kernelscope as ks
from kernelscope.saving.compile import compile_config
from kernelscope.saving.native import FORMAT_NAME, FORMAT_VERSION, weight_items
from kernelscope.saving.serialization import serialize_layer


def save_native(model, path):
    """``model`` (architecture, weights, compile settings, optimizer state) as a kernelscope model file."""
    config = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "kernelscope_version": ks.__version__,
              "model": serialize_layer(model), "compile_config": compile_config(model)}
    arrays = {f"model/{key}": var.data for key, var in weight_items(model)}
    if getattr(model, "optimizer", None) is not None and model.optimizer.built:
        arrays.update({f"optimizer/{k}": np.asarray(v) for k, v in model.optimizer.get_state().items()})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config, default=list), compress_type=zipfile.ZIP_DEFLATED)
        with archive.open("weights.npz", "w", force_zip64=True) as member:
            np.savez(member, **arrays)
