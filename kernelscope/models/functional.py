"""Functional models: a graph of layer calls recorded from ``ks.Input`` tensors.

Each call of a layer on KerasTensors left a :class:`~kernelscope.layers.base.Node`
in ``layer._inbound_nodes``; the model walks those nodes back from its outputs,
orders them so every node runs after the nodes feeding it, and replays them on
concrete data. A layer called twice (a shared layer) has two nodes and one set
of weights, so autograd sums its gradients from both uses.
"""

from __future__ import annotations

from .._tree import postorder
from ..layers.base import InputLayer, KerasTensor, Layer, _flatten, _is_spec, _map_structure
from ..layers.symbolic import is_shape
from . import fusion
from .model import Model, adjust_input_rank, call_layer, check_input_shape, unique_layer_names

__all__ = ["Functional"]


def _node_of(tensor: KerasTensor):
    layer, node_index, _ = tensor._keras_history
    return layer._inbound_nodes[node_index]


def topological_nodes(inputs: list, outputs: list, model_name: str) -> list:
    """Nodes needed to compute ``outputs`` from ``inputs``, each after the nodes it reads from."""
    input_ids = {id(t) for t in inputs}

    def check_connected(node) -> None:
        if isinstance(node.layer, InputLayer):
            tensor = node.output_tensors[0]
            raise ValueError(f"Graph disconnected: model '{model_name}' needs the value of input "
                             f"'{tensor.name}' (shape {tensor.shape}), which is not among the model's "
                             "`inputs`. Pass every ks.Input the outputs depend on.")

    def parents(node) -> list:
        return [_node_of(t) for t in reversed(node.input_tensors) if id(t) not in input_ids]

    roots = [_node_of(t) for t in outputs if id(t) not in input_ids]
    return postorder(roots, parents, check_connected)


def replay_node(node, values: dict, training, force_training: bool = False):
    """Call the node's layer as it was called, with ``values[id(t)]`` in place of each KerasTensor
    ``t``; ``force_training`` overrides a ``training`` recorded in the call (explain's inference)."""
    if node.arguments is None:  # a node recorded without its call structure (InputLayer)
        args = [values[id(t)] for t in node.input_tensors]
        return call_layer(node.layer, args[0] if len(args) == 1 else args, training)
    swap = (lambda x: values[id(x)] if isinstance(x, KerasTensor) else x)
    args, kwargs = node.arguments
    args = [_map_structure(swap, a) for a in args]
    kwargs = {key: _map_structure(swap, value) for key, value in kwargs.items()
              if not (force_training and key == "training")}
    return call_layer(node.layer, args[0], training, args[1:], kwargs)


def _check_symbolic(structure, what: str) -> list:
    flat = _flatten(structure)
    if not flat:
        raise ValueError(f"`{what}` must not be empty. Received: {what}={structure!r}.")
    for t in flat:
        if not isinstance(t, KerasTensor) or t._keras_history is None:
            raise TypeError(f"`{what}` must be KerasTensors from ks.Input(...) and layer calls on them. "
                            f"Received: {t!r} of type {type(t).__name__}.")
    return flat


class Functional(Model):
    """A model built from ``ks.Input`` tensors: ``ks.Model(inputs, outputs)``.

    Parameters
    ----------
    inputs : KerasTensor, list or dict of KerasTensors
    outputs : KerasTensor, list or dict of KerasTensors
    name : str, optional
    """

    def __init__(self, inputs, outputs, name: str | None = None, trainable: bool = True, **kwargs):
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        self._input_struct = inputs
        self._output_struct = outputs
        self._inputs = _check_symbolic(inputs, "inputs")
        self._outputs = _check_symbolic(outputs, "outputs")
        self._nodes = topological_nodes(self._inputs, self._outputs, self.name)
        self._fusion_pairs = fusion.functional_pairs(self._nodes, self._outputs)
        layers = [t._keras_history[0] for t in self._inputs]
        for node in self._nodes:
            if all(node.layer is not l for l in layers):
                layers.append(node.layer)
        unique_layer_names(layers, self.name)
        self._graph_layers = layers
        self.dtype = self._inputs[0].dtype
        self.built = True
        self._build_shapes = [t.shape for t in self._inputs]

    # ---------------------------------------------------------------- graph
    @property
    def layers(self) -> list:
        return list(self._graph_layers)

    @property
    def inputs(self) -> list:
        return list(self._inputs)

    @property
    def outputs(self) -> list:
        return list(self._outputs)

    @property
    def input_names(self) -> list:
        if isinstance(self._input_struct, dict):
            return list(self._input_struct)
        return [t._keras_history[0].name for t in self._inputs]

    @property
    def output_names(self) -> list:
        if isinstance(self._output_struct, dict):
            return list(self._output_struct)
        return [t._keras_history[0].name for t in self._outputs]

    def _input_specs(self) -> list:
        return list(self._inputs)

    def _output_specs(self) -> list:
        return list(self._outputs)

    # ----------------------------------------------------------------- call
    def _flat_inputs(self, inputs) -> list:
        if isinstance(inputs, dict):
            names = self.input_names
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}' expects inputs named {names}. Missing: {missing}; "
                                 f"received keys {list(inputs)}.")
            return [inputs[n] for n in names]
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != len(self._inputs):
            raise ValueError(f"Model '{self.name}' expects {len(self._inputs)} input(s) "
                             f"({', '.join(self.input_names)}). Received: {len(flat)}.")
        return flat

    def call(self, inputs, training=None):
        flat = [adjust_input_rank(spec, x) for spec, x in zip(self._inputs, self._flat_inputs(inputs))]
        values = {}
        for i, (spec, value) in enumerate(zip(self._inputs, flat)):
            check_input_shape(self.name, i, spec, value)
            values[id(spec)] = value
        fused = set()  # positions of pool nodes already computed with their convolution
        for i, node in enumerate(self._nodes):
            if i in fused:
                continue
            j = self._fusion_pairs.get(i)
            if j is not None:
                x, pool_node = values[id(node.input_tensors[0])], self._nodes[j]
                if fusion.fusable(node.layer, pool_node.layer, x):
                    out = fusion.call_conv_relu_max_pool(node.layer, pool_node.layer, x, training)
                    values[id(pool_node.output_tensors[0])] = out
                    fused.add(j)
                    continue
            out = replay_node(node, values, training)
            for tensor, value in zip(node.output_tensors, _flatten(out)):
                values[id(tensor)] = value
        results = [values[id(t)] for t in self._outputs]
        return self._pack_outputs(results)

    def _pack_outputs(self, flat: list):
        if isinstance(self._output_struct, dict):
            return dict(zip(self._output_struct, flat))
        if isinstance(self._output_struct, (list, tuple)):
            return list(flat)
        return flat[0]

    def compute_output_shape(self, input_shape):
        """The output shape(s) for inputs of ``input_shape``: the declared ones, or, for inputs of
        other (e.g. concrete where the model has None) sizes, the shapes propagated node by node."""
        flat = self._flat_shapes(input_shape)
        if all(tuple(s) == t.shape for s, t in zip(flat, self._inputs)):
            shapes = [t.shape for t in self._outputs]
        else:
            shapes = self._propagate_shapes(flat)
        if isinstance(self._output_struct, dict):
            return dict(zip(self._output_struct, shapes))
        return list(shapes) if isinstance(self._output_struct, (list, tuple)) else shapes[0]

    def _flat_shapes(self, input_shape) -> list:
        if isinstance(input_shape, dict):
            return [tuple(input_shape[n]) for n in self.input_names]
        flat = [input_shape] if is_shape(input_shape) else list(input_shape)
        if len(flat) != len(self._inputs):
            raise ValueError(f"Model '{self.name}' expects {len(self._inputs)} input(s). "
                             f"Received: input_shape={input_shape!r}.")
        for i, (shape, spec) in enumerate(zip(flat, self._inputs)):
            if len(shape) != len(spec.shape) or any(e is not None and s is not None and e != s
                                                    for e, s in zip(spec.shape[1:], shape[1:])):
                raise ValueError(f"Input {i} of model '{self.name}' is incompatible with the model: expected "
                                 f"shape={spec.shape}, received shape={tuple(shape)}.")
        return [tuple(s) for s in flat]

    def _propagate_shapes(self, flat: list) -> list:
        """Each node's output shapes from its inputs' new shapes (a model built for (None, None, 3)
        called on Input((180, 180, 3)) gets concrete shapes, as in Keras)."""
        new = {id(spec): KerasTensor(shape, spec.dtype) for spec, shape in zip(self._inputs, flat)}
        swap = (lambda x: new[id(x)] if isinstance(x, KerasTensor) else x)
        for node in self._nodes:
            if node.arguments is None:
                args = [new[id(t)] for t in node.input_tensors]
                args, kwargs = (args[0] if len(args) == 1 else args,), {}
            else:
                args = tuple(_map_structure(swap, a) for a in node.arguments[0])
                kwargs = {k: _map_structure(swap, v) for k, v in node.arguments[1].items()}
            specs = _flatten(node.layer._output_spec(args, kwargs), is_leaf=_is_spec)
            for tensor, (shape, dtype) in zip(node.output_tensors, specs):
                new[id(tensor)] = KerasTensor(shape, dtype)
        return [new[id(t)].shape for t in self._outputs]

    def build(self, input_shape) -> None:
        self.built = True

    # --------------------------------------------------------------- config
    def get_config(self) -> dict:
        from ..saving.serialization import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        from ..saving.serialization import functional_from_config

        return functional_from_config(cls, config, custom_objects)

    def _model_nodes_of(self, layer: Layer) -> list:
        """The layer's nodes that belong to this model, in call order."""
        ids = {id(n) for n in self._nodes}
        return [n for n in layer._inbound_nodes if id(n) in ids]
