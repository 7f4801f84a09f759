"""Differentiable convolutions: conv2d, depthwise_conv2d, separable_conv2d, conv2d_transpose.

Inputs are NHWC, kernels use Keras's layouts, ``padding="same"`` follows TensorFlow
(the odd pixel goes bottom/right). Each op checks its arguments, runs a kernel pair
from :mod:`kernelscope.kernels.conv` and records the backward kernel on the tape.

Deviation from Keras, on purpose: ``strides > 1`` together with ``dilation_rate > 1`` is
allowed (Keras's layers refuse it, PyTorch and the XLA/JAX convolutions accept it);
the result is the usual dilated, strided cross-correlation.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_allocation, check_ndim, check_numeric
from ..autograd import Tensor, is_grad_enabled, make_result, will_record
from ..kernels import conv as K
from ..kernels import pooling as P
from . import activations
from .pooling import _pool_args
from ..geometry import (check_int, normalize_padding, output_hw, resolve_padding, standardize_tuple, transpose_crops,
                        transpose_output_length)

__all__ = ["conv2d", "depthwise_conv2d", "separable_conv2d", "conv2d_transpose"]

_X_LAYOUT = "(batch, height, width, channels)"


def _tensor(value, name: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    array = np.asarray(value)
    check_numeric(array, name)
    return Tensor(array)


def _inputs(x, kernel, bias, kernel_layout: str) -> tuple:
    """Tensors for x, kernel and bias, with the checks every convolution shares."""
    x, kernel = _tensor(x, "x"), _tensor(kernel, "kernel")
    bias = None if bias is None else _tensor(bias, "bias")
    check_ndim(x, 4, "x", _X_LAYOUT)
    check_ndim(kernel, 4, "kernel", kernel_layout)
    return x, kernel, bias


def _check_bias(bias, filters: int) -> None:
    if bias is not None and bias.shape != (filters,):
        raise ValueError(f"`bias` must have shape (filters,) = ({filters},). "
                         f"Received: bias.shape={tuple(bias.shape)}.")


def _geometry(x, kernel_hw, strides, padding, dilation_rate) -> tuple:
    """Validated strides, dilation and explicit pads; raises when the window does not fit."""
    strides = standardize_tuple(strides, 2, "strides")
    dilation = standardize_tuple(dilation_rate, 2, "dilation_rate")
    mode = normalize_padding(padding)
    pads = resolve_padding(mode, x.shape[1:3], kernel_hw, strides, dilation)
    n, h, w, c = x.shape
    name, value = ("padding", padding) if not isinstance(mode, str) else (
        ("dilation_rate", dilation) if max(dilation) > max(kernel_hw) else ("kernel_size", tuple(kernel_hw)))
    check_allocation((n, h + sum(pads[0]), w + sum(pads[1]), c), name, value,
                     f"a padded input (padding={padding!r}, kernel_size={tuple(kernel_hw)}, dilation_rate="
                     f"{dilation} on input shape {tuple(x.shape)})", input_shape=x.shape)
    out_hw = output_hw(x.shape[1:3], kernel_hw, strides, pads, dilation)
    if min(out_hw) < 1:
        raise ValueError(
            "The convolution window is larger than the padded input, so the output would be empty. "
            f"Received: input height/width={tuple(x.shape[1:3])}, kernel_size={tuple(kernel_hw)}, "
            f"dilation_rate={dilation}, padding={padding!r} (output size {out_hw}).")
    return strides, pads, dilation


def _compute_dtype(*tensors) -> np.dtype:
    return np.result_type(*[t.dtype for t in tensors if t is not None])


def _record(y: np.ndarray, x, kernel, bias, backward_kernel, cache, relu: bool = False) -> Tensor:
    """Add the bias (and apply ReLU in place if asked) and put the op on the tape.

    Gradients come back in each parent's dtype. The fused ReLU saves a full pass and a
    full-size array each way: relu(y) = max(y, 0) and its gradient is g where y > 0.
    """
    K.add_bias_relu(y, None if bias is None else bias.data, relu)  # in place
    x_need, k_need = x.requires_grad, kernel.requires_grad

    def backward(g):
        need_db = bias is not None and bias.requires_grad
        db = None
        if relu:  # the mask and the bias gradient in one pass on the fast path
            g, db = K.relu_bias_grad(g, y, need_db)
        elif need_db:
            db = g.sum(axis=(0, 1, 2))
        dx, dw = backward_kernel(g, cache, x_need, k_need)
        return _parent_dtypes((dx, dw, db), (x, kernel, bias))

    return make_result(y, (x, kernel, bias), backward)


def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of NHWC ``x`` with a (kh, kw, in_channels // groups, filters) kernel.

    Parameters
    ----------
    x : Tensor or array_like, shape (batch, height, width, channels)
    kernel : Tensor or array_like, shape (kh, kw, channels // groups, filters)
    bias : Tensor or array_like of shape (filters,), optional
    strides, dilation_rate : int or pair of ints >= 1
    padding : "valid", "same" (TensorFlow's split), int, (pad_h, pad_w) or ((top, bottom), (left, right))
    groups : int dividing both the input channels and the filters

    Returns
    -------
    Tensor of shape (batch, out_h, out_w, filters), out = floor((n + p - d*(k-1) - 1)/s) + 1.

    Examples
    --------
    >>> image = np.array([[1, 3, 1, 2], [6, 1, 5, 4], [5, 4, 2, 5], [3, 3, 1, 2]]).reshape(1, 4, 4, 1)
    >>> conv2d(image, np.array([[1, 2], [2, 1]]).reshape(2, 2, 1, 1)).numpy()[0, :, :, 0]
    array([[20., 12., 19.],
           [22., 21., 22.],
           [22., 15., 16.]], dtype=float32)
    """
    return _conv2d(x, kernel, bias, strides, padding, dilation_rate, groups)


def conv2d_activation(x, kernel, bias=None, activation=None, strides=1, padding="valid", dilation_rate=1,
                      groups: int = 1) -> Tensor:
    """``activation(conv2d(x, kernel, bias, ...))``: what ``Conv2D`` runs.

    ReLU is fused into the convolution (bias and ReLU in place, no intermediate array and one
    pass less each way); any other callable is applied to the result; None means linear.
    """
    relu = activation is activations.relu
    outputs = _conv2d(x, kernel, bias, strides, padding, dilation_rate, groups, relu=relu)
    return outputs if relu or activation is None else activation(outputs)


def conv2d_relu_max_pool2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
                           groups: int = 1) -> Tensor:
    """``max_pool2d(relu(conv2d(x, kernel, bias, ...)), 2)``: the conv -> ReLU -> 2x2 max-pool block in one op.

    What ``Sequential`` runs for a ``Conv2D(activation="relu")`` followed by a ``MaxPooling2D()``
    (pool 2, stride 2, "valid"). The pool runs first, on the convolution's output before the bias,
    and the bias and ReLU then run on a tensor a quarter of the size, each way: since
    max(a + b, c + b) = max(a, c) + b and both ReLU and rounding are monotonic, the output is
    bit-identical to the three ops in turn. The gradient goes to the window's first maximum
    before the bias; only where two different values round to the same one after the bias do
    the two choose different (equally valid) cells.
    """
    x, kernel, bias, args, dtype = _conv2d_args(x, kernel, bias, strides, padding, dilation_rate, groups)
    recorded = will_record((x, kernel, bias))
    if not recorded:  # inference: pooled as it convolves where a compiled loop can (None otherwise)
        pooled = K.conv2d_max_pool_2x2_forward(x.data.astype(dtype, copy=False),
                                               kernel.data.astype(dtype, copy=False), *args)
        if pooled is not None:
            K.add_bias_relu(pooled, None if bias is None else bias.data, True)
            return Tensor._constant(pooled)
    y, cache = _run_conv2d(x, kernel, args, dtype, recorded)
    pool, pool_strides, pads = _pool_args(y, 2, None, "valid")
    pooled, pool_cache = P.max_pool2d_forward(y, pool, pool_strides, pads)
    # the pool's NumPy backward compares against its own (pre-bias) output; the fast path's routes by winner
    out = pooled.copy() if recorded and pool_cache.winner is None else pooled
    K.add_bias_relu(out, None if bias is None else bias.data, True)
    x_need, k_need = x.requires_grad, kernel.requires_grad

    def backward(g):
        g, db = K.relu_bias_grad(g, out, bias is not None and bias.requires_grad)
        dx, dw = K.conv2d_backward(P.max_pool2d_backward(g, pool_cache), cache, x_need, k_need)
        return _parent_dtypes((dx, dw, db), (x, kernel, bias))

    return make_result(out, (x, kernel, bias), backward)


def _parent_dtypes(grads: tuple, parents: tuple) -> tuple:
    return tuple(None if g is None else g.astype(p.dtype, copy=False) for g, p in zip(grads, parents))


def _conv2d(x, kernel, bias, strides, padding, dilation_rate, groups, relu: bool = False) -> Tensor:
    x, kernel, bias, y, cache = _conv2d_forward(x, kernel, bias, strides, padding, dilation_rate, groups)
    return _record(y, x, kernel, bias, K.conv2d_backward, cache, relu)


_KERNEL_LAYOUT = "(kernel_h, kernel_w, in_channels // groups, filters)"


def _conv2d_args(x, kernel, bias, strides, padding, dilation_rate, groups) -> tuple:
    """Checked tensors, the kernel's arguments and the compute dtype: (x, kernel, bias, (strides, pads,
    dilation, groups), dtype)."""
    x, kernel, bias = _inputs(x, kernel, bias, _KERNEL_LAYOUT)
    channels, filters = x.shape[3], kernel.shape[3]
    groups = check_int(groups, "groups", expected="a positive integer")
    if channels % groups or filters % groups:
        raise ValueError("The number of input channels and of filters must be evenly divisible by the "
                         f"number of groups. Received: groups={groups}, input channels={channels}, "
                         f"filters={filters}.")
    if kernel.shape[2] != channels // groups:
        raise ValueError("The kernel's input channels (kernel.shape[2]) must equal the input channels "
                         f"divided by groups ({channels} // {groups} = {channels // groups}). "
                         f"Received: kernel.shape={tuple(kernel.shape)}, x.shape={tuple(x.shape)}.")
    _check_bias(bias, filters)
    strides, pads, dilation = _geometry(x, kernel.shape[:2], strides, padding, dilation_rate)
    return x, kernel, bias, (strides, pads, dilation, groups), _compute_dtype(x, kernel, bias)


def _run_conv2d(x: Tensor, kernel: Tensor, args: tuple, dtype, recorded: bool) -> tuple:
    """The convolution's output before the bias and its cache, ``(y, cache)``, for checked tensors;
    ``recorded``: whether the op goes on the tape."""
    # Winograd's and the direct loop's rounding can move a max-pool's winner, so they run only where no
    # gradient depends on that
    return K.conv2d_forward(x.data.astype(dtype, copy=False), kernel.data.astype(dtype, copy=False), *args,
                            keep_cols=kernel.requires_grad and is_grad_enabled(), free_rounding=not recorded)


def _conv2d_forward(x, kernel, bias, strides, padding, dilation_rate, groups) -> tuple:
    """Checked tensors, the convolution's output before the bias and its cache: (x, kernel, bias, y, cache)."""
    x, kernel, bias, args, dtype = _conv2d_args(x, kernel, bias, strides, padding, dilation_rate, groups)
    return (x, kernel, bias) + _run_conv2d(x, kernel, args, dtype, will_record((x, kernel, bias)))


def depthwise_conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1) -> Tensor:
    """Depthwise convolution: each input channel convolved with its own ``depth_multiplier`` filters.

    ``kernel`` has shape (kh, kw, channels, depth_multiplier); output channel ``c * depth_multiplier + m``
    comes from input channel ``c`` and filter ``m``, as in Keras/TensorFlow. ``bias`` has shape
    (channels * depth_multiplier,). Other arguments as in :func:`conv2d`.
    """
    x, kernel, bias = _inputs(x, kernel, bias, "(kernel_h, kernel_w, in_channels, depth_multiplier)")
    if kernel.shape[2] != x.shape[3]:
        raise ValueError("The depthwise kernel's input channels (kernel.shape[2]) must equal the input "
                         f"channels. Received: kernel.shape={tuple(kernel.shape)}, x.shape={tuple(x.shape)}.")
    _check_bias(bias, kernel.shape[2] * kernel.shape[3])
    strides, pads, dilation = _geometry(x, kernel.shape[:2], strides, padding, dilation_rate)
    dtype = _compute_dtype(x, kernel, bias)
    y, cache = K.depthwise_conv2d_forward(x.data.astype(dtype, copy=False),
                                          kernel.data.astype(dtype, copy=False), strides, pads, dilation)
    return _record(y, x, kernel, bias, K.depthwise_conv2d_backward, cache)


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, bias=None, strides=1, padding="valid",
                     dilation_rate=1) -> Tensor:
    """Depthwise convolution followed by a 1x1 convolution (Keras SeparableConv2D).

    ``depthwise_kernel`` is (kh, kw, channels, depth_multiplier), ``pointwise_kernel`` is
    (1, 1, channels * depth_multiplier, filters) and ``bias`` (filters,). ``strides``,
    ``padding`` and ``dilation_rate`` apply to the depthwise step.
    """
    pointwise = _tensor(pointwise_kernel, "pointwise_kernel")
    check_ndim(pointwise, 4, "pointwise_kernel", "(1, 1, in_channels * depth_multiplier, filters)")
    depthwise = _tensor(depthwise_kernel, "depthwise_kernel")
    check_ndim(depthwise, 4, "depthwise_kernel", "(kernel_h, kernel_w, in_channels, depth_multiplier)")
    expected = (1, 1, depthwise.shape[2] * depthwise.shape[3])
    if tuple(pointwise.shape[:3]) != expected:
        raise ValueError(f"`pointwise_kernel` must have shape {expected + ('filters',)}. "
                         f"Received: pointwise_kernel.shape={tuple(pointwise.shape)}, "
                         f"depthwise_kernel.shape={tuple(depthwise.shape)}.")
    features = depthwise_conv2d(x, depthwise, None, strides, padding, dilation_rate)
    return conv2d(features, pointwise, bias)


def _output_padding(output_padding, strides) -> tuple:
    if output_padding is None:
        return (None, None)
    output_padding = standardize_tuple(output_padding, 2, "output_padding", minimum=0)
    if any(op >= s for op, s in zip(output_padding, strides)):
        raise ValueError(f"`output_padding` must be < `strides`. Received: output_padding={output_padding}, "
                         f"strides={strides}.")
    return output_padding


def conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1) -> Tensor:
    """Transposed convolution (the input-gradient of :func:`conv2d`), Keras semantics.

    ``kernel`` has Keras's layout (kh, kw, filters, in_channels); ``bias`` (filters,).
    With d*(k-1)+1 = K, the output length per spatial axis is, as in Keras 3:
    ``"valid"``: (n-1)*s + max(K, s), or (n-1)*s + K + output_padding;
    ``"same"``: n*s, or (n-1)*s + K % 2 + output_padding.
    An explicit padding (int, pair, or ((top, bottom), (left, right))) removes that many
    rows/columns from each side, as PyTorch's ``padding`` does, and ``output_padding``
    (default 0) appends zeros at the bottom/right. ``output_padding`` must be < ``strides``.
    """
    x, kernel, bias = _inputs(x, kernel, bias, "(kernel_h, kernel_w, filters, in_channels)")
    if kernel.shape[3] != x.shape[3]:
        raise ValueError("The transposed-convolution kernel's input channels (kernel.shape[3]) must equal "
                         f"the input channels. Received: kernel.shape={tuple(kernel.shape)}, "
                         f"x.shape={tuple(x.shape)}.")
    _check_bias(bias, kernel.shape[2])
    strides = standardize_tuple(strides, 2, "strides")
    dilation = standardize_tuple(dilation_rate, 2, "dilation_rate")
    output_pad = _output_padding(output_padding, strides)
    mode = normalize_padding(padding)
    per_axis = (mode, mode) if isinstance(mode, str) else mode
    axes = tuple(zip(x.shape[1:3], kernel.shape[:2], strides, per_axis, output_pad, dilation))
    crops = tuple(transpose_crops(k, s, p, op, d) for _, k, s, p, op, d in axes)
    out_hw = tuple(transpose_output_length(*axis) for axis in axes)
    if min(out_hw) < 1:
        raise ValueError("`padding` removes the whole transposed-convolution output. Received: "
                         f"padding={padding!r}, input height/width={tuple(x.shape[1:3])}, "
                         f"kernel_size={tuple(kernel.shape[:2])}, strides={strides} (output size {out_hw}).")
    dtype = _compute_dtype(x, kernel, bias)
    y, cache = K.conv2d_transpose_forward(x.data.astype(dtype, copy=False),
                                          kernel.data.astype(dtype, copy=False), strides, crops, dilation)
    return _record(y, x, kernel, bias, K.conv2d_transpose_backward, cache)


from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), __all__)
