"""Batch-split execution (models/split.py, _runtime/workers.py): the same numbers as one unsplit batch.

References: the unsplit step in float64 (the split must agree to rounding), PyTorch float32 for
gradients through BatchNormalization with whole-batch statistics, NumPy float64 for the moving
statistics.
"""

import os
import threading

import numpy as np
import pytest
import torch

import kernelscope as ks
from kernelscope import backend
from kernelscope._runtime import blas, workers
from kernelscope.models import split

L = ks.layers


@pytest.fixture(autouse=True)
def _restore_settings():
    yield
    ks.config.set_num_workers(None)
    backend.set_floatx("float32")


def conv_bn_model(seed=0, regularized=False):
    ks.rng.set_random_seed(seed)
    reg = ks.regularizers.L2(1e-3) if regularized else None
    model = ks.Sequential([ks.Input((8, 8, 2)), L.Conv2D(4, 3, kernel_regularizer=reg), L.BatchNormalization(),
                           L.Activation("relu"), L.MaxPooling2D(2), L.Flatten(), L.Dense(3)])
    model.compile(optimizer=ks.optimizers.SGD(0.1, momentum=0.9),
                  loss=ks.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def data(n=64, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 8, 8, 2)).astype(dtype), rng.integers(0, 3, n), rng.uniform(0.5, 2, n)


def fit_with(workers_n, make, **fit_kwargs):
    ks.config.set_num_workers(workers_n)
    model = make()
    x, y, sw = data(dtype=backend.floatx())
    history = model.fit(x, y, sample_weight=sw, batch_size=32, epochs=2, shuffle=False, verbose=0, **fit_kwargs)
    return model, history.history


def count_split_steps(monkeypatch) -> list:
    calls = []
    original = split.train_step
    monkeypatch.setattr(split, "train_step", lambda *a: calls.append(1) or original(*a))
    return calls


def test_split_fit_equals_unsplit_fit_in_float64(monkeypatch):
    backend.set_floatx("float64")
    calls = count_split_steps(monkeypatch)
    one, logs_one = fit_with(1, lambda: conv_bn_model(regularized=True))
    assert calls == []
    two, logs_two = fit_with(2, lambda: conv_bn_model(regularized=True))
    assert len(calls) == 4  # 2 epochs x 2 batches, each split over the 2 workers
    for a, b in zip(one.weights, two.weights):  # kernels, BN's gamma/beta and moving statistics
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-10, atol=1e-12, err_msg=a.name)
    for key in logs_one:
        np.testing.assert_allclose(logs_two[key], logs_one[key], rtol=1e-10)


def test_split_evaluate_and_predict_equal_unsplit():
    model = conv_bn_model()
    x, y, _ = data()
    ks.config.set_num_workers(1)
    expected = model.evaluate(x, y, batch_size=64, verbose=0), model.predict(x, batch_size=64, verbose=0)
    ks.config.set_num_workers(2)
    assert split.plan(model, x, training=False) is not None
    loss, accuracy = model.evaluate(x, y, batch_size=64, verbose=0)
    np.testing.assert_allclose([loss, accuracy], expected[0], rtol=1e-5)
    np.testing.assert_allclose(model.predict(x, batch_size=64, verbose=0), expected[1], rtol=1e-5, atol=1e-6)


def test_multi_output_losses_and_weights_split_like_unsplit():
    backend.set_floatx("float64")

    def make():
        ks.rng.set_random_seed(1)
        inputs = ks.Input((8, 8, 2))
        h = L.Flatten()(L.BatchNormalization()(L.Conv2D(3, 3)(inputs)))
        model = ks.Model(inputs, {"a": L.Dense(3, name="a")(h), "b": L.Dense(1, name="b")(h)})
        model.compile(optimizer="adam", loss={"a": ks.losses.SparseCategoricalCrossentropy(from_logits=True),
                                              "b": ks.losses.MeanSquaredError(reduction="sum")},
                      loss_weights={"a": 1.0, "b": 0.5})
        return model

    x, y, _ = data(dtype=np.float64)
    targets = {"a": y, "b": x.mean(axis=(1, 2, 3))[:, None]}
    logs = []
    for n in (1, 2):
        ks.config.set_num_workers(n)
        model = make()
        logs.append(model.fit(x, targets, batch_size=32, epochs=1, shuffle=False, verbose=0).history)
    assert set(logs[0]) == {"loss", "a_loss", "b_loss"}
    for key in logs[0]:
        np.testing.assert_allclose(logs[1][key], logs[0][key], rtol=1e-10)


def torch_reference(model, x, y):
    """Loss gradients and batch statistics of the same network in PyTorch (whole batch, float32)."""
    conv, bn, dense = model.layers[0], model.layers[1], model.layers[5]
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    kernel = torch.from_numpy(conv.kernel.numpy().transpose(3, 2, 0, 1).copy()).requires_grad_()
    bias = torch.from_numpy(conv.bias.numpy().copy()).requires_grad_()
    gamma = torch.from_numpy(bn.gamma.numpy().copy()).requires_grad_()
    beta = torch.from_numpy(bn.beta.numpy().copy()).requires_grad_()
    w = torch.from_numpy(dense.kernel.numpy().copy()).requires_grad_()
    b = torch.from_numpy(dense.bias.numpy().copy()).requires_grad_()
    h = torch.nn.functional.conv2d(xt, kernel, bias)
    stats = (h.detach().double().mean(dim=(0, 2, 3)).numpy(), h.detach().double().var(dim=(0, 2, 3), unbiased=False).numpy())
    h = torch.nn.functional.batch_norm(h, None, None, gamma, beta, training=True, eps=bn.epsilon)
    h = torch.nn.functional.max_pool2d(torch.relu(h), 2).permute(0, 2, 3, 1).reshape(len(x), -1)
    loss = torch.nn.functional.cross_entropy(h @ w + b, torch.from_numpy(y))
    loss.backward()
    grads = [kernel.grad.numpy().transpose(2, 3, 1, 0), bias.grad.numpy(), gamma.grad.numpy(), beta.grad.numpy(),
             w.grad.numpy(), b.grad.numpy()]
    return grads, stats


def test_split_gradients_and_moving_statistics_match_torch():
    model = conv_bn_model(seed=3)
    x, y, _ = data(n=32, seed=3)
    expected, (mean, var) = torch_reference(model, x, y)
    captured = []
    model.optimizer.apply_gradients = captured.extend  # the summed gradients, before any update
    ks.config.set_num_workers(2)
    assert split.plan(model, x, training=True) is not None
    model.train_on_batch(x, y)
    assert len(captured) == 6
    for (grad, var_), ref in zip(captured, expected):
        np.testing.assert_allclose(grad, ref, rtol=1e-4, atol=1e-5, err_msg=var_.name)
    bn = model.layers[1]  # momentum 0.99 from zeros and ones, with the whole batch's biased variance
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.99 + 0.01 * var, rtol=1e-5, atol=1e-7)


def test_seeded_split_runs_repeat_bit_for_bit():
    runs = [fit_with(2, lambda: conv_bn_model(seed=5))[0] for _ in range(2)]
    for a, b in zip(runs[0].weights, runs[1].weights):
        assert np.array_equal(a.numpy(), b.numpy()), a.name


class _OwnLoss(ks.Sequential):
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return super().compute_loss(x, y, y_pred, sample_weight, training)


@pytest.mark.parametrize("case", ["dropout", "lambda", "compute_loss", "ignore_class", "small_batch", "one_worker"])
def test_steps_that_cannot_split_run_unsplit(case):
    ks.config.set_num_workers(1 if case == "one_worker" else 2)
    extra = {"dropout": [L.Dropout(0.5)], "lambda": [L.Lambda(lambda t: t * 2.0)]}.get(case, [])
    cls = _OwnLoss if case == "compute_loss" else ks.Sequential
    model = cls([ks.Input((8, 8, 2)), L.Flatten(), *extra, L.Dense(3)])
    loss = ks.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0 if case == "ignore_class" else None)
    model.compile(optimizer="sgd", loss=loss)
    x, y, _ = data(n=20 if case == "small_batch" else 64)
    assert split.plan(model, x, training=True) is None
    model.fit(x, y, batch_size=len(x), verbose=0)  # and the unsplit step trains as before


def test_inference_splits_a_model_with_dropout():
    ks.config.set_num_workers(2)
    model = ks.Sequential([ks.Input((8, 8, 2)), L.Flatten(), L.Dropout(0.5), L.Dense(3)])
    x, _, _ = data()
    assert split.plan(model, x, training=False, loss=False) is not None
    ks.config.set_num_workers(1)
    expected = model.predict(x, verbose=0)
    ks.config.set_num_workers(2)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_a_failing_worker_releases_the_others():
    def part(index):
        member = workers.current()
        if index == 1:
            raise ValueError("worker 1 failed")
        member[0].allreduce(member[1], np.ones(2))  # would wait for worker 1 forever without the abort

    with pytest.raises(ValueError, match="worker 1 failed"):
        workers.run(part, [0, 1])
    assert workers.current() is None


def test_allreduce_adds_in_worker_order_on_every_worker():
    seen = {}

    def part(value):
        group, index = workers.current()
        seen[index] = group.allreduce(index, np.array([value]))

    workers.run(part, [1.0, 2.0, 3.0])
    assert all(v.tolist() == [6.0] for v in seen.values()) and len(seen) == 3


@pytest.mark.skipif(not blas.can_pin(), reason="threadpoolctl finds no BLAS to pin")
def test_blas_is_pinned_inside_and_restored_after():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    with blas.single_threaded():
        with blas.single_threaded():  # nested (validation inside fit): still one, restored once
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {1}
    assert blas_threads() == before


def test_workers_use_their_own_thread():
    names = workers.run(lambda part: threading.current_thread().name, [0, 1])
    assert names[0] == threading.current_thread().name and names[1].startswith("kernelscope-worker")


def test_set_num_workers_checks_its_argument():
    with pytest.raises(ValueError, match=r"`n` must be a positive integer or None .* Received: n=0"):
        ks.config.set_num_workers(0)
    ks.config.set_num_workers(3)
    assert ks.config.num_workers() == 3
    ks.config.set_num_workers(None)  # the environment's default (tests/conftest.py), else the usable cores
    assert ks.config.num_workers() == int(os.environ.get("KERNELSCOPE_NUM_WORKERS", workers.usable_cores()))


def test_set_malloc_tuning_checks_its_argument():
    with pytest.raises(TypeError, match="`enabled` must be a bool. Received: enabled='yes'"):
        ks.config.set_malloc_tuning("yes")
    ks.config.set_malloc_tuning(False)
    assert ks.config.malloc_tuning() is False
    ks.config.set_malloc_tuning(True)
