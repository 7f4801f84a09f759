"""Helpers of the training loop: argument checks, logs as Python numbers, joining predicted batches."""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor

__all__ = ["check_fit_arguments", "should_validate", "metrics_or_logs", "pythonify", "batch_length", "to_numpy",
           "concatenate", "batch_result"]


def check_fit_arguments(epochs, initial_epoch, shuffle, validation_freq) -> None:
    for name, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}.")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"`shuffle` must be a bool. Received: shuffle={shuffle!r} (of type {type(shuffle).__name__}).")
    freqs = validation_freq if isinstance(validation_freq, (list, tuple)) else [validation_freq]
    if not freqs or any(isinstance(f, bool) or not isinstance(f, (int, np.integer)) or f < 1 for f in freqs):
        raise ValueError("`validation_freq` must be a positive integer (validate every N epochs) or a list of "
                         f"epoch numbers (1-based). Received: validation_freq={validation_freq!r}.")


def should_validate(epoch: int, validation_freq) -> bool:
    if isinstance(validation_freq, (list, tuple)):
        return epoch + 1 in validation_freq
    return (epoch + 1) % validation_freq == 0


def metrics_or_logs(model, logs: dict) -> dict:
    """The metrics' results when a step returned the same keys (Keras), else the last step's logs."""
    results = model.get_metrics_result()
    return results if set(results) == set(logs) else logs


def pythonify(logs: dict) -> dict:
    out = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            out.update(pythonify(value))
            continue
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        out[key] = float(array) if array.size == 1 and array.dtype.kind in "biuf" else value
    return out


def batch_length(x) -> int:
    while isinstance(x, (list, tuple, dict)):
        x = next(iter(x.values())) if isinstance(x, dict) else x[0]
    return len(x)


def to_numpy(structure):
    if isinstance(structure, dict):
        return {k: to_numpy(v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(to_numpy(v) for v in structure)
    return structure.data if isinstance(structure, Tensor) else np.asarray(structure)


def concatenate(batches: list, rows=None):
    """One structure like the first batch's, each leaf the batches' leaves joined along axis 0."""
    first = batches[0]
    if isinstance(first, dict):
        return {k: concatenate([b[k] for b in batches], rows) for k in first}
    if isinstance(first, (list, tuple)):
        return [concatenate([b[i] for b in batches], rows) for i in range(len(first))]
    joined = np.concatenate(batches)
    return joined[:0] if rows == 0 else joined


def batch_result(logs: dict, return_dict: bool):
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values
