"""Real Keras 3 files both ways (issue 18 part 1): Keras opens what kernelscope writes, kernelscope opens what
Keras writes.

The oracle is Keras itself: keras==3.15.1 from the pinned test extra, on the torch
backend (set before keras is imported; no other test imports keras). Predictions are
compared to 1e-5 (float32, different kernels); weights and optimizer state must be equal.
"""

import json
import os
import zipfile

os.environ["KERAS_BACKEND"] = "torch"  # before the first import of keras in this process

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import kernelscope as ks  # noqa: E402

L, KL = ks.layers, keras.layers
assert keras.backend.backend() == "torch" and keras.__version__ == "3.15.1"
# Keras's torch backend converts its own tensors with NumPy 2's deprecated __array__ signature: not ours
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def images(shape, n=2, seed=0, high=1.0):
    return np.random.default_rng(seed).uniform(0, high, (n, *shape)).astype("float32")


def close(got, want):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)


def keras_predict(model, x):
    out = model(x, training=False)
    if isinstance(out, (list, tuple)):
        return [keras.ops.convert_to_numpy(o) for o in out]
    return keras.ops.convert_to_numpy(out)


def ks_cnn():
    ks.utils.set_random_seed(0)
    model = ks.Sequential([ks.Input((8, 8, 3)), L.Conv2D(4, 3, activation="relu"), L.BatchNormalization(),
                           L.MaxPooling2D(), L.Dropout(0.2), L.Flatten(), L.Dense(3, activation="softmax")])
    model.compile(ks.optimizers.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(images((8, 8, 3), 16), np.arange(16) % 3, epochs=2, batch_size=8, verbose=0)
    return model


def keras_optimizer_state(model):
    return [keras.ops.convert_to_numpy(v) for v in model.optimizer.variables]


# ------------------------------------------------------------------ Sequential CNN
def test_sequential_cnn_goes_to_keras_and_back(tmp_path):
    model = ks_cnn()
    x = images((8, 8, 3), 4, seed=1)
    model.save(tmp_path / "ks.keras")
    theirs = keras.saving.load_model(tmp_path / "ks.keras")
    close(keras_predict(theirs, x), model.predict(x, verbose=0))
    assert [type(l).__name__ for l in theirs.layers] == [type(l).__name__ for l in model.layers]
    assert isinstance(theirs.optimizer, keras.optimizers.Adam) and theirs.loss == "sparse_categorical_crossentropy"
    # Keras's optimizer/vars: iterations, learning_rate, then (momentum, velocity) per trainable variable
    state, mine = keras_optimizer_state(theirs), model.optimizer.get_state()
    assert int(state[0]) == model.optimizer.iterations == 4 and float(state[1]) == pytest.approx(0.01)
    for i in range(len(model.trainable_weights)):
        np.testing.assert_array_equal(state[2 + 2 * i], mine[f"m/{i}"])
        np.testing.assert_array_equal(state[3 + 2 * i], mine[f"v/{i}"])
    theirs.save(tmp_path / "keras.keras")
    back = ks.models.load_model(tmp_path / "keras.keras")
    close(back.predict(x, verbose=0), model.predict(x, verbose=0))
    assert back.optimizer.iterations == 4 and back.loss == "sparse_categorical_crossentropy"
    for key, value in mine.items():
        np.testing.assert_allclose(back.optimizer.get_state()[key], value, rtol=1e-7)


def test_the_zip_holds_what_keras_writes(tmp_path):
    model = ks_cnn()
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        config = json.loads(archive.read("config.json"))
        metadata = json.loads(archive.read("metadata.json"))
        archive.extract("model.weights.h5", tmp_path)
    assert metadata["keras_version"] == "3.15.1"
    assert {k: config[k] for k in ("module", "class_name", "registered_name")} == \
        {"module": "keras", "class_name": "Sequential", "registered_name": None}
    assert config["build_config"] == {"input_shape": [None, 8, 8, 3]}
    assert config["compile_config"]["optimizer"]["module"] == "keras.optimizers"
    with h5py.File(tmp_path / "model.weights.h5") as weights:
        assert weights["layers/conv2d/vars"].attrs["name"] == model.layers[0].name  # keyed by class, not name
        assert weights["layers/conv2d/vars/0"].shape == (3, 3, 3, 4)
        assert weights["layers/batch_normalization/vars/3"].shape == (4,)  # moving_variance, last
        assert len(weights["optimizer/vars"]) == 2 + 2 * 6


# ------------------------------------------------------------------ functional model with branches
def keras_branches():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((8, 8, 3), name="img")
    shortcut = KL.Conv2D(4, 1, name="shortcut")(inputs)  # created first, listed after the deeper branch
    main = KL.Conv2D(4, 3, padding="same", activation="relu", name="main")(inputs)
    merged = KL.Concatenate()([KL.Add()([main, shortcut]), main])
    inner = keras.Sequential([keras.Input((8, 8, 8)), KL.Conv2D(2, 1), KL.BatchNormalization()], name="inner")
    pooled = KL.GlobalAveragePooling2D()(inner(merged))
    return keras.Model(inputs, [KL.Dense(3, activation="softmax", name="probs")(pooled),
                                KL.Dense(1, name="score")(pooled)])


def ks_branches():
    ks.utils.set_random_seed(1)
    inputs = ks.Input((8, 8, 3), name="img")
    shortcut = L.Conv2D(4, 1, name="shortcut")(inputs)
    main = L.Conv2D(4, 3, padding="same", activation="relu", name="main")(inputs)
    merged = L.Concatenate()([L.Add()([main, shortcut]), main])
    inner = ks.Sequential([ks.Input((8, 8, 8)), L.Conv2D(2, 1), L.BatchNormalization()], name="inner")
    pooled = L.GlobalAveragePooling2D()(inner(merged))
    return ks.Model(inputs, [L.Dense(3, activation="softmax", name="probs")(pooled), L.Dense(1, name="score")(pooled)])


def test_functional_model_with_branches_from_keras_and_back(tmp_path):
    theirs = keras_branches()
    theirs.save(tmp_path / "keras.keras")
    mine = ks.models.load_model(tmp_path / "keras.keras")
    x = images((8, 8, 3), 3, seed=2)
    for got, want in zip(mine.predict(x, verbose=0), keras_predict(theirs, x)):
        close(got, want)
    mine.save(tmp_path / "ks.keras")
    again = keras.saving.load_model(tmp_path / "ks.keras")
    for got, want in zip(keras_predict(again, x), keras_predict(theirs, x)):
        close(got, want)


def test_functional_model_with_branches_to_keras(tmp_path):
    mine = ks_branches()
    mine.save(tmp_path / "ks.keras")
    theirs = keras.saving.load_model(tmp_path / "ks.keras")
    x = images((8, 8, 3), 3, seed=3)
    for got, want in zip(keras_predict(theirs, x), mine.predict(x, verbose=0)):
        close(got, want)
    assert [o.shape for o in theirs.outputs] == [(None, 3), (None, 1)]


# ------------------------------------------------------------------ BatchNormalization statistics
def test_batchnorm_moving_statistics_both_ways(tmp_path):
    model = ks_cnn()  # trained: the moving statistics moved away from 0 and 1
    bn = model.layers[1]
    assert not np.allclose(bn.moving_mean.numpy(), 0)
    model.save(tmp_path / "ks.keras")
    theirs = keras.saving.load_model(tmp_path / "ks.keras")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(theirs.layers[1].moving_mean), bn.moving_mean.numpy())
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(theirs.layers[1].moving_variance),
                                  bn.moving_variance.numpy())
    # Keras trains on: its statistics move on, and kernelscope reads them back
    theirs.fit(images((8, 8, 3), 8, seed=5, high=3.0), np.arange(8) % 3, epochs=1, verbose=0)
    theirs.save(tmp_path / "keras.keras")
    back = ks.models.load_model(tmp_path / "keras.keras")
    trained = keras.ops.convert_to_numpy(theirs.layers[1].moving_mean)
    assert not np.allclose(trained, bn.moving_mean.numpy())
    np.testing.assert_array_equal(back.layers[1].moving_mean.numpy(), trained)
    x = images((8, 8, 3), 4, seed=6, high=3.0)
    close(back.predict(x, verbose=0), keras_predict(theirs, x))
    assert back.optimizer.iterations == 5


# ------------------------------------------------------------------ fine-tuning a Keras model
def test_keras_model_fine_tuned_in_kernelscope_opens_in_keras(tmp_path):
    theirs = keras_branches()
    theirs.compile(keras.optimizers.Adam(1e-3), loss=["sparse_categorical_crossentropy", "mse"])
    x, labels, scores = images((8, 8, 3), 8, seed=7), np.arange(8) % 3, np.linspace(0, 1, 8)[:, None]
    theirs.fit(x, [labels, scores], epochs=1, batch_size=4, verbose=0)
    theirs.save(tmp_path / "pretrained.keras")
    mine = ks.models.load_model(tmp_path / "pretrained.keras")
    assert mine.optimizer.iterations == 2 and mine.optimizer.learning_rate == pytest.approx(1e-3)
    before = mine.get_weights()
    mine.fit(x, [labels, scores], epochs=2, batch_size=4, verbose=0)
    assert mine.optimizer.iterations == 6
    assert any(not np.array_equal(a, b) for a, b in zip(before, mine.get_weights()))
    mine.save(tmp_path / "tuned.keras")
    again = keras.saving.load_model(tmp_path / "tuned.keras")
    for got, want in zip(keras_predict(again, x), mine.predict(x, verbose=0)):
        close(got, want)
    assert int(keras.ops.convert_to_numpy(again.optimizer.iterations)) == 6


# ------------------------------------------------------------------ weights files, legacy .h5
def test_weights_h5_both_ways(tmp_path):
    mine, theirs = ks_branches(), keras_branches()
    mine.save_weights(tmp_path / "ks.weights.h5")
    theirs.load_weights(tmp_path / "ks.weights.h5")
    x = images((8, 8, 3), 2, seed=8)
    close(keras_predict(theirs, x)[0], mine.predict(x, verbose=0)[0])
    keras.utils.set_random_seed(4)
    fresh = keras_branches()
    fresh.save_weights(tmp_path / "keras.weights.h5")
    mine.load_weights(tmp_path / "keras.weights.h5")
    close(mine.predict(x, verbose=0)[1], keras_predict(fresh, x)[1])


def test_legacy_h5_model_from_keras_loads(tmp_path):
    theirs = keras_branches()
    theirs.compile("rmsprop", loss=["sparse_categorical_crossentropy", "mse"], metrics=[["accuracy"], []])
    theirs.save(tmp_path / "legacy.h5")  # Keras 3 warns that the format is legacy
    mine = ks.models.load_model(tmp_path / "legacy.h5")
    x = images((8, 8, 3), 2, seed=9)
    for got, want in zip(mine.predict(x, verbose=0), keras_predict(theirs, x)):
        close(got, want)
    assert type(mine.optimizer).__name__ == "RMSprop" and mine.compiled


# ------------------------------------------------------------------ applications
# (builder, keyword arguments): small inputs; VGG's 4096-unit top is left out to keep the test small. The
# weights must come back equal; predictions agree to 1e-5 (float32 sums in different orders, through up to
# 150 layers: the softmax tops keep the compared values of order 1)
APPLICATIONS = [
    ("VGG16", dict(include_top=False, pooling="avg", input_shape=(32, 32, 3))),
    ("VGG19", dict(include_top=False, pooling="max", input_shape=(32, 32, 3))),
    ("ResNet50", dict(classes=4, input_shape=(32, 32, 3))),
    ("ResNet101", dict(classes=4, input_shape=(32, 32, 3))),
    ("ResNet152", dict(classes=4, input_shape=(32, 32, 3))),
    ("ResNet50V2", dict(classes=4, input_shape=(32, 32, 3))),
    ("InceptionV3", dict(classes=4, input_shape=(75, 75, 3))),
    ("Xception", dict(classes=4, input_shape=(71, 71, 3))),
    ("MobileNet", dict(classes=4, input_shape=(32, 32, 3), alpha=0.5)),
    ("MobileNetV2", dict(classes=4, input_shape=(32, 32, 3), alpha=0.35)),
    ("DenseNet121", dict(classes=4, input_shape=(32, 32, 3))),
    ("EfficientNetB0", dict(classes=4, input_shape=(32, 32, 3))),
    ("ResNet101V2", dict(classes=4, input_shape=(32, 32, 3))),
    ("ResNet152V2", dict(classes=4, input_shape=(32, 32, 3))),
    ("InceptionResNetV2", dict(classes=4, input_shape=(75, 75, 3))),
    ("DenseNet169", dict(classes=4, input_shape=(32, 32, 3))),
    ("DenseNet201", dict(classes=4, input_shape=(32, 32, 3))),
    # NASNetMobile/NASNetLarge: Keras 3.15.1 refuses to build them on the torch backend
]


@pytest.mark.parametrize("name, kwargs", APPLICATIONS, ids=[a[0] for a in APPLICATIONS])
def test_application_both_ways(tmp_path, name, kwargs):
    x = images(kwargs["input_shape"], 2, seed=10, high=255.0)
    mine = getattr(ks.applications, name)(weights=None, **kwargs)
    mine.save(tmp_path / "ks.keras")
    theirs = keras.saving.load_model(tmp_path / "ks.keras")
    same_weights(theirs, mine)
    close(keras_predict(theirs, x), mine.predict(x, verbose=0))
    keras.utils.set_random_seed(11)
    built = getattr(keras.applications, name)(weights=None, **kwargs)
    built.save(tmp_path / "keras.keras")
    back = ks.models.load_model(tmp_path / "keras.keras")
    same_weights(built, back)
    close(back.predict(x, verbose=0), keras_predict(built, x))


def same_weights(keras_model, ks_model):
    """Layer by layer (Keras's names are kept), every weight equal, in Keras's order."""
    mine = {layer.name: layer for layer in ks_model.layers}
    assert sorted(mine) == sorted(layer.name for layer in keras_model.layers)
    for layer in keras_model.layers:
        theirs = [keras.ops.convert_to_numpy(w) for w in layer.weights]
        assert len(theirs) == len(mine[layer.name].weights), layer.name
        for got, want in zip(mine[layer.name].get_weights(), theirs):
            np.testing.assert_array_equal(got, want)


def test_lenet_goes_to_keras(tmp_path):
    mine = ks.applications.LeNet5()
    mine.save(tmp_path / "lenet.keras")
    x = images(mine.input_shape[1:], 3, seed=12)
    close(keras_predict(keras.saving.load_model(tmp_path / "lenet.keras"), x), mine.predict(x, verbose=0))
