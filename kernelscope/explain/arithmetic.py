"""The slides' arithmetic with the numbers written in: output sizes and the dense-versus-convolution count.

>>> from kernelscope.explain import output_size
>>> n = output_size(4, 2, p=1, s=2)
>>> n + 1, n.formula
(4, 'floor((4 + 2*1 - 2)/2) + 1 = 3')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..geometry import check_int, is_int, output_length, same_padding
from . import _format

__all__ = ["OutputSize", "output_size", "size_formula", "DenseVsConv", "dense_vs_conv"]


class OutputSize(int):
    """An output length that is an ``int`` and remembers how it was computed.

    Use it as a number (``n + 1``, ``range(n)``); ``.value`` is the plain int,
    ``.formula`` the slides' formula with the numbers substituted and ``.padding``
    the (before, after) zero padding that was used.
    """

    formula: str
    padding: tuple

    def __new__(cls, value: int, formula: str, padding: tuple):
        obj = super().__new__(cls, value)
        obj.formula, obj.padding = formula, tuple(padding)
        return obj

    @property
    def value(self) -> int:
        return int(self)

    def __str__(self) -> str:
        return str(int(self))

    def __repr__(self) -> str:
        return f"OutputSize({int(self)}, formula={self.formula!r})"


def size_formula(n: int, f: int, before: int, after: int, s: int, d: int) -> str:
    """``floor((n + 2*p - f)/s) + 1 = out`` with the numbers written in (``d*(f - 1) + 1`` for d > 1)."""
    out = output_length(n, f, s, (before, after), d)
    pad = f"2*{before}" if before == after else f"{before} + {after}"
    kernel = f"- {f}" if d == 1 else f"- {d}*({f} - 1) - 1"
    return f"floor(({n} + {pad} {kernel})/{s}) + 1 = {out}"


def _padding_pair(p, n: int, f: int, s: int, d: int) -> tuple:
    """One axis's (before, after); a pair here is (before, after), not the 2-D (pad_h, pad_w)."""
    if isinstance(p, str) and p.lower() in ("valid", "same"):
        return (0, 0) if p.lower() == "valid" else same_padding(n, f, s, d)
    if is_int(p) and p >= 0:
        return int(p), int(p)
    if isinstance(p, (tuple, list)) and len(p) == 2 and all(is_int(v) and v >= 0 for v in p):
        return int(p[0]), int(p[1])
    raise ValueError('`p` must be "valid", "same", a non-negative integer or a pair (before, after). '
                     f"Received: p={p!r}.")


def output_size(n: int, f: int, p=0, s: int = 1, d: int = 1) -> OutputSize:
    """Output length of a convolution or pooling along one axis, with its formula.

    Parameters
    ----------
    n : int
        Input length (``n_H`` or ``n_W``).
    f : int
        Kernel (or pool) length.
    p : int, (before, after), "valid" or "same"
        Zero padding on each side; "same" uses TensorFlow's split (odd pixel after).
    s : int
        Stride.
    d : int
        Dilation rate.

    Returns
    -------
    OutputSize
        An ``int`` with ``.formula`` (``"floor((4 + 2*1 - 2)/2) + 1 = 3"``) and ``.padding``.

    Examples
    --------
    >>> output_size(6, 3).formula
    'floor((6 + 2*0 - 3)/1) + 1 = 4'
    """
    n, f, s, d = (check_int(v, name) for v, name in ((n, "n"), (f, "f"), (s, "s"), (d, "d")))
    before, after = _padding_pair(p, n, f, s, d)
    value = output_length(n, f, s, (before, after), d)
    if value < 1:
        raise ValueError("The kernel is larger than the padded input, so the output would be empty: "
                         f"n + padding = {n + before + after} < d*(f - 1) + 1 = {d * (f - 1) + 1}. "
                         f"Received: n={n}, f={f}, p={p!r}, d={d}.")
    return OutputSize(value, size_formula(n, f, before, after, s, d), (before, after))


# ------------------------------------------------------------ dense vs conv


@dataclass(frozen=True)
class DenseVsConv:
    """The slides' comparison of a dense layer and a convolution with as many outputs."""

    image_shape: tuple
    units: int
    output_shape: tuple
    kernel_size: tuple
    filters: int
    dense_params: int
    conv_params: int
    dense_formula: str
    conv_formula: str

    @property
    def ratio(self) -> float:
        """How many times more parameters the dense layer needs."""
        return self.dense_params / self.conv_params

    def __str__(self) -> str:
        image = _format.shape(self.image_shape)
        kernel = _format.shape(self.kernel_size + self.image_shape[2:])
        many = "one" if self.filters == 1 else str(self.filters)
        return (f"Dense layer with {self.units} units on a {image} image:\n  {self.dense_formula}\n"
                f"Convolution with {many} {kernel} kernel{'s' if self.filters > 1 else ''} "
                f"({_format.shape(self.output_shape)} output, padding valid, stride 1):\n  {self.conv_formula}\n"
                f"The dense layer needs {self.ratio:,.0f} times as many parameters.")


def dense_vs_conv(image_shape=(150, 100, 3), units: int = 100, output_shape=None, filters: int = 1) -> DenseVsConv:
    """Parameters of a dense layer versus a "valid" convolution with the same number of outputs.

    Parameters
    ----------
    image_shape : (H, W) or (H, W, C)
    units : int
        Neurons of the dense layer.
    output_shape : (h, w), optional
        The convolution's output; by default a square of ``units`` cells (10x10 for 100),
        so the kernel is ``(H - h + 1) x (W - w + 1)`` (141x91 for a 150x100 image).
    filters : int
        Number of convolution kernels.

    Examples
    --------
    >>> print(dense_vs_conv().dense_formula)
    100 x (150x100x3 + 1) = 100 x (45,000 + 1) = 4,500,100 ~ 4.5 million
    >>> print(dense_vs_conv((150, 100), 100).conv_formula)
    141x91 + 1 = 12,832 ~ 0.013 million
    """
    if (not isinstance(image_shape, (tuple, list)) or len(image_shape) not in (2, 3)
            or not all(is_int(v) and v >= 1 for v in image_shape)):
        raise ValueError("`image_shape` must be (height, width) or (height, width, channels) of positive "
                         f"integers. Received: image_shape={image_shape!r}.")
    image_shape = tuple(int(v) for v in image_shape)
    units, filters = check_int(units, "units"), check_int(filters, "filters")
    if output_shape is None:
        side = math.isqrt(units)
        if side * side != units:
            raise ValueError(f"`units`={units} is not a square number, so pass `output_shape` (h, w) "
                             "for the convolution's output.")
        output_shape = (side, side)
    output_shape = tuple(check_int(v, "output_shape") for v in output_shape)
    kernel = (image_shape[0] - output_shape[0] + 1, image_shape[1] - output_shape[1] + 1)
    if min(kernel) < 1:
        raise ValueError(f"`output_shape`={output_shape} is larger than the image {image_shape[:2]}.")
    inputs = math.prod(image_shape)
    dense = units * (inputs + 1)
    dense_text = (f"{units} x ({_format.shape(image_shape)} + 1) = {units} x ({_format.count(inputs)} + 1) "
                  f"= {_format.count(dense)} ~ {_format.millions(dense)}")
    weights = math.prod(kernel) * math.prod(image_shape[2:])
    conv = (weights + 1) * filters
    body = f"{_format.shape(kernel + image_shape[2:])} + 1"
    conv_text = (f"{body if filters == 1 else f'({body}) x {filters}'} = {_format.count(conv)} "
                 f"~ {_format.millions(conv)}")
    return DenseVsConv(image_shape, units, output_shape, kernel, filters, dense, conv, dense_text, conv_text)
