"""Layers that merge a list of tensors (no weights): Add, Subtract, Multiply, Average,
Maximum, Minimum, Concatenate, Dot, and their functional forms (``layers.add([a, b])``).

Add and Multiply broadcast an axis of size 1 against any size, as Keras does
(squeeze-and-excitation multiplies (N, H, W, C) by (N, 1, 1, C)); any other
mismatch is nearly always a wiring mistake, so it is reported.
"""

from __future__ import annotations

import functools
import numbers
import operator

from .. import autograd, ops
from .._checks import check_axis
from .base import Layer

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "add",
           "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]


def _check_list(layer: Layer, shapes) -> list:
    if not isinstance(shapes, (list, tuple)) or not shapes or not all(isinstance(s, (list, tuple)) for s in shapes):
        raise ValueError(f"A merge layer ('{layer.name}') should be called on a list of at least one input. "
                         f"Received: input_shape={shapes!r}.")
    return [tuple(s) for s in shapes]


def _merge_dims(a, b):
    return b if a is None else a


def _broadcast_dims(a, b):
    if a == 1:
        return b
    if b == 1:
        return a
    return _merge_dims(a, b)


class _ElementwiseMerge(Layer):
    def compute_output_shape(self, input_shape):
        shapes = _check_list(self, input_shape)
        out = shapes[0]
        for shape in shapes[1:]:
            if len(shape) != len(out) or any(x is not None and y is not None and x != y and 1 not in (x, y)
                                             for x, y in zip(out, shape)):
                raise ValueError(f"Inputs have incompatible shapes. Received shapes {out} and {shape}.")
            out = tuple(_broadcast_dims(x, y) for x, y in zip(out, shape))
        return out

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)

    def call(self, inputs):
        self.compute_output_shape([tuple(t.shape) for t in _as_list(self, inputs)])
        return functools.reduce(self._combine, inputs)


def _as_list(layer: Layer, inputs) -> list:
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(f"A merge layer ('{layer.name}') should be called on a list of inputs. "
                         f"Received: inputs of type {type(inputs).__name__}.")
    return list(inputs)


class Add(_ElementwiseMerge):
    """Element-wise sum of a list of same-shaped tensors (residual connections)."""

    _combine = staticmethod(operator.add)


class Multiply(_ElementwiseMerge):
    """Element-wise product of a list of same-shaped tensors."""

    _combine = staticmethod(operator.mul)


class Subtract(_ElementwiseMerge):
    """``inputs[0] - inputs[1]``, for exactly two same-shaped tensors."""

    def compute_output_shape(self, input_shape):
        shapes = _check_list(self, input_shape)
        if len(shapes) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received: input_shape={shapes}.")
        return super().compute_output_shape(shapes)

    _combine = staticmethod(operator.sub)


class Average(_ElementwiseMerge):
    """Element-wise mean of a list of same-shaped tensors."""

    def call(self, inputs):
        return super().call(inputs) * (1.0 / len(inputs))

    _combine = staticmethod(operator.add)


class Maximum(_ElementwiseMerge):
    """Element-wise maximum of a list of same-shaped tensors (the gradient goes to the largest)."""

    _combine = staticmethod(autograd.maximum)


class Minimum(_ElementwiseMerge):
    """Element-wise minimum of a list of same-shaped tensors."""

    _combine = staticmethod(autograd.minimum)


class Concatenate(Layer):
    """Join a list of tensors along ``axis`` (channels by default)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_axis(axis)

    def compute_output_shape(self, input_shape):
        shapes = _check_list(self, input_shape)
        rank = len(shapes[0])
        if not -rank <= self.axis < rank or any(len(s) != rank for s in shapes):
            raise ValueError(f"A `Concatenate` layer requires inputs of the same rank, with `axis` in range. "
                             f"Received: axis={self.axis}, input_shape={shapes}.")
        axis = self.axis % rank
        out = list(shapes[0])
        for shape in shapes[1:]:
            for i, (x, y) in enumerate(zip(out, shape)):
                if i == axis:
                    out[i] = None if x is None or y is None else x + y
                elif x is not None and y is not None and x != y:
                    raise ValueError("A `Concatenate` layer requires inputs with matching shapes except for "
                                     f"the concatenation axis. Received: input_shape={shapes}.")
                else:
                    out[i] = _merge_dims(x, y)
        return tuple(out)

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)

    def call(self, inputs):
        self.compute_output_shape([tuple(t.shape) for t in _as_list(self, inputs)])
        return ops.concatenate(list(inputs), axis=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


def _dot_axes(axes, shapes) -> list:
    """The two contraction axes, non-negative, from Keras's ``axes`` (an int or a pair)."""
    pair = [axes, axes] if isinstance(axes, numbers.Integral) else list(axes)
    return [a % len(shape) if a < 0 else a for a, shape in zip(pair, shapes)]


class Dot(Layer):
    """Dot product of two batches of tensors along ``axes``, sample by sample (Keras's batch_dot).

    Parameters
    ----------
    axes : int or pair of ints
        The axis (or one axis per input) contracted; never the batch axis 0.
    normalize : bool
        L2-normalize both inputs along those axes first, so the result is the cosine similarity.

    ``(N, d) . (N, d)`` gives ``(N, 1)``; ``(N, n, d) . (N, m, d)`` with ``axes=2`` gives ``(N, n, m)``.
    """

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, bool) or not isinstance(axes, (numbers.Integral, list, tuple)):
            raise TypeError(f"Invalid type for argument `axes`: it should be a list or an int. "
                            f"Received: axes={axes!r}.")
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError(f"Invalid format for argument `axes`: it should contain two elements. "
                                 f"Received: axes={axes!r}.")
            if not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axes):
                raise ValueError(f"Invalid format for argument `axes`: list elements should be integers. "
                                 f"Received: axes={axes!r}.")
        self.axes = int(axes) if isinstance(axes, numbers.Integral) else [int(a) for a in axes]
        self.normalize = bool(normalize)

    def compute_output_shape(self, input_shape):
        shapes = _check_list(self, input_shape)
        if len(shapes) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: input_shape={shapes}.")
        axes = _dot_axes(self.axes, shapes)
        if any(a == 0 or a >= len(s) for a, s in zip(axes, shapes)):
            raise ValueError(f"`axes` of a `Dot` layer must name non-batch axes of its inputs. "
                             f"Received: axes={self.axes}, input_shape={shapes}.")
        d1, d2 = shapes[0][axes[0]], shapes[1][axes[1]]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(f"Incompatible input shapes: axis values {d1} (at axis {axes[0]}) != {d2} (at axis "
                             f"{axes[1]}). Full input shapes: {shapes[0]}, {shapes[1]}.")
        rest1 = [d for i, d in enumerate(shapes[0]) if i != axes[0]]
        rest2 = [d for i, d in enumerate(shapes[1]) if i != axes[1]][1:]
        out = rest1 + rest2
        return tuple(out + [1] if len(out) == 1 else out)

    def build(self, input_shape) -> None:
        self.compute_output_shape(input_shape)

    def call(self, inputs):
        inputs = _as_list(self, inputs)
        out_shape = self.compute_output_shape([tuple(t.shape) for t in inputs])
        x1, x2 = inputs
        a1, a2 = _dot_axes(self.axes, [x1.shape, x2.shape])
        if self.normalize:
            x1, x2 = _l2_normalize(x1, a1), _l2_normalize(x2, a2)
        n, k = x1.shape[0], x1.shape[a1]
        # (N, rest1, k) @ (N, k, rest2): one batched matmul
        left = ops.reshape(ops.transpose(x1, [0] + [i for i in range(1, x1.ndim) if i != a1] + [a1]), (n, -1, k))
        right = ops.reshape(ops.transpose(x2, [0, a2] + [i for i in range(1, x2.ndim) if i != a2]), (n, k, -1))
        return ops.reshape(left @ right, (n,) + tuple(out_shape[1:]))

    def get_config(self) -> dict:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalize(x, axis: int):
    # x * rsqrt(max(sum(x^2), eps^2)), as keras.ops.normalize: zero vectors stay finite
    square_sum = (x * x).sum(axis=axis, keepdims=True)
    return x / autograd.maximum(square_sum, 1e-14).sqrt()


# --------------------------------------------------------- functional forms
def _functional_form(layer_class) -> callable:
    """``layers.add([a, b])`` and its kin: the output of a new ``layer_class(**kwargs)`` on ``inputs``."""
    def merge(inputs, **kwargs):
        return layer_class(**kwargs)(inputs)

    merge.__name__ = merge.__qualname__ = layer_class.__name__.lower()
    merge.__doc__ = (f"``layers.{merge.__name__}([a, b])``: the output of a new ``{layer_class.__name__}`` "
                     "layer on ``inputs``.")
    return merge


add, subtract, multiply, average, maximum, minimum = (
    _functional_form(c) for c in (Add, Subtract, Multiply, Average, Maximum, Minimum))


def concatenate(inputs, axis: int = -1, **kwargs):
    """``layers.concatenate([a, b], axis=-1)``: the output of a new ``Concatenate`` layer."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """``layers.dot([a, b], axes=-1, normalize=False)``: the output of a new ``Dot`` layer."""
    return Dot(axes=axes, **kwargs)(inputs)
