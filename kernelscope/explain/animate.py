"""Animated GIFs of a walkthrough, drawn as in conv_arithmetic (Dumoulin and Visin): one frame per output cell.

Input cells are light blue, the current window dark blue (with the kernel weight
in its corner), padding cells white with a dashed outline, the kernel amber, the
output teal with the current cell dark. Needs Pillow (extra ``image``).
"""

# H/W height/width of a panel's grid

from __future__ import annotations

import numpy as np

from .._checks import require
from .._io import atomic_write
from . import _format
from ._frames import Frame, Panel

__all__ = ["frame_size", "draw_frame", "save_gif"]

_COLORS = {"input": (225, 236, 248), "window": (59, 125, 216), "window_pad": (157, 189, 233),
           "padding": (255, 255, 255), "kernel": (255, 236, 179), "output": (200, 236, 228),
           "current": (0, 137, 123), "hidden": (255, 255, 255), "line": (120, 120, 120),
           "dash": (170, 170, 170), "text": (30, 30, 30), "light": (255, 255, 255), "accent": (214, 39, 40),
           "mark": (255, 226, 120), "background": (255, 255, 255)}


def _require_pillow():
    Image = require("PIL.Image", "image", "Writing GIFs")
    from PIL import ImageDraw, ImageFont

    return Image, ImageDraw, ImageFont


def _row_size(panels: list, cell: int) -> tuple:
    width = sum(p.shape[1] * cell for p in panels) + cell * (len(panels) - 1)
    height = max(cell // 2 + p.shape[0] * cell for p in panels)
    return width, height


def frame_size(frame: Frame, cell: int = 36) -> tuple:
    """(width, height) in pixels of a frame drawn with ``cell``-pixel cells.

    Each panel is ``w*cell`` wide and ``cell//2 + h*cell`` high (title band + grid);
    panels in a row are ``cell`` apart, rows ``cell//2`` apart; a heading band of
    ``cell//2`` on top, a caption band of ``cell`` below and a margin of ``cell//2``
    all round. For the slides' 4x4 input, padding 1, 2x2 kernel, stride 2 (panels 6x6,
    2x2, 3x3) and cell 36: width 36*(6+2+3) + 2*36 + 36 = 504, height 36 + 18 + 18 + 6*36 + 36 = 324.
    """
    sizes = [_row_size(row, cell) for row in frame.rows]
    margin = cell // 2
    width = 2 * margin + max(w for w, _ in sizes)
    height = 2 * margin + cell // 2 + sum(h for _, h in sizes) + (len(sizes) - 1) * (cell // 2) + cell
    return width, height


def _font(ImageFont, size: int):
    try:
        return ImageFont.load_default(size=max(6, size))
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        return ImageFont.load_default()


def _text(draw, xy, text: str, font, fill) -> None:
    try:
        draw.text(xy, text, font=font, fill=fill, anchor="mm")
    except ValueError:  # bitmap fonts have no anchors
        box = draw.textbbox((0, 0), text, font=font)
        draw.text((xy[0] - (box[2] - box[0]) / 2, xy[1] - (box[3] - box[1]) / 2), text, font=font, fill=fill)


def _dashed_box(draw, box, color, dash: int) -> None:
    x0, y0, x1, y1 = box
    for x in range(x0, x1, 2 * dash):
        draw.line([(x, y0), (min(x + dash, x1), y0)], fill=color)
        draw.line([(x, y1), (min(x + dash, x1), y1)], fill=color)
    for y in range(y0, y1, 2 * dash):
        draw.line([(x0, y), (x0, min(y + dash, y1))], fill=color)
        draw.line([(x1, y), (x1, min(y + dash, y1))], fill=color)


def _cell_style(panel: Panel, kind: str, r: int, c: int) -> tuple:
    """(fill colour, text colour) of one cell."""
    if panel.hidden[r, c]:
        return _COLORS["hidden"], None
    if panel.window[r, c]:
        if kind == "output":
            return _COLORS["current"], _COLORS["light"]
        return (_COLORS["window_pad"] if panel.padding[r, c] else _COLORS["window"]), _COLORS["light"]
    if panel.padding[r, c]:
        return _COLORS["padding"], _COLORS["dash"]
    return _COLORS[kind], _COLORS["text"]


def _draw_panel(draw, fonts, panel: Panel, x: int, y: int, cell: int) -> None:
    kind = panel.title.split()[0] if panel.title.split()[0] in ("input", "kernel", "output") else "input"
    _text(draw, (x + panel.shape[1] * cell / 2, y + cell / 4), panel.title, fonts["small"], _COLORS["text"])
    top = y + cell // 2
    for r in range(panel.shape[0]):
        for c in range(panel.shape[1]):
            box = (x + c * cell, top + r * cell, x + (c + 1) * cell, top + (r + 1) * cell)
            fill, ink = _cell_style(panel, kind, r, c)
            draw.rectangle(box, fill=fill)
            if panel.padding[r, c] and not panel.window[r, c]:
                _dashed_box(draw, box, _COLORS["dash"], max(2, cell // 9))
            else:
                draw.rectangle(box, outline=_COLORS["line"])
            if panel.accent[r, c]:
                draw.rectangle((box[0] + 2, box[1] + 2, box[2] - 2, box[3] - 2), outline=_COLORS["accent"],
                               width=max(2, cell // 12))
            if ink is not None:
                text = panel.pad_text if panel.padding[r, c] else _format.number(panel.values[r, c], 2)
                _text(draw, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), text, fonts["cell"], ink)
            if panel.marks is not None and panel.marks[r, c]:
                _text(draw, (box[2] - cell * 0.2, box[3] - cell * 0.18), panel.marks[r, c], fonts["mark"],
                      _COLORS["mark"])


def _fit_caption(draw, ImageFont, text: str, width: int, cell: int):
    """The largest font (down to 7 px) that fits ``text`` in ``width``; else the text is shortened."""
    for size in range(int(cell * 0.45), 6, -1):
        font = _font(ImageFont, size)
        if draw.textlength(text, font=font) <= width:
            return text, font
    while len(text) > 4 and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "...", font


def draw_frame(frame: Frame, cell: int = 36):
    """One frame as a Pillow RGB image of size :func:`frame_size`."""
    Image, ImageDraw, ImageFont = _require_pillow()
    width, height = frame_size(frame, cell)
    image = Image.new("RGB", (width, height), _COLORS["background"])
    draw = ImageDraw.Draw(image)
    fonts = {"cell": _font(ImageFont, int(cell * 0.42)), "small": _font(ImageFont, int(cell * 0.36)),
             "mark": _font(ImageFont, int(cell * 0.26)), "op": _font(ImageFont, int(cell * 0.6))}
    margin = cell // 2
    _text(draw, (width / 2, margin + cell / 4), frame.heading, fonts["small"], _COLORS["text"])
    y = margin + cell // 2
    for panels, operators in zip(frame.rows, frame.operators):
        x = margin
        row_height = _row_size(panels, cell)[1]
        for k, panel in enumerate(panels):
            _draw_panel(draw, fonts, panel, x, y, cell)
            x += panel.shape[1] * cell
            if k < len(panels) - 1:
                op = operators[k] if k < len(operators) else ""
                _text(draw, (x + cell / 2, y + cell // 2 + (row_height - cell // 2) / 2), op, fonts["op"],
                      _COLORS["text"])
                x += cell
        y += row_height + cell // 2
    caption = f"{frame.heading} = {frame.caption}" if frame.caption else ""
    text, font = _fit_caption(draw, ImageFont, caption, width - 2 * margin, cell)
    _text(draw, (width / 2, height - margin - cell / 2), text, font, _COLORS["text"])
    return image


def save_gif(walk, path, cell_size: int = 36, duration: int = 800, loop: int = 0) -> None:
    """Write ``walk``'s frames (one per output cell) as an animated GIF to ``path``.

    ``duration`` is milliseconds per frame, ``loop`` 0 repeats forever. The file is
    written next to ``path`` and renamed into place.
    """
    Image, _, _ = _require_pillow()
    if not isinstance(cell_size, (int, np.integer)) or cell_size < 12:
        raise ValueError(f"`cell_size` must be an integer >= 12 (pixels). Received: cell_size={cell_size!r}.")
    frames = [draw_frame(f, int(cell_size)).convert("P", palette=Image.Palette.ADAPTIVE) for f in walk.frames()]
    atomic_write(path, lambda handle: frames[0].save(handle, format="GIF", save_all=True, append_images=frames[1:],
                                                     duration=int(duration), loop=int(loop), optimize=False))
