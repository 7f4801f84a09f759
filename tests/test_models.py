"""Sequential and functional models: building, graph execution, weights, config, errors."""

import numpy as np
import pytest

import kernelscope as ks
from kernelscope.autograd import Tensor

L = ks.layers


def test_sequential_build_routes():
    with_input = ks.Sequential([ks.Input((5,)), L.Dense(3)])
    with_arg = ks.Sequential([L.Dense(3, input_shape=(5,))])
    deferred = ks.Sequential([L.Dense(3)])
    assert with_input.built and with_arg.built and not deferred.built
    deferred(np.zeros((2, 5), dtype="float32"))
    for model in (with_input, with_arg, deferred):
        assert model.count_params() == 18  # (5+1)*3
        assert len(model.layers) == 1


def test_sequential_add_pop_and_get_layer():
    model = ks.Sequential(name="stack")
    model.add(ks.Input((4,)))
    model.add(L.Dense(6, name="hidden"))
    model.add(L.Dense(2, name="head"))
    assert model.outputs[0].shape == (None, 2)
    assert model.get_layer("hidden") is model.layers[0] and model.get_layer(index=1).name == "head"
    popped = model.pop()
    assert popped.name == "head" and model.outputs[0].shape == (None, 6)
    model.add(L.Dense(3, name="new_head"))
    assert model.predict(np.ones((2, 4)), verbose=0).shape == (2, 3)
    with pytest.raises(ValueError, match="No such layer: 'nope'"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="should have unique names"):
        model.add(L.Dense(3, name="hidden"))
    with pytest.raises(TypeError, match="expects a Layer instance"):
        model.add("dense")


def test_sequential_matches_manual_forward():
    model = ks.Sequential([ks.Input((3,)), L.Dense(4, activation="relu"), L.Dense(2)])
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    (k1, b1), (k2, b2) = model.layers[0].get_weights(), model.layers[1].get_weights()
    expected = np.maximum(x @ k1 + b1, 0) @ k2 + b2
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert model.predict(x, verbose=0).dtype == np.float32


def test_functional_two_inputs_shared_layer_two_outputs():
    a, b = ks.Input((3,), name="a"), ks.Input((3,), name="b")
    shared = L.Dense(4, name="shared")
    out1 = L.Dense(2, name="o1")(shared(a))
    out2 = L.Dense(1, name="o2")(shared(b))
    model = ks.Model(inputs=[a, b], outputs=[out1, out2])
    assert [l.name for l in model.layers] == ["a", "b", "shared", "o1", "o2"]
    assert len(model.weights) == 6  # the shared layer's kernel and bias appear once
    xa, xb = np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")
    y1, y2 = model.predict([xa, xb], verbose=0)
    k, bias = shared.get_weights()
    k1, b1 = model.get_layer("o1").get_weights()
    np.testing.assert_allclose(y1, (xa @ k + bias) @ k1 + b1, rtol=1e-5)
    # gradients from both uses of the shared layer add up
    ya, yb = model([Tensor(xa), Tensor(xb)])
    (ya.sum() + yb.sum()).backward()
    k2 = model.get_layer("o2").get_weights()[0]
    expected = xa.T @ np.tile(k1.sum(axis=1), (2, 1)) + xb.T @ np.tile(k2.sum(axis=1), (2, 1))
    np.testing.assert_allclose(shared.weights[0].grad, expected, rtol=1e-5)


def test_functional_dict_inputs_and_outputs():
    img, meta = ks.Input((2,), name="img"), ks.Input((1,), name="meta")
    merged = L.Concatenate()([img, meta])
    model = ks.Model({"img": img, "meta": meta}, {"score": L.Dense(1)(merged)})
    out = model.predict({"meta": np.ones((4, 1)), "img": np.zeros((4, 2))}, verbose=0)
    assert set(out) == {"score"} and out["score"].shape == (4, 1)
    assert model.output_names == ["score"]


def test_nested_model_as_layer():
    encoder = ks.Sequential([ks.Input((4,)), L.Dense(3, name="enc")], name="encoder")
    x = ks.Input((4,))
    model = ks.Model(x, L.Dense(1, name="head")(encoder(x)))
    data = np.arange(8, dtype="float32").reshape(2, 4)
    ke, be = encoder.get_weights()
    kh, bh = model.get_layer("head").get_weights()
    np.testing.assert_allclose(model.predict(data, verbose=0), (data @ ke + be) @ kh + bh, rtol=1e-5)
    encoder.trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


def test_get_set_weights_roundtrip_and_errors():
    model = ks.Sequential([ks.Input((3,)), L.Dense(2)])
    weights = [np.ones((3, 2)), np.zeros(2)]
    model.set_weights(weights)
    np.testing.assert_array_equal(model.get_weights()[0], np.ones((3, 2), "float32"))
    with pytest.raises(ValueError, match="expects 2 weight arrays"):
        model.set_weights(weights[:1])
    with pytest.raises(ValueError, match=r"has shape \(3, 2\)"):
        model.set_weights([np.ones((2, 2)), np.zeros(2)])


def test_float64_gradient_check_whole_model():
    ks.utils.set_random_seed(3)
    model = ks.Sequential([
        ks.Input((6, 6, 2), dtype="float64"),
        L.Conv2D(3, 3, activation="tanh", dtype="float64"),
        L.MaxPool2D(2, dtype="float64"),
        L.Flatten(dtype="float64"),
        L.Dense(2, dtype="float64"),
    ])
    x = np.random.default_rng(1).standard_normal((2, 6, 6, 2))
    weights = [w.data.copy() for w in model.trainable_weights]

    def loss_of(values):
        for var, value in zip(model.trainable_weights, values):
            var.data[...] = value
        return model(x, training=True)

    out = loss_of(weights)
    seed_grad = np.random.default_rng(2).standard_normal(out.shape)
    out.backward(seed_grad)
    grads = [w.grad.copy() for w in model.trainable_weights]
    eps = 1e-6
    for i, w in enumerate(weights):
        numeric = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            for sign in (1, -1):
                shifted = [v.copy() for v in weights]
                shifted[i][idx] += sign * eps
                with ks.no_grad():
                    numeric[idx] += sign * np.sum(loss_of(shifted).data * seed_grad) / (2 * eps)
        np.testing.assert_allclose(grads[i], numeric, rtol=1e-6, atol=1e-7)
    assert out.dtype == np.float64


def test_config_roundtrip_rebuilds_same_function():
    a, b = ks.Input((3,), name="a"), ks.Input((3,), name="b")
    shared = L.Dense(4, name="shared")
    out = L.Add(name="sum")([shared(a), shared(b)])
    model = ks.Model([a, b], L.Dense(2, name="head")(out), name="twin")
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = [np.ones((2, 3)), np.arange(6.0).reshape(2, 3)]
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    config = model.get_config()
    shared_entry = next(e for e in config["layers"] if e["name"] == "shared")
    assert [n["args"][0]["config"]["keras_history"] for n in shared_entry["inbound_nodes"]] == [["a", 0, 0],
                                                                                           ["b", 0, 0]]
    seq = ks.Sequential([ks.Input((3,)), L.Dense(2)])
    assert ks.Sequential.from_config(seq.get_config()).count_params() == 8


def test_wrong_input_shape_names_model_and_shapes():
    model = ks.Sequential([ks.Input((28, 28, 1)), L.Conv2D(4, 3), L.Flatten(), L.Dense(2)])
    with pytest.raises(ValueError, match=r"expected shape=\(None, 28, 28, 1\), received shape=\(2, 32, 32, 1\)"):
        model.predict(np.zeros((2, 32, 32, 1)), verbose=0)


def test_dense_feature_mismatch_names_layer():
    dense = L.Dense(10, name="classifier")
    dense(np.zeros((1, 1600), "float32"))  # built for 5*5*64 = 1600 features
    # 6*6*64 = 2304 features: caught while the model is assembled, before any data flows
    with pytest.raises(ValueError, match=r"Layer 'classifier' \(Dense\) of Sequential model .* cannot take input "
                                         r"of shape \(None, 2304\).*1600 features.*Received: input of shape "
                                         r"\(None, 2304\)"):
        ks.Sequential([ks.Input((6, 6, 64)), L.Flatten(), dense])


def test_predict_on_unbuilt_sequential():
    with pytest.raises(ValueError, match="has not been built: predict"):
        ks.Sequential([L.Dense(2)]).predict(np.zeros((1, 3)))


def test_graph_errors():
    a, b = ks.Input((3,)), ks.Input((3,))
    out = L.Add()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected"):
        ks.Model(a, out)
    with pytest.raises(TypeError, match="must be KerasTensors"):
        ks.Model(a, np.zeros(3))
    x = ks.Input((2,))
    with pytest.raises(ValueError, match="All layer names should be unique"):
        ks.Model(x, L.Dense(1, name="dup")(L.Dense(2, name="dup")(x)))
    two = ks.Model([a, b], out)
    with pytest.raises(ValueError, match=r"The model has 2 inputs .* must be a list or dict of 2 arrays"):
        two.predict(np.zeros((1, 3)), verbose=0)
    with pytest.raises(ValueError, match=r"expects 2 input\(s\)"):
        two([np.zeros((1, 3), "float32")])


def test_subclassed_model_tracks_layers():
    class TwoLayer(ks.Model):
        def __init__(self):
            super().__init__()
            self.hidden = L.Dense(4)
            self.out = L.Dense(1)

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

    model = TwoLayer()
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 3)), np.ones((8, 1)), verbose=0)
    assert model.count_params() == (3 + 1) * 4 + (4 + 1) * 1
    assert len(model.layers) == 2


def test_model_from_config_revives_a_functional_config_with_custom_objects():
    # keras-io functional_api: keras.Model.from_config(config, custom_objects={"CustomDense": CustomDense})
    @ks.saving.register_keras_serializable(package="test_from_config") if hasattr(ks.saving, "register_keras_serializable") else (lambda c: c)
    class Doubled(ks.layers.Layer):
        def call(self, x):
            return x * 2.0

    inputs = ks.Input((3,))
    model = ks.Model(inputs, ks.layers.Dense(2)(Doubled()(inputs)))
    again = ks.Model.from_config(model.get_config(), custom_objects={"Doubled": Doubled})
    assert [type(l).__name__ for l in again.layers] == [type(l).__name__ for l in model.layers]
    again.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)

    class Plain(ks.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units

    assert Plain.from_config({"units": 5}).units == 5
    with pytest.raises(TypeError, match="Unable to revive model Plain from its config"):
        Plain.from_config({"colour": "red"})


def test_calling_a_metric_returns_its_running_result_as_a_tensor():
    m = ks.metrics.Mean()
    first = m([1.0, 3.0])
    assert isinstance(first, ks.Tensor) and first.numpy().dtype == np.float32 and float(first) == 2.0
    assert float(m([6.0])) == pytest.approx(10.0 / 3.0) and m.result() == pytest.approx(10.0 / 3.0)
