"""Views into a trained model as arrays: feature maps, kernels, heat-map overlays.

Everything returns NumPy arrays; :func:`show` draws one with matplotlib (extra ``plot``).
The gradient-based views (saliency, Grad-CAM, occlusion) are in
:mod:`kernelscope.explain.attribution`.
"""

# N batch, H/W height/width, C channels, F filters

from __future__ import annotations

import math

import numpy as np

from .._checks import require
from ..autograd import Tensor, no_grad
from ..layers.base import InputLayer
from ._graph import as_batch, evaluate, get_layer, layer_output

__all__ = ["feature_maps", "feature_map_grid", "kernels", "overlay", "show", "resize", "colorize"]


def feature_maps(model, image, layers=None) -> dict:
    """Activations of the chosen layers for one image (or a batch), in inference mode.

    Parameters
    ----------
    model : Sequential or functional Model (built, one image input)
    image : array_like, (H, W, C) (or (H, W) for one channel) or a batch (N, H, W, C)
        Fed as the model expects it (models trained by ``kernelscope train`` take 0..255).
    layers : list of names / indices / Layers, optional
        Default: every layer whose output is a 4-D feature map.

    Returns
    -------
    dict
        Layer name -> activation, (h, w, channels) for one image, (N, h, w, channels) for a batch.
    """
    batch, single = as_batch(model, image)
    if layers is None:
        chosen = [l for l in model.layers if not isinstance(l, InputLayer)
                  and len(layer_output(model, l).shape) == 4]
    else:
        chosen = [get_layer(model, l) for l in ([layers] if isinstance(layers, (str, int)) else layers)]
    targets = [layer_output(model, l) for l in chosen]
    with no_grad():
        values = evaluate(model, Tensor(batch), targets)
    return {l.name: (v.numpy()[0] if single else v.numpy()) for l, v in zip(chosen, values)}


def _normalize(array: np.ndarray, axes) -> np.ndarray:
    """Min-max to [0, 1] over ``axes`` (constant parts become 0)."""
    low = array.min(axis=axes, keepdims=True)
    span = array.max(axis=axes, keepdims=True) - low
    return np.where(span > 0, (array - low) / np.where(span > 0, span, 1), 0.0)


def _tile(tiles: np.ndarray, columns: int, spacing: int, fill: float = 1.0) -> np.ndarray:
    """(n, h, w[, 3]) tiles laid out row by row in ``columns`` columns, ``spacing`` pixels apart."""
    n, h, w = tiles.shape[:3]
    rows = math.ceil(n / columns)
    grid = np.full((rows * (h + spacing) - spacing, columns * (w + spacing) - spacing) + tiles.shape[3:],
                   fill, dtype=np.float32)
    for k in range(n):
        r, c = divmod(k, columns)
        grid[r * (h + spacing): r * (h + spacing) + h, c * (w + spacing): c * (w + spacing) + w] = tiles[k]
    return grid


def feature_map_grid(activation, columns: int | None = None, normalize: str = "channel",
                     spacing: int = 1) -> np.ndarray:
    """Tile the channels of one activation (h, w, C) into a grey image in [0, 1].

    ``normalize``: "channel" (each map to its own min..max), "global" (one range for all)
    or None (values as they are). ``columns`` defaults to ceil(sqrt(C)); tiles are
    ``spacing`` pixels apart on a white (1.0) background.
    """
    array = np.asarray(activation, dtype=np.float32)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(f"`activation` must be one feature map (height, width, channels). "
                         f"Received: shape={array.shape}.")
    tiles = np.moveaxis(array, -1, 0)
    if normalize == "channel":
        tiles = _normalize(tiles, (1, 2))
    elif normalize == "global":
        tiles = _normalize(tiles, (0, 1, 2))
    elif normalize is not None:
        raise ValueError(f'`normalize` must be "channel", "global" or None. Received: normalize={normalize!r}.')
    columns = columns or math.ceil(math.sqrt(tiles.shape[0]))
    return _tile(tiles.astype(np.float32), int(columns), spacing)


def kernels(model, layer=None, channel: int | None = None, normalize: str = "filter",
            spacing: int = 1) -> np.ndarray:
    """The kernels of a convolution layer as one image grid with values in [0, 1].

    Parameters
    ----------
    layer : name, index or Layer, optional
        Default: the first convolution layer.
    channel : int, optional
        Show only this input channel of each filter. By default a layer on 3 channels
        shows each filter as an RGB tile (H, W, 3 grid); otherwise every (channel,
        filter) pair is a grey tile, one row per input channel, one column per filter.
    normalize : "filter" (each tile to its own min..max) or "global"

    Returns
    -------
    ndarray, float32, (rows, columns) or (rows, columns, 3)
    """
    layer = _conv_layer(model, layer)
    weights = getattr(layer, "kernel", None)
    weights = getattr(layer, "depthwise_kernel", None) if weights is None else weights
    w = np.asarray(weights.numpy(), dtype=np.float32)
    if type(layer).__name__ == "Conv2DTranspose":
        w = np.swapaxes(w, 2, 3)  # Keras stores (kh, kw, filters, in_channels)
    kh, kw, c, f = w.shape
    if channel is not None:
        if not isinstance(channel, (int, np.integer)) or not -c <= channel < c:
            raise ValueError(f"`channel` must be an input channel index in [0, {c}) of layer '{layer.name}'. "
                             f"Received: channel={channel!r}.")
        tiles, columns = np.moveaxis(w[:, :, channel, :], -1, 0), math.ceil(math.sqrt(f))
    elif c == 3:
        tiles, columns = np.moveaxis(w, -1, 0), math.ceil(math.sqrt(f))
    else:
        tiles, columns = np.transpose(w, (2, 3, 0, 1)).reshape(c * f, kh, kw), f
    if normalize not in ("filter", "global"):
        raise ValueError(f'`normalize` must be "filter" or "global". Received: normalize={normalize!r}.')
    axes = tuple(range(1, tiles.ndim)) if normalize == "filter" else tuple(range(tiles.ndim))
    return _tile(_normalize(tiles, axes).astype(np.float32), columns, spacing)


def _conv_layer(model, layer):
    from ._graph import CONV_TYPES

    if layer is None:
        for candidate in model.layers:
            if type(candidate).__name__ in CONV_TYPES:
                return candidate
        raise ValueError(f"Model '{model.name}' has no convolution layer to show kernels of.")
    layer = get_layer(model, layer)
    if type(layer).__name__ not in CONV_TYPES:
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) has no convolution kernel; "
                         f"expected one of {', '.join(CONV_TYPES)}.")
    return layer


# ----------------------------------------------------------- heat maps


def resize(array, size: tuple) -> np.ndarray:
    """Bilinear resize of a 2-D map to ``size`` = (H, W), pixel centres aligned (half-pixel offsets)."""
    array = np.asarray(array, dtype=np.float64)

    def axis(n_in: int, n_out: int) -> tuple:
        position = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        low = np.floor(position).astype(int)
        return low, np.minimum(low + 1, n_in - 1), position - low

    r0, r1, rt = axis(array.shape[0], int(size[0]))
    c0, c1, ct = axis(array.shape[1], int(size[1]))
    top = array[r0][:, c0] * (1 - ct) + array[r0][:, c1] * ct
    bottom = array[r1][:, c0] * (1 - ct) + array[r1][:, c1] * ct
    return top * (1 - rt[:, None]) + bottom * rt[:, None]


def colorize(values, name="jet") -> np.ndarray:
    """RGB colours in [0, 1] for values in [0, 1]: "jet" and "gray" built in, other names via matplotlib."""
    t = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)
    if callable(name):
        return np.asarray(name(t), dtype=np.float64)[..., :3]
    if name == "jet":
        return np.clip(1.5 - np.abs(4 * t[..., None] - np.array([3.0, 2.0, 1.0])), 0.0, 1.0)
    if name in ("gray", "grey"):
        return np.repeat(t[..., None], 3, axis=-1)
    matplotlib = require("matplotlib", "plot", f"Colormap {name!r}", note=' ("jet" and "gray" do not)')
    try:
        cmap = matplotlib.colormaps[name]
    except KeyError:
        raise ValueError(f"Unknown colormap {name!r}; use 'jet', 'gray' or a matplotlib colormap name.") from None
    return cmap(t)[..., :3]


def _as_rgb255(image) -> np.ndarray:
    array = np.asarray(image, dtype=np.float64)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError("`image` must be (H, W), (H, W, 1) or (H, W, 3). "
                         f"Received: image.shape={np.shape(image)}.")
    scale = 255.0 if np.asarray(image).dtype.kind == "f" and array.max(initial=0) <= 1.0 else 1.0
    return array * scale


def overlay(image, heatmap, alpha: float = 0.4, colormap="jet") -> np.ndarray:
    """Blend a heat map (any range, any size) over an image: an RGB uint8 array (H, W, 3).

    ``image`` is (H, W), (H, W, 1) or (H, W, 3), 0..255 (or floats in 0..1); the heat
    map is scaled to 0..1, resized to (H, W) and coloured with ``colormap``
    ("jet", "gray", a matplotlib name or a callable); ``alpha`` is its weight.
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"`alpha` must be in [0, 1]. Received: alpha={alpha!r}.")
    rgb = _as_rgb255(image)
    heat = np.asarray(heatmap, dtype=np.float64)
    if heat.ndim != 2:
        raise ValueError(f"`heatmap` must be 2-D (height, width). Received: heatmap.shape={heat.shape}.")
    if heat.shape != rgb.shape[:2]:
        heat = resize(heat, rgb.shape[:2])
    colours = colorize(_normalize(heat, (0, 1)), colormap) * 255.0
    return np.clip(np.rint((1 - alpha) * rgb + alpha * colours), 0, 255).astype(np.uint8)


def show(array, title: str | None = None, ax=None, cmap: str | None = None):
    """Draw an image array with matplotlib (extra ``plot``); returns the Axes."""
    plt = require("matplotlib.pyplot", "plot", "show()")
    if ax is None:
        _, ax = plt.subplots()
    array = np.asarray(array)
    ax.imshow(array, cmap=cmap or ("gray" if array.ndim == 2 else None), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax
