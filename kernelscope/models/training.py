"""compile / fit / evaluate / predict with Keras 3 semantics, around overridable steps.

``fit`` calls ``train_step(data)`` once per batch, ``evaluate`` calls
``test_step`` and ``predict`` calls ``predict_step``, where ``data`` is the
batch as the user gave it: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.
The default train step: forward with ``training=True``, ``compute_loss``
(compiled losses times their weights plus ``model.losses``: regularization
penalties and ``add_loss`` terms), ``backward``, ``optimizer.apply_gradients``
on every trainable weight, then ``compute_metrics``. The dict a step returns
becomes the logs. All data checks run before the first step.
"""

from __future__ import annotations

import time

import numpy as np

from .. import config
from ..autograd import Tensor, no_grad
from . import data_adapter as da
from . import epoch_iterator as ei
from .compile_utils import CompiledLoss, CompiledMetrics, CompileMetricsView, MeanTracker
from . import split
from . import step_utils as su
from .progress import Progress, format_logs
from .trainer_data import DataMixin, flat_outputs

__all__ = ["Trainer"]

_IGNORED_COMPILE_ARGS = ("weighted_metrics", "run_eagerly", "steps_per_execution", "jit_compile",
                         "auto_scale_loss")


class Trainer(DataMixin):
    """The training half of :class:`~kernelscope.models.Model`."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self.history = None
        self._compile_config = None
        self._compiled_loss = None
        self._loss_built = False
        self._compiled_metrics = None
        self._loss_tracker = MeanTracker("loss")

    # --------------------------------------------------------------- compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, **kwargs) -> None:
        """Choose the optimizer, loss(es), metrics and per-output loss weights (as Keras 3).

        ``loss`` may be left out when ``train_step`` is overridden or the model
        adds its own losses with ``add_loss``.
        """
        from .. import optimizers

        unknown = [k for k in kwargs if k not in _IGNORED_COMPILE_ARGS]
        if unknown:
            raise TypeError(f"compile() got unexpected keyword argument(s): {', '.join(unknown)}.")
        if kwargs.get("weighted_metrics"):
            raise ValueError("`weighted_metrics` is not supported; metrics are computed without sample weights.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self._compile_config = {"optimizer": optimizer, "loss": loss, "metrics": metrics,
                                "loss_weights": loss_weights}
        self._compiled_loss, self._loss_built = None, False
        self._compiled_metrics = None
        self.compiled = True

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise ValueError(f"You must call `compile()` before using `{what}()`: e.g. "
                             "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
                             "metrics=['accuracy']).")

    def _ensure_compiled_objects(self) -> None:
        if self._loss_built or not self.compiled:
            return
        cfg = self._compile_config
        if cfg["loss"] is not None:
            self._compiled_loss = CompiledLoss(cfg["loss"], cfg["loss_weights"], self.output_names)
        self._loss_built = True

    def _ensure_metrics(self, ys: list) -> None:
        # "accuracy" resolves from the label and output shapes, so metrics wait for the first y
        if self._compiled_metrics is None and self.compiled:
            shapes = [spec.shape for spec in self._output_specs()] or [None] * len(ys)
            self._compiled_metrics = CompiledMetrics(self._compile_config["metrics"], self.output_names, shapes,
                                                     self._loss_list(), [y.shape for y in ys])

    # --------------------------------------------------------------- metrics
    @property
    def metrics(self) -> list:
        """The loss tracker, per-output loss trackers, compiled metrics and Metric attributes (Keras 3)."""
        out = [self._loss_tracker] if self.compiled else []
        if self._compiled_loss is not None:
            out += [t for t in self._compiled_loss.trackers if t is not None]
        unbuilt = self._compiled_metrics is None and self.compiled and self._compile_config["metrics"]
        if unbuilt or (self._compiled_metrics is not None and self._compiled_metrics.metrics):
            out.append(CompileMetricsView(self))
        out += [m for m in self.__dict__.get("_tracked_metrics", []) if all(m is not o for o in out)]
        return out

    @property
    def metrics_names(self) -> list:
        return list(self.get_metrics_result())

    def reset_metrics(self) -> None:
        """Reset every metric in ``self.metrics`` (done at each epoch start and each evaluate)."""
        for metric in self.metrics:
            metric.reset_state()

    def get_metrics_result(self) -> dict:
        """``{name: value}`` of ``self.metrics``; a metric whose result is a dict adds its entries."""
        out = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                out.update(result)
            else:
                out[metric.name] = result
        return su.pythonify(out)

    # ------------------------------------------------------- loss, metrics
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training: bool = True):
        """The total loss: compiled losses (weighted) plus ``self.losses``, as Keras 3's ``compute_loss``."""
        del x, training  # the default does not use them (as Keras)
        self._ensure_compiled_objects()  # also when called outside fit (a custom loop)
        total = None
        if self._compiled_loss is not None:
            names = self.output_names
            total = self._compiled_loss(flat_outputs(y, names), flat_outputs(y_pred, names), sample_weight)
        for penalty in self.losses:
            value = penalty.sum() if isinstance(penalty, Tensor) else float(np.sum(penalty))
            total = value if total is None else total + value
        if total is None:
            raise ValueError("No loss to compute: compile() was called without a `loss` and the model adds none "
                             "(add_loss). Provide one, e.g. model.compile(optimizer='adam', "
                             "loss='sparse_categorical_crossentropy'), or override train_step.")
        return total if isinstance(total, Tensor) else Tensor(np.asarray(total, dtype=self.dtype))

    def _compute_loss(self, x, y, y_pred, sample_weight, training: bool):
        """``compute_loss``, also when an override predates its ``training`` argument (as Keras 3.3+)."""
        import inspect

        if "training" in inspect.signature(self.compute_loss).parameters:
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        """Update the compiled metrics with one batch and return ``get_metrics_result()``."""
        del x
        names = self.output_names
        if y is not None and self._compiled_metrics is None:  # a custom loop, outside fit
            self._ensure_compiled_objects()
            self._ensure_metrics([np.asarray(getattr(t, "data", t)) for t in flat_outputs(y, names)])
        if self._compiled_metrics is not None and y is not None:
            preds = [p.data if isinstance(p, Tensor) else p for p in flat_outputs(y_pred, names)]
            self._compiled_metrics.update_state(flat_outputs(y, names), preds, sample_weight)
        return self.get_metrics_result()

    # ---------------------------------------------------------------- steps
    def train_step(self, data) -> dict:
        """One optimizer step on one batch; returns the logs. Override to customize ``fit``."""
        x, y, sample_weight = ei.unpack_x_y_sample_weight(data)
        parts = split.plan(self, x, training=True)
        if parts:  # one slice per worker thread (see models/split.py)
            return split.train_step(self, data, parts)
        variables = self.trainable_weights
        for var in variables:
            var.grad = None
        y_pred = self(x, training=True)  # builds a subclassed model's weights on first use
        variables = self.trainable_weights
        if not self.optimizer.built:
            self.optimizer.build(variables)  # slot order = trainable_weights order, as saved files expect
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=True)
        if loss.requires_grad:
            loss.backward()
            pairs = [(var.grad, var) for var in variables if var.grad is not None]
            if pairs:
                self.optimizer.apply_gradients(pairs)
        for var in variables:
            var.grad = None
        self._loss_tracker.update_state(float(loss.data), su.batch_length(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data) -> dict:
        """Loss and metrics on one batch with ``training=False``; override to customize ``evaluate``."""
        x, y, sample_weight = ei.unpack_x_y_sample_weight(data)
        parts = split.plan(self, x, training=False)
        if parts:
            return split.test_step(self, data, parts)
        y_pred = self(x, training=False)
        loss = self._compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(float(loss.data), su.batch_length(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs for one batch; override to customize ``predict``."""
        x, _, _ = ei.unpack_x_y_sample_weight(data)
        parts = split.plan(self, x, training=False, loss=False)
        return self(x, training=False) if parts is None else split.predict_step(self, data, parts)

    def _step_logs(self, logs) -> dict:
        if not isinstance(logs, dict):
            raise TypeError("train_step/test_step must return a dict of results such as {'loss': ...}. "
                            f"Received: {type(logs).__name__}.")
        return su.pythonify(logs)

    # ------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto", callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True, class_weight=None,
            sample_weight=None, initial_epoch: int = 0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs; returns a History whose ``history`` dict holds the per-epoch logs.

        ``x`` may be arrays (with ``y``), a ``ks.utils.PyDataset``, a generator or any iterable of
        ``(x, y[, sample_weight])`` batches; ``validation_data`` likewise.
        """
        self._require_compiled("fit")
        config.apply_process_settings()
        su.check_fit_arguments(epochs, initial_epoch, shuffle, validation_freq)
        steps_per_epoch = ei.check_steps(steps_per_epoch, "steps_per_epoch")
        validation_steps = ei.check_steps(validation_steps, "validation_steps")
        if validation_batch_size is not None:
            validation_batch_size = da.check_batch_size(validation_batch_size, "validation_batch_size")
        if batch_size is not None:
            da.check_batch_size(batch_size)
        Progress(verbose, epochs, 0)  # checks `verbose` before any step
        if validation_split and validation_data is None:
            # class_weight stays for the training part only: Keras splits (x, y, sample_weight) and
            # weighs classes in the training iterator, never in validation
            x, y, sample_weight, validation_data = self._split_arrays(x, y, sample_weight, validation_split)
        elif validation_split:
            da.train_validation_split([[np.zeros(2)]], validation_split)  # the range check only
        from .. import rng as rng_module

        train = self._batches(x, y, sample_weight, class_weight, batch_size, shuffle, steps_per_epoch,
                              rng_module.make_rng(None), custom_step=_overrides(self, "train_step"))
        val = None
        if validation_data is not None:
            dataset = ei.is_dataset(validation_data)  # then only an explicit validation_batch_size is reported
            val = self._validation_batches(validation_data, validation_batch_size if dataset else
                                           validation_batch_size or batch_size, validation_steps,
                                           _overrides(self, "test_step"))
        callback_list = self._callback_list(callbacks, epochs, train.steps_hint, verbose)
        self._fit_loop(train, val, range(initial_epoch, epochs), validation_freq, callback_list,
                       Progress(verbose, epochs, train.steps_hint))
        return self.history

    def _fit_loop(self, train, val, epochs, validation_freq, callback_list, progress) -> None:
        self.stop_training = False
        callback_list.on_train_begin({})
        logs = {}
        for epoch in epochs:
            logs = self._fit_epoch(epoch, train, callback_list, progress)
            if train.ran_dry and logs is None:  # a one-shot generator gave nothing more: stop, as tf.keras
                break
            logs = dict(logs or {})
            if val is not None and su.should_validate(epoch, validation_freq):
                val_logs = self._run_test(val, callback_list)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            progress.epoch_end(epoch, logs)
            if self.stop_training:
                break
        progress.close()
        callback_list.on_train_end(logs)

    def _split_arrays(self, x, y, sample_weight, validation_split) -> tuple:
        """The LAST fraction of the arrays becomes validation data (as Keras)."""
        if ei.is_dataset(x):
            raise ValueError("`validation_split` is only supported for NumPy arrays, not for a dataset, "
                             "generator or PyDataset; pass `validation_data` instead. "
                             f"Received: validation_split={validation_split!r}.")
        x_struct, y_struct, sw, _ = self._prepare(x, y, sample_weight, None)
        (xt, yt, swt), (xv, yv, swv) = da.train_validation_split([x_struct, y_struct, sw], validation_split)
        return xt, yt, swt, (xv, yv) if swv is None else (xv, yv, swv)

    def _fit_epoch(self, epoch, train, callback_list, progress):
        """One epoch of train steps; the metrics' results (None if the data gave no batch)."""
        self.reset_metrics()
        callback_list.on_epoch_begin(epoch, {})
        progress.epoch_begin(epoch)
        logs, seen = {}, 0
        for step, data in train.epoch():
            callback_list.on_train_batch_begin(step, {})
            logs = self._step_logs(self.train_step(data))
            callback_list.on_train_batch_end(step, logs)
            progress.batch_end(logs)
            seen += 1
            if self.stop_training:
                break
        if seen == 0:
            return None
        return su.metrics_or_logs(self, logs)

    def _run_test(self, batches, callback_list) -> dict:
        """One pass of test steps, with the on_test_* hooks; the logs."""
        self.reset_metrics()
        callback_list.on_test_begin({})
        logs = {}
        with no_grad():
            for step, data in batches.epoch():
                callback_list.on_test_batch_begin(step, {})
                logs = self._step_logs(self.test_step(data))
                callback_list.on_test_batch_end(step, logs)
        logs = su.metrics_or_logs(self, logs)
        callback_list.on_test_end(logs)
        return logs

    def _callback_list(self, callbacks, epochs: int, steps, verbose, history: bool = True):
        from .. import callbacks as callbacks_module

        if isinstance(callbacks, callbacks_module.Callback):
            callbacks = [callbacks]
        elif callbacks is not None and not isinstance(callbacks, (list, tuple)):
            raise TypeError("`callbacks` must be a list of ks.callbacks.Callback instances (or one Callback). "
                            f"Received: callbacks={callbacks!r} (of type {type(callbacks).__name__}).")
        user = list(callbacks or [])
        for cb in user:
            if not isinstance(cb, callbacks_module.Callback):
                raise TypeError(f"`callbacks` must be a list of ks.callbacks.Callback instances. Received: {cb!r}.")
        extra = []
        if history:
            extra = [callbacks_module.History()]
            self.history = extra[0]
        callback_list = callbacks_module.CallbackList(user + extra)
        callback_list.set_model(self)
        callback_list.set_params({"verbose": verbose, "epochs": epochs, "steps": steps})
        return callback_list

    # ------------------------------------------------------------- evaluate
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict: bool = False):
        """Loss and metrics on ``(x, y)`` (or a dataset) with ``training=False``: a float, a list, or a dict."""
        self._require_compiled("evaluate")
        config.apply_process_settings()
        if batch_size is not None:
            da.check_batch_size(batch_size)
        steps = ei.check_steps(steps, "steps")
        progress = Progress(verbose, 1, 0)
        callback_list = self._callback_list(callbacks, 1, steps, verbose, history=False)
        start = time.perf_counter()
        batches = self._batches(x, y, sample_weight, None, batch_size, False, steps, None,
                                custom_step=_overrides(self, "test_step"))
        logs = self._run_test(batches, callback_list)
        if progress.verbose:
            print(f"evaluate - {time.perf_counter() - start:.1f}s - {format_logs(logs)}", flush=True)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    # -------------------------------------------------------------- predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for ``x`` (arrays or a dataset) as NumPy arrays (``training=False``, no graph)."""
        config.apply_process_settings()
        if batch_size is not None:
            da.check_batch_size(batch_size)
        steps = ei.check_steps(steps, "steps")
        progress = Progress(verbose, 1, 0)
        if not self.built and hasattr(self, "_stack"):
            raise ValueError(self._unbuilt_message("predict() was called"))
        callback_list = self._callback_list(callbacks, 1, steps, verbose, history=False)
        if ei.is_dataset(x):
            batches = self._batches(x, None, None, None, batch_size, False, steps, None, x_only=True,
                                    custom_step=_overrides(self, "predict_step"))
        else:
            x_struct, flat = self._prepare_x(x)
            n = da.check_same_length(flat, None, None)
            if n == 0:
                return self._empty_predictions(flat)
            batches = ei.ArrayBatches(x_struct, None, None, n, da.check_batch_size(batch_size), False, None, steps)
        outputs = self._predict_batches(batches, callback_list)
        if progress.verbose:
            print(f"predict - {len(outputs)} batches", flush=True)
        return su.concatenate(outputs)

    def _predict_batches(self, batches, callback_list) -> list:
        callback_list.on_predict_begin({})
        outputs = []
        with no_grad():
            for step, data in batches.epoch():
                callback_list.on_predict_batch_begin(step, {})
                out = su.to_numpy(self.predict_step(data))
                outputs.append(out)
                callback_list.on_predict_batch_end(step, {"outputs": out})
        callback_list.on_predict_end({})
        if not outputs:
            raise ValueError("predict() got no batches: the data is empty or the generator ran dry.")
        return outputs

    def _empty_predictions(self, xs: list):
        """Outputs with 0 rows (as Keras): one all-zero sample gives each output's shape and dtype."""
        probe = [np.zeros((1,) + a.shape[1:], dtype=a.dtype) for a in xs]
        with no_grad():
            out = self(probe[0] if len(probe) == 1 else probe, training=False)
        return su.concatenate([su.to_numpy(out)], rows=0)

    # -------------------------------------------------------- batch methods
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One training step on one batch; returns the running loss (and metrics)."""
        self._require_compiled("train_on_batch")
        config.apply_process_settings()
        xs, ys, sw, _ = self._prepare(x, y, sample_weight, class_weight)
        self.reset_metrics()
        logs = self._step_logs(self.train_step(ei.pack_x_y_sample_weight(xs, ys, sw)))
        return su.batch_result(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """Loss and metrics on one batch, without training."""
        self._require_compiled("test_on_batch")
        xs, ys, sw, _ = self._prepare(x, y, sample_weight)
        self.reset_metrics()
        with no_grad():
            logs = self._step_logs(self.test_step(ei.pack_x_y_sample_weight(xs, ys, sw)))
        return su.batch_result(logs, return_dict)

    def predict_on_batch(self, x):
        """Outputs for one batch as NumPy arrays."""
        return self.predict(x, batch_size=max(1, len(self._prepare_x(x)[1][0])), verbose=0)


def _overrides(model, step: str) -> bool:
    return getattr(type(model), step) is not getattr(Trainer, step)
