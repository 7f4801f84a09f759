"""Convolution layers: Conv2D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose.

Shapes are channels-last, ``(batch, height, width, channels)``; kernels use
Keras's layouts so weights move between the two unchanged. ``padding="same"``
is TensorFlow's (extra pixel bottom/right); Conv2D, DepthwiseConv2D and
SeparableConv2D also take explicit zero padding (an int, ``(ph, pw)`` or
``((top, bottom), (left, right))``) as the slides do.
"""

# N batch, H/W height/width, C channels, F filters

from __future__ import annotations

import contextvars

from .. import initializers, ops, regularizers
from ..ops.conv import conv2d_activation, conv2d_relu_max_pool2d  # `ops.conv` is keras.ops.conv, the function
from .._checks import check_allocation, check_ndim
from ..geometry import normalize_padding, output_hw, padding_mode, standardize_tuple, transpose_output_length
from .base import Layer
from .core import (check_data_format, mark_built, check_last_axis, check_unsupported, get_activation,
                   known_last_axis, positive_int, weight_config)

__all__ = ["Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose"]

# The Conv2D(activation="relu") whose current call also applies the MaxPooling2D() after it, set by
# models/fusion.py for that one call (per thread: batch-split workers call the same layer at once).
THEN_MAX_POOL = contextvars.ContextVar("kernelscope_then_max_pool", default=None)


class _BaseConv(Layer):
    """What every convolution shares, as Keras 3's ``BaseConv``: arguments, one ``build``, output shape.

    A subclass names its weights in ``_kernel_shapes`` and its output channels in ``_out_channels``.
    """

    def __init__(self, *, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 activation=None, use_bias: bool = True, bias_initializer="zeros", bias_regularizer=None,
                 activity_regularizer=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        check_unsupported(activity_regularizer=activity_regularizer, bias_constraint=bias_constraint)
        self.data_format = check_data_format(data_format)
        self.kernel_size = standardize_tuple(kernel_size, 2, "kernel_size")
        self.strides = standardize_tuple(strides, 2, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, 2, "dilation_rate")
        self.padding = normalize_padding(padding)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                             f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}.")
        self.activation, self._activation_name = get_activation(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def _weight_args(self, prefix: str, initializer, regularizer, constraint) -> None:
        """Store ``{prefix}_initializer`` and ``{prefix}_regularizer`` (Keras's argument names)."""
        check_unsupported(**{f"{prefix}_constraint": constraint})
        setattr(self, f"{prefix}_initializer", initializers.get(initializer))
        setattr(self, f"{prefix}_regularizer", regularizers.get(regularizer))

    def _kernel_shapes(self, input_shape) -> dict:
        """{weight name: (shape, argument prefix)}, in the order Keras creates the weights.

        Called by ``build`` once ``self._in_channels`` is known.
        """
        raise NotImplementedError

    def _out_channels(self, in_channels):
        return self.filters

    def _spatial_output(self, input_shape) -> tuple:
        hw = output_hw(input_shape[1:3], self.kernel_size, self.strides, self.padding, self.dilation_rate)
        if any(n is not None and n <= 0 for n in hw):
            raise ValueError(
                f"Computed output size would be non-positive for layer '{self.name}': input shape "
                f"{tuple(input_shape)}, kernel_size={self.kernel_size}, strides={self.strides}, "
                f"padding={self.padding!r}, dilation_rate={self.dilation_rate}.")
        return hw

    def compute_output_shape(self, input_shape):
        check_ndim(input_shape, 4, self)
        return (input_shape[0], *self._spatial_output(input_shape), self._out_channels(input_shape[-1]))

    def build(self, input_shape) -> None:
        check_ndim(input_shape, 4, self)
        self._in_channels = known_last_axis(self, input_shape, "channels")
        shapes = self._kernel_shapes(input_shape)
        self.compute_output_shape(input_shape)
        for name, (shape, prefix) in shapes.items():
            # a huge kernel_size fails here, naming the argument, not in NumPy's allocator
            check_allocation(shape, "kernel_size", self.kernel_size, f"a weight '{name}'")
            setattr(self, name, self.add_weight(shape, getattr(self, f"{prefix}_initializer"), name=name,
                                                regularizer=getattr(self, f"{prefix}_regularizer")))
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight((self._out_channels(self._in_channels),), self.bias_initializer,
                                        name="bias", regularizer=self.bias_regularizer)
        mark_built(self, input_shape)

    def _check_input(self, inputs) -> None:
        check_ndim(inputs.shape, 4, self)
        check_last_axis(self, inputs.shape, self._in_channels, "channels")

    def _finish(self, outputs):
        return outputs if self.activation is None else self.activation(outputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": self._activation_name, "use_bias": self.use_bias, **weight_config(self, "bias"),
                "activity_regularizer": None}


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
        super().__init__(kernel_size=kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs)
        self._weight_args("kernel", kernel_initializer, kernel_regularizer, kernel_constraint)
        self.filters = positive_int(filters, "filters")
        self.groups = positive_int(groups, "groups")
        if self.filters % self.groups:
            raise ValueError("The number of filters must be evenly divisible by the number of groups. "
                             f"Received: groups={self.groups}, filters={self.filters}.")

    def _kernel_shapes(self, input_shape) -> dict:
        if self._in_channels % self.groups:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of groups. "
                f"Received groups={self.groups}, but the input has {self._in_channels} channels "
                f"(full input shape is {tuple(input_shape)}).")
        return {"kernel": (self.kernel_size + (self._in_channels // self.groups, self.filters), "kernel")}

    def call(self, inputs):
        self._check_input(inputs)
        geometry = {"strides": self.strides, "padding": self.padding, "dilation_rate": self.dilation_rate,
                    "groups": self.groups}
        if THEN_MAX_POOL.get() is self:
            return conv2d_relu_max_pool2d(inputs, self.kernel, self.bias, **geometry)
        return conv2d_activation(inputs, self.kernel, self.bias, self.activation, **geometry)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "groups": self.groups,
                **weight_config(self, "kernel")}


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
        super().__init__(kernel_size=kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs)
        self._weight_args("depthwise", depthwise_initializer, depthwise_regularizer, depthwise_constraint)
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier")

    def _out_channels(self, in_channels):
        return None if in_channels is None else in_channels * self.depth_multiplier

    def _kernel_shapes(self, input_shape) -> dict:
        return {"kernel": (self.kernel_size + (self._in_channels, self.depth_multiplier), "depthwise")}

    def call(self, inputs):
        self._check_input(inputs)
        outputs = ops.depthwise_conv2d(inputs, self.kernel, self.bias, strides=self.strides,
                                       padding=self.padding, dilation_rate=self.dilation_rate)
        return self._finish(outputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                **weight_config(self, "depthwise")}


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
        super().__init__(kernel_size=kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs)
        self._weight_args("depthwise", depthwise_initializer, depthwise_regularizer, depthwise_constraint)
        self._weight_args("pointwise", pointwise_initializer, pointwise_regularizer, pointwise_constraint)
        self.filters = positive_int(filters, "filters")
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier")

    def _kernel_shapes(self, input_shape) -> dict:
        c, m = self._in_channels, self.depth_multiplier
        return {"depthwise_kernel": (self.kernel_size + (c, m), "depthwise"),
                "pointwise_kernel": ((1, 1, c * m, self.filters), "pointwise")}

    def call(self, inputs):
        self._check_input(inputs)
        outputs = ops.separable_conv2d(inputs, self.depthwise_kernel, self.pointwise_kernel, self.bias,
                                       strides=self.strides, padding=self.padding,
                                       dilation_rate=self.dilation_rate)
        return self._finish(outputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "depth_multiplier": self.depth_multiplier,
                **weight_config(self, "depthwise"), **weight_config(self, "pointwise")}


class _BaseConvTranspose(_BaseConv):
    """Keras 3's ``BaseConvTranspose``: "valid"/"same" only, ``output_padding``, Keras's output lengths."""

    def __init__(self, *, padding="valid", output_padding=None, **kwargs):
        super().__init__(padding=padding_mode(padding, type(self).__name__), **kwargs)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = standardize_tuple(output_padding, 2, "output_padding", minimum=0)
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError("`output_padding` must be < `strides`. "
                                 f"Received: output_padding={self.output_padding}, strides={self.strides}.")

    def _spatial_output(self, input_shape) -> tuple:
        pads = self.output_padding or (None, None)
        return tuple(transpose_output_length(n, k, s, self.padding, p, d) for n, k, s, d, p in zip(
            input_shape[1:3], self.kernel_size, self.strides, self.dilation_rate, pads))

    def get_config(self) -> dict:
        return {**super().get_config(), "output_padding": self.output_padding}


class Conv2DTranspose(_BaseConvTranspose):
    """Transposed convolution (the gradient of Conv2D with respect to its input).

    Kernel ``(kh, kw, filters, C)`` as in Keras; ``padding`` is "valid" or "same".
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(kernel_size=kernel_size, strides=strides, padding=padding, output_padding=output_padding,
                         data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs)
        self._weight_args("kernel", kernel_initializer, kernel_regularizer, kernel_constraint)
        self.filters = positive_int(filters, "filters")

    def _kernel_shapes(self, input_shape) -> dict:
        return {"kernel": (self.kernel_size + (self.filters, self._in_channels), "kernel")}

    def call(self, inputs):
        self._check_input(inputs)
        outputs = ops.conv2d_transpose(inputs, self.kernel, self.bias, strides=self.strides,
                                       padding=self.padding, output_padding=self.output_padding,
                                       dilation_rate=self.dilation_rate)
        return self._finish(outputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, **weight_config(self, "kernel")}
