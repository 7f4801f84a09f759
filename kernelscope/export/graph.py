"""A small ONNX graph builder that tracks each tensor's layout.

Keras layers are channels-last (NHWC) while ONNX's Conv, pooling and
BatchNormalization are channels-first (NCHW). Each graph value remembers which
layout its 4-D data is in; a converter asks for the layout it needs and the
builder inserts (and reuses) the Transpose, so chains of convolutions stay
NCHW inside and only the graph's inputs and outputs are NHWC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Value", "GraphBuilder", "NHWC", "NCHW", "TO_NCHW", "TO_NHWC"]

NHWC, NCHW = "nhwc", "nchw"
TO_NCHW, TO_NHWC = (0, 3, 1, 2), (0, 2, 3, 1)


@dataclass(frozen=True)
class Value:
    """A tensor of the ONNX graph: its name, rank and (for rank 4) layout."""

    name: str
    rank: int
    layout: str | None = None

    def axis(self, keras_axis: int) -> int:
        """The ONNX axis of a Keras (channels-last) axis of this value."""
        axis = keras_axis % self.rank
        if self.rank == 4 and self.layout == NCHW:
            return (0, 2, 3, 1)[axis]
        return axis


class GraphBuilder:
    """Collects nodes and initializers; ``onnx`` is the imported onnx module."""

    def __init__(self, onnx, opset: int, dtype: np.dtype):
        self.onnx, self.opset, self.dtype = onnx, opset, np.dtype(dtype)
        self.nodes, self.initializers, self._names, self._transposed = [], [], set(), {}

    def fresh(self, hint: str) -> str:
        name, i = hint, 1
        while name in self._names:
            name, i = f"{hint}_{i}", i + 1
        self._names.add(name)
        return name

    def const(self, array, hint: str, dtype=None) -> str:
        """Add an initializer (floats in the model's dtype unless ``dtype`` is given)."""
        from onnx import numpy_helper

        array = np.asarray(array, dtype=dtype or self.dtype)
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def ints(self, values, hint: str) -> str:
        return self.const(np.asarray(values, dtype=np.int64), hint, dtype=np.int64)

    def op(self, op_type: str, inputs: list, hint: str, **attrs) -> str:
        """Add one node with one output; return the output's name."""
        out = self.fresh(hint)
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [out], name=self.fresh(f"{hint}/{op_type}"),
                                                     **attrs))
        return out

    def layout(self, value: Value, layout: str) -> Value:
        """``value`` in ``layout`` (a no-op for ranks other than 4)."""
        if value.rank != 4 or value.layout == layout:
            return value
        key = (value.name, layout)
        if key not in self._transposed:
            perm = TO_NCHW if layout == NCHW else TO_NHWC
            name = self.op("Transpose", [value.name], f"{value.name}_{layout}", perm=list(perm))
            self._transposed[key] = Value(name, 4, layout)
        return self._transposed[key]

    def reduce(self, op_type: str, x: str, axes, hint: str, keepdims: int) -> str:
        """ReduceMean/ReduceMax: axes became an input in opset 18."""
        if self.opset >= 18:
            return self.op(op_type, [x, self.ints(list(axes), f"{hint}/axes")], hint, keepdims=keepdims)
        return self.op(op_type, [x], hint, axes=list(axes), keepdims=keepdims)


# ---------------------------------------------------------------- the converters, by layer class
# A converter takes the graph builder, the layer, its input Values and the Keras shapes of its
# inputs and outputs, and returns the output Value(s); each module of this package registers its own.
CONVERTERS: dict = {}


def register(*classes):
    def wrap(fn):
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn
    return wrap


def unsupported(layer, why: str) -> ValueError:
    return ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) cannot be exported to ONNX: {why}.")
