"""Training callbacks with Keras 3's names, defaults and behaviour.

A callback receives ``set_model(model)`` and ``set_params(params)``, then the
hooks ``on_train_begin``, ``on_epoch_begin(epoch)``, ``on_train_batch_begin/end(batch)``,
``on_epoch_end(epoch, logs)``, ``on_train_end`` (and the test/predict ones) with a
``logs`` dict of metric values. The model needs only what a callback uses:
``stop_training``, ``get_weights``/``set_weights``, ``save``/``save_weights`` and
``optimizer.learning_rate``.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import os
import warnings

import numpy as np

from .._io import atomic_write
from .base import Callback, CallbackList, History, LambdaCallback, _check_mode, _file_identity, _is_improvement, \
    _monitor_direction, _scalar
from .tensorboard import TensorBoard

__all__ = ["Callback", "CallbackList", "History", "EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau",
           "TerminateOnNaN", "CSVLogger", "LearningRateScheduler", "LambdaCallback", "TensorBoard"]


def _check_patience(patience, owner: str) -> int:
    if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 0:
        raise ValueError(f"`patience` of {owner} must be an integer >= 0 (a number of epochs). "
                         f"Received: patience={patience!r}.")
    return int(patience)


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    An improvement must beat the best value by more than ``min_delta``. With
    ``baseline`` the wait only resets once the baseline is also beaten. With
    ``restore_best_weights`` the best epoch's weights are put back when training
    ends. Epochs before ``start_from_epoch`` are not monitored.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.patience = _check_patience(patience, "EarlyStopping")
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.mode = _check_mode(mode, "EarlyStopping")
        self.direction = None
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0
        self.direction = None

    def _is_improvement(self, value, reference) -> bool:
        return _is_improvement(value, reference, self.direction, self.min_delta)

    def on_epoch_end(self, epoch, logs=None):
        if self.direction is None:
            self.direction = _monitor_direction(self.monitor, self.mode, self.model, "EarlyStopping")
            self.best = math.inf if self.direction == "min" else -math.inf
        current = _scalar((logs or {}).get(self.monitor))
        if current is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                          f"Available metrics are: {','.join(logs or {})}", stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()  # until something improves, now is best
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


def _check_checkpoint_suffix(filepath: str, save_weights_only: bool) -> None:
    """The file name says the format, as in Keras: checked once, before training starts."""
    if save_weights_only:
        if not filepath.endswith((".weights.h5", ".npz")):
            raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must "
                             "end in `.weights.h5` (Keras weights format) or `.npz` (NumPy arrays). Received: "
                             f"filepath={filepath}")
    elif filepath.endswith((".h5", ".hdf5")):
        raise ValueError("ModelCheckpoint does not write legacy HDF5 model files (Keras 3 deprecates them): end the "
                         "filepath in `.keras`, or pass save_weights_only=True with `.weights.h5`. Received: "
                         f"filepath={filepath}")
    elif not filepath.endswith(".keras"):
        raise ValueError(f"The filepath provided must end in `.keras` (Keras model format). Received: "
                         f"filepath={filepath}")


class ModelCheckpoint(Callback):
    """Save the model (``model.save``) or its weights (``model.save_weights``) during training.

    The file name says the format: ``.keras`` (Keras 3's model file) or, with
    ``save_weights_only``, ``.weights.h5`` (Keras 3's weights file) or ``.npz``.

    ``filepath`` may hold format fields filled with ``epoch`` (1-based) and the
    logs, e.g. ``"ckpt-{epoch:02d}-{val_loss:.2f}.keras"``. With
    ``save_best_only`` a save happens only when ``monitor`` improves.
    ``save_freq`` is ``"epoch"`` or a number of batches.

    A non-finite monitored value (NaN, inf) is never the best: it is not saved and
    does not change ``best``. ``best`` changes only once a save has completed, and
    ``last_saved_epoch`` (0-based, None before the first save) and
    ``last_saved_filepath`` say what the latest completed save wrote (kernelscope
    additions), so an interrupted save is never reported as done.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq < 1):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or "
                             "integer values >= 1")
        self.filepath = os.fspath(filepath)
        _check_checkpoint_suffix(self.filepath, save_weights_only)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = _check_mode(mode, "ModelCheckpoint")
        self.save_freq = save_freq
        self.best = initial_value_threshold
        self.last_saved_epoch = None
        self.last_saved_filepath = None
        self.direction = None
        self._epoch = 0
        self._batches_since_save = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _file_path(self, epoch, batch, logs) -> str:
        fields = dict(logs or {})
        if batch is not None and "batch" not in fields:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(epoch=epoch + 1, **fields)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}') from None

    def _should_save(self, epoch, logs, filepath) -> bool:
        if not self.save_best_only:
            return True
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        if self.direction is None:
            self.direction = _monitor_direction(self.monitor, self.mode, self.model, "ModelCheckpoint")
        current = _scalar(current)
        better = _is_improvement(current, self.best, self.direction)
        if self.verbose > 0:
            verdict = f"improved from {self.best}, saving model to {filepath}" if better else \
                f"did not improve from {self.best}" if math.isfinite(current) else \
                f"is {current}: a non-finite value is never the best, not saving"
            print(f"\nEpoch {epoch + 1}: {self.monitor} {verdict}")
        return better

    def _save(self, epoch, batch, logs) -> None:
        filepath = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IOError("Please specify a non-directory filepath for ModelCheckpoint. "
                          f"Filepath used is an existing directory: {filepath}")
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        before = _file_identity(filepath)
        try:
            if self.save_weights_only:
                self.model.save_weights(filepath)
            else:
                self.model.save(filepath)
            self._saved(epoch, filepath, logs)
        except BaseException:
            # An interruption (Ctrl-C) after the save renamed its file into place still saved it; one
            # before left the previous file (or none): record what is on disk, not what was attempted.
            if _file_identity(filepath) != before:
                self._saved(epoch, filepath, logs)
            raise

    def _saved(self, epoch, filepath, logs) -> None:
        self.last_saved_epoch, self.last_saved_filepath = epoch, filepath
        if self.save_best_only and self.monitor in (logs or {}):
            self.best = _scalar(logs[self.monitor])


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement.

    Improvement means beating the best value by more than ``min_delta``; after a
    reduction, ``cooldown`` epochs pass before counting again; the rate never goes
    below ``min_lr``. In "auto" mode the direction is "max" only if "acc" is in
    ``monitor``, as in Keras.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
            raise TypeError(f"`factor` of ReduceLROnPlateau must be a number in (0, 1). "
                            f"Received: factor={factor!r} (of type {type(factor).__name__}).")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        if not factor > 0:
            raise ValueError(f"`factor` of ReduceLROnPlateau must be in (0, 1): a factor <= 0 would set the "
                             f"learning rate to 0 or below. Received: factor={factor}.")
        self.monitor = monitor
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = _check_patience(patience, "ReduceLROnPlateau")
        self.verbose = verbose
        self.cooldown = cooldown
        self.mode = _check_mode(mode, "Learning rate reduction")
        self._reset()

    def _reset(self) -> None:
        self.maximize = self.mode == "max" or (self.mode == "auto" and "acc" in self.monitor)
        self.best = -math.inf if self.maximize else math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def _improved(self, current) -> bool:
        return _is_improvement(current, self.best, "max" if self.maximize else "min", self.min_delta)

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = _scalar(logs.get(self.monitor))
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs)}.", stacklevel=2)
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(self.model.optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class TerminateOnNaN(Callback):
    """Stop training (or raise, with ``raise_error=True``) when a batch's loss is NaN or infinite."""

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = _scalar((logs or {}).get("loss"))
        if loss is not None and not math.isfinite(loss):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                                   "Terminating training immediately.")
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Write one CSV row per epoch (``epoch`` then the sorted log keys).

    After each epoch the whole CSV goes to a temporary file in the same folder,
    which then replaces ``filename``: the file on disk is always complete, and an
    existing log is only replaced (or, with ``append=True``, extended) once an
    epoch has finished.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self.append_header = True
        self._text = None

    def on_train_begin(self, logs=None):
        self._text = ""
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8", newline="") as f:
                self._text = f.read()
            if self._text and not self._text.endswith(("\n", "\r")):
                self._text += "\n"
        self.append_header = not self._text
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._text is None:
            self.on_train_begin()
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.sep)
        if self.keys is None:
            self.keys = sorted(logs)
            for name in getattr(self.model, "metrics_names", None) or []:
                if name.startswith("val_") and name not in self.keys:
                    self.keys.append(name)
            if self.append_header:
                writer.writerow(["epoch", *self.keys])
        writer.writerow([epoch, *(_csv_value(logs.get(key, "NA")) for key in self.keys)])
        self._text += buffer.getvalue()
        _replace_file(self.filename, self._text)

    def on_train_end(self, logs=None):
        self._text = None


def _replace_file(path: str, text: str) -> None:
    """Atomically replace ``path`` with ``text``, synced so a later crash keeps every finished epoch."""
    atomic_write(path, lambda handle: handle.write(text), mode="w", encoding="utf-8", newline="", fsync=True)


def _csv_value(value):
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return f"[{', '.join(map(str, value))}]"
    return value.item() if isinstance(value, np.generic) else value


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to ``schedule(epoch, lr)`` (or ``schedule(epoch)``)."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:  # schedules written for the one-argument API
            learning_rate = self.schedule(epoch)
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.floating)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {learning_rate!r}")
        optimizer.learning_rate = float(learning_rate)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(learning_rate)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
