"""Initializer statistics (Keras's formulas with conv fans) and regularizer values by hand."""

import math

import numpy as np
import pytest

import kernelscope as ks
from kernelscope import initializers as I
from kernelscope import regularizers as R

CONV_SHAPE = (3, 3, 16, 32)  # fan_in = 9*16 = 144, fan_out = 9*32 = 288


def test_compute_fans_uses_receptive_field():
    assert I.compute_fans(CONV_SHAPE) == (144, 288)
    assert I.compute_fans((20, 30)) == (20, 30)
    assert I.compute_fans((7,)) == (7, 7)
    assert I.compute_fans(()) == (1, 1)


def test_glorot_uniform_limit_with_conv_fans():
    w = I.get("glorot_uniform")(CONV_SHAPE)
    limit = math.sqrt(6 / (144 + 288))
    assert w.dtype == np.float32 and w.shape == CONV_SHAPE
    assert w.max() <= limit and w.min() >= -limit
    assert w.max() > 0.99 * limit and w.min() < -0.99 * limit
    assert abs(w.std() - limit / math.sqrt(3)) < 0.01 * limit


@pytest.mark.parametrize("name, variance", [
    ("he_normal", 2 / 144), ("lecun_normal", 1 / 144), ("glorot_normal", 2 / (144 + 288)),
])
def test_truncated_normal_variance_scaling_std_and_truncation(name, variance):
    # Keras draws N(0, sqrt(var)/.8796...) truncated at two of those std, so the std is sqrt(var)
    w = I.get(name)(CONV_SHAPE)
    std = math.sqrt(variance)
    assert abs(w.std() - std) < 0.03 * std
    assert np.abs(w).max() <= 2 * std / 0.87962566103423978 + 1e-7


def test_uniform_presets_and_basic_initializers():
    w = I.HeUniform(seed=1)(CONV_SHAPE)
    assert np.abs(w).max() <= math.sqrt(6 / 144)
    w = I.LecunUniform(seed=1)(CONV_SHAPE)
    assert np.abs(w).max() <= math.sqrt(3 / 144)
    assert np.all(I.get("zeros")((2, 3)) == 0) and np.all(I.get("ones")((2,)) == 1)
    assert np.all(I.Constant(2.5)((4,)) == 2.5)
    r = I.RandomNormal(mean=1.0, stddev=0.5, seed=0)((200, 200))
    assert abs(r.mean() - 1.0) < 0.01 and abs(r.std() - 0.5) < 0.01
    u = I.RandomUniform(-0.05, 0.05, seed=0)((200, 200))
    assert u.min() >= -0.05 and u.max() <= 0.05
    t = I.TruncatedNormal(stddev=0.05, seed=0)((200, 200))
    assert np.abs(t).max() <= 0.1


def test_orthogonal_and_identity():
    q = I.Orthogonal(gain=2.0, seed=0)((3, 3, 4, 8)).reshape(-1, 8).astype(np.float64)
    np.testing.assert_allclose(q.T @ q, 4.0 * np.eye(8), atol=1e-5)
    wide = I.Orthogonal(seed=0)((4, 10)).astype(np.float64)
    np.testing.assert_allclose(wide @ wide.T, np.eye(4), atol=1e-5)
    np.testing.assert_array_equal(I.Identity(gain=3.0)((2, 3)), [[3, 0, 0], [0, 3, 0]])


def test_seed_semantics_and_global_seed():
    a, b = I.GlorotUniform(seed=5), I.GlorotUniform(seed=5)
    np.testing.assert_array_equal(a((4, 4)), b((4, 4)))
    np.testing.assert_array_equal(a((4, 4)), a((4, 4)))  # an int seed repeats, as in Keras
    ks.rng.set_random_seed(9)
    first = I.get("he_normal")((5, 5))
    ks.rng.set_random_seed(9)
    np.testing.assert_array_equal(I.get("he_normal")((5, 5)), first)
    assert I.get("he_normal")((3,), dtype="float64").dtype == np.float64


def test_get_accepts_names_dicts_instances_callables_and_round_trips_config():
    init = I.VarianceScaling(scale=2.0, mode="fan_out", distribution="uniform", seed=3)
    config = I.serialize(init)
    assert config["class_name"] == "VarianceScaling"
    clone = I.get(config)
    np.testing.assert_array_equal(clone((3, 3)), init((3, 3)))
    assert I.get({"class_name": "HeNormal", "config": {"seed": 1}}).get_config() == {"seed": 1}
    assert isinstance(I.get("glorot_uniform"), I.GlorotUniform)
    assert I.get(init) is init

    def fn(shape, dtype=None):
        return np.ones(shape)

    assert I.get(fn) is fn


def test_regularizers_by_hand():
    w = ks.Tensor(np.array([[1.0, -2.0], [0.5, 0.0]]))
    assert R.L1(0.1)(w).item() == pytest.approx(0.1 * 3.5)
    assert R.L2(0.2)(w).item() == pytest.approx(0.2 * 5.25)
    assert R.L1L2(l1=0.1, l2=0.2)(w).item() == pytest.approx(0.35 + 1.05)
    assert R.get("l1").l1 == 0.01 and R.get("l2").l2 == 0.01
    assert (R.get("l1_l2").l1, R.get("l1_l2").l2) == (0.01, 0.01)
    assert R.get(R.serialize(R.L1L2(0.3, 0.4))).get_config() == {"l1": 0.3, "l2": 0.4}


def test_regularizer_gradient_and_layer_losses():
    layer = ks.layers.Dense(2, kernel_regularizer=R.L2(0.5), bias_initializer="ones", dtype="float64")
    layer(np.ones((1, 3)))
    kernel = layer.kernel.data
    (penalty,) = layer.losses
    assert penalty.item() == pytest.approx(0.5 * np.sum(kernel ** 2))
    penalty.backward()
    np.testing.assert_allclose(layer.kernel.grad, kernel, rtol=1e-12)
    assert ks.layers.Dense.from_config(layer.get_config()).kernel_regularizer.l2 == 0.5
