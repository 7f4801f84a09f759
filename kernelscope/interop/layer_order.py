"""The order in which Keras lists a model's layers (``model.layers``).

Keras weight files written by ``save_weights`` / ``model.save`` record layers
in that order: legacy ``.h5`` files in their ``layer_names`` attribute, Keras 3
files through group names numbered per class in that order (``conv2d``,
``conv2d_1``, ...). A functional model's order is not the order its layers
were called in: Keras sorts the graph's layers by depth (distance from the
outputs, deepest first) and breaks ties by first visit in a depth-first walk
back from the outputs (keras/src/ops/function.py, ``map_graph``). This module
reproduces that order for kernelscope's graphs.
"""

from __future__ import annotations

from ..layers.base import InputLayer

__all__ = ["keras_layer_order", "is_container"]


def is_container(layer) -> bool:
    """True for a nested Sequential or functional model (Keras saves its layers one level down)."""
    from ..models.functional import Functional
    from ..models.sequential import Sequential

    return isinstance(layer, (Sequential, Functional))


def _node_of(tensor):
    layer, node_index, _ = tensor._keras_history
    return layer._inbound_nodes[node_index]


def _walk_back(inputs: list, outputs: list) -> tuple:
    """Nodes in post-order (inputs first) and each layer's first pre-order visit index."""
    input_ids = {id(t) for t in inputs}
    finished, order, first_visit = set(), [], {}
    stack = [(t, False) for t in reversed(outputs)]
    while stack:
        tensor, expanded = stack.pop()
        node = _node_of(tensor)
        if expanded:
            if id(node) not in finished:
                finished.add(id(node))
                order.append(node)
            continue
        if id(node) in finished:
            continue
        if not isinstance(node.layer, InputLayer) and id(tensor) in input_ids:
            finished.add(id(node))
            continue
        first_visit.setdefault(id(node.layer), len(first_visit))
        stack.append((tensor, True))
        if not isinstance(node.layer, InputLayer):
            stack.extend((t, False) for t in reversed(node.input_tensors))
    return order, first_visit


def keras_layer_order(model) -> list:
    """``model.layers`` in the order Keras 3 (and Keras 2) would list them.

    Sequential models keep their stacking order; functional models are sorted
    by graph depth, deepest (the inputs) first, as Keras's ``map_graph`` does.
    """
    from ..models.functional import Functional

    if not isinstance(model, Functional):
        return list(model.layers)
    order, first_visit = _walk_back(model.inputs, model.outputs)
    in_graph = {id(n) for n in order}
    node_depth, layer_depth, layers = {}, {}, {}
    for node in reversed(order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        layers[id(node.layer)] = node.layer
        for parent in ([] if isinstance(node.layer, InputLayer) else node.parent_nodes):
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for tensor in model.inputs:  # inputs that no output depends on
        layer = tensor._keras_history[0]
        if id(layer) not in layer_depth:
            layer_depth[id(layer)], first_visit[id(layer)], layers[id(layer)] = 0, -1, layer
    return sorted(layers.values(), key=lambda l: (-layer_depth[id(l)], first_visit[id(l)]))
