"""ONNX converters for the core, normalization and preprocessing layers (inference semantics)."""

# N batch, H/W height/width, C channels, F filters

from __future__ import annotations

import numpy as np

from .. import layers as L
from ..layers.preprocessing import _EPSILON
from .activations import apply_activation
from .graph import NCHW, NHWC, Value, register

__all__ = []


# -------------------------------------------------------------- core
@register(L.Dense)
def dense(g, layer, inputs, in_shapes, out_shapes):
    x = g.layout(inputs[0], NHWC)
    kernel = g.const(layer.kernel.data, f"{layer.name}/kernel")
    if x.rank == 2:
        args = [x.name, kernel] + ([g.const(layer.bias.data, f"{layer.name}/bias")] if layer.bias is not None else [])
        y = g.op("Gemm", args, layer.name)
    else:  # Keras's Dense acts on the last axis of an N-D input
        y = g.op("MatMul", [x.name, kernel], layer.name if layer.bias is None else f"{layer.name}/matmul")
        if layer.bias is not None:
            y = g.op("Add", [y, g.const(layer.bias.data, f"{layer.name}/bias")], layer.name)
    return apply_activation(g, layer, layer.activation, Value(y, x.rank, x.layout), f"{layer.name}/act")


@register(L.Flatten)
def flatten(g, layer, inputs, in_shapes, out_shapes):
    x = g.layout(inputs[0], NHWC)  # Keras flattens in (H, W, C) order
    return Value(g.op("Flatten", [x.name], layer.name, axis=1), 2)


@register(L.Reshape)
def reshape(g, layer, inputs, in_shapes, out_shapes):
    x = g.layout(inputs[0], NHWC)
    target = [0] + [-1 if d is None else int(d) for d in layer.compute_output_shape(in_shapes[0])[1:]]
    y = g.op("Reshape", [x.name, g.ints(target, f"{layer.name}/shape")], layer.name)
    return Value(y, len(target), NHWC if len(target) == 4 else None)


@register(L.Dropout, L.GaussianNoise, L.RandomFlip, L.RandomRotation, L.RandomZoom, L.RandomTranslation,
          L.RandomContrast)
def identity(g, layer, inputs, in_shapes, out_shapes):
    return inputs[0]  # active only in training


@register(L.BatchNormalization)
def batch_normalization(g, layer, inputs, in_shapes, out_shapes):
    x = inputs[0]
    size = layer.moving_mean.data.shape[0]
    gamma = layer.gamma.data if layer.gamma is not None else np.ones(size)
    beta = layer.beta.data if layer.beta is not None else np.zeros(size)
    stats = [gamma, beta, layer.moving_mean.data, layer.moving_variance.data]
    axis = layer.axis % x.rank
    if x.rank in (2, 4) and (axis == x.rank - 1 or x.rank == 2 and axis == 1):
        x = g.layout(x, NCHW)
        names = [g.const(a, f"{layer.name}/{n}") for a, n in zip(stats, ("gamma", "beta", "mean", "var"))]
        return Value(g.op("BatchNormalization", [x.name] + names, layer.name, epsilon=layer.epsilon), x.rank, x.layout)
    x = g.layout(x, NHWC)  # another axis: the same inference formula as a scale and shift
    scale = gamma / np.sqrt(layer.moving_variance.data.astype(np.float64) + layer.epsilon)
    shape = [1] * x.rank
    shape[axis] = size
    shift = beta - layer.moving_mean.data * scale
    y = g.op("Mul", [x.name, g.const(scale.reshape(shape), f"{layer.name}/scale")], f"{layer.name}/mul")
    return Value(g.op("Add", [y, g.const(shift.reshape(shape), f"{layer.name}/shift")], layer.name), x.rank, x.layout)


# -------------------------------------------------------------- preprocessing
@register(L.Rescaling)
def rescaling(g, layer, inputs, in_shapes, out_shapes):
    x = inputs[0]
    y = g.op("Mul", [x.name, g.const(layer.scale, f"{layer.name}/scale")], f"{layer.name}/mul")
    y = g.op("Add", [y, g.const(layer.offset, f"{layer.name}/offset")], layer.name)
    return Value(y, x.rank, x.layout)


@register(L.Normalization)
def normalization(g, layer, inputs, in_shapes, out_shapes):
    x = g.layout(inputs[0], NHWC)  # statistics are shaped for the Keras (channels-last) axes
    mean, var = layer._stats()
    std = np.maximum(np.sqrt(var.astype(np.float64)), _EPSILON)
    shape = (1,) + tuple(mean.shape[1:])
    mean_c, std_c = g.const(mean.reshape(shape), f"{layer.name}/mean"), g.const(std.reshape(shape), f"{layer.name}/std")
    if layer.invert:
        y = g.op("Add", [g.op("Mul", [x.name, std_c], f"{layer.name}/mul"), mean_c], layer.name)
    else:
        y = g.op("Div", [g.op("Sub", [x.name, mean_c], f"{layer.name}/sub"), std_c], layer.name)
    return Value(y, x.rank, x.layout)
