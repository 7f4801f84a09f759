"""ONNX converters for the layers that slide a window: convolutions and pooling (inference semantics).

Spatial operators run channels-first (NCHW) inside the graph; converters ask the builder
for the layout they need (see graph.py).
"""

# N batch, H/W height/width, C channels, F filters

from __future__ import annotations

import numpy as np

from .. import layers as L
from ..geometry import resolve_padding, transpose_crops
from .activations import apply_activation
from .graph import NCHW, GraphBuilder, Value, register, unsupported

__all__ = []


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
