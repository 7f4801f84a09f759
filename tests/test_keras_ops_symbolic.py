"""ks.ops on KerasTensors: functional models built with ops record OpLayer nodes, train and predict."""

import numpy as np
import pytest

import kernelscope as ks
from kernelscope import ops


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6, 6, 2)).astype(np.float32), rng.standard_normal((n, 3)).astype(np.float32)


def test_ops_on_keras_tensors_record_nodes_with_shapes():
    x = ks.Input((6, 6, 2))
    y = ops.relu(x) * 2.0 + 1.0
    pooled = ops.mean(y, axis=(1, 2))
    both = ops.concatenate([pooled, ops.max(y, axis=(1, 2))], axis=-1)
    assert isinstance(y, ks.layers.KerasTensor) and y.shape == (None, 6, 6, 2)
    assert pooled.shape == (None, 2) and both.shape == (None, 4)
    assert ops.reshape(x, (-1, 72)).shape == (None, 72)
    assert ops.image.resize(x, (3, 4)).shape == (None, 3, 4, 2)
    assert ops.sum(x).shape == ()  # reduced over the batch too: a known (scalar) shape
    assert x[:, 0].shape == (None, 6, 2)
    assert ops.shape(x) == (None, 6, 6, 2)  # answered directly, as in Keras
    values, indices = ops.top_k(ops.reshape(x, (-1, 72)), 5)
    assert values.shape == (None, 5) and indices.shape == (None, 5)


def test_functional_model_with_ops_matches_the_eager_computation():
    x = ks.Input((6, 6, 2))
    features = ops.concatenate([ops.mean(x, axis=(1, 2)), ops.max(x, axis=(1, 2))], axis=-1)
    dense = ks.layers.Dense(3)
    out = ops.tanh(dense(features)) - 0.5 * ops.square(dense(features))
    model = ks.Model(x, out)
    inputs, _ = _data(5)
    f = np.concatenate([inputs.mean((1, 2)), inputs.max((1, 2))], -1)
    z = f @ dense.kernel.numpy() + dense.bias.numpy()
    np.testing.assert_allclose(model.predict(inputs, verbose=0), np.tanh(z) - 0.5 * z ** 2, rtol=1e-5, atol=1e-6)


def test_model_with_ops_trains_and_several_symbolic_inputs():
    a, b = ks.Input((6, 6, 2)), ks.Input((3,))
    h = ks.layers.Conv2D(4, 3, activation="relu")(a)
    h = ops.mean(h, axis=(1, 2))
    out = ks.layers.Dense(3)(h) + ops.multiply(b, 0.1)
    model = ks.Model([a, b], out)
    model.compile(optimizer="adam", loss="mse")
    x, y = _data(32)
    extra = np.ones((32, 3), np.float32)
    history = model.fit([x, extra], y, epochs=8, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict([x[:2], extra[:2]], verbose=0).shape == (2, 3)


def test_keras_tensor_operators_and_reused_tensor():
    x = ks.Input((3,))
    out = (1.0 - x) * x / 2.0 + x ** 2 - (-x) + abs(x)
    model = ks.Model(x, out)
    v = np.array([[1.0, -2.0, 3.0]], np.float32)
    np.testing.assert_allclose(model.predict(v, verbose=0), (1 - v) * v / 2 + v ** 2 + v + np.abs(v), rtol=1e-6)


def test_saving_a_model_with_a_raw_op_names_the_op(tmp_path):
    x = ks.Input((4,))
    model = ks.Model(x, ops.log1p(ops.abs(ks.layers.Dense(2)(x))))
    with pytest.raises(NotImplementedError, match=r"applies `ks.ops.abs` directly to a symbolic tensor"):
        model.get_config()


def test_unknown_sizes_stay_unknown_and_known_ones_are_inferred():
    x = ks.Input((None, None, 3))
    assert ops.image.resize(x, (4, 5)).shape == (None, 4, 5, 3)
    assert ops.mean(x, axis=(1, 2)).shape == (None, 3)
    assert ops.max_pool(x, 2).shape == (None, None, None, 3)
    assert (x * 2.0).shape == (None, None, None, 3)


def test_model_save_refuses_with_the_op_name(tmp_path):
    x = ks.Input((3,))
    model = ks.Model(x, ops.softmax(ks.layers.Dense(3)(x)))
    with pytest.raises(NotImplementedError, match=r"applies `ks.ops.softmax` directly to a symbolic tensor"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


def test_symbolic_outputs_carry_the_op_dtype():
    x = ks.Input((4,))
    assert ops.argmax(x, axis=-1).dtype == np.int32 and ops.argmax(x, axis=-1).shape == (None,)
    assert ops.equal(x, 0.0).dtype == bool and (x * 2.0).dtype == np.float32
    values, indices = ops.top_k(x, 2)
    assert values.dtype == np.float32 and indices.dtype == np.int32
    model = ks.Model(x, ops.cond(True, lambda: ops.abs(x), lambda: x))  # cond outside the graph picks a branch
    np.testing.assert_array_equal(model.predict(-np.ones((2, 4), np.float32), verbose=0), np.ones((2, 4)))
