"""One ONNX converter per kernelscope layer type (inference semantics).

A converter takes the graph builder, the layer, its input Values and the
Keras shapes of its inputs and outputs, and returns the output Value(s).
Spatial operators run channels-first (NCHW) inside the graph; converters ask
the builder for the layout they need (see graph.py).
"""

# N batch, H/W height/width, C channels, F filters

from __future__ import annotations

import numpy as np

from .. import layers as L
from ..geometry import resolve_padding, transpose_crops
from .activations import apply_activation
from .graph import NCHW, NHWC, GraphBuilder, Value

__all__ = ["CONVERTERS", "register"]

CONVERTERS: dict = {}


def register(*classes):
    def wrap(fn):
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn
    return wrap


def unsupported(layer, why: str) -> ValueError:
    return ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) cannot be exported to ONNX: {why}.")


def _pads(layer, padding, in_shape, kernel, strides, dilation) -> dict:
    """ONNX padding attributes: explicit ``pads`` [top, left, bottom, right] (TF "same" is asymmetric)."""
    hw = tuple(in_shape[1:3])
    if padding == "same" and None in hw:
        if max(dilation) > 1:
            raise unsupported(layer, "padding='same' with dilation needs known input height and width")
        return {"auto_pad": "SAME_UPPER"}  # TF's "same" (odd pixel bottom/right) is ONNX's SAME_UPPER
    (top, bottom), (left, right) = resolve_padding(padding, hw, kernel, strides, dilation)
    return {"pads": [top, left, bottom, right]}


def _finish(g: GraphBuilder, layer, y: str, hint: str) -> Value:
    return apply_activation(g, layer, layer.activation, Value(y, 4, NCHW), f"{hint}/act")


# -------------------------------------------------------------- convolutions
@register(L.Conv2D)
def conv2d(g, layer, inputs, in_shapes, out_shapes):
    x = g.layout(inputs[0], NCHW)
    weights = [x.name, g.const(layer.kernel.data.transpose(3, 2, 0, 1), f"{layer.name}/kernel")]
    if layer.bias is not None:
        weights.append(g.const(layer.bias.data, f"{layer.name}/bias"))
    y = g.op("Conv", weights, layer.name, kernel_shape=list(layer.kernel_size), strides=list(layer.strides),
             dilations=list(layer.dilation_rate), group=layer.groups,
             **_pads(layer, layer.padding, in_shapes[0], layer.kernel_size, layer.strides, layer.dilation_rate))
    return _finish(g, layer, y, layer.name)


def _depthwise(g, layer, x: str, kernel: np.ndarray, bias, in_shape, hint: str) -> str:
    kh, kw, c, m = kernel.shape
    # output channel c*m + j uses kernel[:, :, c, j]: ONNX weight (C*m, 1, kh, kw), group=C
    weights = [x, g.const(kernel.reshape(kh, kw, c * m).transpose(2, 0, 1)[:, None], f"{hint}/kernel")]
    if bias is not None:
        weights.append(g.const(bias, f"{hint}/bias"))
    return g.op("Conv", weights, hint, kernel_shape=[kh, kw], strides=list(layer.strides),
                dilations=list(layer.dilation_rate), group=c,
                **_pads(layer, layer.padding, in_shape, (kh, kw), layer.strides, layer.dilation_rate))


@register(L.DepthwiseConv2D)
def depthwise_conv2d(g, layer, inputs, in_shapes, out_shapes):
    bias = None if layer.bias is None else layer.bias.data
    y = _depthwise(g, layer, g.layout(inputs[0], NCHW).name, layer.kernel.data, bias, in_shapes[0], layer.name)
    return _finish(g, layer, y, layer.name)


@register(L.SeparableConv2D)
def separable_conv2d(g, layer, inputs, in_shapes, out_shapes):
    x = g.layout(inputs[0], NCHW)
    mid = _depthwise(g, layer, x.name, layer.depthwise_kernel.data, None, in_shapes[0], f"{layer.name}/depthwise")
    weights = [mid, g.const(layer.pointwise_kernel.data.transpose(3, 2, 0, 1), f"{layer.name}/pointwise_kernel")]
    if layer.bias is not None:
        weights.append(g.const(layer.bias.data, f"{layer.name}/bias"))
    y = g.op("Conv", weights, layer.name, kernel_shape=[1, 1])
    return _finish(g, layer, y, layer.name)


@register(L.Conv2DTranspose)
def conv2d_transpose(g, layer, inputs, in_shapes, out_shapes):
    hw = tuple(in_shapes[0][1:3])
    if None in hw:
        raise unsupported(layer, "Conv2DTranspose needs known input height and width")
    crops = [transpose_crops(k, s, layer.padding, op, d) for k, s, op, d in
             zip(layer.kernel_size, layer.strides, layer.output_padding or (None, None), layer.dilation_rate)]
    # Keras crops the full transposed output; a negative crop at the end appends rows (ONNX output_padding)
    begin = [max(c[0], 0) for c in crops]
    end = [max(c[1], 0) for c in crops]
    extra = [max(-c[1], 0) for c in crops]
    weights = [g.layout(inputs[0], NCHW).name, g.const(layer.kernel.data.transpose(3, 2, 0, 1), f"{layer.name}/kernel")]
    if layer.bias is not None:
        weights.append(g.const(layer.bias.data, f"{layer.name}/bias"))
    y = g.op("ConvTranspose", weights, layer.name, kernel_shape=list(layer.kernel_size),
             strides=list(layer.strides), dilations=list(layer.dilation_rate), pads=begin + end,
             output_padding=extra)
    return _finish(g, layer, y, layer.name)


# -------------------------------------------------------------- pooling
@register(L.MaxPooling2D, L.AveragePooling2D)
def pooling2d(g, layer, inputs, in_shapes, out_shapes):
    x = g.layout(inputs[0], NCHW)
    attrs = _pads(layer, layer.padding, in_shapes[0], layer.pool_size, layer.strides, (1, 1))
    if isinstance(layer, L.AveragePooling2D):
        attrs["count_include_pad"] = 0  # Keras leaves padded cells out of the mean
    op_type = "MaxPool" if isinstance(layer, L.MaxPooling2D) else "AveragePool"
    y = g.op(op_type, [x.name], layer.name, kernel_shape=list(layer.pool_size), strides=list(layer.strides), **attrs)
    return Value(y, 4, NCHW)


@register(L.GlobalAveragePooling2D, L.GlobalMaxPooling2D)
def global_pooling2d(g, layer, inputs, in_shapes, out_shapes):
    x = inputs[0]
    op_type = "ReduceMean" if isinstance(layer, L.GlobalAveragePooling2D) else "ReduceMax"
    y = g.reduce(op_type, x.name, [x.axis(1), x.axis(2)], layer.name, keepdims=int(layer.keepdims))
    return Value(y, 4, x.layout) if layer.keepdims else Value(y, 2)


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
