"""Find layers in a Sequential or functional model and evaluate any of their output tensors.

Both model kinds record their layer calls as graph nodes (``layer._inbound_nodes``),
so one evaluator serves both: it replays the nodes needed for the wanted tensors,
and can swap a computed tensor for another one (a leaf that requires a gradient,
for Grad-CAM).
"""

# N batch, H/W height/width, C channels

from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from ..layers.base import InputLayer, KerasTensor, Layer, _flatten
from ..models.functional import replay_node, topological_nodes

CONV_TYPES = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose")


def model_input(model) -> KerasTensor:
    """The model's single input tensor; an error for unbuilt or multi-input models."""
    inputs = getattr(model, "inputs", None) or []
    if not getattr(model, "built", False) or not inputs:
        raise ValueError(f"Model '{getattr(model, 'name', model)}' has no known input yet: build it first "
                         "(start it with ks.Input(shape), call it once or fit it).")
    if len(inputs) != 1:
        raise ValueError(f"The views take models with one image input. Model '{model.name}' has "
                         f"{len(inputs)} inputs.")
    return inputs[0]


def get_layer(model, layer) -> Layer:
    """``layer`` given as a Layer of the model, a name or an index into ``model.layers``."""
    layers = list(model.layers)
    if isinstance(layer, Layer):
        if any(layer is l for l in layers):
            return layer
        raise ValueError(f"Layer '{layer.name}' is not a layer of model '{model.name}'.")
    if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        if -len(layers) <= layer < len(layers):
            return layers[int(layer)]
        raise ValueError(f"`layer` index {layer} is out of range for model '{model.name}' with {len(layers)} layers.")
    for candidate in layers:
        if candidate.name == layer:
            return candidate
    names = ", ".join(l.name for l in layers)
    raise ValueError(f"Layer {layer!r} not found in model '{model.name}'. Its layers are: {names}.")


def layer_output(model, layer: Layer) -> KerasTensor:
    """The symbolic output of ``layer`` inside ``model``'s graph."""
    if isinstance(layer, InputLayer):
        return layer.output
    kts = getattr(model, "_output_kts", None)
    if kts is not None:  # Sequential: one output per layer, in order
        for candidate, kt in zip(model.layers, kts):
            if candidate is layer:
                return kt
    nodes = model._model_nodes_of(layer) if hasattr(model, "_model_nodes_of") else layer._inbound_nodes
    return nodes[0].output_tensors[0]  # every layer of a model is called in it; the first call counts


def layer_input(model, layer: Layer) -> list:
    """The symbolic inputs of ``layer``'s first call inside ``model``."""
    nodes = model._model_nodes_of(layer) if hasattr(model, "_model_nodes_of") else None
    if not nodes:
        nodes = layer._inbound_nodes
    return list(nodes[0].input_tensors)


def nodes_for(model, targets: list) -> list:
    """The graph nodes needed to compute ``targets`` from the model input, in order."""
    return topological_nodes([model_input(model)], list(targets), model.name)


def evaluate(model, x, targets: list, replace: dict | None = None) -> list:
    """Values of the symbolic ``targets`` for input ``x`` (a Tensor), in inference mode.

    ``replace`` maps ``id(KerasTensor)`` to a function called with the computed value,
    whose result is used from there on (e.g. a leaf Tensor that requires a gradient).
    """
    replace = replace or {}
    source = model_input(model)
    values = {id(source): replace[id(source)](x) if id(source) in replace else x}
    for node in nodes_for(model, targets):
        out = replay_node(node, values, False, force_training=True)
        for tensor, value in zip(node.output_tensors, _flatten(out)):
            values[id(tensor)] = replace[id(tensor)](value) if id(tensor) in replace else value
    return [values[id(t)] for t in targets]


def as_batch(model, image, dtype=None) -> tuple:
    """``image`` (H, W), (H, W, C) or (N, H, W, C) as a (N, H, W, C) array, and whether it was a single image."""
    array = np.asarray(image.numpy() if isinstance(image, Tensor) else image)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"`image` must hold numbers. Received: dtype={array.dtype}.")
    if dtype is None:
        dtype = array.dtype if array.dtype.kind == "f" else np.dtype(model.dtype)
    expected = tuple(model_input(model).shape[1:])
    single = array.ndim == len(expected) or (array.ndim == len(expected) - 1 and expected[-1] == 1)
    if array.ndim == len(expected) - 1 and expected[-1] == 1:
        array = array[..., None]
    batch = array[None] if single else array
    if batch.ndim != len(expected) + 1 or any(e is not None and e != s for e, s in zip(expected, batch.shape[1:])):
        raise ValueError(f"`image` must have the model's input shape {expected} (or a batch of them). "
                         f"Received: image.shape={np.shape(image)}.")
    return batch.astype(dtype, copy=False), single


def last_conv_layer(model) -> Layer:
    """The last convolution layer (in graph order) whose output is a 4-D feature map."""
    for layer in reversed(list(model.layers)):
        if type(layer).__name__ in CONV_TYPES:
            return layer
    raise ValueError(f"Model '{model.name}' has no convolution layer ({', '.join(CONV_TYPES)}); "
                     "pass `layer` with the name of a layer that outputs feature maps.")


class frozen_weights:
    """Context manager: the model's weights stop requiring gradients (restored on exit).

    Input gradients then cost no weight gradients, and training state (``.grad``)
    is left untouched.
    """

    def __init__(self, model):
        self.variables = [v for v in model.weights if v.requires_grad]

    def __enter__(self):
        for v in self.variables:
            v.requires_grad = False
        return self

    def __exit__(self, *exc):
        for v in self.variables:
            v.requires_grad = True
        return False
