"""The report's plots, drawn with matplotlib's object API (no pyplot state, Agg canvas) into PNG bytes."""

from __future__ import annotations

import io

import numpy as np

from .._checks import require


def _figure(width: float, height: float):
    require("matplotlib", "plot", "The HTML report")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def learning_curves(history: dict) -> bytes:
    """Loss and accuracy per epoch, training against validation."""
    figure = _figure(10, 3.6)
    for position, metric in enumerate(("loss", "accuracy"), start=1):
        axes = figure.add_subplot(1, 2, position)
        for key, label in ((metric, "training"), (f"val_{metric}", "validation")):
            values = history.get(key)
            if values:
                axes.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=label)
        axes.set_xlabel("epoch")
        axes.set_title(metric)
        axes.grid(alpha=0.3)
        axes.legend()
    return _png(figure)


def confusion_matrix(confusion: np.ndarray, class_names) -> bytes:
    """Counts with the diagonal (correct predictions) visible at a glance."""
    n = len(class_names)
    size = min(12.0, 2.5 + 0.45 * n)
    figure = _figure(size, size * 0.85)
    axes = figure.add_subplot(1, 1, 1)
    image = axes.imshow(confusion, cmap="Blues")
    figure.colorbar(image, ax=axes, fraction=0.046)
    ticks = np.arange(n)
    axes.set_xticks(ticks, [str(c) for c in class_names], rotation=45 if n > 10 else 0, ha="right" if n > 10 else "center")
    axes.set_yticks(ticks, [str(c) for c in class_names])
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    if n <= 20:
        threshold = confusion.max(initial=0) / 2
        for i, j in np.ndindex(confusion.shape):
            axes.text(j, i, int(confusion[i, j]), ha="center", va="center", fontsize=8,
                      color="white" if confusion[i, j] > threshold else "black")
    return _png(figure)


def _show(axes, image: np.ndarray, cmap: str = "gray") -> None:
    """One image (h, w, c) of pixel values 0..255 (or any range, for maps)."""
    if image.shape[-1] in (3, 4):
        axes.imshow(np.clip(image / 255.0, 0, 1))
    else:
        axes.imshow(image[..., 0] if image.ndim == 3 else image, cmap=cmap)


def _panels(count: int, columns: int, width: float, height: float, titles, fontsize: int) -> tuple:
    """A figure of ``count`` titled panels, ``columns`` to a row, each ``width`` x ``height`` inches, no ticks."""
    rows = max(1, -(-count // columns))
    figure = _figure(width * columns, height * rows)
    panels = []
    for index, title in zip(range(count), titles):
        axes = figure.add_subplot(rows, columns, index + 1)
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title(title, fontsize=fontsize)
        panels.append(axes)
    return figure, panels


def image_grid(images: np.ndarray, titles, columns: int = 8, cmap: str = "gray") -> bytes:
    """Images in a grid, each with a short title."""
    figure, panels = _panels(len(images), columns, 1.5, 1.75, titles, 8)
    for axes, image in zip(panels, images):
        _show(axes, image, cmap)
    return _png(figure)


def kernels(kernel: np.ndarray, limit: int = 64) -> bytes:
    """A conv layer's filters ``(kh, kw, in_channels, filters)``: RGB when 3 input channels, else the mean."""
    count = min(kernel.shape[-1], limit)
    figure, panels = _panels(count, min(8, count), 1.3, 1.4, (f"filter {f}" for f in range(count)), 7)
    for f, axes in enumerate(panels):
        weights = kernel[..., f]
        if weights.shape[-1] == 3:
            spread = np.ptp(weights) or 1.0
            axes.imshow((weights - weights.min()) / spread)
        else:
            axes.imshow(weights.mean(axis=-1), cmap="RdBu_r", vmin=-np.abs(weights).max(), vmax=np.abs(weights).max())
    return _png(figure)


def feature_maps(maps: np.ndarray, limit: int = 16) -> bytes:
    """The first ``limit`` channels of one layer's output ``(h, w, channels)``."""
    count = min(maps.shape[-1], limit)
    figure, panels = _panels(count, min(8, count), 1.4, 1.5, (f"channel {c}" for c in range(count)), 7)
    for c, axes in enumerate(panels):
        axes.imshow(maps[..., c], cmap="viridis")
    return _png(figure)
