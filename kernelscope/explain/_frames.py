"""What one step of a walkthrough shows: grids (panels) side by side and a caption.

The walkthroughs describe each step as a :class:`Frame`; the text, Markdown, HTML
and GIF renderers only draw frames, so every view shows the same numbers.
"""

# H/W height/width of a panel's grid

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Panel:
    """One grid: the (padded) input, the kernel or the output.

    ``values`` is (H, W); ``padding`` marks padding cells, ``window`` the cells the
    current step reads (or writes, in the output), ``hidden`` output cells not yet
    computed, ``accent`` a cell to single out (the max of a max-pooling window);
    ``marks`` optional small labels drawn in a corner (the kernel weight over each
    window cell, as the slides write ``3_1 0_0 1_-1``); ``pad_text`` is what a drawn
    padding cell shows ("0" for a convolution's zeros, "" where padding takes no part).
    """

    title: str
    values: np.ndarray
    padding: np.ndarray | None = None
    window: np.ndarray | None = None
    hidden: np.ndarray | None = None
    accent: np.ndarray | None = None
    marks: np.ndarray | None = None
    pad_text: str = "0"

    def __post_init__(self):
        shape = np.shape(self.values)
        for name in ("padding", "window", "hidden", "accent"):
            if getattr(self, name) is None:
                setattr(self, name, np.zeros(shape, dtype=bool))

    @property
    def shape(self) -> tuple:
        return tuple(np.shape(self.values))


@dataclass
class Frame:
    """One step: rows of panels joined by operators (``*``, ``=``), a heading and a caption."""

    heading: str
    rows: list
    operators: list
    caption: str
    legend: list = field(default_factory=list)


class Renderable:
    """Renderers shared by the convolution and pooling walkthroughs (see :meth:`frames`)."""

    def frames(self) -> list:  # pragma: no cover - implemented by the walkthroughs
        raise NotImplementedError

    def result_frame(self) -> Frame:  # pragma: no cover - implemented by the walkthroughs
        raise NotImplementedError

    def header_lines(self) -> list:  # pragma: no cover - implemented by the walkthroughs
        raise NotImplementedError

    def to_text(self, steps=None, color: bool | None = None) -> str:
        """The slides' tables in plain text, the current window in ``[brackets]``.

        Parameters
        ----------
        steps : int, iterable of ints or None
            Which steps to show (0-based, in the order of :meth:`frames`); None shows all
            steps and the finished output.
        color : bool or None
            ANSI colours (window highlighted, padding dimmed); None: only when standard
            output is a terminal.
        """
        from .render import frames_to_text

        return frames_to_text(self, steps, color)

    def to_markdown(self, steps=None) -> str:
        """The walkthrough as Markdown: one section per step, window cells in bold."""
        from .render import frames_to_markdown

        return frames_to_markdown(self, steps)

    def to_html(self, steps=None, title: str | None = None) -> str:
        """A self-contained HTML page (inline CSS, no scripts or external files)."""
        from .render import frames_to_html

        return frames_to_html(self, steps, title)

    def to_gif(self, path, cell_size: int = 36, duration: int = 800, loop: int = 0) -> None:
        """An animated GIF with one frame per output cell (needs Pillow, extra ``image``).

        See :func:`kernelscope.explain.animate.frame_size` for the frame size.
        """
        from .animate import save_gif

        save_gif(self, path, cell_size=cell_size, duration=duration, loop=loop)

    def __str__(self) -> str:
        return self.to_text(color=False)
