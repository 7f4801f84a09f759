"""Convolution layers: Conv2D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose.

Shapes are channels-last, ``(batch, height, width, channels)``; kernels use
Keras's layouts so weights move between the two unchanged. ``padding="same"``
is TensorFlow's (extra pixel bottom/right); Conv2D, DepthwiseConv2D and
SeparableConv2D also take explicit zero padding (an int, ``(ph, pw)`` or
``((top, bottom), (left, right))``) as the slides do.
"""

# N batch, H/W height/width, C channels, F filters

from __future__ import annotations

import math

from .. import initializers, ops, regularizers
from ..ops.conv import conv2d_relu  # the module: `ops.conv` is keras.ops.conv, the function
from .._checks import check_allocation, normalize_tuple
from ..kernels.padding import normalize_padding, output_size
from .base import Layer
from .core import (check_data_format, mark_built, check_last_axis, check_ndim, check_unsupported, get_activation,
                   known_last_axis, positive_int, serialize_initializer, serialize_regularizer)

__all__ = ["Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose"]


def _conv_length(n, k: int, s: int, d: int, padding, axis: int):
    """Output length of one spatial axis (None stays None)."""
    if n is None:
        return None
    if padding == "same":
        return math.ceil(n / s)
    pad_total = 0 if padding == "valid" else sum(padding[axis])
    return output_size(n, k, pad_total, s, d)


class _BaseConv(Layer):
    """Shared arguments of the forward convolutions: checks, output shape, bias and activation."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 activation=None, use_bias: bool = True, bias_initializer="zeros", bias_regularizer=None,
                 activity_regularizer=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        check_unsupported(activity_regularizer=activity_regularizer, bias_constraint=bias_constraint)
        self.data_format = check_data_format(data_format)
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = normalize_tuple(strides, 2, "strides")
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
        self.padding = normalize_padding(padding)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                             f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}.")
        self.activation, self._activation_name = get_activation(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def _out_channels(self, in_channels: int) -> int:
        raise NotImplementedError

    def _spatial_output(self, input_shape) -> tuple:
        hw = tuple(_conv_length(n, k, s, d, self.padding, i) for i, (n, k, s, d) in enumerate(
            zip(input_shape[1:3], self.kernel_size, self.strides, self.dilation_rate)))
        if any(n is not None and n <= 0 for n in hw):
            raise ValueError(
                f"Computed output size would be non-positive for layer '{self.name}': input shape "
                f"{tuple(input_shape)}, kernel_size={self.kernel_size}, strides={self.strides}, "
                f"padding={self.padding!r}, dilation_rate={self.dilation_rate}.")
        return hw

    def compute_output_shape(self, input_shape):
        check_ndim(self, input_shape, 4)
        return (input_shape[0], *self._spatial_output(input_shape), self._out_channels(input_shape[-1]))

    def _kernel(self, shape: tuple, initializer, name: str = "kernel", regularizer=None):
        # a huge kernel_size fails here, naming the argument, not in NumPy's allocator
        check_allocation(shape, "kernel_size", self.kernel_size, f"a weight '{name}'")
        return self.add_weight(shape, initializer, name=name, regularizer=regularizer)

    def _add_bias(self, size: int) -> None:
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight((size,), self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer)

    def _check_input(self, inputs) -> None:
        check_ndim(self, inputs.shape, 4)
        check_last_axis(self, inputs.shape, self._in_channels, "channels")

    def _finish(self, outputs):
        return outputs if self.activation is None else self.activation(outputs)

    def _conv_config(self) -> dict:
        return {"kernel_size": self.kernel_size, "strides": self.strides, "padding": self.padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": self._activation_name, "use_bias": self.use_bias,
                "bias_initializer": serialize_initializer(self.bias_initializer),
                "bias_regularizer": serialize_regularizer(self.bias_regularizer),
                "activity_regularizer": None, "bias_constraint": None}


class Conv2D(_BaseConv):
    """2-D convolution (cross-correlation): ``activation(conv2d(inputs, kernel) + bias)``.

    Parameters
    ----------
    filters : int
        Number of filters (output channels).
    kernel_size, strides, dilation_rate : int or tuple of 2 ints
    padding : "valid", "same", int, (ph, pw) or ((top, bottom), (left, right))
    groups : int
        Input channels and ``filters`` are split into this many independent groups.
    activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer
        As in Keras.

    Kernel ``(kh, kw, C // groups, F)``; parameters ``kh*kw*(C//groups)*F + F``.

    Examples
    --------
    >>> import numpy as np, kernelscope as ks
    >>> ks.layers.Conv2D(64, 3)(np.zeros((1, 28, 28, 32))).shape
    (1, 26, 26, 64)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        check_unsupported(kernel_constraint=kernel_constraint)
        self.filters = positive_int(filters, "filters")
        self.groups = positive_int(groups, "groups")
        if self.filters % self.groups:
            raise ValueError("The number of filters must be evenly divisible by the number of groups. "
                             f"Received: groups={self.groups}, filters={self.filters}.")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)

    def _out_channels(self, in_channels) -> int:
        return self.filters

    def build(self, input_shape) -> None:
        check_ndim(self, input_shape, 4)
        self._in_channels = known_last_axis(self, input_shape, "channels")
        if self._in_channels % self.groups:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of groups. "
                f"Received groups={self.groups}, but the input has {self._in_channels} channels "
                f"(full input shape is {tuple(input_shape)}).")
        self._spatial_output(input_shape)
        shape = self.kernel_size + (self._in_channels // self.groups, self.filters)
        self.kernel = self._kernel(shape, self.kernel_initializer, regularizer=self.kernel_regularizer)
        self._add_bias(self.filters)
        mark_built(self, input_shape)

    def call(self, inputs):
        self._check_input(inputs)
        # Conv + bias + ReLU in one op: no intermediate array and one pass less each way
        conv = conv2d_relu if self.activation is ops.activations.relu else ops.conv2d
        outputs = conv(inputs, self.kernel, self.bias, strides=self.strides, padding=self.padding,
                       dilation_rate=self.dilation_rate, groups=self.groups)
        return outputs if conv is conv2d_relu else self._finish(outputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, **self._conv_config(), "groups": self.groups,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "kernel_regularizer": serialize_regularizer(self.kernel_regularizer),
                "kernel_constraint": None}


class DepthwiseConv2D(_BaseConv):
    """Depthwise convolution: each input channel gets its own ``depth_multiplier`` filters.

    Kernel ``(kh, kw, C, depth_multiplier)`` named ``kernel`` (Keras 3), bias
    ``(C * depth_multiplier,)``; output channels ``C * depth_multiplier``.
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias: bool = True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        check_unsupported(depthwise_constraint=depthwise_constraint)
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)

    def _out_channels(self, in_channels):
        return None if in_channels is None else in_channels * self.depth_multiplier

    def build(self, input_shape) -> None:
        check_ndim(self, input_shape, 4)
        self._in_channels = known_last_axis(self, input_shape, "channels")
        self._spatial_output(input_shape)
        shape = self.kernel_size + (self._in_channels, self.depth_multiplier)
        self.kernel = self._kernel(shape, self.depthwise_initializer, regularizer=self.depthwise_regularizer)
        self._add_bias(self._in_channels * self.depth_multiplier)
        mark_built(self, input_shape)

    def call(self, inputs):
        self._check_input(inputs)
        outputs = ops.depthwise_conv2d(inputs, self.kernel, self.bias, strides=self.strides,
                                       padding=self.padding, dilation_rate=self.dilation_rate)
        return self._finish(outputs)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._conv_config(), "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": serialize_initializer(self.depthwise_initializer),
                "depthwise_regularizer": serialize_regularizer(self.depthwise_regularizer),
                "depthwise_constraint": None}


class SeparableConv2D(_BaseConv):
    """Depthwise convolution followed by a 1x1 pointwise convolution to ``filters`` channels.

    Weights ``depthwise_kernel (kh, kw, C, m)``, ``pointwise_kernel (1, 1, C*m, F)``, ``bias (F,)``.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias: bool = True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        check_unsupported(depthwise_constraint=depthwise_constraint, pointwise_constraint=pointwise_constraint)
        self.filters = positive_int(filters, "filters")
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)

    def _out_channels(self, in_channels) -> int:
        return self.filters

    def build(self, input_shape) -> None:
        check_ndim(self, input_shape, 4)
        self._in_channels = known_last_axis(self, input_shape, "channels")
        self._spatial_output(input_shape)
        m = self.depth_multiplier
        self.depthwise_kernel = self._kernel(self.kernel_size + (self._in_channels, m), self.depthwise_initializer,
                                             name="depthwise_kernel", regularizer=self.depthwise_regularizer)
        self.pointwise_kernel = self.add_weight((1, 1, self._in_channels * m, self.filters),
                                                self.pointwise_initializer, name="pointwise_kernel",
                                                regularizer=self.pointwise_regularizer)
        self._add_bias(self.filters)
        mark_built(self, input_shape)

    def call(self, inputs):
        self._check_input(inputs)
        outputs = ops.separable_conv2d(inputs, self.depthwise_kernel, self.pointwise_kernel, self.bias,
                                       strides=self.strides, padding=self.padding,
                                       dilation_rate=self.dilation_rate)
        return self._finish(outputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, **self._conv_config(),
                "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": serialize_initializer(self.depthwise_initializer),
                "pointwise_initializer": serialize_initializer(self.pointwise_initializer),
                "depthwise_regularizer": serialize_regularizer(self.depthwise_regularizer),
                "pointwise_regularizer": serialize_regularizer(self.pointwise_regularizer),
                "depthwise_constraint": None, "pointwise_constraint": None}


def _transpose_length(n, k: int, s: int, d: int, padding: str, output_padding):
    """Keras's deconv output length (with and without ``output_padding``)."""
    if n is None:
        return None
    k = (k - 1) * d + 1
    if output_padding is None:
        return n * s if padding == "same" else n * s + max(k - s, 0)
    pad = k // 2 if padding == "same" else 0
    return (n - 1) * s + k - 2 * pad + output_padding


class Conv2DTranspose(Conv2D):
    """Transposed convolution (the gradient of Conv2D with respect to its input).

    Kernel ``(kh, kw, filters, C)`` as in Keras; ``padding`` is "valid" or "same".
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        if not (isinstance(padding, str) and padding.lower() in ("valid", "same")):
            raise ValueError(f'`padding` must be "valid" or "same" for Conv2DTranspose. Received: padding={padding!r}.')
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = normalize_tuple(output_padding, 2, "output_padding", minimum=0)
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError("`output_padding` must be < `strides`. "
                                 f"Received: output_padding={self.output_padding}, strides={self.strides}.")

    def _spatial_output(self, input_shape) -> tuple:
        pads = self.output_padding or (None, None)
        return tuple(_transpose_length(n, k, s, d, self.padding, p) for n, k, s, d, p in zip(
            input_shape[1:3], self.kernel_size, self.strides, self.dilation_rate, pads))

    def build(self, input_shape) -> None:
        check_ndim(self, input_shape, 4)
        self._in_channels = known_last_axis(self, input_shape, "channels")
        shape = self.kernel_size + (self.filters, self._in_channels)
        self.kernel = self._kernel(shape, self.kernel_initializer, regularizer=self.kernel_regularizer)
        self._add_bias(self.filters)
        mark_built(self, input_shape)

    def call(self, inputs):
        self._check_input(inputs)
        outputs = ops.conv2d_transpose(inputs, self.kernel, self.bias, strides=self.strides,
                                       padding=self.padding, output_padding=self.output_padding,
                                       dilation_rate=self.dilation_rate)
        return self._finish(outputs)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["groups"]
        return {**config, "output_padding": self.output_padding}
