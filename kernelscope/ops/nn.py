"""``keras.ops.nn``: Keras's spellings of convolution, pooling, cross-entropy and friends.

These are thin adapters onto kernelscope's kernels (``conv2d``, ``max_pool2d``,
the cross-entropy pieces of ``ops.core``): Keras's argument names and defaults,
2-D images only (rank-4 ``(batch, height, width, channels)`` inputs), and
``data_format`` accepted only as ``None`` or ``"channels_last"``.
The activations (``relu``, ``softmax``...) are re-exported from ``ops.activations``.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, as_tensor
from ..geometry import check_int, is_int
from .activations import *  # noqa: F401,F403 - ops.nn.relu, ops.nn.softmax, ...
from .activations import __all__ as _activations
from .activations import log_softmax
from .conv import conv2d, conv2d_transpose, depthwise_conv2d, separable_conv2d
from .core import (normalize_axes, sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits)
from .pooling import avg_pool2d, max_pool2d

__all__ = [
    *[n for n in _activations if n != "get"], "conv", "depthwise_conv", "separable_conv", "conv_transpose",
    "max_pool", "average_pool", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "moments", "normalize", "one_hot", "multi_hot", "top_k", "in_top_k",
    "batch_normalization", "selu", "celu", "softsign", "hard_silu", "hard_swish", "hard_tanh", "glu",
    "depth_to_space", "space_to_depth", "psnr", "layer_normalization", "rms_normalization",
]

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _images(inputs, op: str, data_format) -> Tensor:
    from ..backend import standardize_data_format

    standardize_data_format(data_format)
    x = as_tensor(inputs)
    if x.ndim != 4:
        raise ValueError(f"`{op}` supports 2-D images only: `inputs` must have rank 4, (batch, height, width, "
                         f"channels); 1-D and 3-D inputs are not supported. Received: inputs.shape={x.shape}.")
    return x


def _padding(padding):
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f'`padding` must be "valid" or "same". Received: padding={padding!r}.')
    return padding.lower()


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1) -> Tensor:
    """2-D convolution; ``kernel`` is ``(kh, kw, in_channels // groups, filters)``, groups inferred from it."""
    x = _images(inputs, "conv", data_format)
    kernel = as_tensor(kernel)
    if kernel.ndim != 4 or x.shape[-1] % kernel.shape[2]:
        raise ValueError(f"`kernel` must be (kh, kw, in_channels // groups, filters) with a channel count dividing "
                         f"the input's {x.shape[-1]}. Received: kernel.shape={kernel.shape}.")
    groups = x.shape[-1] // kernel.shape[2]
    return conv2d(x, kernel, strides=strides, padding=_padding(padding), dilation_rate=dilation_rate,
                  groups=groups)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1) -> Tensor:
    """Depthwise 2-D convolution; ``kernel`` is ``(kh, kw, in_channels, depth_multiplier)``."""
    x = _images(inputs, "depthwise_conv", data_format)
    return depthwise_conv2d(x, kernel, strides=strides, padding=_padding(padding), dilation_rate=dilation_rate)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1) -> Tensor:
    """Depthwise then 1x1 convolution."""
    x = _images(inputs, "separable_conv", data_format)
    return separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=strides, padding=_padding(padding),
                            dilation_rate=dilation_rate)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None,
                   dilation_rate=1) -> Tensor:
    """Transposed 2-D convolution; ``kernel`` is ``(kh, kw, filters, in_channels)``."""
    x = _images(inputs, "conv_transpose", data_format)
    return conv2d_transpose(x, kernel, strides=strides, padding=_padding(padding), output_padding=output_padding,
                            dilation_rate=dilation_rate)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None) -> Tensor:
    """2-D max pooling (``strides`` default to ``pool_size``)."""
    x = _images(inputs, "max_pool", data_format)
    return max_pool2d(x, pool_size, strides=strides, padding=_padding(padding))


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None) -> Tensor:
    """2-D average pooling; with "same", padded cells are left out of the divisor (as TensorFlow)."""
    x = _images(inputs, "average_pool", data_format)
    return avg_pool2d(x, pool_size, strides=strides, padding=_padding(padding))


# ----------------------------------------------------------- cross-entropy
def _clipped(output: Tensor) -> Tensor:
    from ..backend import epsilon

    return output.clip(epsilon(), 1.0 - epsilon())


def binary_crossentropy(target, output, from_logits: bool = False) -> Tensor:
    """Element-wise binary cross-entropy (no reduction), probabilities clipped to ``[eps, 1 - eps]``."""
    output = as_tensor(output)
    target = as_tensor(target, like=output)
    if target.shape != output.shape:
        raise ValueError("Arguments `target` and `output` must have the same shape. "
                         f"Received: target.shape={target.shape}, output.shape={output.shape}")
    if from_logits:  # the stable form, as the TensorFlow and torch backends compute it
        return sigmoid_cross_entropy_with_logits(target, output)
    p = _clipped(output)
    return -(target * p.log() + (1.0 - target) * (1.0 - p).log())


def categorical_crossentropy(target, output, from_logits: bool = False, axis: int = -1) -> Tensor:
    """``-sum(target * log(output), axis)``; probabilities are renormalised and clipped first."""
    output = as_tensor(output)
    target = as_tensor(target, like=output)
    if target.shape != output.shape:
        raise ValueError("Arguments `target` and `output` must have the same shape. "
                         f"Received: target.shape={target.shape}, output.shape={output.shape}")
    if from_logits:
        return softmax_cross_entropy_with_logits(target, output, axis=axis)
    p = _clipped(output / output.sum(axis=axis, keepdims=True))
    return -(target * p.log()).sum(axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits: bool = False, axis: int = -1) -> Tensor:
    """Cross-entropy against integer class indices (a trailing axis of size 1 is squeezed)."""
    output = as_tensor(output)
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if labels.ndim == output.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if output.ndim < 1:
        raise ValueError(f"Argument `output` must be at least rank 1. Received: output.shape={output.shape}")
    if labels.shape != output.shape[:-1]:
        raise ValueError("Arguments `target` and `output` must have the same shape up until the last dimension: "
                         f"target.shape={labels.shape}, output.shape={output.shape}")
    if from_logits:
        log_p = log_softmax(output, axis=axis)
    else:
        log_p = _clipped(output / output.sum(axis=axis, keepdims=True)).log()
    mask = one_hot(labels.astype(np.int64), output.shape[axis], axis=axis, dtype=output.dtype)
    return -(log_p * mask).sum(axis=axis)


# --------------------------------------------------------------- the rest
def moments(x, axes, keepdims: bool = False, synchronized: bool = False) -> tuple:
    """``(mean, variance)`` over ``axes``."""
    if synchronized:
        raise NotImplementedError("Argument synchronized=True is not supported (one NumPy device).")
    from .elementwise import _floating

    x = _floating(x)
    axes = normalize_axes(axes, x.ndim)
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    variance = (centered * centered).mean(axis=axes, keepdims=keepdims)
    return (mean if keepdims else mean.reshape(variance.shape)), variance


def normalize(x, axis=-1, order: int = 2, epsilon=None) -> Tensor:
    """``x / max(norm(x, order, axis), epsilon)`` (``epsilon`` defaults to ``ks.backend.epsilon()``)."""
    from ..backend import epsilon as default_epsilon
    from .elementwise import _floating, rsqrt
    from .linalg import norm

    if not is_int(order) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = _floating(x)
    eps = default_epsilon() if epsilon is None else float(epsilon)
    if order == 2:  # x * rsqrt(max(sum(x^2), eps^2)): finite gradient at a zero vector
        return x * rsqrt((x * x).sum(axis=axis, keepdims=True).maximum(eps * eps))
    return x / norm(x, ord=order, axis=axis, keepdims=True).maximum(eps)


def one_hot(x, num_classes: int, axis: int = -1, dtype=None, sparse: bool = False) -> Tensor:
    """Integer labels to one-hot vectors along a new ``axis`` (negative labels give all zeros)."""
    from .creation import _dtype

    if sparse:
        raise ValueError("Unsupported value `sparse=True`: kernelscope tensors are dense.")
    labels = np.asarray(x.data if isinstance(x, Tensor) else x)
    if labels.dtype.kind not in "iub" and not (labels.dtype.kind == "f" and np.all(np.mod(labels, 1) == 0)):
        raise TypeError(f"`x` must hold integer class indices. Received: dtype={labels.dtype}.")
    num_classes = check_int(num_classes, "num_classes", expected="a positive integer")
    labels = labels.astype(np.int64)
    out = (labels[..., None] == np.arange(num_classes)).astype(_dtype(dtype))
    return Tensor._constant(out if axis == -1 else np.moveaxis(out, -1, axis))


def multi_hot(inputs, num_classes: int, axis: int = -1, dtype=None, sparse: bool = False) -> Tensor:
    """Several integer labels per sample to one multi-hot vector (the max of their one-hots)."""
    encoded = one_hot(inputs, num_classes, axis=axis, dtype=dtype, sparse=sparse).data
    return Tensor._constant(np.max(encoded, axis=1 if np.ndim(encoded) > 2 else 0))


def top_k(x, k: int, sorted: bool = True, is_stable: bool = True) -> tuple:  # noqa: A002 - Keras name
    """``(values, indices)`` of the ``k`` largest entries along the last axis; ties keep the first index.

    Values are differentiable; ``sorted=False`` still returns them in descending order
    (a valid ordering of an unsorted result).
    """
    from .shapes import take_along_axis

    x = as_tensor(x)
    if not is_int(k) or not 0 <= k <= x.shape[-1]:
        raise ValueError(f"`k` must be an integer in [0, {x.shape[-1]}] (the size of the last axis). "
                         f"Received: k={k!r}.")
    # stable descending order: argsort the negated values, stable, so equal values keep index order
    order = np.argsort(-x.data, axis=-1, kind="stable")[..., :k].astype(np.int32)
    return take_along_axis(x, order, axis=-1), Tensor._constant(order)



def in_top_k(targets, predictions, k: int) -> Tensor:
    """Whether each target's prediction is among the ``k`` largest of its row (ties count as in)."""
    p = as_tensor(predictions).data
    t = np.asarray(targets.data if isinstance(targets, Tensor) else targets).astype(np.intp)
    value = np.take_along_axis(p, t[..., None], axis=-1)
    return Tensor._constant(np.sum(p > value, axis=-1) < k)


# ------------------------------------------------- more activations and nn ops
def batch_normalization(x, mean, variance, axis: int, offset=None, scale=None, epsilon: float = 1e-3) -> Tensor:
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset`` with the statistics along ``axis``."""
    from .elementwise import _floating, rsqrt

    x = _floating(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    stat = [as_tensor(v, like=x).reshape(shape) if v is not None else None for v in (mean, variance, offset, scale)]
    inv = rsqrt(stat[1] + epsilon)
    if stat[3] is not None:
        inv = inv * stat[3]
    out = (x - stat[0]) * inv
    return out if stat[2] is None else out + stat[2]


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs) -> Tensor:
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` with the statistics over ``axis`` (per sample).

    ``rms_scaling=True`` (deprecated in Keras, with the same warning) divides by the
    standard deviation without centring and ignores ``beta``, as Keras computes it.
    """
    import warnings

    from ..backend import epsilon as default_epsilon
    from .elementwise import _floating, rsqrt

    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"layer_normalization got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
    if rms_scaling:
        warnings.warn("You passed `rms_scaling=True`, which is deprecated. This argument incorrectly scales the "
                      "input by the variance, not the root mean square. To correctly use RMS Normalization, "
                      "please use `keras.ops.rms_normalization` / `keras.ops.nn.rms_normalization` instead.")
    x = _floating(x)
    axes = normalize_axes(axis, x.ndim)
    eps = default_epsilon() if epsilon is None else float(epsilon)
    mean, variance = moments(x, axes, keepdims=True)
    out = (x if rms_scaling else x - mean) * rsqrt(variance + eps)
    shape = [n if i in axes else 1 for i, n in enumerate(x.shape)]
    if gamma is not None:
        out = out * as_tensor(gamma, like=x).reshape(shape)
    return out if beta is None or rms_scaling else out + as_tensor(beta, like=x).reshape(shape)


def rms_normalization(x, scale=None, axis=-1, epsilon=None) -> Tensor:
    """``x / sqrt(mean(x**2, axis) + epsilon) * scale``."""
    from ..backend import epsilon as default_epsilon
    from .elementwise import _floating, rsqrt

    x = _floating(x)
    axes = normalize_axes(axis, x.ndim)
    eps = default_epsilon() if epsilon is None else float(epsilon)
    out = x * rsqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    if scale is None:
        return out
    return out * as_tensor(scale, like=x).reshape([n if i in axes else 1 for i, n in enumerate(x.shape)])


def selu(x) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    from .activations import elu

    return elu(x, alpha=_SELU_ALPHA) * _SELU_SCALE


def celu(x, alpha: float = 1.0) -> Tensor:
    """``max(x, 0) + min(alpha * (exp(x / alpha) - 1), 0)``."""
    from .activations import elu

    return elu(as_tensor(x) * (1.0 / alpha), alpha=1.0) * alpha


def softsign(x) -> Tensor:
    """``x / (1 + |x|)``."""
    x = as_tensor(x)
    return x / (x.abs() + 1.0)


def hard_silu(x) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    from .activations import relu6

    x = as_tensor(x)
    return x * relu6(x + 3.0) * (1.0 / 6.0)


hard_swish = hard_silu


def hard_tanh(x) -> Tensor:
    """``clip(x, -1, 1)``."""
    return as_tensor(x).clip(-1.0, 1.0)


def glu(x, axis: int = -1) -> Tensor:
    """Gated linear unit: the first half of ``axis`` times the sigmoid of the second half."""
    from .activations import sigmoid
    from .core import split

    x = as_tensor(x)
    if x.shape[axis] % 2:
        raise ValueError(f"axis size must be divisible by 2. Received: x.shape={x.shape} with axis={axis}")
    a, b = split(x, 2, axis=axis)
    return a * sigmoid(b)


def depth_to_space(x, block_size: int, data_format: str = "channels_last") -> Tensor:
    """``(N, H, W, C * b * b) -> (N, H * b, W * b, C)``, TensorFlow's channel order."""
    x = _images(x, "depth_to_space", data_format)
    n, h, w, c = x.shape
    b = int(block_size)
    if b < 2 or c % (b * b):
        raise ValueError(f"`block_size` must be >= 2 with block_size**2 dividing the channels ({c}). "
                         f"Received: block_size={block_size!r}.")
    return x.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5).reshape(n, h * b, w * b, c // (b * b))


def space_to_depth(x, block_size: int, data_format: str = "channels_last") -> Tensor:
    """``(N, H * b, W * b, C) -> (N, H, W, C * b * b)``, the inverse of :func:`depth_to_space`."""
    x = _images(x, "space_to_depth", data_format)
    n, h, w, c = x.shape
    b = int(block_size)
    if b < 2 or h % b or w % b:
        raise ValueError(f"`block_size` must be >= 2 and divide the height and width {(h, w)}. "
                         f"Received: block_size={block_size!r}.")
    return x.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h // b, w // b, c * b * b)


def psnr(x1, x2, max_val: float) -> Tensor:
    """Peak signal-to-noise ratio ``20 log10(max_val) - 10 log10(mse)`` over all elements."""
    from .elementwise import log10

    a = as_tensor(x1)
    b = as_tensor(x2, like=a)
    if a.shape != b.shape:
        raise ValueError(f"Input shapes {a.shape} and {b.shape} must match for PSNR calculation.")
    diff = a - b
    return 20.0 * np.log10(max_val) - 10.0 * log10((diff * diff).mean())


from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), __all__)
