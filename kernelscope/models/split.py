"""Batch-split execution of the default train/test/predict steps.

Each of ``ks.config.num_workers()`` threads runs the model's ordinary autograd graph on its
slice of the batch, with BLAS pinned to one thread (``_runtime/workers.py`` says why). A
training step then adds the workers' gradients in worker order (seeded runs repeat bit for
bit for a given worker count) and takes one optimizer step; BatchNormalization normalizes
with the whole batch's statistics (its sums are reduced across the workers), so the result
equals the unsplit step to float32 rounding.

A batch runs unsplit on the calling thread when splitting could change what it computes or
is not worth it: one worker, fewer than ``2 * _MIN_SAMPLES`` samples, a subclassed model or
a layer from outside ``kernelscope.layers``/``models``/``applications`` (``Lambda`` included:
only such layers may call ``add_loss``, whose terms would come once per slice), a model not
built yet, and, in
training, a layer drawing random numbers (Dropout, noise, augmentation: the draws would
depend on thread timing), a loss reduced other than
``"sum_over_batch_size"`` or ``"sum"``, or ``ignore_class``; an overridden ``compute_loss``
or ``compute_metrics`` too. An overridden ``train_step``/``test_step``/``predict_step`` runs
as written, on the whole batch (a ``super().train_step(data)`` inside it may split), and so
does a ``ks.GradientTape`` loop.
"""

from __future__ import annotations

import numpy as np

from .. import autograd, config
from .._runtime import blas, workers
from ..autograd import Tensor, enable_grad, no_grad
from . import epoch_iterator as ei
from . import step_utils as su
from .trainer_data import flat_outputs

__all__ = ["plan", "train_step", "test_step", "predict_step"]

# Per worker. Smaller slices gain little over the thread hand-off, and a batch this small runs
# as before (scikit-learn's estimator checks compare predictions of 20 reordered samples to 1e-7,
# while a GEMM's last bit may depend on where a row falls in a shorter matrix).
_MIN_SAMPLES = 12
_RANDOM_LAYER_ATTRIBUTES = ("_generator",)  # layers that draw random numbers when training
_SPLIT_REDUCTIONS = ("sum_over_batch_size", "sum")
# Layers known to be per-sample (or, as BatchNormalization, to reduce across workers) and never to
# call add_loss; a layer from anywhere else (a user's, another kernelscope package's) runs unsplit.
_SPLIT_MODULES = ("kernelscope.layers.", "kernelscope.models.", "kernelscope.applications.")


def _all_layers(layer) -> list:
    found, stack = [], list(layer._sublayers())
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(current._sublayers())
    return found


def _layers_allow(model, training: bool) -> bool:
    for layer in [model, *_all_layers(model)]:
        module = type(layer).__module__
        if not module.startswith(_SPLIT_MODULES) or module.endswith("lambda_layer") or not layer.built:
            return False
        if training and any(getattr(layer, a, None) is not None for a in _RANDOM_LAYER_ATTRIBUTES):
            return False
    return True


def _losses_allow(model) -> bool:
    compiled = model._compiled_loss
    if compiled is None:
        return False
    return all(fn is None or (getattr(fn, "reduction", None) in _SPLIT_REDUCTIONS
                              and getattr(fn, "ignore_class", None) is None) for fn in compiled.losses)


def _overridden(model, names: tuple) -> bool:
    from .training import Trainer

    return any(getattr(type(model), name) is not getattr(Trainer, name) for name in names)


def plan(model, x, training: bool, loss: bool = True) -> list | None:
    """The batch's slices, one per worker, or None to run the step unsplit (``loss``: the step computes one)."""
    n_workers = config.num_workers()
    if n_workers < 2 or workers.in_worker():
        return None
    try:
        n = su.batch_length(x)
    except (TypeError, StopIteration):
        return None
    parts = min(n_workers, n // _MIN_SAMPLES)
    if parts < 2 or not _is_arrays(x) or (loss and _overridden(model, ("compute_loss", "compute_metrics"))):
        return None
    if not _layers_allow(model, training):
        return None
    if loss:
        model._ensure_compiled_objects()
        if not _losses_allow(model):
            return None
    bounds = [n * i // parts for i in range(parts + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def _is_arrays(structure) -> bool:
    if isinstance(structure, dict):
        return all(_is_arrays(v) for v in structure.values())
    if isinstance(structure, (list, tuple)):
        return all(_is_arrays(v) for v in structure)
    return isinstance(structure, (np.ndarray, Tensor))


def _take(structure, part: slice):
    """Every array of a (nested) batch cut to ``part`` along axis 0; None stays None."""
    if structure is None:
        return None
    if isinstance(structure, dict):
        return {k: _take(v, part) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_take(v, part) for v in structure)
    return Tensor(structure.data[part]) if isinstance(structure, Tensor) else np.asarray(structure)[part]


def _slice_losses(model, y, y_pred, sample_weight, fraction: float) -> list:
    """Each output's loss on one slice, scaled to its share of the whole batch's loss."""
    compiled, names = model._compiled_loss, model.output_names
    ys, preds = flat_outputs(y, names), flat_outputs(y_pred, names)
    out = []
    for i, fn in enumerate(compiled.losses):
        if fn is None:
            out.append(None)
            continue
        value = fn(ys[i], preds[i], sample_weight=sample_weight)
        out.append(value * fraction if fn.reduction == "sum_over_batch_size" else value)
    return out


def _weighted_total(model, values: list):
    total = None
    for value, weight in zip(values, model._compiled_loss.weights):
        if value is not None:
            value = value if weight is None else value * float(weight)
            total = value if total is None else total + value
    return total


def _run_slices(model, data, parts: list, work) -> list:
    x, y, sample_weight = ei.unpack_x_y_sample_weight(data)
    n = su.batch_length(x)

    def task(part):
        return work(_take(x, part), _take(y, part), _take(sample_weight, part), (part.stop - part.start) / n)

    with blas.single_threaded():
        return workers.run(task, parts)


def _in_order_sum(arrays: list):
    present = [a for a in arrays if a is not None]
    if not present:
        return None
    total = present[0].copy()
    for a in present[1:]:
        total += a
    return total


def _penalties(model, variables: list | None):
    """Weight-regularization terms (counted once per batch, not per slice) and their gradients."""
    terms = model.losses
    if not terms:
        return 0.0, None
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    if variables is None or not isinstance(total, Tensor) or not total.requires_grad:
        return float(np.sum(getattr(total, "data", total))), None
    return float(total.data), autograd.grad(total, variables)


def _update_trackers(model, per_output: list, batch: int) -> None:
    trackers = model._compiled_loss.trackers
    for tracker, value in zip(trackers, per_output):
        if tracker is not None and value is not None:
            tracker.update_state(value, batch)


def _summed_values(results: list, index: int) -> list:
    """Per output, the sum over workers of the scaled slice losses (None where no loss)."""
    columns = zip(*(r[index] for r in results))
    return [None if column[0] is None else float(sum(column)) for column in columns]


def train_step(model, data, parts: list) -> dict:
    """The default train step, each slice's forward and backward on its own worker."""
    variables = model.trainable_weights
    if not model.optimizer.built:
        model.optimizer.build(variables)

    def work(x, y, sample_weight, fraction):
        with enable_grad():
            y_pred = model(x, training=True)
            values = _slice_losses(model, y, y_pred, sample_weight, fraction)
            total = _weighted_total(model, values)
            grads = autograd.grad(total, variables) if total.requires_grad else [None] * len(variables)
        return su.to_numpy(y_pred), [None if v is None else float(v.data) for v in values], float(total.data), grads

    results = _run_slices(model, data, parts, work)
    penalty, penalty_grads = _penalties(model, variables)
    grads = [_in_order_sum([r[3][i] for r in results] + [None if penalty_grads is None else penalty_grads[i]])
             for i in range(len(variables))]
    pairs = [(g, var) for g, var in zip(grads, variables) if g is not None]
    if pairs:
        model.optimizer.apply_gradients(pairs)
    return _finish(model, data, results, penalty)


def test_step(model, data, parts: list) -> dict:
    """The default test step on slices (no graph)."""
    def work(x, y, sample_weight, fraction):
        with no_grad():
            y_pred = model(x, training=False)
            values = _slice_losses(model, y, y_pred, sample_weight, fraction)
            total = _weighted_total(model, values)
        return su.to_numpy(y_pred), [None if v is None else float(v.data) for v in values], float(total.data)

    results = _run_slices(model, data, parts, work)
    with no_grad():
        penalty, _ = _penalties(model, None)
    return _finish(model, data, results, penalty)


def _finish(model, data, results: list, penalty: float) -> dict:
    """Loss trackers and metrics from the workers' results, as the unsplit step updates them."""
    x, y, sample_weight = ei.unpack_x_y_sample_weight(data)
    batch = su.batch_length(x)
    loss = sum(r[2] for r in results) + penalty
    _update_trackers(model, _summed_values(results, 1), batch)
    model._loss_tracker.update_state(loss, batch)
    return model.compute_metrics(x, y, su.concatenate([r[0] for r in results]), sample_weight)


def predict_step(model, data, parts: list):
    """The default predict step on slices: the outputs as NumPy arrays."""
    def work(x, y, sample_weight, fraction):
        with no_grad():
            return su.to_numpy(model(x, training=False))

    return su.concatenate(_run_slices(model, data, parts, work))
