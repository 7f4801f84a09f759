"""Turning user data into checked, batched arrays for fit/evaluate/predict.

Every check runs on the whole data set before the first training step, so a
bad input never leaves a half-updated model behind.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["flatten_data", "check_finite", "check_same_length", "train_validation_split", "class_weights_to_sample",
           "batches", "check_targets", "check_class_weight"]


def _label(what: str, key, multi: bool) -> str:
    if not multi:
        return what
    return f"{what}[{key!r}]" if isinstance(key, str) else f"{what}[{key}]"


def to_array(value, what: str, dtype=None) -> np.ndarray:
    """An ndarray of numbers; float data takes ``dtype`` (the model's), integers too unless dtype is None."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as err:
        raise TypeError(f"`{what}` must be an array of numbers. Received: {type(value).__name__} ({err}).") from err
    if array.dtype.kind not in "biuf":
        raise TypeError(f"`{what}` must hold numbers (bool, int or float). Received: dtype={array.dtype}.")
    if array.ndim == 0:
        raise ValueError(f"`{what}` must have a batch dimension (one row per sample). Received: a scalar.")
    if dtype is not None and array.dtype != dtype:
        with np.errstate(over="ignore"):  # out-of-range values become inf, which check_finite reports
            array = array.astype(dtype)
    return array


def flatten_data(data, names: list, what: str, dtypes: list | None) -> list:
    """A list of arrays, one per model input (or output), from an array, a list or a dict by name."""
    n = len(names)
    if isinstance(data, dict):
        unknown = [k for k in data if k not in names]
        missing = [k for k in names if k not in data]
        if unknown or missing:
            raise ValueError(f"`{what}` given as a dict must have the keys {names}. "
                             f"Received keys: {list(data)}.")
        items = [(k, data[k]) for k in names]
    elif isinstance(data, (list, tuple)) and n > 1:
        if len(data) != n:
            raise ValueError(f"The model has {n} {'inputs' if what.endswith('x') else 'outputs'} ({names}), so "
                             f"`{what}` must be a list of {n} arrays. Received: a list of {len(data)}.")
        items = list(enumerate(data))
    else:
        if isinstance(data, (list, tuple)) and len(data) == 1 and hasattr(data[0], "shape"):
            data = data[0]
        if n > 1:
            raise ValueError(f"The model has {n} {'inputs' if what.endswith('x') else 'outputs'} ({names}), "
                             f"so `{what}` must be a list or dict of {n} arrays. Received: one array.")
        items = [(0, data)]
    arrays = []
    for i, (key, value) in enumerate(items):
        dtype = dtypes[i] if dtypes is not None else None
        arrays.append(to_array(value, _label(what, key, n > 1), dtype))
    return arrays


def check_finite(arrays: list, what: str) -> None:
    """Raise on NaN or infinite values, naming the count and the first row."""
    for i, array in enumerate(arrays):
        if array.dtype.kind != "f":
            continue
        bad = ~np.isfinite(array)
        count = int(bad.sum())
        if count:
            row = int(np.argmax(bad.reshape(len(array), -1).any(axis=1)))
            label = what if len(arrays) == 1 else f"{what}[{i}]"
            raise ValueError(f"{label} contains {count} NaN or infinite values; the first is in row {row}. "
                             "Clean or impute the data before training.")


def check_same_length(x: list, y: list | None, sample_weight, prefix: str = "") -> int:
    """The common number of samples of every array, or a ValueError naming the mismatch.

    ``y=None`` (predict) allows 0 samples; training and evaluation need at least one.
    """
    n = len(x[0])
    if n == 0 and y is not None:
        raise ValueError(f"`{prefix}x` has 0 samples; fit and evaluate need at least one. "
                         f"Received: {prefix}x.shape={tuple(x[0].shape)}.")
    for i, a in enumerate(x[1:], 1):
        if len(a) != n:
            raise ValueError(f"All {prefix}x arrays must have the same number of samples: {prefix}x[0] has {n}, "
                             f"{prefix}x[{i}] has {len(a)}.")
    for i, a in enumerate(y or []):
        if len(a) != n:
            label = f"{prefix}y" if len(y) == 1 else f"{prefix}y[{i}]"
            raise ValueError(f"{prefix}x and {label} have different numbers of samples: {prefix}x has {n} rows, "
                             f"{label} has {len(a)}.")
    if sample_weight is not None and len(sample_weight) != n:
        raise ValueError(f"`{prefix}sample_weight` must have one weight per sample ({n}). "
                         f"Received: {len(sample_weight)} weights.")
    return n


def sample_weight_array(sample_weight, n_samples: int, what: str = "sample_weight"):
    if sample_weight is None:
        return None
    weights = to_array(sample_weight, what)
    if weights.ndim == 2 and weights.shape[1] == 1:  # (n, 1), as Keras's guide passes it
        weights = weights[:, 0]
    if weights.ndim != 1:
        raise ValueError(f"`{what}` must be a 1-D array of one weight per sample. Received: shape={weights.shape}.")
    with np.errstate(over="ignore"):
        weights = weights.astype(np.float32)
    check_finite([weights], what)  # after the cast: 1e39 is inf in float32
    return weights


def train_validation_split(arrays: list, validation_split: float) -> tuple:
    """Split each array (or None) at the same row: the LAST fraction becomes validation data (as Keras)."""
    if not isinstance(validation_split, (int, float)) or not 0 <= validation_split < 1:
        raise ValueError("`validation_split` must be a float in [0, 1). "
                         f"Received: validation_split={validation_split!r}.")
    def first(a):
        if isinstance(a, dict):
            return first(next(iter(a.values())))
        return first(a[0]) if isinstance(a, (list, tuple)) else a

    n = next(len(first(a)) for a in arrays if a is not None)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"`validation_split={validation_split}` leaves no training or no validation samples "
                         f"out of {n}. Use a split that keeps at least one sample on each side.")

    def cut(a, part):
        if a is None:
            return None
        if isinstance(a, dict):
            return {k: cut(v, part) for k, v in a.items()}
        if isinstance(a, (list, tuple)):
            return [cut(item, part) for item in a]
        return a[:split_at] if part == 0 else a[split_at:]

    return [cut(a, 0) for a in arrays], [cut(a, 1) for a in arrays]


def class_weights_to_sample(class_weight: dict, y: list, sample_weight):
    """Per-sample weights from ``{class: weight}``; one-hot targets use their argmax."""
    table = check_class_weight(class_weight)
    if len(y) != 1:
        raise ValueError("`class_weight` is only supported for models with a single output.")
    if sample_weight is not None:
        raise ValueError("You cannot pass `class_weight` and `sample_weight` at the same time.")
    labels = y[0]
    labels = np.argmax(labels, axis=-1) if labels.ndim > 1 and labels.shape[-1] > 1 else labels.reshape(len(labels))
    labels = np.round(labels).astype(np.int64)
    missing = sorted(set(np.unique(labels).tolist()) - set(table))
    if missing:
        raise ValueError(f"`class_weight` must contain all classes in the data. The classes {missing} "
                         f"are not in class_weight {table}.")
    return np.array([table[int(c)] for c in labels], dtype=np.float32) if len(labels) else None


def check_class_weight(class_weight) -> dict:
    """``{int class: float32-finite weight}``, or an error naming the bad entry."""
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict mapping class index to weight. "
                        f"Received: {type(class_weight).__name__}.")
    table = {}
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
            raise ValueError(f"`class_weight` keys must be integer class indices. Received: key {key!r}.")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"`class_weight` values must be numbers. Received: class_weight[{key}]={value!r} "
                             f"(of type {type(value).__name__}).")
        with np.errstate(over="ignore"):
            finite = np.isfinite(np.float32(value))  # the weights are used in float32
        if not finite:
            raise ValueError(f"`class_weight` values must be finite numbers in float32. "
                             f"Received: class_weight[{key}]={value!r}.")
        table[int(key)] = float(value)
    return table


def batches(n: int, batch_size: int, shuffle: bool, rng) -> list:
    """Index arrays of the batches for one epoch."""
    order = rng.permutation(n) if shuffle else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def take(arrays: list | None, index):
    if arrays is None:
        return None
    return [a[index] for a in arrays]


def check_batch_size(batch_size, name: str = "batch_size") -> int:
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"`{name}` must be a positive integer or None. Received: {name}={batch_size!r}.")
    return int(batch_size)


def check_targets(y: list, outputs: list, losses: list, output_names: list, prefix: str = "") -> list:
    """Check labels against each output and its loss; sparse labels come back as int64."""
    checked = []
    for target, spec, loss, name in zip(y, outputs, losses, output_names):
        units = spec.shape[-1] if spec is not None and spec.shape else None
        kind = loss_kind(loss)
        if kind == "sparse" and units is not None:
            target = _check_sparse(target, units, name, prefix)
        elif kind == "categorical" and units is not None and target.ndim >= 2 and target.shape[-1] != units:
            raise ValueError(f"{prefix}y for output '{name}' has {target.shape[-1]} columns but the output has "
                             f"{units} units: categorical_crossentropy expects one-hot targets of width {units} "
                             "(use sparse_categorical_crossentropy for integer class labels).")
        checked.append(target)
    return checked


def loss_kind(loss) -> str | None:
    if loss is None:
        return None
    from .compile_utils import loss_name

    name = loss_name(loss)
    fn = getattr(loss, "fn", None)
    if fn is not None:
        name += " " + loss_name(fn)
    name = name.replace("_", "").replace(" ", "")
    if "sparsecategorical" in name:
        return "sparse"
    if "categoricalcrossentropy" in name or "categoricalfocal" in name:
        return "categorical"
    return None


def _check_sparse(target: np.ndarray, units: int, name: str, prefix: str) -> np.ndarray:
    labels = target.reshape(len(target), -1) if target.ndim > 1 and target.shape[-1] == 1 else target
    if target.dtype.kind == "f" and np.any(labels != np.round(labels)):
        raise ValueError(f"{prefix}y for output '{name}' must hold integer class labels for "
                         "sparse_categorical_crossentropy. Received: non-integer values such as "
                         f"{labels[labels != np.round(labels)].flat[0].item()!r}.")
    bad = (labels < 0) | (labels >= units)
    if np.any(bad):
        row = int(np.argmax(bad.reshape(len(bad), -1).any(axis=1)))
        first = labels.flat[int(np.argmax(bad))].item()
        raise ValueError(f"{prefix}y for output '{name}' has {int(bad.sum())} label(s) outside [0, {units}), the "
                         f"range of the output's {units} units; the first is {first!r} "
                         f"in row {row}. Labels must be class indices 0..{units - 1}.")
    return target.astype(np.int64, copy=False)
