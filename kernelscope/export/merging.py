"""ONNX converters for the merging layers: Add, Multiply, Concatenate."""

# N batch, H/W height/width, C channels, F filters

from __future__ import annotations

from .. import layers as L
from .graph import Value, register

__all__ = []


# -------------------------------------------------------------- merging
def _same_layout(g, inputs: list) -> list:
    return [g.layout(x, inputs[0].layout) for x in inputs]


@register(L.Add, L.Multiply)
def elementwise_merge(g, layer, inputs, in_shapes, out_shapes):
    xs = _same_layout(g, inputs)
    op_type = "Add" if isinstance(layer, L.Add) else "Mul"
    y = xs[0].name
    for i, x in enumerate(xs[1:]):
        y = g.op(op_type, [y, x.name], layer.name if i == len(xs) - 2 else f"{layer.name}/{i}")
    return Value(y, xs[0].rank, xs[0].layout)


@register(L.Concatenate)
def concatenate(g, layer, inputs, in_shapes, out_shapes):
    xs = _same_layout(g, inputs)
    y = g.op("Concat", [x.name for x in xs], layer.name, axis=xs[0].axis(layer.axis))
    return Value(y, xs[0].rank, xs[0].layout)
