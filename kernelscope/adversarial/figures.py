"""The adversarial triptych: original | perturbation (amplified) | adversarial image, with predictions."""

# H/W height/width, C channels

from __future__ import annotations

import pathlib

import numpy as np

from .._io import atomic_write

__all__ = ["triptych"]


def _display(image: np.ndarray, value_range: tuple) -> np.ndarray:
    """An (H, W) or (H, W, 3) array in [0, 1] for imshow."""
    low, high = value_range
    shown = (np.asarray(image, dtype=np.float64) - low) / (high - low)
    return np.clip(shown[..., 0] if shown.shape[-1] == 1 else shown[..., :3], 0.0, 1.0)


def triptych(original, adversarial, path, *, original_label: str, adversarial_label: str,
             value_range=(0.0, 1.0), eps=None, dpi: int = 100) -> pathlib.Path:
    """Write a PNG: the original, the perturbation (amplified, grey = no change) and the adversarial image.

    Parameters
    ----------
    original, adversarial : (H, W, C) images in ``value_range`` (C = 1 or 3)
    path : the PNG to write (atomically)
    original_label, adversarial_label : the titles, e.g. "3 (98.7%)"
    value_range : (low, high) of the pixel values
    eps : float, optional
        The budget: the perturbation panel spans -eps..eps (default: its own largest change).

    Returns
    -------
    The path written. Needs matplotlib (``kernelscope[plot]``).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError('The adversarial triptych needs matplotlib: pip install "kernelscope[plot]"') from None
    original, adversarial = np.asarray(original, np.float64), np.asarray(adversarial, np.float64)
    if original.shape != adversarial.shape or original.ndim != 3:
        raise ValueError("`original` and `adversarial` must be two (H, W, C) images of one shape. "
                         f"Received: {original.shape} and {adversarial.shape}.")
    delta = adversarial - original
    span = float(eps) if eps else float(np.abs(delta).max()) or 1.0
    amplify = (value_range[1] - value_range[0]) / (2 * span)
    panels = [(original, value_range, f"original: {original_label}"),
              (delta, (-span, span), f"perturbation (x{amplify:.3g})"),
              (adversarial, value_range, f"adversarial: {adversarial_label}")]
    figure = Figure(figsize=(7.5, 2.9), dpi=dpi)
    for i, (image, shown_range, title) in enumerate(panels):
        ax = figure.add_subplot(1, 3, i + 1)
        ax.imshow(_display(image, shown_range), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.set_axis_off()
    figure.tight_layout()
    return atomic_write(path, lambda handle: figure.savefig(handle, format="png", dpi=dpi))
