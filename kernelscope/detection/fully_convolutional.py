"""The convolutional implementation of sliding windows (OverFeat; the course's "turn FC layers into convolutions").

A tile classifier ``Conv/Pool ... -> Flatten -> Dense -> Dense`` computes, for one
tile, features of shape ``(h, w, c)``, flattens them and multiplies by a Dense
kernel ``(h*w*c, units)``. That is exactly a ``Conv2D(units, (h, w))`` with the
kernel reshaped to ``(h, w, c, units)`` (channels-last flattening is row-major
over ``h, w, c``); every later Dense is a 1x1 convolution. Run on a whole scene,
the converted model gives at once the score of every window whose offset is a
multiple of the network's total stride, sharing the convolutions between
overlapping windows.

>>> import numpy as np, kernelscope as ks
>>> tile = ks.Sequential([ks.Input((8, 8, 1)), ks.layers.Conv2D(2, 3), ks.layers.MaxPooling2D(2),
...                       ks.layers.Flatten(), ks.layers.Dense(1, activation="sigmoid")])
>>> fc = fully_convolutional(tile)
>>> [type(layer).__name__ for layer in fc.layers]
['Conv2D', 'MaxPooling2D', 'Conv2D']
>>> fc.predict(np.zeros((1, 20, 30, 1)), verbose=0).shape  # windows at every 2 pixels
(1, 7, 12, 1)
"""

from __future__ import annotations

import numpy as np

from .. import layers as L

__all__ = ["fully_convolutional", "network_stride"]

# Applied pixel by pixel (or channel by channel): the same layer works on a scene.
_POINTWISE = (L.BatchNormalization, L.Activation, L.ReLU, L.LeakyReLU, L.Dropout, L.GaussianNoise,
              L.Rescaling, L.Normalization)
# Identity at inference, so absent from the scene model.
_INFERENCE_IDENTITY = (L.RandomFlip, L.RandomRotation, L.RandomZoom, L.RandomTranslation, L.RandomContrast)
_SLIDING = (L.Conv2D, L.DepthwiseConv2D, L.SeparableConv2D, L.MaxPooling2D, L.AveragePooling2D)


def _refuse(layer, why: str):
    return ValueError(f"`model` cannot be made fully convolutional: layer {layer.name!r} "
                      f"({type(layer).__name__}) {why}")


def _chain(model) -> list:
    """The model's layers in order, if they form a single chain (nested models expanded)."""
    from ..models import Model
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError("`model` cannot be made fully convolutional: it needs one input and one output. "
                         f"Received: {len(model.inputs)} inputs, {len(model.outputs)} outputs.")
    chain, previous = [], None
    for layer in model.layers:
        if isinstance(layer, L.InputLayer):
            previous = layer
            continue
        nodes = getattr(layer, "_inbound_nodes", [])
        parents = [t._keras_history[0] for node in nodes for t in node.input_tensors]
        if previous is not None and parents and parents != [previous]:
            raise _refuse(layer, "is not fed by the previous layer alone: only a plain chain of layers "
                                 "(Sequential-like) can be converted.")
        chain.extend(_chain(layer) if isinstance(layer, Model) else [layer])
        previous = layer
    return chain


def _clone(layer):
    return type(layer).from_config(layer.get_config()), layer.get_weights()


def _check_sliding(layer) -> None:
    kernel = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
    strides = tuple(getattr(layer, "strides", (1, 1)))
    if getattr(layer, "padding", "valid") != "valid" and (tuple(kernel) != (1, 1) or strides != (1, 1)):
        raise _refuse(layer, f"has padding={layer.padding!r}: it pads the tile's border with zeros where a "
                             "window inside the scene sees its neighbours, so no pass over the scene reproduces "
                             "the tile's scores. Use padding='valid'.")


def _dense_as_conv(dense, feature_shape: tuple):
    """A Conv2D doing ``dense``'s job on an (h, w, c) feature map, with its kernel reshaped."""
    h, w, c = feature_shape
    config = dense.get_config()
    conv = L.Conv2D(config["units"], (h, w), activation=config["activation"], use_bias=config["use_bias"],
                    name=dense.name, dtype=config.get("dtype"))
    weights = dense.get_weights()
    weights[0] = weights[0].reshape(h, w, c, config["units"])
    return conv, weights


def _convert(layer, shape: tuple, flattened: tuple | None) -> tuple:
    """(new layer or None, its weights, the feature shape the next Dense must see, or None)."""
    if isinstance(layer, _INFERENCE_IDENTITY):
        return None, None, flattened
    if isinstance(layer, L.RandomCrop):
        raise _refuse(layer, "crops the tile's centre at inference, which no convolution over the scene can do.")
    if isinstance(layer, L.Flatten):
        return None, None, tuple(shape[1:])
    if isinstance(layer, L.Dense):
        feature = flattened if flattened is not None else (1, 1, shape[-1])
        return (*_dense_as_conv(layer, feature), None)
    if flattened is not None and not isinstance(layer, _POINTWISE):
        raise _refuse(layer, "comes after Flatten: only Dense and element-wise layers can follow Flatten.")
    if isinstance(layer, (L.GlobalAveragePooling2D, L.GlobalMaxPooling2D)):
        pool = L.AveragePooling2D if isinstance(layer, L.GlobalAveragePooling2D) else L.MaxPooling2D
        twin = pool(pool_size=tuple(shape[1:3]), strides=1, name=layer.name)
        return twin, [], None if layer.keepdims else (1, 1, shape[-1])
    if isinstance(layer, L.Softmax) and layer.axis not in (-1, len(shape) - 1):
        raise _refuse(layer, f"has axis={layer.axis}; only a softmax over the last (class) axis is per window.")
    if isinstance(layer, _SLIDING):
        _check_sliding(layer)
    elif not isinstance(layer, (*_POINTWISE, L.Softmax)):
        raise _refuse(layer, "has no convolutional equivalent here: supported are Conv2D, DepthwiseConv2D, "
                             "SeparableConv2D, pooling, Flatten, Dense and element-wise layers.")
    return (*_clone(layer), flattened)


def _tile_shape(model, window) -> tuple:
    shape = tuple(model.inputs[0].shape)
    if window is not None:
        from .._checks import normalize_tuple
        window = normalize_tuple(window, 2, "window")
        if len(shape) == 4 and None not in shape[1:3] and tuple(shape[1:3]) != window:
            raise ValueError(f"`window` must be the model's tile size {tuple(shape[1:3])} (its input). "
                             f"Received: window={window}.")
        shape = (None, *window, shape[-1])
    if len(shape) != 4 or None in shape[1:3]:
        raise ValueError(f"`window` is needed: the model's input shape {tuple(model.inputs[0].shape)} "
                         "does not fix a tile size.")
    return shape


def fully_convolutional(model, window=None):
    """An all-convolutional copy of a tile classifier that scores every window of a scene in one pass.

    Each ``Dense`` becomes a ``Conv2D`` with its weights reshaped (the first one after
    ``Flatten`` spans the tile's whole feature map), ``GlobalAveragePooling2D`` an
    ``AveragePooling2D`` over that map, and the other layers are copied with their
    weights; the result takes inputs of any size ``(None, None, C)``. ``window``
    (the tile size) defaults to the model's input size. Refused, naming the layer:
    ``padding="same"`` (zeros at the tile's border), branching graphs, and layers
    with no convolutional equivalent.
    """
    from ..models import Sequential
    tile = _tile_shape(model, window)
    shape, flattened, converted = tile, None, []
    for layer in _chain(model):
        new, weights, flattened = _convert(layer, shape, flattened)
        if new is not None:  # the shape one tile has at this point of the converted model
            shape = tuple(new.compute_output_shape(shape))
            converted.append((new, weights))
    if flattened is not None:
        raise ValueError("`model` cannot be made fully convolutional: it ends with Flatten, so its output is "
                         "not a score per window.")
    fc = Sequential([L.Input((None, None, tile[-1])), *[layer for layer, _ in converted]],
                    name=f"{model.name}_fully_convolutional")
    for layer, weights in converted:
        layer.set_weights(weights)
    return fc


def network_stride(model) -> tuple:
    """The total stride (rows, cols) of a model's convolutions and poolings: the step between windows."""
    stride = [1, 1]
    for layer in _chain(model):
        if isinstance(layer, _SLIDING):
            stride = [s * int(t) for s, t in zip(stride, layer.strides)]
    return tuple(stride)


_BAND_PIXELS = 2 ** 20  # a band of about a million scene pixels keeps each layer's arrays in cache-sized pieces


def _bands(n_rows: int, step: int, window: int, width: int) -> list:
    """[(first output row, last + 1)] bands of output rows, each fed by (rows - 1) * step + window scene rows."""
    per_band = max(1, (max(_BAND_PIXELS // max(width, 1), window + step) - window) // step + 1)
    return [(r, min(r + per_band, n_rows)) for r in range(0, n_rows, per_band)]


def fully_convolutional_scores(model, scene, window, strides, grid):
    """(rows, cols, units) outputs of the converted ``model`` for the ``grid`` of windows at ``strides``.

    The scene is cut in horizontal bands that overlap by a window (an output row only
    sees its own window's rows), which gives the same numbers as one pass and is
    several times faster on a big scene: each layer's arrays stay small.
    """
    step = network_stride(model)
    if any(s % t for s, t in zip(strides, step)):
        raise ValueError(f"`strides` must be a multiple of the model's total stride {step} for "
                         f"method='fully_convolutional'. Received: strides={tuple(strides)}.")
    fc = fully_convolutional(model, window)
    n_rows = (scene.shape[0] - window[0]) // step[0] + 1
    parts = []
    for first, last in _bands(n_rows, step[0], window[0], scene.shape[1]):
        band = scene[first * step[0]:(last - 1) * step[0] + window[0]]
        parts.append(fc.predict(band[None].astype("float32", copy=False), verbose=0)[0])
    outputs = np.concatenate(parts)
    picked = outputs[::strides[0] // step[0], ::strides[1] // step[1]][:grid[0], :grid[1]]
    if picked.shape[:2] != tuple(grid):
        raise ValueError(f"The fully convolutional pass gave {picked.shape[:2]} windows where {tuple(grid)} "
                         "were expected; the model's layers do not line up with its tile size.")
    return picked.reshape(tuple(grid) + (-1,))
