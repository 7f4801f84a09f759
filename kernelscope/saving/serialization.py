"""Architecture configs: layers to JSON-able dicts and back (Keras 3's format).

A layer is ``{"module", "class_name", "config", "registered_name"}``; a
functional model's config lists its layers with their ``inbound_nodes``, each
argument a ``{"class_name": "__keras_tensor__", "config": {"shape", "dtype",
"keras_history": [layer_name, node_index, tensor_index]}}`` where node indices
count only the nodes that belong to the model.
"""

from __future__ import annotations

import inspect

from ..layers.base import InputLayer, KerasTensor, Layer, _flatten, _map_structure

__all__ = ["serialize_layer", "deserialize_layer", "functional_config", "functional_from_config"]


def serialize_layer(layer: Layer) -> dict:
    """``{"module", "class_name", "config", "registered_name"}`` for any layer or model."""
    from . import registry

    cls = type(layer)
    registered = registry.get_registered_name(cls)
    return {"module": cls.__module__, "class_name": cls.__name__, "config": layer.get_config(),
            "registered_name": registered if registered != cls.__name__ else None}


def _lookup_class(class_name: str, registered_name, custom_objects):
    from .. import layers as _layers  # noqa: F401  (fills LAYER_REGISTRY)
    from ..layers.base import LAYER_REGISTRY
    from . import registry

    for key in (registered_name, class_name):
        if key:
            found = registry.get_registered_object(key, custom_objects)
            if found is not None:
                return found
    cls = LAYER_REGISTRY.get(class_name)
    if cls is None and class_name in ("Functional", "Sequential", "Model"):
        from ..models import Functional, Sequential  # models import saving, never the other way at import

        cls = {"Functional": Functional, "Model": Functional, "Sequential": Sequential}[class_name]
    return cls


def deserialize_layer(config: dict, custom_objects: dict | None = None) -> Layer:
    """A new layer (or model) from :func:`serialize_layer` output; never imports or runs code."""
    if not isinstance(config, dict) or "class_name" not in config or not isinstance(config.get("config"), dict):
        raise ValueError(f"A layer config must be a dict with 'class_name' and 'config'. Received: {config!r:.200}.")
    class_name, registered = config["class_name"], config.get("registered_name")
    cls = _lookup_class(class_name, registered, custom_objects)
    if cls is None or not (isinstance(cls, type) and issubclass(cls, Layer)):
        shown = registered or class_name
        layer = config["config"].get("name")
        named = f" (layer '{layer}')" if isinstance(layer, str) else ""
        raise ValueError(f"Unknown layer class '{shown}'{named}: kernelscope has no such layer. If it is a custom "
                         "layer, register it before loading "
                         "with the decorator @ks.saving.register_keras_serializable(package='Custom') on its "
                         f"class, or pass custom_objects={{'{class_name}': {class_name}}} to load_model.")
    inner = dict(config["config"])
    try:
        if "custom_objects" in inspect.signature(cls.from_config).parameters:
            return cls.from_config(inner, custom_objects=custom_objects)
        return cls.from_config(inner)
    except TypeError as err:  # an argument kernelscope does not implement: say which layer has it
        if "unexpected keyword argument" not in str(err) or str(err).startswith("Layer '") \
                or not isinstance(inner.get("name"), str):
            raise
        raise TypeError(f"Layer '{inner['name']}' ({class_name}): {err}") from err


def _tensor_ref(model, tensor: KerasTensor) -> dict:
    layer, node_index, tensor_index = tensor._keras_history
    node = layer._inbound_nodes[node_index]
    local = 0 if isinstance(layer, InputLayer) else [id(n) for n in model._model_nodes_of(layer)].index(id(node))
    return {"class_name": "__keras_tensor__",
            "config": {"shape": list(tensor.shape), "dtype": tensor.dtype.name,
                       "keras_history": [layer.name, local, tensor_index]}}


def _history(model, tensor: KerasTensor) -> list:
    return _tensor_ref(model, tensor)["config"]["keras_history"]


def _node_config(model, node) -> dict:
    if node.arguments is not None:  # the call as made: layer(a, b), layer(x, mask=m), layer({"a": a})
        def ref(x):
            return _tensor_ref(model, x) if isinstance(x, KerasTensor) else x

        args, kwargs = node.arguments
        return {"args": [_map_structure(ref, a) for a in args],
                "kwargs": {k: _map_structure(ref, v) for k, v in kwargs.items()}}
    refs = [_tensor_ref(model, t) for t in node.input_tensors]
    kwargs = dict(node.call_kwargs)
    extra = list(kwargs.pop("args", ()))
    first = refs[0] if len(refs) == 1 else refs
    return {"args": [first, *extra], "kwargs": kwargs}


def _io_config(model, structure, tensors: list):
    refs = [_history(model, t) for t in tensors]
    if isinstance(structure, dict):
        return dict(zip(structure, refs))
    if not isinstance(structure, (list, tuple)):
        return refs[0]  # Keras writes a single input (output) as one reference, not a list of one
    return refs


def functional_config(model) -> dict:
    """Keras 3's Functional config: layers with their inbound nodes, then input and output references."""
    layers = []
    for layer in model.layers:
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        nodes = [] if isinstance(layer, InputLayer) else model._model_nodes_of(layer)
        entry["inbound_nodes"] = [_node_config(model, n) for n in nodes]
        layers.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": _io_config(model, model._input_struct, model._inputs),
            "output_layers": _io_config(model, model._output_struct, model._outputs)}


_NOT_YET = object()  # a referenced tensor whose layer has not been replayed yet


def _resolve(value, produced: dict):
    """Replace tensor references by KerasTensors; ``_NOT_YET`` if one is not produced yet."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        name, node_index, tensor_index = value["config"]["keras_history"]
        outs = produced.get((name, node_index))
        return _NOT_YET if outs is None else outs[tensor_index]
    if isinstance(value, (list, tuple)):
        items = [_resolve(v, produced) for v in value]
        return _NOT_YET if any(i is _NOT_YET for i in items) else items
    if isinstance(value, dict):
        items = {k: _resolve(v, produced) for k, v in value.items()}
        return _NOT_YET if any(i is _NOT_YET for i in items.values()) else items
    return value


def _replay_nodes(layers: dict, pending: dict, produced: dict, model_name: str) -> None:
    progress = True
    while progress:
        progress = False
        for name, layer in layers.items():
            while pending[name]:
                node = pending[name][0]
                args = [_resolve(a, produced) for a in node.get("args", [])]
                # Keras records mask=None on calls of masking-aware layers: no mask, which kernelscope lacks
                kwargs = _resolve({k: v for k, v in node.get("kwargs", {}).items()
                                   if not (k == "mask" and v is None)}, produced)
                if not args or any(a is _NOT_YET for a in args) or kwargs is _NOT_YET:
                    break
                out = layer(args[0], *args[1:], **kwargs)
                index = sum(1 for key in produced if key[0] == name)
                produced[(name, index)] = [t for t in _flatten(out) if isinstance(t, KerasTensor)]
                pending[name].pop(0)
                progress = True
    stuck = [name for name, nodes in pending.items() if nodes]
    if stuck:
        raise ValueError(f"The config of model '{model_name}' is inconsistent: the inputs of layer(s) {stuck} "
                         "are never produced.")


def functional_from_config(cls, config: dict, custom_objects: dict | None = None):
    """Rebuild a functional model: create each layer, then replay its calls in dependency order."""
    layers, pending, produced = {}, {}, {}
    for entry in config.get("layers", []):
        layer = deserialize_layer(entry, custom_objects)
        name = entry.get("name", layer.name)
        layers[name] = layer
        pending[name] = list(entry.get("inbound_nodes", []))
        if isinstance(layer, InputLayer):
            produced[(name, 0)] = [layer._inbound_nodes[0].output_tensors[0]]
    _replay_nodes(layers, pending, produced, config.get("name", "?"))

    def pick(refs, single: bool):
        if isinstance(refs, dict):
            return {k: produced[(r[0], r[1])][r[2]] for k, r in refs.items()}
        if refs and isinstance(refs[0], str):  # one reference: a single input (output), as Keras writes it
            return produced[(refs[0], refs[1])][refs[2]]
        tensors = [produced[(r[0], r[1])][r[2]] for r in refs]
        return tensors[0] if single and len(tensors) == 1 else tensors

    # kernelscope-native files wrote a list of one reference and a single_input flag
    inputs = pick(config["input_layers"], config.get("single_input", False))
    outputs = pick(config["output_layers"], config.get("single_output", False))
    return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))
