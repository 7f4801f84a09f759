"""ONNX versions of Keras's activation functions (by the function a layer holds)."""

from __future__ import annotations

import math

from .. import layers as L
from ..ops import activations as A
from .graph import GraphBuilder, Value, register

__all__ = ["apply_activation", "activation_name", "relu_general"]


def _unary(op_type: str, **attrs):
    return lambda g, x, hint: g.op(op_type, [x.name], hint, **attrs)


def _times_sigmoid(g: GraphBuilder, x: Value, hint: str) -> str:
    return g.op("Mul", [x.name, g.op("Sigmoid", [x.name], f"{hint}/sigmoid")], hint)


def _gelu_exact(g: GraphBuilder, x: Value, hint: str) -> str:
    # x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt 2))
    erf = g.op("Erf", [g.op("Mul", [x.name, g.const(1 / math.sqrt(2), f"{hint}/c")], f"{hint}/s")], f"{hint}/erf")
    half_x = g.op("Mul", [x.name, g.const(0.5, f"{hint}/half")], f"{hint}/hx")
    return g.op("Mul", [half_x, g.op("Add", [erf, g.const(1.0, f"{hint}/one")], f"{hint}/p")], hint)


def _gelu_tanh(g: GraphBuilder, x: Value, hint: str) -> str:
    cube = g.op("Mul", [g.op("Mul", [x.name, x.name], f"{hint}/x2"), x.name], f"{hint}/x3")
    inner = g.op("Add", [x.name, g.op("Mul", [cube, g.const(0.044715, f"{hint}/k")], f"{hint}/kx3")], f"{hint}/in")
    t = g.op("Tanh", [g.op("Mul", [inner, g.const(math.sqrt(2 / math.pi), f"{hint}/c")], f"{hint}/s")], f"{hint}/t")
    half_x = g.op("Mul", [x.name, g.const(0.5, f"{hint}/half")], f"{hint}/hx")
    return g.op("Mul", [half_x, g.op("Add", [t, g.const(1.0, f"{hint}/one")], f"{hint}/p")], hint)


def _clip(g: GraphBuilder, x: str, low, high, hint: str) -> str:
    inputs = [x, "" if low is None else g.const(low, f"{hint}/min"),
              "" if high is None else g.const(high, f"{hint}/max")]
    while inputs[-1] == "":
        inputs.pop()
    return g.op("Clip", inputs, hint)


def relu_general(g: GraphBuilder, x: Value, hint: str, negative_slope=0.0, max_value=None, threshold=0.0) -> str:
    """Keras's ReLU(max_value, negative_slope, threshold) in ONNX ops."""
    if threshold == 0.0 and max_value is None:
        return g.op("LeakyRelu", [x.name], hint, alpha=float(negative_slope)) if negative_slope else \
            g.op("Relu", [x.name], hint)
    if threshold == 0.0 and not negative_slope:
        return _clip(g, x.name, 0.0, max_value, hint)
    # positive part: x where x > threshold (else 0), capped at max_value; minus slope * (threshold - x)+
    t = g.const(threshold, f"{hint}/t")
    above = g.op("Where", [g.op("Greater", [x.name, t], f"{hint}/gt"), x.name, g.const(0.0, f"{hint}/zero")],
                 f"{hint}/pos")
    positive = _clip(g, above, 0.0, max_value, f"{hint}/clip") if max_value is not None else above
    if not negative_slope:
        return g.op("Identity", [positive], hint)
    below = g.op("Relu", [g.op("Sub", [t, x.name], f"{hint}/tx")], f"{hint}/below")
    leak = g.op("Mul", [below, g.const(negative_slope, f"{hint}/slope")], f"{hint}/leak")
    return g.op("Sub", [positive, leak], hint)


def _softmax_family(op_type: str):
    def convert(g: GraphBuilder, x: Value, hint: str) -> str:
        return g.op(op_type, [x.name], hint, axis=x.axis(-1))
    return convert


_CONVERTERS = {
    "relu": _unary("Relu"), "relu6": lambda g, x, h: _clip(g, x.name, 0.0, 6.0, h),
    "leaky_relu": _unary("LeakyRelu", alpha=0.2), "elu": _unary("Elu", alpha=1.0), "gelu": _gelu_exact,
    "gelu_tanh": _gelu_tanh, "sigmoid": _unary("Sigmoid"), "tanh": _unary("Tanh"),
    "hard_sigmoid": _unary("HardSigmoid", alpha=1 / 6, beta=0.5), "silu": _times_sigmoid,
    "softplus": _unary("Softplus"), "exponential": _unary("Exp"), "linear": _unary("Identity"),
    "log_sigmoid": lambda g, x, h: g.op("Neg", [g.op("Softplus", [g.op("Neg", [x.name], f"{h}/n")], f"{h}/sp")], h),
    "softmax": _softmax_family("Softmax"), "log_softmax": _softmax_family("LogSoftmax"),
}
_BY_FUNCTION = {id(fn): name for name, fn in A._ACTIVATIONS.items()}
_BY_FUNCTION[id(A.gelu)] = "gelu_tanh"  # ks.ops.gelu's default is the tanh approximation
_BY_FUNCTION[id(A.swish)] = "silu"


def activation_name(function) -> str | None:
    """The converter key of an activation function, or None for a function with no ONNX form."""
    if function is None:
        return "linear"
    return _BY_FUNCTION.get(id(function))


def apply_activation(g: GraphBuilder, layer, function, x: Value, hint: str) -> Value:
    """``function(x)`` in the graph; a custom callable raises a ValueError naming the layer."""
    name = activation_name(function)
    if name is None:
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) cannot be exported to ONNX: its "
                         f"activation {getattr(function, '__name__', function)!r} is a custom function. "
                         f"Exportable activations: {', '.join(sorted(A._ACTIVATIONS))}.")
    if name == "linear":
        return x
    return Value(_CONVERTERS[name](g, x, hint), x.rank, x.layout)


# -------------------------------------------------------------- activations
@register(L.Activation)
def activation(g, layer, inputs, in_shapes, out_shapes):
    return apply_activation(g, layer, layer.activation, inputs[0], layer.name)


@register(L.ReLU)
def relu(g, layer, inputs, in_shapes, out_shapes):
    x = inputs[0]
    y = relu_general(g, x, layer.name, layer.negative_slope, layer.max_value, layer.threshold)
    return Value(y, x.rank, x.layout)


@register(L.LeakyReLU)
def leaky_relu(g, layer, inputs, in_shapes, out_shapes):
    x = inputs[0]
    return Value(g.op("LeakyRelu", [x.name], layer.name, alpha=layer.negative_slope), x.rank, x.layout)


@register(L.Softmax)
def softmax(g, layer, inputs, in_shapes, out_shapes):
    x = inputs[0]
    return Value(g.op("Softmax", [x.name], layer.name, axis=x.axis(layer.axis)), x.rank, x.layout)
