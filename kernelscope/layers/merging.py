"""Layers that merge a list of tensors: Add, Multiply, Concatenate (no weights).

Add and Multiply broadcast an axis of size 1 against any size, as Keras does
(squeeze-and-excitation multiplies (N, H, W, C) by (N, 1, 1, C)); any other
mismatch is nearly always a wiring mistake, so it is reported.
"""

from __future__ import annotations

import functools
import numbers

from .. import ops
from .base import Layer

__all__ = ["Add", "Multiply", "Concatenate"]


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

    @staticmethod
    def _combine(a, b):
        return a + b


class Multiply(_ElementwiseMerge):
    """Element-wise product of a list of same-shaped tensors."""

    @staticmethod
    def _combine(a, b):
        return a * b


class Concatenate(Layer):
    """Join a list of tensors along ``axis`` (channels by default)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
            raise ValueError(f"`axis` must be an integer. Received: axis={axis!r}.")
        self.axis = int(axis)

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
