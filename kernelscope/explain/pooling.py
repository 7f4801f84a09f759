"""The slides' pooling walkthrough: each window, the cell that won the max, the average's divisor.

The output comes from :func:`kernelscope.ops.max_pool2d` / :func:`~kernelscope.ops.avg_pool2d`;
with ``padding="same"`` padded cells take no part (they never win a max and are
left out of the average's divisor, as in Keras).

>>> import kernelscope as ks
>>> walk = ks.explain.pooling([[1, 3, 1, 2], [6, 1, 5, 4], [5, 4, 2, 5], [3, 3, 1, 2]], 2, strides=1)
>>> walk.formula(0, 0)
'max(1, 3, 6, 1) = 6'
"""

# H/W height/width, C channels, ph/pw pool height/width, Ho/Wo output height/width

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import ops
from .._checks import normalize_tuple
from ..geometry import padding_mode, resolve_padding
from . import _format
from ._frames import Frame, Panel
from .walkthrough import WindowWalkthrough, _as_array

__all__ = ["pooling", "PoolingWalkthrough", "PoolingCell"]

_MODES = {"max": "max", "average": "average", "avg": "average", "mean": "average"}


@dataclass(frozen=True)
class PoolingCell:
    """One output cell of a pooling: its window and how the value came about.

    ``window`` and ``padding`` are (ph, pw); ``winner`` is the (row, col) inside the
    window of the maximum (the first one in row-major order, as PyTorch's gradient
    picks it), None for average pooling; ``divisor`` counts the non-padding cells;
    ``value`` is the max or mean of the non-padding cells and ``output`` the value the
    pooling op computed.
    """

    position: tuple
    channel: int
    mode: str
    rows: np.ndarray
    cols: np.ndarray
    window: np.ndarray
    padding: np.ndarray
    winner: tuple | None
    divisor: int
    value: float
    output: float

    def formula(self) -> str:
        """``max(1, 3, 6, 1) = 6`` or ``(1 + 3 + 6 + 1)/4 = 2.75`` (padding cells left out)."""
        values = [_format.number(v) for v in self.window[~self.padding]]
        if self.mode == "max":
            return f"max({', '.join(values)}) = {_format.number(self.value)}"
        return f"({' + '.join(values)})/{self.divisor} = {_format.number(self.value)}"


class PoolingWalkthrough(WindowWalkthrough):
    """Max or average pooling taken apart cell by cell; build it with :func:`pooling`.

    Attributes as in :class:`~kernelscope.explain.walkthrough.ConvolutionWalkthrough`
    (``input``, ``padded``, ``padding_mask``, ``windows``, ``pads``, ``strides``), plus
    ``mode`` ("max" or "average") and ``pool_size``; ``output`` is (Ho, Wo) for a 2-D
    input, else (Ho, Wo, C).
    """

    def __init__(self, x, pool_size, strides, padding, mode: str, squeeze: bool):
        self.input, self.mode = x, mode
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, 2, "strides")
        op = ops.max_pool2d if mode == "max" else ops.avg_pool2d
        y = op(x[None], self.pool_size, self.strides, padding).numpy()[0]
        self.padding = padding
        pads = resolve_padding(padding, x.shape[:2], self.pool_size, self.strides)
        self._slide(y, squeeze, pads, self.pool_size, (1, 1))

    def cell(self, i: int, j: int, channel: int = 0) -> PoolingCell:
        """Output cell ``(i, j)`` of channel ``channel`` taken apart."""
        ho, wo, c = self._output3.shape
        if not (-ho <= i < ho and -wo <= j < wo and -c <= channel < c):
            raise IndexError(f"Output cell ({i}, {j}) of channel {channel} is outside the output of shape "
                             f"{(ho, wo, c)}.")
        i, j, channel = i % ho, j % wo, channel % c
        window = self.windows[i, j, :, :, channel]
        pad = self.padding_mask[self.rows[i][:, None], self.cols[j][None, :]]
        real = window[~pad]
        winner = None
        if self.mode == "max":
            masked = np.where(pad, -np.inf, window)
            winner = tuple(int(v) for v in np.unravel_index(np.argmax(masked), masked.shape))
            value = float(real.max())
        else:
            value = float(real.sum() / real.size)
        return PoolingCell((i, j), channel, self.mode, self.rows[i], self.cols[j], window, pad, winner,
                           int(real.size), value, float(self._output3[i, j, channel]))

    def formula(self, i: int, j: int, channel: int = 0) -> str:
        """``max(...) = v`` or ``(... )/n = v`` for output cell ``(i, j)``."""
        return self.cell(i, j, channel).formula()

    # ------------------------------------------------------------- frames
    def header_lines(self) -> list:
        h, w, c = self.input.shape
        ho, wo, _ = self._output3.shape
        text = (f"{self.mode.capitalize()} pooling: input {h}x{w}x{c}, pool {self.pool_size[0]}x{self.pool_size[1]}, "
                f"stride {self.strides[0]}x{self.strides[1]}, padding {self.padding} -> output {ho}x{wo}x{c}")
        return [text, *self.size_formulas()]

    def _frame(self, cell: PoolingCell, done: np.ndarray) -> Frame:
        i, j = cell.position
        c = cell.channel
        window = np.zeros(self.padding_mask.shape, bool)
        window[np.ix_(cell.rows, cell.cols)] = True
        accent = np.zeros_like(window)
        if cell.winner is not None:
            accent[cell.rows[cell.winner[0]], cell.cols[cell.winner[1]]] = True
        out_window = np.zeros(done.shape, bool)
        out_window[i, j] = True
        many = self.input.shape[2] > 1
        rows = [[Panel(f"input{f' channel {c}' if many else ''}", self.padded[:, :, c], self.padding_mask,
                       window, accent=accent, pad_text=""),
                 Panel(f"output{f' channel {c}' if many else ''}", self._output3[:, :, c], window=out_window,
                       hidden=~done)]]
        where = f"output[{i}, {j}, {c}]" if many else f"output[{i}, {j}]"
        legend = ["[ ] current window"] + (["* the maximum"] if self.mode == "max" else [])
        if self.padding_mask.any():
            legend.append(". padding (left out)")
        return Frame(where, rows, [["->"]], cell.formula(), legend)

    def result_frame(self) -> Frame:
        channels = range(self.input.shape[2])
        rows = [[Panel("input", self.padded[:, :, c], self.padding_mask) for c in channels],
                [Panel("output", self._output3[:, :, c]) for c in channels]]
        return Frame("Result", rows, [[" "] * (len(r) - 1) for r in rows], "")

    def __repr__(self) -> str:
        return f"<PoolingWalkthrough {self.header_lines()[0]}>"


def pooling(x, pool_size=2, strides=None, padding: str = "valid", mode: str = "max") -> PoolingWalkthrough:
    """Take max or average pooling apart cell by cell, as the slides do.

    Parameters
    ----------
    x : array_like, (H, W) or (H, W, C)
        One image (no batch axis); channels are pooled separately.
    pool_size : int or pair of ints
    strides : int, pair of ints or None
        None means ``pool_size`` (Keras's default).
    padding : {"valid", "same"}
        "same" pads as TensorFlow does; padded cells never count.
    mode : {"max", "average"}

    Returns
    -------
    PoolingWalkthrough

    Examples
    --------
    >>> walk = pooling([[1, 3, 1, 2], [6, 1, 5, 4], [5, 4, 2, 5], [3, 3, 1, 2]], 2, strides=1, mode="average")
    >>> walk.formula(0, 0)
    '(1 + 3 + 6 + 1)/4 = 2.75'
    """
    if not isinstance(mode, str) or mode.lower() not in _MODES:
        raise ValueError(f'`mode` must be "max" or "average". Received: mode={mode!r}.')
    padding = padding_mode(padding)
    x = _as_array(x, "x")
    if x.ndim not in (2, 3):
        raise ValueError("`x` must be one image of shape (height, width) or (height, width, channels). "
                         f"Received: x.shape={x.shape}.")
    squeeze = x.ndim == 2
    x = x[:, :, None] if squeeze else x
    return PoolingWalkthrough(x, pool_size, strides, padding, _MODES[mode.lower()], squeeze)
