"""Keras 3's weights layout (``model.weights.h5``, ``.weights.h5``): writing it, and the optimizer's part of it.

Keras keys a variable by its object path: ``layers/<class>[_<n>]/vars/<i>``
(the class name in snake case, numbered per class in ``model.layers`` order;
a nested model holds its own ``layers/`` group), each ``vars`` group carrying
the layer's name in its ``name`` attribute. The optimizer's variables are
``optimizer/vars/<i>``: ``iterations``, ``learning_rate`` (unless a schedule
drives it), then the slots in the order Keras creates them (Adam's momentum
and velocity interleaved per model variable, in Keras's order of the model's
trainable variables). Reading the layers' part is
:func:`kernelscope.interop.keras_h5.checked_values`.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from ..interop.h5_files import hard_child, import_h5py
from ..interop.keras_h5 import keras3_arrays, keras_snake, saved_weights, unique_key, weight_leaves
from ..interop.layer_order import is_container, keras_layer_order

__all__ = ["weights_h5_bytes", "optimizer_keys", "read_optimizer"]

# slots Keras creates in one add_optimizer_variables call, so they interleave per model variable
_CREATED_TOGETHER = {"m": ("m", "v")}


def _write_container(group, container) -> None:
    used, layers = {}, group.create_group("layers")
    for layer in keras_layer_order(container):
        sub = layers.create_group(unique_key(keras_snake(type(layer).__name__), used))
        if is_container(layer):
            _write_container(sub, layer)
            continue
        variables = sub.create_group("vars")
        variables.attrs["name"] = layer.name
        for i, var in enumerate(saved_weights(layer)):
            variables.create_dataset(str(i), data=var.data)
    group.create_group("vars").attrs["name"] = container.name


def optimizer_keys(model) -> list:
    """The optimizer's state keys (``optimizer.get_state()``) in the order of Keras's ``optimizer/vars``."""
    optimizer = model.optimizer
    state = optimizer.get_state()
    index = {id(v): i for i, v in enumerate(model.trainable_weights)}
    keras_order, seen = [], set()
    for leaf in weight_leaves(model):
        for var in saved_weights(leaf):
            if id(var) in index and id(var) not in seen:
                seen.add(id(var))
                keras_order.append(index[id(var)])
    keys = [k for k in ("iterations", "learning_rate") if k in state]
    slots = [s for s in optimizer._slot_names if any(k.startswith(f"{s}/") for k in state)]
    while slots:
        group = [s for s in _CREATED_TOGETHER.get(slots[0], (slots[0],)) if s in slots]
        keys += [f"{slot}/{i}" for i in keras_order for slot in group]
        slots = [s for s in slots if s not in group]
    return keys


def weights_h5_bytes(model, include_optimizer: bool = False) -> bytes:
    """The bytes of a Keras 3 weights file for ``model`` (and its built optimizer's state)."""
    h5py = import_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        _write_container(handle, model)
        optimizer = getattr(model, "optimizer", None)
        if include_optimizer and optimizer is not None and optimizer.built:
            group = handle.create_group("optimizer").create_group("vars")
            group.attrs["name"] = optimizer.name
            state = optimizer.get_state()
            for i, key in enumerate(optimizer_keys(model)):
                group.create_dataset(str(i), data=state[key])
    return buffer.getvalue()


def read_optimizer(root, model, targets: dict, path: str) -> dict:
    """``{"optimizer/<key>": array}`` from ``optimizer/vars``, each shape checked before it is read.

    ``targets`` is :func:`kernelscope.saving.compile.optimizer_targets` output.
    A file whose optimizer holds a different number of variables gets a warning
    and its optimizer state is skipped, as Keras does; a wrong shape is an error.
    """
    parent = hard_child(root, "optimizer", path) if "optimizer" in root else None
    group = hard_child(parent, "vars", path) if parent is not None and "vars" in parent else None
    if group is None:
        return {}
    datasets = keras3_arrays(group, path)
    keys = optimizer_keys(model)
    if len(datasets) != len(keys):
        warnings.warn(f"'{path}': skipping the optimizer state: the file's optimizer has {len(datasets)} "
                      f"variables, but the model's {type(model.optimizer).__name__} has {len(keys)}.",
                      stacklevel=3)
        return {}
    for key, dataset in zip(keys, datasets):
        expected = np.shape(targets[f"optimizer/{key}"])
        if tuple(dataset.shape) != expected:
            raise ValueError(f"'{path}': optimizer variable '{dataset.name}' ({key}) has shape "
                             f"{tuple(dataset.shape)}, but the model's optimizer expects {expected}.")
    return {f"optimizer/{key}": np.asarray(dataset[()]) for key, dataset in zip(keys, datasets)}
