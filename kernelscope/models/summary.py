"""``model.summary()``: Keras 3's table, drawn with box characters and no dependency.

Columns, widths and the totals lines follow ``keras.src.utils.summary_utils``:
a chain of layers gets "Layer (type) | Output Shape | Param #" (88 columns),
a branching functional model adds "Connected to" (108 columns); the memory size
is the weights' bytes in B/KB/MB (1024-based) with two decimals.
"""

from __future__ import annotations

import shutil
import textwrap

from ..layers.base import InputLayer

__all__ = ["print_summary", "readable_memory_size", "count_weights"]


def readable_memory_size(size: float) -> str:
    """``73984`` -> ``'72.25 KB'`` (Keras's formatting)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def count_weights(weights) -> tuple:
    """(number of scalars, bytes) over distinct weights."""
    unique = {id(w): w for w in weights}.values()
    return (int(sum(w.data.size for w in unique)), int(sum(w.data.nbytes for w in unique)))


def _format_shape(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _rows(model) -> tuple:
    """(rows, sequential_like): one row of cell texts per layer."""
    nodes = getattr(model, "_nodes", None)
    if nodes is None:  # Sequential or subclassed
        rows = []
        for layer in model.layers:
            shape = model._layer_output_shape(layer) if hasattr(model, "_layer_output_shape") else None
            rows.append([f"{layer.name} ({type(layer).__name__})", _format_shape(shape), _params(layer)])
        return rows, True
    sequential_like = _is_chain(model)
    rows = []
    for layer in model.layers:
        own = [n for n in nodes if n.layer is layer]
        if isinstance(layer, InputLayer):
            shape, links = layer.batch_shape, "-"
        else:
            outs = [t.shape for t in own[-1].output_tensors]
            shape = outs[0] if len(outs) == 1 else outs
            links = ", ".join(f"{t._keras_history[0].name}[{t._keras_history[1]}][{t._keras_history[2]}]"
                              for n in own for t in n.input_tensors) or "-"
        row = [f"{layer.name} ({type(layer).__name__})", _format_shape(shape), _params(layer)]
        rows.append(row if sequential_like else row + [links])
    return rows, sequential_like


def _is_chain(model) -> bool:
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return False
    layers = [n.layer for n in model._nodes]
    if len({id(l) for l in layers}) != len(layers):  # a shared layer
        return False
    return all(len(n.input_tensors) <= 1 for n in model._nodes)


def _params(layer) -> str:
    if not layer.built:
        return "0 (unbuilt)"
    return f"{layer.count_params():,}"


def _line(widths: list, left: str, fill: str, mid: str, right: str) -> str:
    return left + mid.join(fill * (w + 2) for w in widths) + right


def _cells(row: list, widths: list, aligns: list) -> list:
    wrapped = [textwrap.wrap(text, w, break_long_words=True, break_on_hyphens=False) or [""]
               for text, w in zip(row, widths)]
    height = max(len(c) for c in wrapped)
    lines = []
    for i in range(height):
        parts = []
        for cell, w, align in zip(wrapped, widths, aligns):
            text = cell[i] if i < len(cell) else ""
            parts.append(" " + (text.rjust(w) if align == "right" else text.ljust(w)) + " ")
        lines.append("│" + "│".join(parts) + "│")
    return lines


def _table(header: list, rows: list, widths: list, aligns: list) -> list:
    lines = [_line(widths, "┏", "━", "┳", "┓")]
    head = [" " + (h.rjust(w) if a == "right" else h.ljust(w)) + " " for h, w, a in zip(header, widths, aligns)]
    lines.append("┃" + "┃".join(head) + "┃")
    lines.append(_line(widths, "┡", "━", "╇", "┩"))
    for i, row in enumerate(rows):
        if i:
            lines.append(_line(widths, "├", "─", "┼", "┤"))
        lines.extend(_cells(row, widths, aligns))
    lines.append(_line(widths, "└", "─", "┴", "┘"))
    return lines


def _column_widths(positions: list, line_length: int) -> list:
    widths, current = [], 0
    for pos in positions:
        absolute = int(pos * line_length) if pos <= 1 else int(pos)
        widths.append(absolute - current)
        current = absolute
    # the cell text gets the column minus its border and two padding spaces
    content = [w - 3 for w in widths]
    content[0] -= 1
    if min(content) < 4:
        raise ValueError(f"`line_length={line_length}` is too narrow to print the summary.")
    return content


def print_summary(model, line_length=None, positions=None, print_fn=None, show_trainable: bool = False) -> None:
    """Print ``model``'s layer table and its Total / Trainable / Non-trainable params lines."""
    if not model.built:
        raise ValueError(f"Model '{model.name}' has not yet been built. Build the model first by giving it an "
                         "input shape (ks.Input or `input_shape=`), calling `build()`, or calling it on a batch "
                         "of data.")
    rows, sequential_like = _rows(model)
    if sequential_like:
        default, header, aligns = 88, ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
        positions = positions or [0.45, 0.80, 1.0]
    else:
        default = 108
        header, aligns = ["Layer (type)", "Output Shape", "Param #", "Connected to"], ["left", "left", "right", "left"]
        positions = positions or [0.3, 0.56, 0.74, 1.0]
    if show_trainable:
        default += 12
        positions = [p * 0.9 for p in positions] + [1.0]
        header, aligns = header + ["Trainable"], aligns + ["left"]
        for row, layer in zip(rows, model.layers):
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
    line_length = line_length or min(default, shutil.get_terminal_size().columns - 4)
    widths = _column_widths(positions, line_length)
    trainable, trainable_bytes = count_weights(model.trainable_weights)
    frozen, frozen_bytes = count_weights(model.non_trainable_weights)
    lines = [f'Model: "{model.name}"', *_table(header, rows, widths, aligns),
             f" Total params: {trainable + frozen:,} ({readable_memory_size(trainable_bytes + frozen_bytes)})",
             f" Trainable params: {trainable:,} ({readable_memory_size(trainable_bytes)})",
             f" Non-trainable params: {frozen:,} ({readable_memory_size(frozen_bytes)})"]
    emit = print_fn or print
    for line in lines:
        emit(line)
