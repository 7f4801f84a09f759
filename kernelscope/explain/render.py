"""Text, Markdown and HTML views of a walkthrough's frames (see :mod:`kernelscope.explain._frames`)."""

# H/W height/width of a panel's grid

from __future__ import annotations

import html
import sys

import numpy as np

from ..report.page import page
from . import _format
from ._frames import Frame, Panel

__all__ = ["frames_to_text", "frames_to_markdown", "frames_to_html"]

_ANSI = {"window": "\x1b[1;30;43m", "padding": "\x1b[2m", "accent": "\x1b[1;31m", "reset": "\x1b[0m"}


def _selected(walk, steps) -> list:
    """(step number, frame) pairs; ``steps=None`` means all of them."""
    frames = walk.frames()
    if steps is None:
        return list(enumerate(frames))
    wanted = [steps] if isinstance(steps, (int, np.integer)) else list(steps)
    for k in wanted:
        if not -len(frames) <= k < len(frames):
            raise ValueError(f"`steps` must be step numbers in [0, {len(frames)}). Received: steps={steps!r}.")
    return [(k % len(frames), frames[k]) for k in wanted]


def _cell_text(panel: Panel, r: int, c: int) -> str:
    if panel.hidden[r, c]:
        return ""
    if panel.padding[r, c]:
        return "."
    text = _format.number(panel.values[r, c])
    return text + "*" if panel.accent[r, c] else text


# ------------------------------------------------------------------ text


def _panel_lines(panel: Panel, color: bool) -> tuple:
    h, w = panel.shape
    texts = [[_cell_text(panel, r, c) for c in range(w)] for r in range(h)]
    # Hidden output cells count too, so the grid keeps its width while it fills up.
    shown = [_format.number(v) + ("*" if a else "") for v, a in zip(panel.values.ravel(), panel.accent.ravel())]
    width = max([len(t) for row in texts for t in row] + [len(t) for t in shown] + [1])
    lines = []
    for r in range(h):
        cells = []
        for c in range(w):
            text = texts[r][c].rjust(width)
            if color and panel.window[r, c]:
                cells.append(f"{_ANSI['window']} {text} {_ANSI['reset']}")
            elif color and (panel.padding[r, c] or panel.accent[r, c]):
                style = _ANSI["padding"] if panel.padding[r, c] else _ANSI["accent"]
                cells.append(f" {style}{text}{_ANSI['reset']} ")
            else:
                cells.append(f"[{text}]" if panel.window[r, c] else f" {text} ")
        lines.append(" ".join(cells))
    grid_width = w * (width + 3) - 1
    return [panel.title.center(grid_width).rstrip().ljust(grid_width), *lines], grid_width


def _row_text(panels: list, operators: list, color: bool) -> list:
    blocks = [_panel_lines(p, color) for p in panels]
    height = max(len(lines) for lines, _ in blocks)
    middle = 1 + (max(p.shape[0] for p in panels) - 1) // 2
    out = [""] * height
    for k, (lines, width) in enumerate(blocks):
        for r in range(height):
            out[r] += lines[r] if r < len(lines) else " " * width
        if k < len(blocks) - 1:
            op = operators[k] if k < len(operators) else " "
            for r in range(height):
                out[r] += f"   {op if r == middle else ' ' * len(op)}   "
    return [line.rstrip() for line in out]


def frame_text(frame: Frame, color: bool) -> str:
    lines = []
    for panels, operators in zip(frame.rows, frame.operators):
        lines += _row_text(panels, operators, color) + [""]
    if frame.caption:
        lines.append(f"{frame.heading} = {frame.caption}")
    return "\n".join(lines).rstrip()


def frames_to_text(walk, steps=None, color: bool | None = None) -> str:
    """All (or the chosen) steps as text; ``color=None`` uses ANSI colours only on a terminal."""
    if color is None:
        color = bool(getattr(sys.stdout, "isatty", lambda: False)())
    chosen = _selected(walk, steps)
    total = len(walk.frames()) if steps is not None else len(chosen)
    parts = ["\n".join(walk.header_lines())]
    if chosen and chosen[0][1].legend:
        parts.append("Legend: " + ", ".join(chosen[0][1].legend))
    for k, frame in chosen:
        parts.append(f"Step {k + 1} of {total}: {frame.heading}\n" + frame_text(frame, color))
    if steps is None:
        parts.append("Result\n" + frame_text(walk.result_frame(), color))
    return "\n\n".join(parts) + "\n"


# -------------------------------------------------------------- markdown


def _panel_markdown(panel: Panel) -> str:
    h, w = panel.shape
    lines = [f"**{panel.title}**", "", "|   | " + " | ".join(str(c) for c in range(w)) + " |",
             "|---|" + "---|" * w]
    for r in range(h):
        cells = []
        for c in range(w):
            text = _cell_text(panel, r, c).replace("*", " (max)")
            cells.append(f"**{text}**" if panel.window[r, c] and text else text)
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def frames_to_markdown(walk, steps=None) -> str:
    """All (or the chosen) steps as Markdown tables, window cells in bold, padding as ``.``."""
    chosen = _selected(walk, steps)
    total = len(walk.frames())
    head, *formulas = walk.header_lines()
    parts = [f"**{head}**", "\n".join(f"- `{f}`" for f in formulas)]
    if chosen and chosen[0][1].legend:
        legend = ", ".join(chosen[0][1].legend).replace("[ ] current window", "bold: current window")
        parts.append(f"_{legend.replace('*', 'max')}_")
    frames = [(f"### Step {k + 1} of {total}: {frame.heading}", frame) for k, frame in chosen]
    if steps is None:
        frames.append(("### Result", walk.result_frame()))
    for title, frame in frames:
        tables = [_panel_markdown(p) for row in frame.rows for p in row]
        caption = [f"`{frame.heading} = {frame.caption}`"] if frame.caption else []
        parts.append("\n\n".join([title, *tables, *caption]))
    return "\n\n".join(parts) + "\n"


# ------------------------------------------------------------------ html

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
section { margin: 1.2em 0; padding-bottom: 0.8em; border-bottom: 1px solid #ddd; }
.row { display: flex; align-items: center; gap: 1em; flex-wrap: wrap; margin: 0.4em 0; }
figure { margin: 0; } figcaption { text-align: center; font-size: 0.85em; color: #555; }
table.grid { border-collapse: collapse; }
table.grid td { min-width: 2.2em; height: 2.2em; text-align: center; border: 1px solid #888; padding: 0 0.2em; }
td.pad { background: #eee; color: #999; border-style: dashed; }
td.win { background: #3b7dd8; color: #fff; font-weight: bold; }
td.win.pad { background: #9dbde9; }
td.acc { outline: 3px solid #d62728; outline-offset: -3px; }
td.hid { color: transparent; }
.op { font-size: 1.6em; }
code { background: #f4f4f4; padding: 0.1em 0.3em; }
"""


def _panel_html(panel: Panel) -> str:
    h, w = panel.shape
    rows = []
    for r in range(h):
        cells = []
        for c in range(w):
            classes = [name for name, mask in (("pad", panel.padding), ("win", panel.window),
                                               ("acc", panel.accent), ("hid", panel.hidden)) if mask[r, c]]
            text = html.escape(_cell_text(panel, r, c).rstrip("*"))
            cells.append(f'<td class="{" ".join(classes)}">{text}</td>' if classes else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<figure><table class="grid">{"".join(rows)}</table>'
            f"<figcaption>{html.escape(panel.title)}</figcaption></figure>")


def _frame_html(title: str, frame: Frame) -> str:
    rows = []
    for panels, operators in zip(frame.rows, frame.operators):
        items = []
        for k, panel in enumerate(panels):
            items.append(_panel_html(panel))
            if k < len(panels) - 1:
                items.append(f'<span class="op">{html.escape(operators[k] if k < len(operators) else "")}</span>')
        rows.append(f'<div class="row">{"".join(items)}</div>')
    caption = (f"<p><code>{html.escape(frame.heading)} = {html.escape(frame.caption)}</code></p>"
               if frame.caption else "")
    return f"<section><h3>{html.escape(title)}</h3>{''.join(rows)}{caption}</section>"


def frames_to_html(walk, steps=None, title: str | None = None) -> str:
    """A self-contained HTML page (inline CSS) with one section per step."""
    chosen = _selected(walk, steps)
    total = len(walk.frames())
    head, *formulas = walk.header_lines()
    title = title or head
    sections = [_frame_html(f"Step {k + 1} of {total}: {frame.heading}", frame) for k, frame in chosen]
    if steps is None:
        sections.append(_frame_html("Result", walk.result_frame()))
    legend = ("<p>Blue: the current window (and the output cell it gives); dashed grey: padding; "
              "red outline: the maximum of the window.</p>")
    items = "".join(f"<li><code>{html.escape(f)}</code></li>" for f in formulas)
    return page(title, _CSS, f"<ul>{items}</ul>{legend}{''.join(sections)}", heading=head)
