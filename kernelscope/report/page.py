"""The pieces every kernelscope HTML page shares: the document, its images, the PNG files it links.

The training report (:func:`kernelscope.report.write_report`), the folder of views
(:func:`kernelscope.explain.model_report`) and the walkthrough pages
(:func:`kernelscope.explain.render.frames_to_html`) are built from these, so they stay
self-contained HTML5 with inline CSS.
"""

from __future__ import annotations

import html

import numpy as np

from .._checks import require
from .._io import atomic_write

__all__ = ["page", "image_tag", "save_png"]


def page(title: str, css: str, body: str, heading: str | None = None) -> str:
    """A whole HTML document: ``title`` in the head and (or ``heading``) as the ``<h1>``, then ``body``."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{css}</style></head><body>\n<h1>{html.escape(heading or title)}</h1>{body}</body></html>\n")


def image_tag(src: str, alt: str) -> str:
    """``<img>`` for a file name or a ``data:`` URL; both attributes escaped."""
    return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}">'


def save_png(array, path) -> None:
    """Save a uint8 array (or floats in [0, 1]) of shape (H, W) or (H, W, 3) as PNG, atomically."""
    Image = require("PIL.Image", "image", "Writing PNG files")
    array = np.asarray(array)
    if array.dtype != np.uint8:
        array = np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    picture = Image.fromarray(array)
    atomic_write(path, lambda handle: picture.save(handle, format="PNG"))
