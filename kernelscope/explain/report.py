"""A folder of views into a trained model for one image, with an ``index.html`` linking them.

``ks.explain.model_report(model, image, "views/")`` writes the input, the feature maps of every layer with a spatial output, the
kernels of every convolution layer, a saliency map and a Grad-CAM overlay as PNG
files (Pillow, extra ``image``).
"""

# H/W height/width, C channels

from __future__ import annotations

import html
import math
import pathlib
import re

import numpy as np

from .._io import atomic_write_text
from ..report.page import image_tag, page, save_png
from ._graph import CONV_TYPES
from .attribution import grad_cam, saliency
from .counting import parameters
from .views import feature_map_grid, feature_maps, kernels, overlay

__all__ = ["model_report", "save_png", "upscale"]


def upscale(array: np.ndarray, target: int = 192, limit: int = 16) -> np.ndarray:
    """Nearest-neighbour enlargement so the longer side reaches about ``target`` pixels."""
    factor = int(min(limit, max(1, math.ceil(target / max(array.shape[:2])))))
    return np.repeat(np.repeat(array, factor, axis=0), factor, axis=1)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _write(out: pathlib.Path, name: str, array, files: list, caption: str, section: str) -> None:
    save_png(upscale(np.asarray(array)), out / name)
    files.append((section, name, caption))


def _spatial_views(model, image, out, files, notes) -> bool:
    for name, activation in feature_maps(model, image).items():
        h, w, c = activation.shape
        _write(out, f"feature_maps_{_safe(name)}.png", feature_map_grid(activation), files,
               f"{name}: {c} map{'s' if c > 1 else ''} of {h}x{w}", "Feature maps")
    conv = [l for l in model.layers if type(l).__name__ in CONV_TYPES]
    for layer in conv:
        grid = kernels(model, layer)
        _write(out, f"kernels_{_safe(layer.name)}.png", grid, files, f"{layer.name}: kernels "
               f"{'x'.join(str(d) for d in getattr(layer, 'kernel_size', ()))}", "Kernels")
    if not conv:
        notes.append("the model has no convolution layer: no kernels and no Grad-CAM")
    return bool(conv)


def model_report(model, image, out, class_index=None, layer=None, class_names=None, title: str | None = None) -> dict:
    """Write the views of ``model`` for ``image`` into the folder ``out`` and an ``index.html``.

    Parameters
    ----------
    model : built model with one image input and one (batch, classes) output
    image : (H, W, C) array as the model takes it (0..255 for models of ``kernelscope train``)
    class_index : int, optional (default: the predicted class)
    layer : Grad-CAM layer (default: the last convolution)
    class_names : list of str, optional

    Returns
    -------
    dict with ``files`` (PNG names), ``index`` (path of index.html), ``notes``,
    ``class_index`` and ``probabilities``.
    """
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    image = np.asarray(image, dtype=np.float32)
    scores = np.asarray(model.predict(image[None], verbose=0))[0]
    index = int(np.argmax(scores)) if class_index is None else int(class_index)
    if not 0 <= index < scores.shape[-1]:
        raise ValueError(f"`class_index` must be in [0, {scores.shape[-1]}). Received: class_index={class_index!r}.")
    names = class_names or [str(i) for i in range(scores.shape[-1])]
    files, notes = [], []
    shown = image if image.max(initial=0) > 1.0 else image * 255.0
    _write(out, "input.png", np.clip(shown, 0, 255).astype(np.uint8), files, "the image as the model sees it",
           "Input")
    has_conv = _spatial_views(model, image, out, files, notes)
    sal = saliency(model, image, class_index=index)
    peak = sal.max()
    _write(out, "saliency.png", sal / peak if peak > 0 else sal, files,
           f"saliency: |d score({names[index]}) / d pixel|, largest over channels", "Saliency and Grad-CAM")
    if has_conv or layer is not None:
        cam = grad_cam(model, image, class_index=index, layer=layer)
        _write(out, "grad_cam.png", overlay(np.clip(shown, 0, 255), cam), files,
               f"Grad-CAM for class {names[index]}", "Saliency and Grad-CAM")
    index_path = out / "index.html"
    page = _index_html(title or f"kernelscope views of {model.name}", files, notes, scores, names, index,
                       parameters(model).to_markdown())
    atomic_write_text(index_path, page)
    return {"files": [name for _, name, _ in files], "index": index_path, "notes": notes,
            "class_index": index, "probabilities": scores}


def _index_html(title, files, notes, scores, names, index, params_md) -> str:
    top = np.argsort(-scores, kind="stable")[:5]
    rows = "".join(f"<tr><td>{html.escape(names[k])}</td><td>{scores[k]:.4f}</td></tr>" for k in top)
    sections, current = [], None
    for section, name, caption in files:
        if section != current:
            sections.append(f"<h2>{html.escape(section)}</h2>")
            current = section
        sections.append(f"<figure>{image_tag(name, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>")
    note_html = "".join(f"<p><em>Note: {html.escape(n)}</em></p>" for n in notes)
    params = "".join(f"<tr>{''.join(f'<td>{html.escape(c.strip())}</td>' for c in line.strip('|').split('|'))}</tr>"
                     for line in params_md.splitlines()[2:])
    css = ("body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}figure{display:inline-block;"
           "margin:0.5em;vertical-align:top}img{image-rendering:pixelated;border:1px solid #ccc}"
           "figcaption{font-size:0.85em;color:#555;max-width:24em}table{border-collapse:collapse}"
           "td{border:1px solid #ddd;padding:0.2em 0.5em}")
    predicted = html.escape(names[int(np.argmax(scores))])
    return page(title, css, f"<p>Predicted: <strong>{predicted}</strong>; views for class "
                f"<strong>{html.escape(names[index])}</strong>.</p><table>{rows}</table>{note_html}"
                f"{''.join(sections)}<h2>Parameters</h2><table>{params}</table>")
