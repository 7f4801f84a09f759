"""Window geometry shared by convolution and pooling: integer checks, padding, output lengths.

Kernels, ops, layers, explain and export all use these (Keras keeps the same rules in one
``compute_conv_output_shape`` and one ``standardize_tuple``). The module imports nothing from
kernelscope, so any package may depend on it.

Conventions: ``padding`` is ``"valid"``, ``"same"`` (TensorFlow's split: the odd pixel goes
bottom/right), an int ``p`` (p on every side), a pair ``(ph, pw)``, or explicit
``((top, bottom), (left, right))``. Per axis, a normalized padding is "valid", "same" or a
``(before, after)`` pair. An input length may be None (unknown); it stays None.
"""

# n input length, k kernel (or pool) length, s stride, d dilation, p padding

from __future__ import annotations

import numbers

__all__ = ["is_int", "check_int", "standardize_tuple", "padding_mode", "normalize_padding", "same_padding",
           "resolve_padding", "span", "output_length", "output_hw", "transpose_crops", "transpose_output_length"]


def is_int(value) -> bool:
    """True for a Python or NumPy integer; False for a bool, which Python counts as an int."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(value, name: str, minimum: int = 1, expected: str = "") -> int:
    """``value`` as an int >= ``minimum``, else a ValueError naming ``name``.

    ``expected`` rewords the requirement ("a positive integer"); by default "an integer >= minimum".
    """
    if not is_int(value) or value < minimum:
        raise ValueError(f"`{name}` must be {expected or f'an integer >= {minimum}'}. Received: {name}={value!r}.")
    return int(value)


def standardize_tuple(value, n: int, name: str, minimum: int = 1) -> tuple:
    """Turn an int or a length-``n`` sequence of ints into a tuple of ``n`` ints >= ``minimum``."""
    if is_int(value):
        items = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n and all(is_int(v) for v in value):
        items = tuple(int(v) for v in value)
    else:
        raise ValueError(f"`{name}` must be an integer or a tuple of {n} integers. Received: {name}={value!r}.")
    if any(v < minimum for v in items):
        raise ValueError(f"`{name}` must be >= {minimum}. Received: {name}={value!r}.")
    return items


def padding_mode(padding, owner: str = "") -> str:
    """``padding`` as "valid" or "same" (any case), for the ops and layers that take no explicit padding."""
    mode = padding.lower() if isinstance(padding, str) else None
    if mode not in ("valid", "same"):
        where = f" for {owner}" if owner else ""
        raise ValueError(f'`padding` must be "valid" or "same"{where}. Received: padding={padding!r}.')
    return mode


def _is_size(value) -> bool:
    return is_int(value) and value >= 0


def normalize_padding(padding):
    """Validate ``padding``; return "valid", "same", or ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode in ("valid", "same"):
            return mode
    elif _is_size(padding):
        return ((int(padding),) * 2,) * 2
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        if all(_is_size(p) for p in padding):
            return ((int(padding[0]),) * 2, (int(padding[1]),) * 2)
        if all(isinstance(p, (tuple, list)) and len(p) == 2 and all(_is_size(v) for v in p) for p in padding):
            return tuple(tuple(int(v) for v in p) for p in padding)
    raise ValueError('`padding` must be "valid", "same", a non-negative int, a pair (pad_h, pad_w) or '
                     f"((top, bottom), (left, right)). Received: padding={padding!r}.")


def span(k: int, d: int = 1) -> int:
    """Extent of a dilated kernel: d*(k-1) + 1 input cells."""
    return d * (k - 1) + 1


def same_padding(n: int, k: int, s: int, d: int = 1) -> tuple:
    """TensorFlow "same": total max(0, (ceil(n/s)-1)*s + d*(k-1) + 1 - n), the extra pixel at the end."""
    total = max(0, (-(-n // s) - 1) * s + span(k, d) - n)
    return total // 2, total - total // 2


def _per_axis(padding, axis: int):
    return padding if isinstance(padding, str) else padding[axis]


def resolve_padding(padding, input_hw: tuple, kernel_hw: tuple, strides: tuple, dilation: tuple = (1, 1)) -> tuple:
    """Explicit ((top, bottom), (left, right)) for an already-normalized ``padding``."""
    pads = []
    for axis, (n, k, s, d) in enumerate(zip(input_hw, kernel_hw, strides, dilation)):
        p = _per_axis(padding, axis)
        pads.append((0, 0) if p == "valid" else same_padding(n, k, s, d) if p == "same" else tuple(p))
    return tuple(pads)


def output_length(n, k: int, s: int, padding, d: int = 1):
    """floor((n + before + after - d*(k-1) - 1)/s) + 1, the slides' formula; "same" gives ceil(n/s).

    ``padding`` is "valid", "same" or (before, after); None for ``n`` stays None.
    """
    if n is None:
        return None
    if padding == "same":
        return -(-n // s)
    before, after = (0, 0) if padding == "valid" else padding
    return (n + before + after - span(k, d)) // s + 1


def output_hw(input_hw: tuple, kernel_hw: tuple, strides: tuple, padding, dilation: tuple = (1, 1)) -> tuple:
    """Output (height, width) of a convolution or pooling window for a normalized ``padding``."""
    return tuple(output_length(n, k, s, _per_axis(padding, axis), d)
                 for axis, (n, k, s, d) in enumerate(zip(input_hw, kernel_hw, strides, dilation)))


def transpose_crops(k: int, s: int, padding, output_padding=None, d: int = 1) -> tuple:
    """Cells to remove from each end of the full transposed output (negative: append zeros).

    Keras 3 (backend/common/backend_utils.py) defines the output length, with K = d*(k-1)+1, as
    valid: (n-1)*s + K + op, op defaulting to max(K, s) - K;
    same:  n*s, or (n-1)*s + K % 2 + op when ``output_padding`` is given;
    "same" puts ceil(pad/2) of the implicit padding first, capped at K-1. An explicit
    (before, after) crops like PyTorch's ``padding``.
    """
    K = span(k, d)
    if padding == "valid":
        return (0, -(max(K, s) - K if output_padding is None else output_padding))
    if padding == "same":
        total = s + K - 2 if output_padding is None else K + K % 2 - 2 + output_padding
        first = min(-(-total // 2), K - 1)
        return (K - 1 - first, K - 1 - (total - first))
    return (padding[0], padding[1] - (output_padding or 0))


def transpose_output_length(n, k: int, s: int, padding, output_padding=None, d: int = 1):
    """Output length of a transposed convolution (Keras's rule, see :func:`transpose_crops`); None stays None."""
    if n is None:
        return None
    return (n - 1) * s + span(k, d) - sum(transpose_crops(k, s, padding, output_padding, d))
