"""What ``compile`` sets up: one loss (and loss weight) and a metric list per model output.

Names follow Keras 3: with several outputs each output's loss is logged as
``<output>_loss`` (unweighted) and each metric as ``<output>_<metric>``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CompiledLoss", "CompiledMetrics", "CompileMetricsView", "MeanTracker", "loss_name"]


class MeanTracker:
    """A running weighted mean, kept in float64 (the epoch's ``loss``); a ``ks.metrics.Mean`` look-alike.

    ``update_state(values, sample_weight=1.0)``: a scalar weight counts every element of
    ``values`` that many times, so a custom train_step's ``update_state(loss)`` works too.
    """

    def __init__(self, name: str):
        self.name = name
        self.reset_state()

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None) -> None:
        weight = 1.0 if sample_weight is None else float(np.asarray(sample_weight))
        if isinstance(values, (int, float)):
            self.total += float(values) * weight
            self.count += weight
            return
        array = np.asarray(getattr(values, "data", values), dtype=np.float64)
        self.total += float(array.sum()) * weight
        self.count += weight * array.size

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


def loss_name(loss) -> str:
    """A lower-case name for a loss given as a string, a Loss object or a function."""
    if isinstance(loss, str):
        return loss.lower()
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    return str(name).lower()


def _per_output(value, output_names: list, what: str, broadcast: bool) -> list:
    """Spread a compile argument over the outputs: one value for all, a list or a dict by output name."""
    n = len(output_names)
    if isinstance(value, dict):
        unknown = [k for k in value if k not in output_names]
        if unknown:
            raise ValueError(f"In the dict argument `{what}`, key(s) {unknown} do not correspond to any model "
                             f"output. The outputs are named {output_names}.")
        return [value.get(name) for name in output_names]
    if isinstance(value, (list, tuple)) and not broadcast:
        if len(value) != n:
            raise ValueError(f"For a model with {n} outputs, `{what}` given as a list must have {n} entries. "
                             f"Received: {len(value)} entries ({value!r}).")
        return list(value)
    return [value] * n


class CompiledLoss:
    """Resolved per-output losses: ``total = sum(weight_i * loss_i(y_i, y_pred_i, sample_weight))``."""

    def __init__(self, loss, loss_weights, output_names: list):
        from .. import losses as losses_module

        if loss is None:
            raise ValueError("compile() was called without a `loss`; fit() and evaluate() need one, e.g. "
                             "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy').")
        self.output_names = list(output_names)
        raw = _per_output(loss, self.output_names, "loss", broadcast=False)
        if isinstance(loss, (list, tuple)) and len(self.output_names) == 1 and len(loss) == 1:
            raw = [loss[0]]
        self.raw = raw
        self.losses = [None if l is None else losses_module.get(l) for l in raw]
        if all(l is None for l in self.losses):
            raise ValueError(f"`loss` gives no loss for any output of the model. Received: loss={loss!r}.")
        if loss_weights is None:
            self.weights = [None] * len(self.output_names)
        elif isinstance(loss_weights, (int, float)) and len(self.output_names) == 1:
            self.weights = [float(loss_weights)]
        else:
            self.weights = _per_output(loss_weights, self.output_names, "loss_weights", broadcast=False)
        self.trackers = []
        if sum(l is not None for l in self.losses) > 1:
            self.trackers = [MeanTracker(f"{name}_loss") if l is not None else None
                             for name, l in zip(self.output_names, self.losses)]

    def __call__(self, y_true: list, y_pred: list, sample_weight=None):
        total = None
        batch = len(y_true[0]) if y_true else 0
        for i, (loss_fn, weight) in enumerate(zip(self.losses, self.weights)):
            if loss_fn is None:
                continue
            value = loss_fn(y_true[i], y_pred[i], sample_weight=sample_weight)
            if self.trackers:
                self.trackers[i].update_state(float(value.data), batch)
            if weight is not None:
                value = value * float(weight)
            total = value if total is None else total + value
        return total

    def results(self) -> dict:
        return {t.name: t.result() for t in self.trackers if t is not None}

    def reset_state(self) -> None:
        for t in self.trackers:
            if t is not None:
                t.reset_state()


class CompiledMetrics:
    """Resolved per-output metric lists; result keys as in Keras 3."""

    def __init__(self, metrics, output_names: list, output_shapes: list, losses: list, y_shapes: list):
        from .. import metrics as metrics_module

        self.output_names = list(output_names)
        multi = len(self.output_names) > 1
        if metrics is None:
            metrics = []
        if not isinstance(metrics, (list, tuple, dict)):
            raise ValueError("Expected `metrics` argument to be a list, tuple, or dict. "
                             f"Received: metrics={metrics!r} of type {type(metrics).__name__}.")
        if multi and isinstance(metrics, (list, tuple)) and not any(isinstance(m, (list, tuple)) for m in metrics):
            per_output = [list(metrics)] * len(self.output_names)
            if len(metrics) == len(self.output_names):
                per_output = [[m] for m in metrics]
        elif isinstance(metrics, dict) or multi:
            per_output = _per_output(metrics, self.output_names, "metrics", broadcast=False)
        else:
            per_output = [list(metrics)]
        self.metrics = []
        for i, entries in enumerate(per_output):
            entries = [] if entries is None else entries if isinstance(entries, (list, tuple)) else [entries]
            for identifier in entries:
                metric = metrics_module.get(identifier, loss=losses[i], output_shape=output_shapes[i],
                                            y_true_shape=y_shapes[i])
                name = identifier if isinstance(identifier, str) else metric.name
                key = f"{self.output_names[i]}_{name}" if multi else name
                self.metrics.append((i, key, metric))

    def update_state(self, y_true: list, y_pred: list, sample_weight=None) -> None:
        for i, _, metric in self.metrics:
            metric.update_state(y_true[i], y_pred[i], sample_weight=sample_weight)

    def results(self) -> dict:
        out = {}
        for _, key, metric in self.metrics:
            name, n = key, 1
            while name in out:
                name, n = f"{key}_{n}", n + 1
            out[name] = float(np.asarray(metric.result()))
        return out

    def reset_state(self) -> None:
        for _, _, metric in self.metrics:
            metric.reset_state()


class CompileMetricsView:
    """The compiled metrics as one entry of ``model.metrics`` (Keras 3's ``compile_metrics``).

    ``update_state(y, y_pred, sample_weight)`` takes the structures a train_step has
    (arrays, Tensors, lists or dicts by output name) and resolves the metrics on first
    use if no data went through the checks yet (a dataset fed to a custom train_step);
    ``result()`` is a dict.
    """

    name = "compile_metrics"

    def __init__(self, model):
        self._model = model

    @property
    def metrics(self) -> list:
        compiled = self._model._compiled_metrics
        return [] if compiled is None else [m for _, _, m in compiled.metrics]

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        from .trainer_data import flat_outputs

        names = self._model.output_names
        ys = [np.asarray(getattr(t, "data", t)) for t in flat_outputs(y_true, names)]
        if self._model._compiled_metrics is None:
            self._model._ensure_compiled_objects()
            self._model._ensure_metrics(ys)
        preds = [getattr(p, "data", p) for p in flat_outputs(y_pred, names)]
        self._model._compiled_metrics.update_state(ys, preds, sample_weight)

    def result(self) -> dict:
        compiled = self._model._compiled_metrics
        return {} if compiled is None else compiled.results()

    def reset_state(self) -> None:
        if self._model._compiled_metrics is not None:
            self._model._compiled_metrics.reset_state()
