"""``keras.utils.plot_model`` / ``model_to_dot``: a model's layer graph, drawn by Graphviz.

The graph is written in Graphviz's DOT language here (Keras's node labels: name
and class, input/output shapes, dtype, activation, trainable). ``plot_model``
renders it with Graphviz's ``dot`` program; ``to_file="model.dot"`` writes the
DOT text itself and needs nothing. Without Graphviz, ``plot_model`` warns and
writes a text rendering, labelled as such, to ``<to_file>.txt`` instead (so a
script that plots on the way does not stop); ``model_to_dot`` returns a
``pydot.Dot`` as Keras does and so needs pydot.

>>> import kernelscope as ks
>>> ks.utils.plot_model(model, "model.png", show_shapes=True)  # doctest: +SKIP
"""

from __future__ import annotations

import html
import os
import pathlib
import shutil
import subprocess
import warnings

from .._io import atomic_write_text

__all__ = ["plot_model", "model_to_dot"]

_RANKDIRS = ("TB", "LR", "BT", "RL")
_INSTALL = ("install Graphviz (apt install graphviz, brew install graphviz, conda install graphviz, or "
            "https://graphviz.org/download/)")


def _is_model(layer) -> bool:
    from ..models.model import Model

    return isinstance(layer, Model)


def _shape_text(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _io_shapes(model, layer, index: int) -> tuple:
    """(input shape, output shape) of ``layer`` inside ``model``, None where unknown."""
    nodes = [n for n in getattr(model, "_nodes", None) or [] if n.layer is layer]
    if nodes:
        ins = [t.shape for t in nodes[-1].input_tensors]
        outs = [t.shape for t in nodes[-1].output_tensors]
        return (ins[0] if len(ins) == 1 else ins or None), (outs[0] if len(outs) == 1 else outs)
    if hasattr(layer, "batch_shape"):  # an InputLayer
        return None, tuple(layer.batch_shape)
    kts = getattr(model, "_output_kts", [])
    if index < len(kts):
        previous = kts[index - 1] if index else getattr(model, "_input_kt", None)
        return (None if previous is None else previous.shape), kts[index].shape
    return None, None


def _label(model, layer, index: int, opts: dict) -> str:
    """Keras's HTML-like node label: a black title row, then activation and a row of facts."""
    name, cls = html.escape(layer.name), type(layer).__name__
    rows = [f'<b>{name}</b> ({cls})' if opts["show_layer_names"] else f"<b>{cls}</b>"]
    cells = []
    activation = getattr(layer, "_activation_name", None)
    if opts["show_layer_activations"] and getattr(layer, "activation", None) is not None:
        activation = activation or getattr(layer.activation, "__name__", str(layer.activation))
        rows.append(f"Activation: <b>{html.escape(str(activation))}</b>")
    if opts["show_shapes"]:
        shape_in, shape_out = _io_shapes(model, layer, index)
        if cls != "InputLayer":
            cells.append(f"Input shape: <b>{_shape_text(shape_in)}</b>")
        cells.append(f"Output shape: <b>{_shape_text(shape_out)}</b>")
    if opts["show_dtype"]:
        cells.append(f"Output dtype: <b>{getattr(layer, 'dtype', None) or '?'}</b>")
    if opts["show_trainable"] and layer.weights:
        cells.append("<b>Trainable</b>" if layer.trainable else "<b>Non-trainable</b>")
    span = max(1, len(cells))
    table = [f'<tr><td colspan="{span}" bgcolor="black"><font point-size="16" color="white">{rows[0]}</font>'
             "</td></tr>"]
    table += [f'<tr><td colspan="{span}" bgcolor="white"><font point-size="14">{r}</font></td></tr>'
              for r in rows[1:]]
    if cells:
        table.append("<tr>" + "".join(f'<td bgcolor="white"><font point-size="14">{c}</font></td>'
                                      for c in cells) + "</tr>")
    return '<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">' + "".join(table) + "</table>>"


def _members(model) -> list:
    if getattr(model, "_nodes", None) is not None:
        return list(model.layers)
    if hasattr(model, "_stack"):
        return list(model.layers)
    return []


def _entry(layer, input_index: int = 0):
    while _is_model(layer) and _members(layer):
        inputs = getattr(layer, "inputs", None) if getattr(layer, "_nodes", None) is not None else None
        layer = inputs[input_index]._keras_history[0] if inputs else _members(layer)[0]
        input_index = 0
    return layer


def _exit(layer, output_index: int = 0):
    while _is_model(layer) and _members(layer):
        outputs = getattr(layer, "outputs", None) if getattr(layer, "_nodes", None) is not None else None
        if outputs:
            layer, _, output_index = outputs[output_index]._keras_history
        else:
            layer = _members(layer)[-1]
    return layer


def _edges(model, expand: bool) -> list:
    """(source layer, destination layer) pairs, through nested models when ``expand``."""
    pairs = []
    nodes = getattr(model, "_nodes", None)
    if nodes is None:
        layers = _members(model)
        pairs = [(a, b, 0, 0) for a, b in zip(layers, layers[1:])]
    else:
        for node in nodes:
            for input_index, tensor in enumerate(node.input_tensors):
                source, _, output_index = tensor._keras_history
                pairs.append((source, node.layer, output_index, input_index))
    if not expand:
        return [(a, b) for a, b, _, _ in pairs]
    return [(_exit(a, o), _entry(b, i)) for a, b, o, i in pairs]


def _dot_lines(model, opts: dict, expand: bool, depth: int = 0) -> list:
    members = _members(model)
    if not members:  # a subclassed model: one node, as Keras
        return [f'  "{id(model)}" [label={_label(model, model, 0, opts)}];']
    lines = []
    for index, layer in enumerate(members):
        if expand and _is_model(layer) and _members(layer):
            lines.append(f'  subgraph "cluster_{id(layer)}" {{ style="dashed"; label="{html.escape(layer.name)}";')
            lines += _dot_lines(layer, opts, expand, depth + 1)
            lines.append("  }")
        else:
            lines.append(f'  "{id(layer)}" [label={_label(model, layer, index, opts)}];')
    seen = set()
    for source, destination in _edges(model, expand):
        key = (id(source), id(destination))
        if key not in seen:
            seen.add(key)
            lines.append(f'  "{key[0]}" -> "{key[1]}" [penwidth="2"];')
    return lines


def _dot_source(model, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi,
                show_layer_activations, show_trainable, splines="ortho") -> str:
    if not getattr(model, "built", False):
        raise ValueError("This model has not yet been built: build it first by calling `build()` or by calling "
                         "the model on a batch of data.")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"`rankdir` must be one of {_RANKDIRS}. Received: rankdir={rankdir!r}.")
    opts = dict(show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    head = [f'digraph "{html.escape(model.name)}" {{',
            f'  graph [rankdir="{rankdir}", concentrate=true, dpi="{dpi}", splines="{splines}"];',
            '  node [shape="record", fontname="Helvetica", border="0", margin="0"];']
    return "\n".join(head + _dot_lines(model, opts, expand_nested) + ["}"]) + "\n"


def _text_rendering(model, reason: str) -> str:
    parents = {}
    for source, destination in _edges(model, False):
        parents.setdefault(id(destination), []).append(source.name)
    lines = [f"kernelscope plot_model: TEXT RENDERING, not an image ({reason}).",
             f"Model: {model.name}"]
    for index, layer in enumerate(_members(model) or [model]):
        shape_in, shape_out = _io_shapes(model, layer, index)
        line = f"  {layer.name} ({type(layer).__name__}): {_shape_text(shape_in)} -> {_shape_text(shape_out)}"
        if id(layer) in parents:
            line += "  <- " + ", ".join(parents[id(layer)])
        lines.append(line)
    return "\n".join(lines) + "\n"


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=False,
               rankdir="TB", expand_nested=False, dpi=200, show_layer_activations=False, show_trainable=False,
               splines="ortho"):
    """Draw ``model``'s layer graph into ``to_file`` (format from its extension; ``.dot`` writes DOT text).

    Arguments and defaults are Keras 3's. Rendering uses Graphviz's ``dot`` program; without it a
    UserWarning says so and a labelled text rendering goes to ``<to_file>.txt``. Returns None.
    """
    source = _dot_source(model, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi,
                         show_layer_activations, show_trainable, splines)
    to_file = pathlib.Path(to_file)
    extension = to_file.suffix[1:].lower() or "png"
    if extension in ("dot", "gv"):
        atomic_write_text(to_file, source)
        return None
    program = shutil.which("dot")
    if program is None:
        text_file = to_file.with_name(to_file.name + ".txt")
        atomic_write_text(text_file, _text_rendering(model, "Graphviz's `dot` program is not installed"))
        warnings.warn(f"plot_model needs Graphviz's `dot` program to draw {to_file}: {_INSTALL}. A text "
                      f"rendering of the graph was written to {text_file} instead.", stacklevel=2)
        return None
    staging = to_file.with_name(f".{to_file.name}.{os.getpid()}.tmp")
    try:
        result = subprocess.run([program, f"-T{extension}", "-o", str(staging)], input=source.encode(),
                                capture_output=True, timeout=120)
        if result.returncode != 0:
            raise ValueError(f"Graphviz could not draw {to_file} (format {extension!r}): "
                             f"{result.stderr.decode(errors='replace').strip()}")
        os.replace(staging, to_file)
    finally:
        if staging.exists():
            staging.unlink()
    return None


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=200, subgraph=False, show_layer_activations=False,
                 show_trainable=False, splines="ortho"):
    """The graph as a ``pydot.Dot``, as Keras returns it (needs pydot: ``pip install pydot``)."""
    if subgraph:
        raise ValueError("`subgraph=True` (a pydot.Cluster for a nested model) is not supported: pass "
                         "expand_nested=True for the whole model instead. Received: subgraph=True.")
    try:
        import pydot
    except ImportError:
        raise ImportError("model_to_dot returns a pydot.Dot, so it needs pydot: pip install pydot (or "
                          '"kernelscope[graph]"); plot_model(model, "model.dot") writes the DOT text without '
                          "it.") from None
    source = _dot_source(model, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi,
                         show_layer_activations, show_trainable, splines)
    return pydot.graph_from_dot_data(source)[0]
