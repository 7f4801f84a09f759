"""The Callback base class, CallbackList, History and the monitor-direction helpers."""

from __future__ import annotations

import math
import os
import warnings

import numpy as np

__all__ = ["Callback", "CallbackList", "History", "LambdaCallback"]


class Callback:
    """Base class: every hook does nothing until overridden."""

    def __init__(self):
        self.params: dict = {}
        self._model = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass
    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass


_HOOKS = ("on_batch_begin", "on_batch_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
          "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin",
          "on_predict_batch_end", "on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
          "on_predict_begin", "on_predict_end")


class CallbackList(Callback):
    """Calls every hook on each callback in order; optionally adds a :class:`History`."""

    def __init__(self, callbacks=None, add_history: bool = False, model=None, **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Every callback must be a `ks.callbacks.Callback` instance. Received: {cb!r} "
                                f"of type {type(cb).__name__}.")
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    @property
    def history(self):
        return next((cb for cb in self.callbacks if isinstance(cb, History)), None)

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)

    def set_params(self, params: dict) -> None:
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model) -> None:
        self._model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def __iter__(self):
        return iter(self.callbacks)


def _dispatch(name):
    def hook(self, *args, **kwargs):
        for cb in self.callbacks:
            getattr(cb, name)(*args, **kwargs)
    hook.__name__ = name
    return hook


for _name in _HOOKS:
    setattr(CallbackList, _name, _dispatch(_name))


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, **hooks):
        super().__init__()
        for name, fn in hooks.items():
            if name not in _HOOKS:
                raise ValueError(f"Unknown callback hook {name!r}. Expected one of {sorted(_HOOKS)}.")
            setattr(self, name, fn)


class History(Callback):
    """Records ``logs`` of every epoch: ``history.history["loss"]`` and ``history.epoch``."""

    def __init__(self):
        super().__init__()
        self.history: dict = {}
        self.epoch: list = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


# ------------------------------------------------------------ monitoring
_MAX_WORDS = ("acc", "auc", "precision", "recall", "f1", "iou")
_MIN_WORDS = ("loss", "error", "mse", "mae", "crossentropy", "hinge", "huber")


def _monitor_direction(monitor: str, mode: str, model, caller: str) -> str:
    """"min" or "max" for ``monitor``, inferred in "auto" mode from the model's metrics or the name."""
    if mode in ("min", "max"):
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss":
        return "min"
    for metric in getattr(model, "metrics", None) or []:
        if getattr(metric, "name", None) == name and hasattr(metric, "_direction"):
            return "max" if metric._direction == "up" else "min"
    if any(word in name for word in _MAX_WORDS):
        return "max"
    if any(word in name for word in _MIN_WORDS):
        return "min"
    raise ValueError(f"{caller} callback received monitor={monitor} but kernelscope isn't able to "
                     "automatically determine whether that metric should be maximized or minimized. "
                     "Pass `mode='max'` in order to use the highest value, or pass `mode='min'` "
                     "in order to use the lowest value.")


def _check_mode(mode: str, caller: str) -> str:
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{caller} mode {mode} is unknown, fallback to auto mode.", stacklevel=3)
        return "auto"
    return mode


def _is_improvement(value, reference, direction: str, min_delta: float = 0.0) -> bool:
    """Whether ``value`` beats ``reference`` by more than ``min_delta`` ("min": lower is better).

    A non-finite value (NaN, +-inf) is never an improvement: a diverged epoch must not become the
    best one, and once "best" it could never be beaten (every comparison with NaN is False).
    ``reference`` None (nothing seen yet) is beaten by every finite value.
    """
    if value is None or not math.isfinite(value):
        return False
    if reference is None:
        return True
    if direction == "min":
        return value + min_delta < reference
    return value - min_delta > reference


def _scalar(value):
    return float(np.asarray(value)) if value is not None else None


def _file_identity(path: str):
    """What changes when a file is replaced (atomic saves rename a new inode into place); None if absent."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size
