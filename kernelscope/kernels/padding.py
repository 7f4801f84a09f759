"""Padding and output-size arithmetic shared by convolution and pooling.

Conventions (see SPEC.md): ``padding`` is ``"valid"``, ``"same"`` (TensorFlow's
split: the odd pixel goes bottom/right), an int ``p`` (p on every side), a pair
``(ph, pw)``, or explicit ``((top, bottom), (left, right))``.
"""

from __future__ import annotations

import math
import numbers

Padding2D = tuple  # ((top, bottom), (left, right))


def output_size(n: int, f: int, pad_total: int, s: int, d: int = 1) -> int:
    """floor((n + pad_total - d*(f-1) - 1) / s) + 1: the slides' formula with p on both sides."""
    return (n + pad_total - d * (f - 1) - 1) // s + 1


def same_padding_1d(n: int, f: int, s: int, d: int = 1) -> tuple:
    """TensorFlow "same": total max(0, (ceil(n/s)-1)*s + (f-1)*d + 1 - n), extra pixel at the end."""
    total = max(0, (math.ceil(n / s) - 1) * s + (f - 1) * d + 1 - n)
    return total // 2, total - total // 2


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def normalize_padding(padding, allow_strings: bool = True):
    """Validate ``padding``; return "valid", "same", or ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        mode = padding.lower()
        if allow_strings and mode in ("valid", "same"):
            return mode
    elif _is_int(padding) and padding >= 0:
        return ((int(padding),) * 2,) * 2
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        if all(_is_int(p) and p >= 0 for p in padding):
            return ((int(padding[0]),) * 2, (int(padding[1]),) * 2)
        if all(isinstance(p, (tuple, list)) and len(p) == 2 and all(_is_int(v) and v >= 0 for v in p)
               for p in padding):
            return tuple(tuple(int(v) for v in p) for p in padding)
    expected = '"valid", "same", ' if allow_strings else ""
    raise ValueError(
        f"`padding` must be {expected}a non-negative int, a pair (pad_h, pad_w) or "
        f"((top, bottom), (left, right)). Received: padding={padding!r}."
    )


def resolve_padding(padding, input_hw: tuple, kernel_hw: tuple, strides: tuple,
                    dilation: tuple = (1, 1)) -> Padding2D:
    """Explicit ((top, bottom), (left, right)) for an already-normalized ``padding``."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        return tuple(same_padding_1d(n, f, s, d) for n, f, s, d in zip(input_hw, kernel_hw, strides, dilation))
    return padding


def conv_output_hw(input_hw: tuple, kernel_hw: tuple, strides: tuple, pads: Padding2D,
                   dilation: tuple = (1, 1)) -> tuple:
    return tuple(output_size(n, f, sum(p), s, d)
                 for n, f, p, s, d in zip(input_hw, kernel_hw, pads, strides, dilation))
