"""``load_keras_weights``: Keras ``.weights.h5``, ``.keras`` and legacy ``.h5`` weights into a model.

kernelscope layers keep Keras's weight layouts and order (Conv2D kernel
``(kh, kw, in, filters)``, BatchNormalization gamma, beta, moving_mean,
moving_variance, ...), so arrays are copied unchanged. Layers are paired with
the file as Keras pairs them: by position in ``model.layers`` order (Keras 3's
per-class group numbering, or the legacy ``layer_names`` attribute), or by the
layer names the file records with ``by_name=True``. Every dataset's shape is
checked before it is read; every array is then read, checked (finite, real,
float) and converted before any weight is written, so a failed load leaves the
model unchanged. Datasets stored outside the file (external storage, virtual
datasets, external links) are refused.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np

from .._safe_load import weight_array
from .h5_files import KERAS3, hard_child, open_weight_file, read_attribute_list, read_text_attribute, weight_dataset
from .layer_order import is_container, keras_layer_order

__all__ = ["load_keras_weights", "checked_values", "keras_snake", "unique_key", "saved_weights", "weight_leaves"]


@dataclass
class _Pair:
    """One model layer and the arrays the file holds for it (``arrays`` None: nothing found)."""

    layer: object
    targets: list
    arrays: list | None
    where: str


def load_keras_weights(model, path, by_name: bool = False, skip_mismatch: bool = False) -> None:
    """Load a Keras weight file into ``model`` (built, with Keras's layer structure).

    Parameters
    ----------
    model : ks.Model
        A built Sequential or functional model.
    path : str or PathLike
        A Keras 3 ``.weights.h5`` file, a Keras 3 ``.keras`` zip, or a legacy
        Keras 2 ``.h5`` file (``model.save`` or ``save_weights`` layout).
    by_name : bool
        Pair layers by the names recorded in the file instead of by position;
        file layers the model lacks are ignored (transfer learning).
    skip_mismatch : bool
        Skip (with a warning) layers whose weight count or shapes differ, or
        that the file lacks, instead of raising.

    Raises
    ------
    ImportError
        h5py (a dependency of kernelscope) is missing from the environment.
    ValueError
        The file is not a Keras weight file, or its layers or shapes do not
        match the model (the message names each layer and both shapes).
    """
    _check_model(model)
    # a .keras zip's weights are read into memory: bounded by what the model can take
    cap = 2 * 8 * sum(int(w.data.size) for w in model.weights) + (256 << 20)
    handle, layout, root = open_weight_file(path, cap)
    try:
        values = checked_values(model, root, layout, str(path), by_name, skip_mismatch)
    finally:
        handle.close()
    for var, value in values:  # every array was read and checked first: a failed load changes nothing
        var.assign(value)


def checked_values(model, root, layout: str, path: str, by_name: bool = False, skip_mismatch: bool = False) -> list:
    """``[(variable, array)]`` for ``model`` from an open weight file's ``root``, every array checked; none assigned."""
    reader = _keras3_pairs if layout == KERAS3 else _legacy_pairs
    pairs = reader(root, model, by_name, path, skip_mismatch)
    return _read_checked(pairs, model, skip_mismatch, path)


def _check_model(model) -> None:
    from ..models.model import Model

    if not isinstance(model, Model):
        raise TypeError(f"`model` must be a kernelscope Model. Received: model={model!r} "
                        f"of type {type(model).__name__}.")
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built, so it has no weights to load into. Give it an "
                         "input shape (ks.Input or input_shape=) or call model.build((None, ...)) first.")


# ------------------------------------------------------------------ helpers
def keras_snake(name: str) -> str:
    """Keras's ``naming.to_snake_case``: the group name of a layer class (``Conv2D`` -> ``conv2d``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_key(name: str, used: dict) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _dedupe(variables) -> list:
    seen, out = set(), []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def weight_leaves(layer) -> list:
    """Layers that own weights, through nested models, in Keras order."""
    if not is_container(layer):
        return [layer] if layer.weights else []
    out = []
    for sub in keras_layer_order(layer):
        out.extend(l for l in weight_leaves(sub) if all(l is not o for o in out))
    return out


def saved_weights(layer) -> list:
    """Keras's saved order: trainable variables, then non-trainable ones (through nested models)."""
    variables = _dedupe(w for leaf in weight_leaves(layer) for w in leaf.weights)
    return [w for w in variables if w.trainable] + [w for w in variables if not w.trainable]


def _describe(layer) -> str:
    return f"'{layer.name}' ({type(layer).__name__})"


# ------------------------------------------------------------------ Keras 3
def _vars_groups(root, path: str) -> dict:
    """Every ``.../vars`` group under ``layers`` that holds arrays: path -> group."""
    found = {}

    def visit(name, obj):
        if name.endswith("/vars") and hasattr(obj, "keys") and len(obj):
            found[name] = obj

    layers = hard_child(root, "layers", path)
    if layers is not None:
        layers.visititems(lambda name, obj: visit(f"layers/{name}", obj))
    return found


def keras3_arrays(group, path: str) -> list:
    """The datasets ``vars/0, 1, ...`` (read later, once their shapes are checked)."""
    bad = [key for key in group.keys() if not key.isdigit()]
    if bad:
        raise ValueError(f"'{path}' is not a valid Keras weight file: group '{group.name}' must hold datasets "
                         f"named 0, 1, 2, ... Received: {bad[:5]}.")
    return [weight_dataset(group, key, path) for key in sorted(group.keys(), key=int)]


def _keras3_label(path: str, group) -> str:
    name = read_text_attribute(group, "name")
    return f"group '{path}'" + (f" (layer '{name}')" if name else "")


def _keras3_pairs(root, model, by_name: bool, path: str, skip_mismatch: bool) -> list:
    groups = _vars_groups(root, path)
    if by_name:
        return _keras3_by_name(groups, model, path, skip_mismatch)
    pairs, used_paths = [], set()

    def walk(container, prefix: str) -> None:
        used = {}
        for layer in keras_layer_order(container):
            key = f"{prefix}layers/{unique_key(keras_snake(type(layer).__name__), used)}"
            if is_container(layer):
                walk(layer, key + "/")
            elif layer.weights:
                group = groups.get(key + "/vars")
                used_paths.add(key + "/vars")
                arrays = None if group is None else keras3_arrays(group, path)
                where = _keras3_label(key + "/vars", group) if group is not None else f"group '{key}/vars'"
                pairs.append(_Pair(layer, saved_weights(layer), arrays, where))

    walk(model, "")
    extra = [_keras3_label(p, g) for p, g in groups.items() if p not in used_paths]
    _check_complete(pairs, extra, model, path, skip_mismatch)
    return pairs


def _keras3_by_name(groups: dict, model, path: str, skip_mismatch: bool) -> list:
    named = {}
    for group_path, group in groups.items():
        name = read_text_attribute(group, "name")
        if name is not None:
            named[name] = (group_path, group)
    if groups and not named:
        raise ValueError(f"'{path}' records no layer names (it was written by an older Keras 3), so it cannot "
                         "be loaded with by_name=True. Load it by position (by_name=False).")
    pairs = []
    for layer in weight_leaves(model):
        found = named.get(layer.name)
        arrays = None if found is None else keras3_arrays(found[1], path)
        where = f"layer '{layer.name}'" + ("" if found is None else f" (group '{found[0]}')")
        pairs.append(_Pair(layer, saved_weights(layer), arrays, where))
    _check_complete(pairs, [], model, path, skip_mismatch, sorted(named))
    return pairs


# ------------------------------------------------------------------ legacy
def _legacy_entries(root, path: str) -> list:
    """``(layer name, weight names, datasets)`` for each layer with weights, in ``layer_names`` order."""
    entries = []
    for name in read_attribute_list(root, "layer_names"):
        group = hard_child(root, name, path) if name in root else None
        if group is not None and not hasattr(group, "keys"):
            raise ValueError(f"'{path}' is not a valid Keras weight file: '{group.name}' is a dataset, where the "
                             f"group of layer '{name}' was expected.")
        weight_names = [] if group is None else read_attribute_list(group, "weight_names")
        if weight_names:
            entries.append((name, weight_names, [weight_dataset(group, w, path) for w in weight_names]))
    return entries


def _container_targets(layer, weight_names: list) -> list:
    """A nested model's variables in the file's order: by ``<layer>/<weight>`` names, else Keras's order."""
    by_key = {}
    for leaf in weight_leaves(layer):
        for var in leaf.weights:
            by_key[(leaf.name, var.name)] = var
            if var.name == "kernel":  # Keras 2 called the depthwise kernel "depthwise_kernel"
                by_key.setdefault((leaf.name, "depthwise_kernel"), var)
    targets = []
    for weight_name in weight_names:
        parts = weight_name.split(":")[0].split("/")
        targets.append(by_key.get(tuple(parts[-2:])) if len(parts) >= 2 else None)
    order = saved_weights(layer)
    if all(t is not None for t in targets) and len(_dedupe(targets)) == len(order):
        return targets
    return order


def _legacy_pair(layer, entry) -> _Pair:
    name, weight_names, arrays = entry
    targets = _container_targets(layer, weight_names) if is_container(layer) else saved_weights(layer)
    return _Pair(layer, targets, arrays, f"layer '{name}'")


def _legacy_pairs(root, model, by_name: bool, path: str, skip_mismatch: bool) -> list:
    entries = _legacy_entries(root, path)
    layers = [layer for layer in keras_layer_order(model) if saved_weights(layer)]
    if by_name:
        named = {entry[0]: entry for entry in entries}
        pairs = [_legacy_pair(l, named[l.name]) if l.name in named
                 else _Pair(l, saved_weights(l), None, f"layer '{l.name}'") for l in layers]
        _check_complete(pairs, [], model, path, skip_mismatch, sorted(named))
        return pairs
    if len(entries) != len(layers):
        raise ValueError(
            f"'{path}' holds weights for {len(entries)} layers but model '{model.name}' has {len(layers)} layers "
            f"with weights.\n  file:  {', '.join(e[0] for e in entries) or '(none)'}\n"
            f"  model: {', '.join(l.name for l in layers) or '(none)'}\n"
            "Build the same architecture, or pass by_name=True to load matching names only.")
    return [_legacy_pair(layer, entry) for layer, entry in zip(layers, entries)]


# ------------------------------------------------------------------ checks and assignment
def _check_complete(pairs: list, extra: list, model, path: str, skip_mismatch: bool, file_names=None) -> None:
    missing = [p for p in pairs if p.arrays is None]
    if not missing and not extra:
        return
    lines = [f"'{path}' does not match model '{model.name}':"]
    if missing:
        lines.append("  model layers with weights that the file lacks: "
                     + ", ".join(f"{_describe(p.layer)} (looked for {p.where})" for p in missing))
    if extra:
        lines.append("  weights in the file that no model layer takes: " + ", ".join(extra))
    if file_names is not None:
        lines.append(f"  layers recorded in the file: {', '.join(file_names) or '(none)'}")
    if skip_mismatch and not extra:
        warnings.warn("\n".join(lines) + "\nSkipped (skip_mismatch=True).", stacklevel=3)
        return
    raise ValueError("\n".join(lines))


def _problems(pair: _Pair) -> list:
    if len(pair.arrays) != len(pair.targets):
        shapes = ", ".join(str(a.shape) for a in pair.arrays)
        return [f"layer {_describe(pair.layer)} has {len(pair.targets)} weights "
                f"({', '.join(f'{v.name} {v.data.shape}' for v in pair.targets)}), but {pair.where} in the file "
                f"holds {len(pair.arrays)} arrays ({shapes})"]
    return [f"layer {_describe(pair.layer)} weight '{var.name}' has shape {var.data.shape}, but {pair.where} in "
            f"the file holds shape {array.shape} for it"
            for var, array in zip(pair.targets, pair.arrays) if tuple(var.data.shape) != array.shape]


def _read_checked(pairs: list, model, skip_mismatch: bool, path: str) -> list:
    """``[(variable, array)]`` for every pair whose shapes match, each array read and checked only then."""
    ready, problems = [], []
    for pair in pairs:
        if pair.arrays is None:
            continue
        found = _problems(pair)
        problems.extend(found)
        if not found:
            ready.append(pair)
    if problems and not skip_mismatch:
        raise ValueError(f"Weight shapes do not match model '{model.name}':\n  " + "\n  ".join(problems))
    if problems:
        warnings.warn("Skipped layers (skip_mismatch=True):\n  " + "\n  ".join(problems), stacklevel=3)
    return [(var, weight_array(dataset[()], var.data.dtype, path, f"{dataset.name} (weight '{var.name}' of "
                                                                   f"layer '{pair.layer.name}')"))
            for pair in ready for var, dataset in zip(pair.targets, pair.arrays)]
