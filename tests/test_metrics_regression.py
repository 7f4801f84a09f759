"""Regression metrics: the values in Keras 3's own docstrings (keras/src/metrics/regression_metrics.py,
keras 3.15), and torch on random data."""

import numpy as np
import pytest
import torch

import kernelscope as ks

Y_TRUE, Y_PRED = [[0, 1], [0, 0]], [[1, 1], [0, 0]]


@pytest.mark.parametrize("cls, plain, weighted", [
    (ks.metrics.MeanAbsolutePercentageError, 250000000.0, 500000000.0),
    (ks.metrics.MeanSquaredLogarithmicError, 0.12011322, 0.24022643),
    (ks.metrics.RootMeanSquaredError, 0.5, 0.70710677),
    (ks.metrics.LogCoshError, 0.10844523, 0.21689045),
])
def test_the_values_keras_documents(cls, plain, weighted):
    m = cls()
    m.update_state(Y_TRUE, Y_PRED)
    assert m.result() == pytest.approx(plain, rel=1e-6)
    m.reset_state()
    m.update_state(Y_TRUE, Y_PRED, sample_weight=[1, 0])
    assert m.result() == pytest.approx(weighted, rel=1e-6)


def test_cosine_similarity_keras_values_and_torch():
    m = ks.metrics.CosineSimilarity(axis=1)
    m.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
    assert m.result() == pytest.approx(0.49999997, rel=1e-6)
    m.reset_state()
    m.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]], sample_weight=[0.3, 0.7])
    assert m.result() == pytest.approx(0.6999999, rel=1e-6)
    a, b = np.random.default_rng(0).normal(size=(2, 6, 5))
    expected = torch.nn.functional.cosine_similarity(torch.tensor(a), torch.tensor(b), dim=-1).numpy()
    np.testing.assert_allclose(ks.metrics.cosine_similarity(a, b), expected, rtol=1e-12)
    called = ks.metrics.CosineSimilarity()(a, b)  # __call__ as Keras: update, then the result as a tensor
    assert isinstance(called, ks.Tensor) and float(called) == pytest.approx(expected.mean(), rel=1e-6)


def test_log_cosh_is_stable_and_matches_torch():
    a, b = np.random.default_rng(1).normal(scale=3, size=(2, 4, 3))
    expected = torch.log(torch.cosh(torch.tensor(b - a))).mean(-1).numpy()
    np.testing.assert_allclose(ks.metrics.log_cosh(a, b), expected, rtol=1e-12)
    assert np.isfinite(ks.metrics.log_cosh([[0.0]], [[1e4]])).all()  # cosh(1e4) overflows; the stable form does not


def test_string_names_and_compile():
    for name, cls in [("mape", ks.metrics.MeanAbsolutePercentageError), ("msle", ks.metrics.MeanSquaredLogarithmicError),
                      ("cosine_similarity", ks.metrics.CosineSimilarity), ("logcosh", ks.metrics.LogCoshError),
                      ("root_mean_squared_error", ks.metrics.RootMeanSquaredError)]:
        assert isinstance(ks.metrics.get(name), cls)
    model = ks.Sequential([ks.Input((3,)), ks.layers.Dense(2)])
    model.compile("sgd", "mse", metrics=[ks.metrics.MeanAbsolutePercentageError(), "root_mean_squared_error"])
    x, y = np.random.default_rng(0).normal(size=(2, 8, 3))
    logs = model.evaluate(x, y[:, :2] + 3, verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0).astype(np.float64)
    assert logs["root_mean_squared_error"] == pytest.approx(np.sqrt(np.mean((pred - y[:, :2] - 3) ** 2)), rel=1e-5)


def test_shape_mismatch_is_named():
    with pytest.raises(ValueError, match="same shape for mean_absolute_percentage_error"):
        ks.metrics.MeanAbsolutePercentageError().update_state([[1.0, 2.0]], [[1.0, 2.0, 3.0]])
