"""ONNX converters for padding, cropping and resizing layers."""

# N batch, H/W height/width, C channels, F filters

from __future__ import annotations

import numpy as np

from .. import layers as L
from .graph import NCHW, Value, register, unsupported

__all__ = []


# -------------------------------------------------------------- padding, cropping, resizing
@register(L.ZeroPadding2D)
def zero_padding2d(g, layer, inputs, in_shapes, out_shapes):
    x = g.layout(inputs[0], NCHW)
    (top, bottom), (left, right) = layer.padding
    pads = g.ints([0, 0, top, left, 0, 0, bottom, right], f"{layer.name}/pads")
    return Value(g.op("Pad", [x.name, pads], layer.name, mode="constant"), 4, NCHW)


def _slice_hw(g, x: str, starts, ends, hint: str) -> str:
    return g.op("Slice", [x, g.ints(starts, f"{hint}/starts"), g.ints(ends, f"{hint}/ends"),
                          g.ints([2, 3], f"{hint}/axes")], hint)


@register(L.Cropping2D)
def cropping2d(g, layer, inputs, in_shapes, out_shapes):
    x = g.layout(inputs[0], NCHW)
    (top, bottom), (left, right) = layer.cropping
    big = np.iinfo(np.int64).max
    ends = [-bottom if bottom else big, -right if right else big]
    return Value(_slice_hw(g, x.name, [top, left], ends, layer.name), 4, NCHW)


def _resize(g, x: str, hint: str, mode: str, scales=None, hw=None) -> str:
    """ONNX Resize to integer ``scales`` or to a fixed ``hw`` (batch and channels kept)."""
    attrs = {"mode": mode}
    if mode == "nearest":  # output row o repeats input row floor(o / s), as Keras's UpSampling2D
        attrs.update(coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    else:  # tf.image.resize's bilinear: half-pixel centres
        attrs["coordinate_transformation_mode"] = "half_pixel"
    if scales is not None:
        return g.op("Resize", [x, "", g.const([1.0, 1.0, *scales], f"{hint}/scales", dtype=np.float32)], hint,
                    **attrs)
    batch_channels = g.op("Slice", [g.op("Shape", [x], f"{hint}/shape"), g.ints([0], f"{hint}/s0"),
                                    g.ints([2], f"{hint}/s1")], f"{hint}/nc")
    sizes = g.op("Concat", [batch_channels, g.ints(list(hw), f"{hint}/hw")], f"{hint}/sizes", axis=0)
    return g.op("Resize", [x, "", "", sizes], hint, **attrs)


@register(L.UpSampling2D)
def upsampling2d(g, layer, inputs, in_shapes, out_shapes):
    x = g.layout(inputs[0], NCHW)
    mode = "nearest" if layer.interpolation == "nearest" else "linear"
    return Value(_resize(g, x.name, layer.name, mode, scales=[float(s) for s in layer.size]), 4, NCHW)


@register(L.RandomCrop)
def random_crop(g, layer, inputs, in_shapes, out_shapes):
    h, w = in_shapes[0][1:3]
    if h is None or w is None:
        raise unsupported(layer, "RandomCrop needs known input height and width")
    # inference: the largest centred window with the target aspect ratio, resized to the target
    crop_h = max(min(h, int(w * layer.height / layer.width)), 1)
    crop_w = max(min(w, int(h * layer.width / layer.height)), 1)
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    x = g.layout(inputs[0], NCHW)
    y = _slice_hw(g, x.name, [top, left], [top + crop_h, left + crop_w], f"{layer.name}/crop")
    if (crop_h, crop_w) != (layer.height, layer.width):
        y = _resize(g, y, layer.name, "linear", hw=(layer.height, layer.width))
    return Value(y, 4, NCHW)
