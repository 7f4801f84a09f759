"""Counting a model: each layer's parameters with the formula, and receptive fields.

>>> import kernelscope as ks
>>> model = ks.Sequential([ks.Input((28, 28, 32)), ks.layers.Conv2D(64, 3, name="conv")])
>>> print(ks.explain.parameters(model).rows[0])
Conv2D: (3x3x32 + 1) x 64 = 18,496
"""

from __future__ import annotations

from dataclasses import dataclass

from . import _format
from ._graph import get_layer, layer_output, model_input, nodes_for

__all__ = ["ParameterRow", "ParameterTable", "parameters", "ReceptiveField", "receptive_field"]


@dataclass(frozen=True)
class ParameterRow:
    """One layer's parameters: ``formula`` reads like ``(3x3x32 + 1) x 64 = 18,496``."""

    name: str
    kind: str
    formula: str
    count: int
    trainable: int
    non_trainable: int

    def __str__(self) -> str:
        return f"{self.kind}: {self.formula}"


@dataclass(frozen=True)
class ParameterTable:
    """Every layer's row and the totals (equal to ``model.count_params()``)."""

    rows: list
    total: int
    trainable: int
    non_trainable: int

    def __str__(self) -> str:
        width = max([len(r.name) for r in self.rows] + [5])
        lines = [f"{row.name:<{width}}  {row}" for row in self.rows]
        lines.append(f"Total: {self.total:,} parameters ({self.trainable:,} trainable, "
                     f"{self.non_trainable:,} non-trainable)")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The table in Markdown."""
        lines = ["| Layer | Type | Formula | Parameters |", "|---|---|---|---:|"]
        lines += [f"| {r.name} | {r.kind} | `{r.formula}` | {r.count:,} |" for r in self.rows]
        lines.append(f"| **Total** | | {self.trainable:,} trainable, {self.non_trainable:,} non-trainable "
                     f"| **{self.total:,}** |")
        return "\n".join(lines)


def _bias(text: str, use_bias: bool) -> str:
    return f"({text} + 1)" if use_bias else f"({text})"


def _conv_formula(layer) -> str:
    kh, kw, c, f = layer.kernel.shape
    if type(layer).__name__ == "Conv2DTranspose":
        kh, kw, f, c = layer.kernel.shape  # Keras's layout (kh, kw, filters, in_channels)
    return f"{_bias(f'{kh}x{kw}x{c}', layer.bias is not None)} x {f}"


def _depthwise_formula(layer) -> str:
    kh, kw, c, m = layer.kernel.shape
    outputs = f"{c}" if m == 1 else f"{c} x {m}"
    return f"{_bias(f'{kh}x{kw}', layer.bias is not None)} x {outputs}"


def _separable_formula(layer) -> str:
    kh, kw, c, m = layer.depthwise_kernel.shape
    depth = f"{kh}x{kw}x{c}" + (f"x{m}" if m > 1 else "")
    point = _bias(str(c * m), layer.bias is not None)
    return f"{depth} + {point} x {layer.pointwise_kernel.shape[3]}"


def _dense_formula(layer) -> str:
    n_in, units = layer.kernel.shape
    return f"{_bias(str(n_in), layer.bias is not None)} x {units}"


def _batch_norm_formula(layer) -> str:
    vectors = len(layer.weights)
    return f"{vectors} x {layer.moving_mean.shape[0]}"


_FORMULAS = {"Conv2D": _conv_formula, "Conv2DTranspose": _conv_formula, "DepthwiseConv2D": _depthwise_formula,
             "SeparableConv2D": _separable_formula, "Dense": _dense_formula,
             "BatchNormalization": _batch_norm_formula}


def _row(layer) -> ParameterRow:
    count = sum(int(w.size) for w in layer.weights)
    trainable = sum(int(w.size) for w in layer.trainable_weights)
    kind = type(layer).__name__
    builder = _FORMULAS.get(kind)
    if builder is not None and layer.built:
        body = builder(layer)
    elif layer.weights:  # any other layer: its weight shapes, e.g. Normalization's mean + variance + count
        body = " + ".join(f"{w.name} {_format.shape(w.shape) or '1'}" for w in layer.weights)
    else:
        body = "no weights"
    formula = f"{body} = {_format.count(count)}" if count or layer.weights else "0"
    if trainable != count:
        formula += f" ({_format.count(trainable)} trainable)"
    return ParameterRow(layer.name, kind, formula, count, trainable, count - trainable)


def parameters(model) -> ParameterTable:
    """Each layer's parameter count with its formula, and the totals.

    Formulas follow Keras's weights: Conv2D ``(kh x kw x C + 1) x F``, Dense
    ``(inputs + 1) x units``, BatchNormalization ``4 x C`` (2C trainable),
    DepthwiseConv2D ``(kh x kw + 1) x C x depth_multiplier``, SeparableConv2D
    ``kh x kw x C + (C + 1) x F``; other layers list their weight shapes.

    Examples
    --------
    >>> import kernelscope as ks
    >>> model = ks.Sequential([ks.Input((1600,)), ks.layers.Dense(128)])
    >>> print(parameters(model))
    dense  Dense: (1600 + 1) x 128 = 204,928
    Total: 204,928 parameters (204,928 trainable, 0 non-trainable)
    """
    from ..layers.base import InputLayer

    if not getattr(model, "built", False):
        raise ValueError(f"Model '{getattr(model, 'name', model)}' is not built, so its weights do not exist yet. "
                         "Start it with ks.Input(shape) or build it first.")
    rows = [_row(layer) for layer in model.layers if not isinstance(layer, InputLayer)]
    total = sum(r.count for r in rows)
    trainable = sum(r.trainable for r in rows)
    return ParameterTable(rows, total, trainable, total - trainable)


# ------------------------------------------------------------ receptive field


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of one unit of a layer, per axis (height, width).

    ``size``: input pixels one unit sees; ``jump``: input pixels between neighbouring
    units (the product of the strides); ``start``: input coordinate (pixel index, may be
    fractional or negative with padding) of the centre of the first unit's field.
    ``steps`` lists, for each layer on the way, ``(name, size, jump, start)``.
    """

    size: tuple
    jump: tuple
    start: tuple
    steps: list

    def __str__(self) -> str:
        lines = [f"{'layer':<20} {'size':>9} {'jump':>9} {'start':>13}"]
        for name, size, jump, start in self.steps:
            lines.append(f"{name:<20} {_pair(size):>9} {_pair(jump):>9} {_pair(start):>13}")
        return "\n".join(lines)


def _pair(values) -> str:
    return "x".join(_format.number(v) for v in values)


def _geometry(layer, in_shape) -> tuple | None:
    """(kernel, stride, pad_before) per axis of a layer that moves a window, else None."""
    from ..geometry import normalize_padding, resolve_padding

    kind = type(layer).__name__
    if kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        size = tuple(d * (k - 1) + 1 for k, d in zip(layer.kernel_size, layer.dilation_rate))
        strides, padding = layer.strides, layer.padding
    elif kind in ("MaxPooling2D", "AveragePooling2D"):
        size, strides, padding = layer.pool_size, layer.strides, layer.padding
    elif kind == "ZeroPadding2D":
        return (1, 1), (1, 1), (layer.padding[0][0], layer.padding[1][0])
    elif kind == "Cropping2D":
        return (1, 1), (1, 1), (-layer.cropping[0][0], -layer.cropping[1][0])
    else:
        return None
    if padding == "same" and any(n is None for n in in_shape[1:3]):
        raise ValueError(f"Layer '{layer.name}' uses padding='same' on an input of unknown size {in_shape}; "
                         "the receptive field needs the input height and width.")
    pads = resolve_padding(normalize_padding(padding), in_shape[1:3], size, strides)
    return size, strides, (pads[0][0], pads[1][0])


_PASS_THROUGH = ("Activation", "ReLU", "LeakyReLU", "Softmax", "BatchNormalization", "Dropout", "GaussianNoise",
                 "Rescaling", "Normalization", "Add", "Multiply", "Concatenate", "InputLayer", "RandomFlip",
                 "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast")


def _step(layer, fields: list, in_shape) -> tuple:
    size, jump, start = max(fields, key=lambda f: f[0])  # merging layers: the widest input
    if len({f[1] for f in fields}) > 1:
        raise ValueError(f"Layer '{layer.name}' merges inputs with different strides {[f[1] for f in fields]}; "
                         "their receptive fields are not aligned.")
    geometry = _geometry(layer, in_shape)
    if geometry is None:
        if type(layer).__name__ not in _PASS_THROUGH:
            raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) has no receptive-field rule: the "
                             "receptive field is defined for convolution, pooling, padding, cropping and "
                             "element-wise layers (after Flatten, Dense or global pooling a unit sees the "
                             "whole input).")
        return size, jump, start
    k, s, p = geometry
    return (tuple(r + (kk - 1) * j for r, kk, j in zip(size, k, jump)),
            tuple(j * ss for j, ss in zip(jump, s)),
            tuple(st + ((kk - 1) / 2 - pp) * j for st, kk, pp, j in zip(start, k, p, jump)))


def receptive_field(model, layer) -> ReceptiveField:
    """Receptive field of ``layer``'s units in the model input, by the standard recurrence.

    With k the (dilated) kernel size, s the stride and p the padding before, each
    layer maps ``size -> size + (k - 1) * jump``, ``jump -> jump * s`` and
    ``start -> start + ((k - 1)/2 - p) * jump``, from size 1, jump 1, start 0.

    Parameters
    ----------
    model : Sequential or functional Model
    layer : str, int or Layer
        The layer (name, index into ``model.layers`` or the layer itself).

    Examples
    --------
    >>> import kernelscope as ks
    >>> model = ks.Sequential([ks.Input((32, 32, 1)), ks.layers.Conv2D(4, 3, name="c1"),
    ...                        ks.layers.MaxPooling2D(2, name="p1"), ks.layers.Conv2D(4, 3, name="c2")])
    >>> receptive_field(model, "c2").size
    (8, 8)
    """
    target = get_layer(model, layer)
    source = model_input(model)
    fields = {id(source): ((1, 1), (1, 1), (0.0, 0.0))}
    steps = []
    out = layer_output(model, target)
    if out is not source:
        for node in nodes_for(model, [out]):
            ins = [fields[id(t)] for t in node.input_tensors]
            field = _step(node.layer, ins, node.input_tensors[0].shape)
            for t in node.output_tensors:
                fields[id(t)] = field
            steps.append((node.layer.name, *field))
    size, jump, start = fields[id(out)]
    return ReceptiveField(size, jump, start, steps)

