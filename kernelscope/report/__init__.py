"""A self-contained HTML training report (every image embedded as a base64 PNG).

``write_report(path, model, history, x_test, y_test, class_names)`` draws the
learning curves, the confusion matrix, per-class precision and recall, the
misclassified test images, the first conv layer's kernels, one test image's
feature maps at each convolutional layer and the model summary. Needs
matplotlib (``pip install "kernelscope[plot]"``); the metrics helpers need
NumPy only. The HTML page, its images and PNG files come from :mod:`.page`, which
:func:`kernelscope.explain.model_report` and the walkthrough pages share.
"""

from __future__ import annotations

import base64
import datetime
import html
import pathlib

import numpy as np

from .._checks import require
from .._io import atomic_write_text
from ..metrics.classification import ClassificationMetrics, classification_metrics
from .page import image_tag, page

__all__ = ["write_report", "write_page", "figure_html", "require_matplotlib", "classification_metrics", "ClassificationMetrics",
           "format_metrics_table", "format_confusion_table", "conv_feature_maps", "summary_text"]

_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .7em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{max-width:100%;height:auto}
pre{background:#f7f7f7;padding:1em;overflow-x:auto;font-size:12px}.meta{color:#666}"""


def require_matplotlib() -> None:
    """Raise ImportError naming the extra when matplotlib is missing."""
    require("matplotlib", "plot", "The HTML report")


def write_report(path, model, history: dict, x_test: np.ndarray, y_test: np.ndarray, class_names,
                 probabilities: np.ndarray | None = None, title: str = "kernelscope training report",
                 info: dict | None = None) -> pathlib.Path:
    """Write the report to ``path`` (atomically) and return the path.

    Parameters
    ----------
    history : ``History.history``, lists per metric (``loss``, ``val_accuracy``, ...).
    x_test, y_test : test images (pixel values 0..255) and integer labels.
    probabilities : ``model.predict(x_test)``; computed when None.
    info : extra key/value lines shown under the title (data set, epochs, ...).
    """
    require_matplotlib()
    from . import figures

    if probabilities is None:
        probabilities = np.asarray(model.predict(x_test, verbose=0))
    y_test = np.asarray(y_test).astype(np.int64).ravel()
    y_pred = probabilities.argmax(axis=-1)
    metrics = classification_metrics(y_test, y_pred, len(class_names))
    sections = [
        ("Learning curves", _img(figures.learning_curves(history), "learning curves") if history else
         "<p>No training history.</p>"),
        ("Confusion matrix", _img(figures.confusion_matrix(metrics.confusion, class_names), "confusion matrix")),
        ("Precision and recall per class", _metrics_html(metrics, class_names)),
        ("Misclassified test images", _misclassified_html(x_test, y_test, y_pred, probabilities, class_names)),
        *_conv_sections(model, x_test, class_names, y_test),
        ("Model summary", f"<pre>{html.escape(summary_text(model))}</pre>"),
    ]
    meta = {"test accuracy": f"{metrics.accuracy:.4f}", "test images": len(y_test), **(info or {})}
    return write_page(path, title, sections, meta)


def write_page(path, title: str, sections: list, meta: dict | None = None) -> pathlib.Path:
    """Write a report page (atomically): ``sections`` are ``(heading, HTML)`` pairs, ``meta`` the key/value
    lines under the title (the time it was written is added). Other reports (``train --task embedding``)
    share the look of the training report through it."""
    meta = {**(meta or {}), "written": datetime.datetime.now().isoformat(timespec="seconds")}
    body = "".join(f"<h2>{html.escape(name)}</h2>\n{content}\n" for name, content in sections)
    meta_html = "<br>".join(f"<b>{html.escape(str(k))}</b>: {html.escape(str(v))}" for k, v in meta.items())
    document = page(title, _CSS, f"\n<p class=\"meta\">{meta_html}</p>\n{body}")
    return atomic_write_text(pathlib.Path(path), document)


def figure_html(figure, alt: str) -> str:
    """A matplotlib Figure as an embedded ``<img>`` (base64 PNG)."""
    from .figures import _png

    return _img(_png(figure), alt)


def _img(png: bytes, alt: str) -> str:
    return image_tag(f'data:image/png;base64,{base64.b64encode(png).decode("ascii")}', alt)


def _metrics_html(metrics: ClassificationMetrics, class_names) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(str(name))}</td><td>{p:.3f}</td><td>{r:.3f}</td><td>{f:.3f}</td><td>{s}</td></tr>"
        for name, p, r, f, s in zip(class_names, metrics.precision, metrics.recall, metrics.f1, metrics.support))
    return ("<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>"
            f"{rows}</table><p>Accuracy: {metrics.accuracy:.4f}</p>")


def _misclassified_html(x_test, y_test, y_pred, probabilities, class_names, limit: int = 32) -> str:
    from . import figures

    wrong = np.flatnonzero(y_pred != y_test)
    if not len(wrong):
        return "<p>Every test image is classified correctly.</p>"
    shown = wrong[:limit]
    titles = [f"true {class_names[y_test[i]]}\npred {class_names[y_pred[i]]} ({probabilities[i, y_pred[i]]:.2f})"
              for i in shown]
    note = f"<p>{len(wrong)} of {len(y_test)} test images misclassified" + (
        f"; the first {limit} shown.</p>" if len(wrong) > limit else ".</p>")
    return note + _img(figures.image_grid(np.asarray(x_test)[shown], titles), "misclassified test images")


def _conv_layers(model) -> list:
    return [layer for layer in getattr(model, "layers", []) if "Conv" in type(layer).__name__
            and getattr(layer, "kernel", None) is not None]


def _conv_sections(model, x_test, class_names, y_test) -> list:
    from . import figures

    convs = _conv_layers(model)
    if not convs:
        return [("Convolution kernels and feature maps", "<p>The model has no convolutional layer.</p>")]
    kernel = np.asarray(convs[0].kernel.numpy())
    kernels_html = (f"<p>Layer <code>{html.escape(convs[0].name)}</code>, kernel shape {kernel.shape} "
                    "(height, width, input channels, filters); red weights are positive, blue negative.</p>" + _img(figures.kernels(kernel), "first kernels"))
    image = np.asarray(x_test[:1])
    parts = [f"<p>Test image 0 (true class {html.escape(str(class_names[int(y_test[0])]))}):</p>",
             _img(figures.image_grid(image, ["input"], columns=1), "input image")]
    for name, maps in conv_feature_maps(model, image):
        parts.append(f"<h3>{html.escape(name)}: output {maps.shape[1:]}</h3>")
        parts.append(_img(figures.feature_maps(maps[0]), f"feature maps of {name}"))
    return [("First convolution layer's kernels", kernels_html), ("Feature maps", "\n".join(parts))]


def conv_feature_maps(model, images: np.ndarray) -> list:
    """``[(layer name, output array), ...]`` for every convolutional layer, in inference mode.

    A Sequential model is run layer by layer; a functional model through a
    sub-model whose outputs are the conv layers' outputs.
    """
    from .. import models
    from ..autograd import no_grad

    convs = _conv_layers(model)
    with no_grad():
        if isinstance(model, models.Sequential):
            x, maps = np.asarray(images, dtype=np.float32), []
            for layer in model.layers:
                x = layer(x, training=False)
                if any(layer is conv for conv in convs):
                    maps.append((layer.name, np.asarray(x.numpy())))
            return maps
        probe = models.Model(model.inputs, [_output_in(model, layer) for layer in convs])
        outputs = probe.predict(images, verbose=0)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return [(layer.name, np.asarray(out)) for layer, out in zip(convs, outputs)]


def _output_in(model, layer):
    """The layer's output tensor within ``model``'s graph (a layer may be used by several models)."""
    nodes = model._model_nodes_of(layer) if hasattr(model, "_model_nodes_of") else []
    return nodes[0].output_tensors[0] if nodes else layer.output


def summary_text(model) -> str:
    """``model.summary()`` as a string."""
    lines = []
    model.summary(print_fn=lambda line="", **kwargs: lines.append(str(line)))
    return "\n".join(lines)


def format_metrics_table(metrics: ClassificationMetrics, class_names) -> str:
    """Per-class precision/recall/F1/support as a plain-text table."""
    width = max(9, *(len(str(name)) for name in class_names))
    lines = [f"{'class':<{width}}  precision  recall     f1  support"]
    for name, p, r, f, s in zip(class_names, metrics.precision, metrics.recall, metrics.f1, metrics.support):
        lines.append(f"{str(name):<{width}}  {p:9.3f}  {r:6.3f}  {f:5.3f}  {s:7d}")
    return "\n".join(lines)


def format_confusion_table(confusion: np.ndarray, class_names) -> str:
    """The confusion matrix as a text table: rows true class, columns predicted class."""
    names = [str(name) for name in class_names]
    cell = max(5, *(len(n) for n in names), len(str(int(confusion.max(initial=0)))))
    head = " " * cell + " | " + " ".join(f"{n[:cell]:>{cell}}" for n in names)
    rows = [f"{n[:cell]:>{cell}} | " + " ".join(f"{int(v):>{cell}}" for v in row) for n, row in zip(names, confusion)]
    return "\n".join(["true \\ predicted", head, "-" * len(head), *rows])
