"""``to_onnx``: write a kernelscope model as an ONNX graph (inference semantics).

The graph keeps the model's interface: channels-last (NHWC) inputs and outputs
with a dynamic batch dimension. Inside, convolutions and pooling run
channels-first with the Transposes the builder inserts; dropout, noise and the
random augmentation layers become identities, BatchNormalization uses its
moving statistics. Nested models are inlined.
"""

from __future__ import annotations

import os

import numpy as np

from .._checks import require
from .._io import atomic_write_bytes
from . import activations, conv, core, merging, reshaping  # noqa: F401 - each registers its converters
from .graph import CONVERTERS, NHWC, GraphBuilder, Value

__all__ = ["to_onnx", "DEFAULT_OPSET", "MIN_OPSET"]

DEFAULT_OPSET, MIN_OPSET = 17, 13


def _check_opset(onnx, opset) -> int:
    highest = onnx.defs.onnx_opset_version()
    if opset is None:
        return min(DEFAULT_OPSET, highest)
    if not isinstance(opset, (int, np.integer)) or isinstance(opset, bool) or not MIN_OPSET <= opset <= highest:
        raise ValueError(f"`opset` must be an integer from {MIN_OPSET} to {highest} (the newest this onnx "
                         f"package knows). Received: opset={opset!r}.")
    return int(opset)


def _convert_layer(g: GraphBuilder, layer, inputs: list, in_shapes: list, out_shapes: list) -> list:
    from ..models.model import Model

    if isinstance(layer, Model):
        return _convert_model(g, layer, inputs)
    converter = CONVERTERS.get(type(layer))
    if converter is None:
        known = ", ".join(sorted({cls.__name__ for cls in CONVERTERS}))
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) cannot be exported to ONNX: there is no "
                         f"converter for {type(layer).__name__}. Exportable layers: {known}, and nested "
                         "Sequential/functional models.")
    out = converter(g, layer, inputs, in_shapes, out_shapes)
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _convert_model(g: GraphBuilder, model, inputs: list) -> list:
    """Inline ``model`` on ``inputs`` (Values); return its output Values."""
    from ..models.functional import Functional
    from ..models.sequential import Sequential

    if isinstance(model, Sequential):
        x, shape = inputs[0], model.inputs[0].shape
        for layer, out in zip(model.layers, model._output_kts):
            x = _convert_layer(g, layer, [x], [shape], [out.shape])[0]
            shape = out.shape
        return [x]
    if not isinstance(model, Functional):
        raise ValueError(f"Model '{model.name}' ({type(model).__name__}) cannot be exported to ONNX: subclassed "
                         "models have no recorded graph. Build it with ks.Sequential or ks.Model(inputs, outputs).")
    values = {id(t): v for t, v in zip(model.inputs, inputs)}
    for node in model._nodes:
        args = [values[id(t)] for t in node.input_tensors]
        outs = _convert_layer(g, node.layer, args, [t.shape for t in node.input_tensors],
                              [t.shape for t in node.output_tensors])
        for tensor, value in zip(node.output_tensors, outs):
            values[id(tensor)] = value
    return [values[id(t)] for t in model.outputs]


def _tensor_info(onnx, name: str, shape: tuple, elem_type: int):
    dims = ["N" if i == 0 else d for i, d in enumerate(shape)]
    return onnx.helper.make_tensor_value_info(name, elem_type, dims)


def _build_graph(onnx, model, opset: int):
    from ..models.model import Model

    if not isinstance(model, Model):
        raise TypeError(f"`model` must be a kernelscope Model. Received: model={model!r} of type "
                        f"{type(model).__name__}.")
    if not model.built or not model.inputs:
        raise ValueError(f"Model '{model.name}' is not built, so it has no graph to export. Give it an input "
                         "shape (ks.Input or input_shape=) first.")
    dtype = np.dtype(model.inputs[0].dtype)
    elem = onnx.helper.np_dtype_to_tensor_dtype(dtype)
    g = GraphBuilder(onnx, opset, dtype)
    inputs = []
    for tensor in model.inputs:
        name = g.fresh(tensor._keras_history[0].name)
        inputs.append(Value(name, len(tensor.shape), NHWC if len(tensor.shape) == 4 else None))
    outputs = _convert_model(g, model, inputs)
    graph_outputs = []
    for tensor, value, out_name in zip(model.outputs, outputs, model.output_names):
        final = g.layout(value, NHWC)
        name = g.fresh(out_name if out_name not in {v.name for v in inputs} else f"{out_name}_output")
        g.nodes.append(onnx.helper.make_node("Identity", [final.name], [name], name=g.fresh(f"{name}/Identity")))
        graph_outputs.append(_tensor_info(onnx, name, tensor.shape, elem))
    graph_inputs = [_tensor_info(onnx, v.name, t.shape, elem) for v, t in zip(inputs, model.inputs)]
    return onnx.helper.make_graph(g.nodes, model.name, graph_inputs, graph_outputs, g.initializers)


def to_onnx(model, path, opset: int | None = None):
    """Export ``model`` to an ONNX file at ``path`` and return the ``onnx.ModelProto``.

    Parameters
    ----------
    model : ks.Model
        A built Sequential or functional model (nested models are inlined).
    path : str or PathLike
        Destination; written to a temporary file and renamed into place.
    opset : int, optional
        ONNX opset version (default 17; 13 up to the installed onnx's newest).

    Raises
    ------
    ImportError
        The onnx package is missing (``pip install "kernelscope[onnx]"``).
    ValueError
        A layer has no ONNX form (the message names it), ``opset`` is out of range, or ``path`` is
        a folder or lies in a folder that does not exist.
    """
    path = _check_path(path)
    onnx = require("onnx", "onnx", "Exporting to ONNX")
    opset = _check_opset(onnx, opset)
    graph = _build_graph(onnx, model, opset)
    from .. import __version__

    proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)],
                                   producer_name="kernelscope", producer_version=__version__)
    proto.ir_version = min(proto.ir_version, _IR_FOR_OPSET.get(opset, proto.ir_version))
    atomic_write_bytes(path, proto.SerializeToString())
    return proto


# onnxruntime rejects IR versions newer than it knows; use the one that introduced each opset.
_IR_FOR_OPSET = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10}


def _check_path(path) -> str:
    """Fail before the (slow) graph build when ``path`` cannot be written."""
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"`path` must be a file path (str or PathLike). Received: path={path!r}.") from None
    if os.path.isdir(path):
        raise ValueError(f"`path` must be a file path such as 'model.onnx', not a folder. Received: path={path!r} "
                         "(an existing folder).")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"`path` must be in an existing folder: folder '{folder}' does not exist. "
                         f"Received: path={path!r}.")
    return path
