"""ks.backend settings and helpers; ks.random draws, seeds as in Keras 3, repeatable by set_random_seed."""

import numpy as np
import pytest

import kernelscope as ks
from kernelscope import backend, random


@pytest.fixture
def restore_settings():
    yield
    backend.set_floatx("float32")
    backend.set_epsilon(1e-7)


def test_backend_settings(restore_settings):
    assert backend.backend() == "numpy" and backend.image_data_format() == "channels_last"
    assert backend.epsilon() == 1e-7 and backend.floatx() == "float32"
    backend.set_image_data_format("channels_last")
    backend.set_epsilon(1e-3)
    y = ks.losses.binary_crossentropy(np.array([[1.0]]), np.array([[0.0]])).numpy()
    np.testing.assert_allclose(y, -np.log(1e-3), rtol=1e-5)
    np.testing.assert_allclose(ks.ops.binary_crossentropy(np.array([1.0]), np.array([0.0])).numpy(),
                               -np.log(1e-3), rtol=1e-5)
    backend.set_floatx("float64")
    assert ks.ops.zeros(2).dtype == np.float64 and ks.Variable(1.0).dtype == np.float64
    assert ks.layers.Dense(2).dtype == np.float64


def test_backend_errors():
    with pytest.raises(ValueError, match=r'channels-last only: data_format="channels_first" is not supported'):
        backend.set_image_data_format("channels_first")
    with pytest.raises(ValueError, match=r"The `data_format` argument must be one of"):
        backend.set_image_data_format("nhwc")
    with pytest.raises(ValueError, match=r"Unknown `floatx` value: 'bfloat16'"):
        backend.set_floatx("bfloat16")
    with pytest.raises(ValueError, match=r"`epsilon` must be a float in \[0, 1\)"):
        backend.set_epsilon(-1.0)
    with pytest.raises(ValueError, match=r"Invalid dtype: 'float8'"):
        backend.standardize_dtype("float8")
    with pytest.raises(TypeError, match=r"`int_shape` needs a tensor or an array"):
        backend.int_shape(3)


def test_backend_helpers():
    assert backend.standardize_dtype(None) == "float32" and backend.standardize_dtype(np.int32) == "int32"
    assert backend.standardize_dtype(float) == "float32" and backend.standardize_dtype("bool") == "bool"
    assert backend.result_type("int32", "float32") == "float32"  # NumPy would say float64
    assert backend.result_type("int32", "int64") == "int64"
    assert backend.is_float_dtype("float16") and backend.is_int_dtype("uint8")
    assert backend.is_tensor(ks.Tensor(1.0)) and not backend.is_tensor(np.ones(1))
    x = ks.Input((4, 3))
    assert backend.is_keras_tensor(x) and backend.int_shape(x) == (None, 4, 3)
    assert backend.int_shape(np.ones((2, 5))) == (2, 5)
    ks.layers.Dense(1, name=None)
    backend.clear_session()
    assert ks.layers.Dense(1).name == "dense"


def test_int_seed_repeats_generator_advances_none_follows_set_random_seed():
    a, b = random.normal((3,), seed=5), random.normal((3,), seed=5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    gen = random.SeedGenerator(7)
    first, second = random.uniform((3,), seed=gen), random.uniform((3,), seed=gen)
    assert not np.array_equal(first.numpy(), second.numpy())
    again = random.SeedGenerator(7)
    np.testing.assert_array_equal(random.uniform((3,), seed=again).numpy(), first.numpy())
    ks.rng.set_random_seed(3)
    c = random.normal((4,))
    ks.rng.set_random_seed(3)
    np.testing.assert_array_equal(random.normal((4,)).numpy(), c.numpy())


def test_distributions():
    x = random.normal((20000,), mean=2.0, stddev=0.5, seed=1).numpy()
    assert x.dtype == np.float32 and abs(x.mean() - 2.0) < 0.02 and abs(x.std() - 0.5) < 0.02
    u = random.uniform((20000,), minval=-1.0, maxval=3.0, seed=2, dtype="float64").numpy()
    assert u.dtype == np.float64 and u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.05
    r = random.randint((1000,), 2, 5, seed=3).numpy()
    assert r.dtype == np.int32 and set(np.unique(r)) == {2, 3, 4}
    t = random.truncated_normal((20000,), stddev=2.0, seed=4).numpy()
    assert np.abs(t).max() <= 4.0
    logits = np.log(np.array([[0.2, 0.8], [1.0, 1e-9]]))
    c = random.categorical(logits, 4000, seed=5).numpy()
    assert c.shape == (2, 4000) and abs(c[0].mean() - 0.8) < 0.03 and c[1].max() == 0
    g = random.gamma((5000,), alpha=2.0, seed=6).numpy()
    assert abs(g.mean() - 2.0) < 0.1
    assert random.binomial((10,), 5, 0.5, seed=7).shape == (10,) and random.beta((10,), 2.0, 3.0, seed=8).shape == (10,)


def test_dropout_and_shuffle():
    x = ks.Tensor(np.ones((1000,)), requires_grad=True)
    y = random.dropout(x, 0.25, seed=1)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.05 and np.allclose(y.numpy()[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, kept / 0.75)
    s = random.shuffle(np.arange(10.0), seed=2).numpy()
    assert sorted(s) == list(range(10)) and not np.array_equal(s, np.arange(10.0))
    m = random.shuffle(np.arange(6.0).reshape(2, 3), axis=1, seed=3).numpy()
    assert sorted(m[0]) == [0, 1, 2] and np.array_equal(m[1] - m[0], [3, 3, 3])


def test_random_errors():
    with pytest.raises(ValueError, match=r"Argument `seed` must be either an integer or an instance of `SeedGenerator`"):
        random.normal((2,), seed="a")
    with pytest.raises(ValueError, match=r"`dtype` must be a floating-point type"):
        random.normal((2,), dtype="int32")
    with pytest.raises(ValueError, match=r"`shape` must be a tuple of non-negative integers"):
        random.uniform((2, -1))
    with pytest.raises(ValueError, match=r"`logits` should be a 2-D tensor"):
        random.categorical(np.ones(3), 2)
    with pytest.raises(ValueError, match=r"Argument `seed` must be an integer or None"):
        random.SeedGenerator(1.5)
