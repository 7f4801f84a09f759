"""compile / fit / evaluate / predict with Keras 3 semantics.

One training step: forward with ``training=True``, loss (compiled losses times
their weights plus the layers' regularization penalties), ``backward``, then
``optimizer.apply_gradients`` on every trainable weight, and the gradients are
cleared. All data checks run before the first step.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, no_grad
from ..layers.base import KerasTensor
from . import data_adapter as da
from .compile_utils import CompiledLoss, CompiledMetrics, MeanTracker
from .progress import Progress

__all__ = ["Trainer"]

_IGNORED_COMPILE_ARGS = ("weighted_metrics", "run_eagerly", "steps_per_execution", "jit_compile",
                         "auto_scale_loss")


def _values(structure) -> list:
    if isinstance(structure, dict):
        return list(structure.values())
    return list(structure) if isinstance(structure, (list, tuple)) else [structure]


class Trainer:
    """The training half of :class:`~kernelscope.models.Model`."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self.history = None
        self._compile_config = None
        self._compiled_loss = None
        self._compiled_metrics = None
        self._loss_tracker = MeanTracker("loss")

    # --------------------------------------------------------------- compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, **kwargs) -> None:
        """Choose the optimizer, loss(es), metrics and per-output loss weights (as Keras 3)."""
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
        self._compiled_loss = None
        self._compiled_metrics = None
        self.compiled = True

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise ValueError(f"You must call `compile()` before using `{what}()`: e.g. "
                             "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
                             "metrics=['accuracy']).")

    def _ensure_compiled_objects(self) -> None:
        if self._compiled_loss is not None:
            return
        cfg = self._compile_config
        names = self.output_names
        self._compiled_loss = CompiledLoss(cfg["loss"], cfg["loss_weights"], names)

    def _ensure_metrics(self, ys: list) -> None:
        # "accuracy" resolves from the label and output shapes, so metrics wait for the first y
        if self._compiled_metrics is None:
            shapes = [spec.shape for spec in self._output_specs()]
            self._compiled_metrics = CompiledMetrics(self._compile_config["metrics"], self.output_names, shapes,
                                                     self._compiled_loss.losses, [y.shape for y in ys])

    @property
    def metrics(self) -> list:
        """The loss tracker and the compiled metric objects."""
        if self._compiled_metrics is None:
            return []
        return [self._loss_tracker, *[m for _, _, m in self._compiled_metrics.metrics]]

    @property
    def metrics_names(self) -> list:
        names = ["loss"]
        if self._compiled_loss is not None:
            names += [t.name for t in self._compiled_loss.trackers if t is not None]
        if self._compiled_metrics is not None:
            names += [key for _, key, _ in self._compiled_metrics.metrics]
        return names

    def reset_metrics(self) -> None:
        """Reset the running loss and metric values (done at each epoch start and each evaluate)."""
        self._loss_tracker.reset_state()
        if self._compiled_loss is not None:
            self._compiled_loss.reset_state()
        if self._compiled_metrics is not None:
            self._compiled_metrics.reset_state()

    # ------------------------------------------------------------ data prep
    def _input_layout(self) -> tuple:
        specs = self._input_specs()
        if not specs:  # unbuilt: a single input in the model dtype
            return ["x"], [np.dtype(self.dtype)]
        return self.input_names, [spec.dtype for spec in specs]

    def _prepare_x(self, x, prefix: str = "") -> list:
        if x is None:
            raise ValueError(f"`{prefix}x` is required. Received: {prefix}x=None.")
        names, dtypes = self._input_layout()
        arrays = da.flatten_data(x, names, f"{prefix}x", dtypes)
        da.check_finite(arrays, f"{prefix}x")
        return arrays

    def _build_for(self, x: list) -> None:
        """Build an unbuilt Sequential from the data's shape (Keras's deferred build)."""
        if not self.built and hasattr(self, "_stack"):
            self.build((None,) + tuple(x[0].shape[1:]))
        elif not self._output_specs():  # a subclassed model: one probe call gives its outputs
            with no_grad():
                out = self._forward([a[:1] for a in x], training=False)
            self._probed_outputs = [KerasTensor((None,) + t.shape[1:], t.dtype) for t in out]

    def _probe(self, x: list) -> None:
        """Run one sample through the model, without training, to surface shape errors early."""
        probe = [a[:1] for a in x]
        with no_grad():
            self(probe[0] if len(probe) == 1 else probe, training=False)

    def _prepare_y(self, y, n: int, prefix: str = "") -> list:
        if y is None:
            raise ValueError(f"`{prefix}y` is required to train or evaluate with a compiled loss. "
                             f"Received: {prefix}y=None.")
        specs = self._output_specs()
        arrays = da.flatten_data(y, self.output_names, f"{prefix}y", None)
        da.check_finite(arrays, f"{prefix}y")
        arrays = da.check_targets(arrays, specs, self._compiled_loss.losses, self.output_names, prefix)
        out = []
        for array, spec, loss in zip(arrays, specs, self._compiled_loss.losses):
            if da.loss_kind(loss) != "sparse":  # sparse labels stay int64 class indices
                array = array.astype(spec.dtype, copy=False)
            out.append(array)
        return out

    def _prepare(self, x, y, sample_weight=None, class_weight=None, prefix: str = "") -> tuple:
        xs = self._prepare_x(x, prefix)
        da.check_same_length(xs, [], None, prefix)  # before any probe call: 0 rows or ragged inputs
        self._build_for(xs)
        self._ensure_compiled_objects()
        ys = self._prepare_y(y, len(xs[0]), prefix)
        self._ensure_metrics(ys)
        sw = da.sample_weight_array(sample_weight, len(xs[0]), f"{prefix}sample_weight")
        da.check_same_length(xs, ys, sw, prefix)
        if class_weight is not None:
            sw = da.class_weights_to_sample(class_weight, ys, sw)
        return xs, ys, sw

    # ---------------------------------------------------------------- steps
    def _forward(self, x: list, training: bool) -> list:
        out = self(x[0] if len(x) == 1 else x, training=training)
        if isinstance(out, dict):
            return [out[name] for name in self.output_names]
        return _values(out)

    def _total_loss(self, y: list, y_pred: list, sample_weight) -> Tensor:
        loss = self._compiled_loss(y, y_pred, sample_weight)
        for penalty in self.losses:
            loss = loss + (penalty.sum() if isinstance(penalty, Tensor) else float(np.sum(penalty)))
        return loss

    def _train_batch(self, x: list, y: list, sample_weight) -> None:
        for var in self.trainable_weights:
            var.grad = None
        y_pred = self._forward(x, training=True)  # builds a subclassed model's weights on first use
        variables = self.trainable_weights
        if not self.optimizer.built:
            self.optimizer.build(variables)  # slot order = trainable_weights order, as saved files expect
        loss = self._total_loss(y, y_pred, sample_weight)
        if loss.requires_grad:
            loss.backward()
            pairs = [(var.grad, var) for var in variables if var.grad is not None]
            if pairs:
                self.optimizer.apply_gradients(pairs)
        for var in variables:
            var.grad = None
        self._update_trackers(loss, y, y_pred, sample_weight)

    def _test_batch(self, x: list, y: list, sample_weight) -> None:
        with no_grad():
            y_pred = self._forward(x, training=False)
            loss = self._total_loss(y, y_pred, sample_weight)
        self._update_trackers(loss, y, y_pred, sample_weight)

    def _update_trackers(self, loss, y, y_pred, sample_weight) -> None:
        self._loss_tracker.update_state(float(loss.data), len(y[0]))
        self._compiled_metrics.update_state(y, [p.data for p in y_pred], sample_weight)

    def _logs(self) -> dict:
        logs = {"loss": self._loss_tracker.result()}
        logs.update(self._compiled_loss.results())
        logs.update(self._compiled_metrics.results())
        return logs

    # ------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto", callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True, class_weight=None,
            sample_weight=None, initial_epoch: int = 0, steps_per_epoch=None, validation_batch_size=None,
            validation_freq: int = 1):
        """Train for ``epochs`` epochs; returns a History whose ``history`` dict holds the per-epoch logs."""
        from .. import rng as rng_module

        self._require_compiled("fit")
        batch_size = da.check_batch_size(batch_size)
        _check_epochs(epochs, initial_epoch)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"`shuffle` must be a bool. Received: shuffle={shuffle!r} "
                            f"(of type {type(shuffle).__name__}).")
        xs, ys, sw = self._prepare(x, y, sample_weight, class_weight)
        if validation_data is not None:
            val = self._validation_data(validation_data)
        elif validation_split:
            (xs, ys, sw), val = da.train_validation_split([xs, ys, sw], validation_split)
        else:
            val = None
        n = len(xs[0])
        steps = -(-n // batch_size)
        callback_list = self._callback_list(callbacks, epochs, steps, verbose)
        progress = Progress(verbose, epochs, steps)
        rng = rng_module.make_rng(None)
        self.stop_training = False
        callback_list.on_train_begin()
        logs = {}
        for epoch in range(initial_epoch, epochs):
            logs = self._fit_epoch(epoch, xs, ys, sw, batch_size, shuffle, rng, callback_list, progress)
            if val is not None and (epoch + 1 - initial_epoch) % validation_freq == 0:
                val_logs = self._evaluate_arrays(*val, validation_batch_size or batch_size)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            progress.epoch_end(epoch, logs)
            if self.stop_training:
                break
        progress.close()
        callback_list.on_train_end(logs)
        return self.history

    def _fit_epoch(self, epoch, xs, ys, sw, batch_size, shuffle, rng, callback_list, progress) -> dict:
        self.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        progress.epoch_begin(epoch)
        for step, index in enumerate(da.batches(len(xs[0]), batch_size, shuffle, rng)):
            callback_list.on_train_batch_begin(step)
            self._train_batch(da.take(xs, index), da.take(ys, index), None if sw is None else sw[index])
            batch_logs = self._logs()
            callback_list.on_train_batch_end(step, batch_logs)
            progress.batch_end(batch_logs)
            if self.stop_training:
                break
        return self._logs()

    def _validation_data(self, validation_data) -> tuple:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                             f"val_sample_weight). Received: {type(validation_data).__name__}.")
        xs, ys, sw = self._prepare(*validation_data[:2], *validation_data[2:], prefix="validation_")
        self._probe(xs)  # a shape error here must come before any training, not after an epoch
        return xs, ys, sw

    def _callback_list(self, callbacks, epochs: int, steps: int, verbose):
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
        history = callbacks_module.History()
        callback_list = callbacks_module.CallbackList(user + [history])
        callback_list.set_model(self)
        callback_list.set_params({"verbose": verbose, "epochs": epochs, "steps": steps})
        self.history = history
        return callback_list

    # ------------------------------------------------------------- evaluate
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict: bool = False):
        """Loss and metrics on ``(x, y)`` with ``training=False``: a float, a list, or a dict."""
        self._require_compiled("evaluate")
        batch_size = da.check_batch_size(batch_size)
        xs, ys, sw = self._prepare(x, y, sample_weight)
        logs = self._evaluate_arrays(xs, ys, sw, batch_size)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _evaluate_arrays(self, xs, ys, sw, batch_size) -> dict:
        self.reset_metrics()
        for index in da.batches(len(xs[0]), batch_size, False, None):
            self._test_batch(da.take(xs, index), da.take(ys, index), None if sw is None else sw[index])
        return self._logs()

    # -------------------------------------------------------------- predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for ``x`` as NumPy arrays (``training=False``, no graph recorded)."""
        batch_size = da.check_batch_size(batch_size)
        if not self.built and hasattr(self, "_stack"):
            raise ValueError(self._unbuilt_message("predict() was called"))
        xs = self._prepare_x(x)
        if da.check_same_length(xs, None, None) == 0:
            return self._empty_predictions(xs)
        chunks = []
        with no_grad():
            for index in da.batches(len(xs[0]), batch_size, False, None):
                chunks.append([t.data for t in self._forward(da.take(xs, index), training=False)])
        outputs = [np.concatenate([c[i] for c in chunks]) for i in range(len(chunks[0]))]
        return self._pack_predictions(outputs)

    def _empty_predictions(self, xs: list):
        """Outputs with 0 rows (as Keras): one all-zero sample gives each output's shape and dtype."""
        probe = [np.zeros((1,) + a.shape[1:], dtype=a.dtype) for a in xs]
        with no_grad():
            outputs = [t.data[:0] for t in self._forward(probe, training=False)]
        return self._pack_predictions(outputs)

    def _pack_predictions(self, outputs: list):
        struct = getattr(self, "_output_struct", None)
        if isinstance(struct, dict):
            return dict(zip(self.output_names, outputs))
        if isinstance(struct, (list, tuple)):
            return outputs
        return outputs[0] if len(outputs) == 1 else outputs

    # -------------------------------------------------------- batch methods
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One training step on one batch; returns the running loss (and metrics)."""
        self._require_compiled("train_on_batch")
        xs, ys, sw = self._prepare(x, y, sample_weight, class_weight)
        self.reset_metrics()
        self._train_batch(xs, ys, sw)
        return self._batch_result(return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """Loss and metrics on one batch, without training."""
        self._require_compiled("test_on_batch")
        xs, ys, sw = self._prepare(x, y, sample_weight)
        self.reset_metrics()
        self._test_batch(xs, ys, sw)
        return self._batch_result(return_dict)

    def predict_on_batch(self, x):
        """Outputs for one batch as NumPy arrays."""
        return self.predict(x, batch_size=max(1, len(self._prepare_x(x)[0])))

    def _batch_result(self, return_dict: bool):
        logs = self._logs()
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values


def _check_epochs(epochs, initial_epoch) -> None:
    for name, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}.")
