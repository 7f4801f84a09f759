"""Differentiable pooling ops on NHWC tensors, with Keras's arguments and semantics."""

from __future__ import annotations

import numpy as np  # noqa: F401 - the docstring examples use it

from .._checks import check_allocation, check_ndim
from ..autograd import Tensor, as_tensor, make_result
from ..kernels import pooling as K
from ..geometry import padding_mode, resolve_padding, standardize_tuple

__all__ = ["max_pool2d", "avg_pool2d", "global_avg_pool2d", "global_max_pool2d"]

_LAYOUT = "(batch, height, width, channels)"


def _pool_args(x: Tensor, pool_size, strides, padding) -> tuple:
    """Validate the pooling arguments; return (pool, strides, explicit pads)."""
    check_ndim(x, 4, "x", _LAYOUT)
    pool = standardize_tuple(pool_size, 2, "pool_size")
    strides = pool if strides is None else standardize_tuple(strides, 2, "strides")
    mode = padding_mode(padding)
    hw = x.shape[1:3]
    if mode == "valid" and (hw[0] < pool[0] or hw[1] < pool[1]):
        raise ValueError(
            f"The pooling window is larger than the input: `pool_size`={pool} but the input's "
            f'height and width are {tuple(hw)} with padding="valid". '
            'Use a smaller pool_size or padding="same".'
        )
    pads = resolve_padding(mode, hw, pool, strides)
    n, h, w, c = x.shape
    check_allocation((n, h + sum(pads[0]), w + sum(pads[1]), c), "pool_size", pool_size,
                     f'a padded input (padding="{mode}" on input shape {tuple(x.shape)})', input_shape=x.shape)
    return pool, strides, pads


def _pool(kernel_forward, kernel_backward, x, pool_size, strides, padding) -> Tensor:
    x = as_tensor(x)
    pool, strides, pads = _pool_args(x, pool_size, strides, padding)
    y, cache = kernel_forward(x.data, pool, strides, pads)
    return make_result(y, (x,), lambda g: (kernel_backward(g, cache),))


def max_pool2d(x, pool_size=2, strides=None, padding: str = "valid") -> Tensor:
    """Max pooling over 2-D windows of an NHWC tensor (Keras ``MaxPooling2D``).

    Parameters
    ----------
    x : Tensor or array_like, shape (N, H, W, C)
    pool_size : int or tuple of 2 ints
        Window height and width.
    strides : int, tuple of 2 ints or None
        Step between windows; None means ``pool_size`` (non-overlapping windows).
    padding : {"valid", "same"}
        "same" pads with -inf using TensorFlow's split (extra cell bottom/right).

    Returns
    -------
    Tensor, shape (N, Ho, Wo, C). At ties the gradient goes to the first maximum
    of the window in row-major order, as in PyTorch.

    Examples
    --------
    >>> image = np.array([[1, 3, 1, 2], [6, 1, 5, 4], [5, 4, 2, 5], [3, 3, 1, 2]])
    >>> max_pool2d(image.reshape(1, 4, 4, 1), 2, strides=1).numpy()[0, :, :, 0]
    array([[6., 5., 5.],
           [6., 5., 5.],
           [5., 4., 5.]], dtype=float32)
    """
    return _pool(K.max_pool2d_forward, K.max_pool2d_backward, x, pool_size, strides, padding)


def avg_pool2d(x, pool_size=2, strides=None, padding: str = "valid") -> Tensor:
    """Average pooling over 2-D windows of an NHWC tensor (Keras ``AveragePooling2D``).

    Arguments as in :func:`max_pool2d`. With ``padding="same"`` padded cells are left
    out of the divisor (TensorFlow/Keras; PyTorch's ``count_include_pad=False``).

    Examples
    --------
    On a 3x3 image, "same" pads one row and one column: the edge windows average only their
    real cells (3 is (1+2+4+5)/4, 4.5 is (3+6)/2, 9 is 9/1).

    >>> image = np.arange(1, 10).reshape(1, 3, 3, 1)
    >>> avg_pool2d(image, 2, padding="same").numpy()[0, :, :, 0]
    array([[3. , 4.5],
           [7.5, 9. ]], dtype=float32)
    """
    return _pool(K.avg_pool2d_forward, K.avg_pool2d_backward, x, pool_size, strides, padding)


def _global(kernel_forward, kernel_backward, x, keepdims: bool) -> Tensor:
    x = as_tensor(x)
    check_ndim(x, 4, "x", _LAYOUT)
    y, cache = kernel_forward(x.data)
    shape = y.shape

    def backward(g):
        return (kernel_backward(g.reshape(shape), cache),)

    return make_result(y[:, None, None, :] if keepdims else y, (x,), backward)


def global_avg_pool2d(x, keepdims: bool = False) -> Tensor:
    """Mean over height and width (Keras ``GlobalAveragePooling2D``).

    Returns shape (N, C), or (N, 1, 1, C) with ``keepdims=True``.
    """
    return _global(K.global_avg_pool2d_forward, K.global_avg_pool2d_backward, x, keepdims)


def global_max_pool2d(x, keepdims: bool = False) -> Tensor:
    """Max over height and width (Keras ``GlobalMaxPooling2D``).

    Returns shape (N, C), or (N, 1, 1, C) with ``keepdims=True``. At ties the
    gradient goes to the first maximum in row-major order.
    """
    return _global(K.global_max_pool2d_forward, K.global_max_pool2d_backward, x, keepdims)


from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), __all__)
