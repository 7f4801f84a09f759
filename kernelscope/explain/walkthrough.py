"""The slides' convolution walkthrough for any input: window, products, sums, cell by cell.

The output comes from :func:`kernelscope.ops.conv2d`; the walkthrough only multiplies
each input window element-wise with the kernel and adds the products up, so the
sums it shows can be checked against that output.

>>> import kernelscope as ks
>>> walk = ks.explain.convolution([[1, 3, 1, 2], [6, 1, 5, 4], [5, 4, 2, 5], [3, 3, 1, 2]], [[1, 2], [2, 1]])
>>> walk.output
array([[20., 12., 19.],
       [22., 21., 22.],
       [22., 15., 16.]])
>>> walk.formula(0, 0, order="rows")
'1x1 + 3x2 + 6x2 + 1x1 = 20'
"""

# H/W height/width, C channels, F filters, kh/kw kernel height/width, Ho/Wo output height/width

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import ops
from .._checks import check_numeric, normalize_tuple
from ..geometry import normalize_padding, resolve_padding
from . import _format
from ._frames import Frame, Panel, Renderable
from .arithmetic import size_formula

__all__ = ["convolution", "ConvolutionWalkthrough", "ConvolutionCell", "window_indices"]


def _as_array(value, name: str) -> np.ndarray:
    array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    check_numeric(array, name)
    # Integers become float64 so every product and sum is exact and prints without ".0".
    return array.astype(np.float64) if array.dtype.kind in "biu" else array


def window_indices(out_len: int, size: int, stride: int, dilation: int) -> np.ndarray:
    """(out_len, size) indices into the padded axis read by each output position."""
    return np.arange(out_len)[:, None] * stride + np.arange(size)[None, :] * dilation


def _order(order: str) -> str:
    if order not in ("columns", "rows"):
        raise ValueError(f'`order` must be "columns" or "rows". Received: order={order!r}.')
    return "F" if order == "columns" else "C"


@dataclass(frozen=True)
class ConvolutionCell:
    """One output cell: its window, the products with the kernel and their sums.

    ``window``, ``kernel`` and ``products`` are (kh, kw, C); ``padding`` (kh, kw) marks
    window cells that are zero padding; ``channel_sums`` (C,) are the sums of the
    products per channel, ``total`` their sum plus ``bias``; ``output`` is the value
    :func:`kernelscope.ops.conv2d` computed for this cell.
    """

    position: tuple
    filter: int
    rows: np.ndarray
    cols: np.ndarray
    window: np.ndarray
    padding: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    channel_sums: np.ndarray
    bias: float | None
    total: float
    output: float

    def formula(self, order: str = "columns") -> str:
        """The written-out sum, e.g. ``3x1 + 1x1 + 2x1 + 0x0 + ... + 2x-1 = -5``.

        ``order="columns"`` walks the window column by column, as the slides do;
        ``"rows"`` row by row. Several channels are summed per channel in parentheses.
        """
        flat = _order(order)
        terms = []
        for c in range(self.window.shape[2]):
            pairs = zip(self.window[:, :, c].ravel(flat), self.kernel[:, :, c].ravel(flat))
            terms.append(" + ".join(f"{_format.number(v)}x{_format.number(w)}" for v, w in pairs))
        text = terms[0] if len(terms) == 1 else " + ".join(f"({t})" for t in terms)
        if self.bias is not None:
            text += f" + {_format.number(self.bias)}"
        return f"{text} = {_format.number(self.total)}"


class WindowWalkthrough(Renderable):
    """What the convolution and pooling walkthroughs share: the padded input, its windows, a frame per cell.

    A subclass sets ``input`` and ``strides``, calls :meth:`_slide` with the op's output and
    defines ``cell(i, j, k)`` and ``_frame(cell, done)``.
    """

    def _slide(self, y: np.ndarray, squeeze: bool, pads: tuple, window_hw: tuple, dilation: tuple) -> None:
        self._output3, self.output = y, (y[:, :, 0] if squeeze else y)
        self.pads, self._window_hw, self._dilation = pads, tuple(window_hw), tuple(dilation)
        self.padded = ops.pad(self.input, (*pads, (0, 0))).numpy()
        self.padding_mask = ops.pad(np.zeros(self.input.shape[:2], bool), pads, constant_values=1).numpy() > 0
        self.rows = window_indices(y.shape[0], window_hw[0], self.strides[0], dilation[0])
        self.cols = window_indices(y.shape[1], window_hw[1], self.strides[1], dilation[1])
        self.windows = self.padded[self.rows[:, None, :, None], self.cols[None, :, None, :]]

    @property
    def output_shape(self) -> tuple:
        return tuple(self._output3.shape)

    def size_formulas(self) -> tuple:
        """The output size per axis with the numbers substituted: ``("n_H = floor(...) + 1 = 3", ...)``."""
        return tuple(f"n_{axis} = " + size_formula(n, f, p[0], p[1], s, d)
                     for axis, n, f, p, s, d in zip("HW", self.input.shape[:2], self._window_hw, self.pads,
                                                    self.strides, self._dilation))

    def cells(self):
        """Every output cell in the order of the animation: filter (or channel) by filter, row by row."""
        ho, wo, depth = self._output3.shape
        for k in range(depth):
            for i in range(ho):
                for j in range(wo):
                    yield self.cell(i, j, k)

    def frames(self) -> list:
        """One :class:`Frame` per output cell, in the order of :meth:`cells`."""
        ho, wo, _ = self._output3.shape
        frames, done = [], np.zeros((ho, wo), bool)
        for cell in self.cells():
            if cell.position == (0, 0):
                done[:] = False
            done[cell.position] = True
            frames.append(self._frame(cell, done.copy()))
        return frames


class ConvolutionWalkthrough(WindowWalkthrough):
    """A convolution taken apart cell by cell; build it with :func:`convolution`.

    Attributes
    ----------
    input : ndarray (H, W, C)
    padded : ndarray (Hp, Wp, C), the input with its zero padding
    padding_mask : ndarray of bool (Hp, Wp), True on padding cells
    kernel : ndarray (kh, kw, C, F)
    bias : ndarray (F,) or None
    output : ndarray, (Ho, Wo) for a single kernel given as (kh, kw) or (kh, kw, C), else (Ho, Wo, F);
        computed by :func:`kernelscope.ops.conv2d`
    windows : ndarray (Ho, Wo, kh, kw, C), the padded-input window of every output cell
    pads, strides, dilation : ((top, bottom), (left, right)), (s_H, s_W), (d_H, d_W)
    order : "columns" or "rows", how the renderers write each sum out (default "columns", as the slides)
    """

    def __init__(self, x, kernel, bias, padding, strides, dilation_rate, squeeze: bool):
        self.input, self.kernel, self.bias = x, kernel, bias
        self.strides = normalize_tuple(strides, 2, "strides")
        self.dilation = normalize_tuple(dilation_rate, 2, "dilation_rate")
        self.padding, self.order = padding, "columns"
        y = ops.conv2d(x[None], kernel, bias, self.strides, padding, self.dilation).numpy()[0]
        pads = resolve_padding(normalize_padding(padding), x.shape[:2], kernel.shape[:2], self.strides, self.dilation)
        self._slide(y, squeeze, pads, kernel.shape[:2], self.dilation)

    # ------------------------------------------------------------ numbers

    @property
    def products(self) -> np.ndarray:
        """(Ho, Wo, kh, kw, C, F): every window times every kernel, element-wise."""
        return self.windows[..., None] * self.kernel[None, None]

    @property
    def channel_sums(self) -> np.ndarray:
        """(Ho, Wo, C, F): the products summed over the window, per channel."""
        return self.products.sum(axis=(2, 3))

    @property
    def totals(self) -> np.ndarray:
        """(Ho, Wo, F): the channel sums added up, plus the bias (equals ``ks.ops.conv2d``)."""
        total = self.channel_sums.sum(axis=2)
        return total if self.bias is None else total + self.bias

    def cell(self, i: int, j: int, filter: int = 0) -> ConvolutionCell:  # noqa: A002 - the slides' word
        """Output cell ``(i, j)`` of filter ``filter`` taken apart."""
        ho, wo, f = self._output3.shape
        if not (-ho <= i < ho and -wo <= j < wo and -f <= filter < f):
            raise IndexError(f"Output cell ({i}, {j}) of filter {filter} is outside the output of shape "
                             f"{(ho, wo, f)}.")
        i, j, filter = i % ho, j % wo, filter % f
        window, kernel = self.windows[i, j], self.kernel[:, :, :, filter]
        products = window * kernel
        sums = products.sum(axis=(0, 1))
        bias = None if self.bias is None else float(self.bias[filter])
        total = float(sums.sum() + (bias or 0.0))
        pad = self.padding_mask[self.rows[i][:, None], self.cols[j][None, :]]
        return ConvolutionCell((i, j), filter, self.rows[i], self.cols[j], window, pad, kernel, products,
                               sums, bias, total, float(self._output3[i, j, filter]))

    def formula(self, i: int, j: int, filter: int = 0, order: str = "columns") -> str:  # noqa: A002
        """The slides' written-out sum for output cell ``(i, j)``; see :meth:`ConvolutionCell.formula`."""
        return self.cell(i, j, filter).formula(order)

    # ------------------------------------------------------------- frames
    def header_lines(self) -> list:
        h, w, c = self.input.shape
        kh, kw, _, f = self.kernel.shape
        ho, wo, _ = self._output3.shape
        (top, bottom), (left, right) = self.pads
        pad = f"{top}x{left}" if (top, left) == (bottom, right) else f"(({top}, {bottom}), ({left}, {right}))"
        text = (f"Convolution: input {h}x{w}x{c} * {f} kernel{'s' if f > 1 else ''} {kh}x{kw}x{c}, "
                f"padding {pad}, stride {self.strides[0]}x{self.strides[1]}")
        if self.dilation != (1, 1):
            text += f", dilation {self.dilation[0]}x{self.dilation[1]}"
        return [f"{text} -> output {ho}x{wo}x{f}", *self.size_formulas()]

    def _frame(self, cell: ConvolutionCell, done: np.ndarray) -> Frame:
        i, j = cell.position
        f = cell.filter
        many = self.input.shape[2] > 1
        rows = []
        for c in range(self.input.shape[2]):
            window = np.zeros(self.padding_mask.shape, bool)
            window[np.ix_(cell.rows, cell.cols)] = True
            marks = np.full(self.padding_mask.shape, "", dtype=object)
            marks[np.ix_(cell.rows, cell.cols)] = [[_format.number(v) for v in r] for r in cell.kernel[:, :, c]]
            suffix = f" channel {c}" if many else ""
            rows.append([Panel(f"input{suffix}", self.padded[:, :, c], self.padding_mask, window, marks=marks),
                         Panel(f"kernel{f' {f}' if self.kernel.shape[3] > 1 else ''}{suffix}",
                               self.kernel[:, :, c, f])])
        out_window = np.zeros(done.shape, bool)
        out_window[i, j] = True
        rows[0].append(Panel(f"output{f' {f}' if self.kernel.shape[3] > 1 else ''}", self._output3[:, :, f],
                             window=out_window, hidden=~done))
        operators = [["*", "="]] + [["*"] for _ in rows[1:]]
        where = f"output[{i}, {j}, {f}]" if self.kernel.shape[3] > 1 else f"output[{i}, {j}]"
        legend = ["[ ] current window", ". zero padding"] if self.padding_mask.any() else ["[ ] current window"]
        return Frame(where, rows, operators, cell.formula(self.order), legend)

    def result_frame(self) -> Frame:
        """The input, kernel(s) and the whole output, nothing highlighted."""
        if self.kernel.shape[2:] == (1, 1):
            panels = [Panel("input", self.padded[:, :, 0], self.padding_mask), Panel("kernel", self.kernel[:, :, 0, 0]),
                      Panel("output", self._output3[:, :, 0])]
            return Frame("Result", [panels], [["*", "="]], "")
        rows = [[Panel("input", self.padded[:, :, c], self.padding_mask) for c in range(self.input.shape[2])]]
        rows.append([Panel(f"kernel {f}", self.kernel[:, :, c, f]) for f in range(self.kernel.shape[3])
                     for c in range(self.kernel.shape[2])][:8])
        rows.append([Panel(f"output {f}", self._output3[:, :, f]) for f in range(self._output3.shape[2])])
        return Frame("Result", rows, [[" "] * (len(r) - 1) for r in rows], "")

    def __repr__(self) -> str:
        return f"<ConvolutionWalkthrough {self.header_lines()[0]}>"


def _kernel_4d(kernel: np.ndarray, channels: int) -> tuple:
    """(kh, kw, C, F) kernel and whether the output drops its filter axis."""
    if kernel.ndim == 2 and channels == 1:
        return kernel[:, :, None, None], True
    if kernel.ndim == 3 and kernel.shape[2] == channels:
        return kernel[:, :, :, None], True
    if kernel.ndim == 4 and kernel.shape[2] == channels:
        return kernel, False
    raise ValueError(f"`kernel` must have shape (kh, kw) for a single-channel input, (kh, kw, C) or "
                     f"(kh, kw, C, filters) with C = {channels} input channels. "
                     f"Received: kernel.shape={kernel.shape}.")


def convolution(x, kernel, bias=None, padding="valid", strides=1, dilation_rate=1) -> ConvolutionWalkthrough:
    """Take a convolution apart cell by cell, as the slides do.

    Parameters
    ----------
    x : array_like, (H, W) or (H, W, C)
        One image (no batch axis).
    kernel : array_like, (kh, kw), (kh, kw, C) or (kh, kw, C, filters)
    bias : float or array_like of shape (filters,), optional
    padding : "valid", "same", int, (pad_h, pad_w) or ((top, bottom), (left, right))
    strides, dilation_rate : int or pair of ints

    Returns
    -------
    ConvolutionWalkthrough
        ``.output``, ``.cell(i, j)``, ``.formula(i, j)``, ``.size_formulas()`` and the
        renderers ``to_text``, ``to_markdown``, ``to_html``, ``to_gif``.

    Examples
    --------
    >>> walk = convolution([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
    ...                     [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]], [[1, 0, -1]] * 3)
    >>> walk.formula(0, 0)
    '3x1 + 1x1 + 2x1 + 0x0 + 5x0 + 7x0 + 1x-1 + 8x-1 + 2x-1 = -5'
    """
    x, kernel = _as_array(x, "x"), _as_array(kernel, "kernel")
    if x.ndim not in (2, 3):
        raise ValueError("`x` must be one image of shape (height, width) or (height, width, channels). "
                         f"Received: x.shape={x.shape}.")
    x = x[:, :, None] if x.ndim == 2 else x
    kernel, squeeze = _kernel_4d(kernel, x.shape[2])
    if bias is not None:
        dtype = np.result_type(x, kernel)
        bias = _as_array(bias, "bias").reshape(-1) if np.ndim(bias) else np.full(kernel.shape[3], bias, dtype)
        if bias.shape != (kernel.shape[3],):
            raise ValueError(f"`bias` must be a number or have shape (filters,) = ({kernel.shape[3]},). "
                             f"Received: bias.shape={bias.shape}.")
    return ConvolutionWalkthrough(x, kernel, bias, padding, strides, dilation_rate, squeeze)
