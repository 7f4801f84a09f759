"""compile / fit / evaluate / predict: Keras 3 semantics, input checks, callbacks, seeding."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kernelscope as ks

L = ks.layers


def small_classifier(units=3, features=4):
    return ks.Sequential([ks.Input((features,)), L.Dense(8, activation="relu"), L.Dense(units, activation="softmax")])


def data(n=40, features=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)).astype("float32"), rng.integers(0, classes, n)


def test_digits_cnn_reaches_97_percent():
    digits = load_digits()
    x = (digits.images / 16.0).reshape(-1, 8, 8, 1)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25,
                                                        stratify=digits.target, random_state=0)
    ks.utils.set_random_seed(0)
    model = ks.Sequential([ks.Input((8, 8, 1)), L.Conv2D(16, 3, padding="same", activation="relu"),
                           L.MaxPool2D(2), L.Conv2D(32, 3, padding="same", activation="relu"), L.Flatten(),
                           L.Dense(10, activation="softmax")])
    model.compile(ks.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x_train, y_train, epochs=15, batch_size=32, verbose=0)
    assert list(history.history) == ["loss", "accuracy"] and len(history.history["loss"]) == 15
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.97
    predicted = model.predict(x_test, verbose=0).argmax(axis=1)
    assert np.mean(predicted == y_test) == pytest.approx(accuracy)


def test_seeded_runs_repeat_bit_for_bit():
    def run():
        ks.utils.set_random_seed(42)
        model = ks.Sequential([ks.Input((4,)), L.Dense(8, activation="relu"), L.Dropout(0.3),
                               L.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
        x, y = data()
        history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.2, verbose=0)
        return model.get_weights(), history.history

    (w1, h1), (w2, h2) = run(), run()
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2))
    assert h1 == h2


def test_validation_split_takes_last_fraction():
    x, y = data(n=20)
    model = small_classifier()
    model.compile(ks.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=1, batch_size=20, validation_split=0.25, shuffle=False, verbose=0)
    # floor(20 * 0.75) = 15 training rows; the last 5 are the validation set (learning rate 0: no change)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[15:], y[15:], verbose=0), rel=1e-6)
    assert history.history["loss"][0] == pytest.approx(model.evaluate(x[:15], y[:15], verbose=0), rel=1e-6)


def per_sample_crossentropy(model, x, y):
    probs = model.predict(x, verbose=0).astype(np.float64)
    return -np.log(probs[np.arange(len(y)), y])


def test_class_weight_and_sample_weight_as_keras():
    x, y = data(n=12)
    model = small_classifier()
    model.compile(ks.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    losses = per_sample_crossentropy(model, x, y)
    class_weight = {0: 1.0, 1: 2.0, 2: 0.5}
    # Keras reduces sum(weight_i * loss_i) / n ("sum_over_batch_size")
    expected = np.sum(losses * np.array([class_weight[c] for c in y])) / len(y)
    history = model.fit(x, y, batch_size=12, class_weight=class_weight, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)
    weights = np.linspace(0.1, 2.0, 12)
    history = model.fit(x, y, batch_size=12, sample_weight=weights, verbose=0)
    assert history.history["loss"][0] == pytest.approx(np.sum(losses * weights) / 12, rel=1e-5)
    assert model.evaluate(x, y, sample_weight=weights, verbose=0) == pytest.approx(np.sum(losses * weights) / 12,
                                                                                 rel=1e-5)
    with pytest.raises(ValueError, match="must contain all classes"):
        model.fit(x, y, class_weight={0: 1.0}, verbose=0)


def test_two_inputs_shared_dense_dict_losses_and_loss_weights():
    ks.utils.set_random_seed(1)
    a, b = ks.Input((4,), name="a"), ks.Input((4,), name="b")
    shared = L.Dense(8, activation="relu", name="shared")
    cls = L.Dense(3, activation="softmax", name="cls")(shared(a))
    reg = L.Dense(1, name="reg")(shared(b))
    model = ks.Model([a, b], [cls, reg])
    model.compile(ks.optimizers.SGD(0.0), loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
    xa, labels = data(n=16)
    xb, _ = data(n=16, seed=1)
    target = np.linspace(-1, 1, 16).reshape(16, 1)
    logs = model.fit([xa, xb], {"cls": labels, "reg": target}, batch_size=16, verbose=0).history
    assert list(logs) == ["loss", "cls_loss", "reg_loss", "cls_accuracy"]
    probs, pred = model.predict([xa, xb], verbose=0)
    ce = np.mean(-np.log(probs[np.arange(16), labels].astype(np.float64)))
    mse = np.mean((pred - target) ** 2)
    assert logs["cls_loss"][0] == pytest.approx(ce, rel=1e-5)
    assert logs["reg_loss"][0] == pytest.approx(mse, rel=1e-5)
    assert logs["loss"][0] == pytest.approx(ce + 0.5 * mse, rel=1e-5)
    # and it learns: a real optimizer lowers the weighted loss
    model.compile("adam", loss=["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5])
    history = model.fit({"a": xa, "b": xb}, [labels, target], epochs=30, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_regularization_is_part_of_the_loss():
    model = ks.Sequential([ks.Input((3,)), L.Dense(2, kernel_regularizer=ks.regularizers.L2(0.1))])
    model.compile(ks.optimizers.SGD(0.0), "mse")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    kernel, bias = model.get_weights()
    mse = np.mean((x @ kernel + bias) ** 2)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(mse + 0.1 * np.sum(kernel ** 2), rel=1e-5)


def test_early_stopping_restores_best_and_checkpoint_keeps_best(tmp_path):
    x, y = data(n=32)
    x_val, y_val = data(n=16, seed=5)
    model = small_classifier()
    model.compile(ks.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    snapshots = []
    record = ks.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights()))
    path = str(tmp_path / "best.keras")
    # min_delta=10: only the first epoch counts as an improvement, so training stops after epoch 2
    stop = ks.callbacks.EarlyStopping(monitor="val_loss", min_delta=10, patience=1, restore_best_weights=True)
    keep = ks.callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    history = model.fit(x, y, epochs=20, validation_data=(x_val, y_val), callbacks=[record, stop, keep], verbose=0)
    assert len(history.history["loss"]) == 2 and model.stop_training
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), snapshots[0]))
    best = int(np.argmin(history.history["val_loss"]))
    saved = ks.models.load_model(path)
    assert all(np.array_equal(a, b) for a, b in zip(saved.get_weights(), snapshots[best]))


def test_batch_methods_and_dtype_conversion():
    model = small_classifier()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    x, y = data(n=8)
    loss, accuracy = model.train_on_batch(x.astype(np.float64), y)
    assert np.isfinite(loss) and 0 <= accuracy <= 1
    logs = model.test_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert model.predict_on_batch(x.astype(np.int64)).dtype == np.float32
    assert model.predict(x.astype(np.float64), verbose=0).dtype == np.float32
    assert model.metrics_names == ["loss", "accuracy"]


def test_deferred_sequential_builds_on_fit():
    model = ks.Sequential([L.Dense(4, activation="relu"), L.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 3)), np.ones((8, 1)), verbose=0)
    assert model.built and model.count_params() == (3 + 1) * 4 + (4 + 1)


def test_one_line_per_epoch_output(capsys):
    model = small_classifier()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    x, y = data()
    model.fit(x, y, epochs=2, validation_split=0.25, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("Epoch 1/2 - ")
    assert " - loss: " in lines[0] and " - accuracy: " in lines[0] and " - val_accuracy: " in lines[0]
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_to_categorical():
    np.testing.assert_array_equal(ks.utils.to_categorical([[1], [0]], 3), [[0, 1, 0], [1, 0, 0]])
    assert ks.utils.to_categorical([0, 3]).shape == (2, 4)
    with pytest.raises(ValueError, match="not below num_classes=2"):
        ks.utils.to_categorical([0, 2], num_classes=2)


# ---------------------------------------------------------------- input checks
@pytest.fixture()
def compiled():
    model = small_classifier()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    return model


def test_nan_in_x_leaves_weights_untouched(compiled):
    x, y = data()
    x[17, 2] = np.nan
    x[20, 0] = np.inf
    x[30, 1] = np.nan
    before = compiled.get_weights()
    with pytest.raises(ValueError, match="x contains 3 NaN or infinite values; the first is in row 17"):
        compiled.fit(x, y, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, compiled.get_weights()))


def test_nan_in_y():
    model = ks.Sequential([ks.Input((4,)), L.Dense(1)])
    model.compile("sgd", "mse")
    x, _ = data()
    y = np.zeros(40)
    y[3] = np.nan
    with pytest.raises(ValueError, match="y contains 1 NaN or infinite values; the first is in row 3"):
        model.fit(x, y, verbose=0)


def test_length_mismatch(compiled):
    x, y = data()
    with pytest.raises(ValueError, match="x and y have different numbers of samples: x has 40 rows, y has 39"):
        compiled.fit(x, y[:-1], verbose=0)


def test_sparse_labels_out_of_range(compiled):
    x, y = data()
    y[5] = 3
    with pytest.raises(ValueError, match=r"1 label\(s\) outside \[0, 3\).*the first is 3 in row 5"):
        compiled.fit(x, y, verbose=0)


def test_one_hot_width_mismatch():
    model = small_classifier()
    model.compile("adam", "categorical_crossentropy")
    x, y = data()
    with pytest.raises(ValueError, match="has 4 columns but the output has 3 units"):
        model.fit(x, ks.utils.to_categorical(y, 4), verbose=0)


def test_non_numeric_input(compiled):
    _, y = data()
    with pytest.raises(TypeError, match="`x` must hold numbers"):
        compiled.fit(np.array([["a"] * 4] * 40), y, verbose=0)


def test_fit_before_compile():
    x, y = data()
    with pytest.raises(ValueError, match=r"You must call `compile\(\)` before using `fit\(\)`"):
        small_classifier().fit(x, y)


def test_bad_validation_data_fails_before_training(compiled):
    x, y = data()
    before = compiled.get_weights()
    with pytest.raises(ValueError, match=r"expected shape=\(None, 4\), received shape=\(5, 5\)"):
        compiled.fit(x, y, validation_data=(np.zeros((5, 5)), np.zeros(5, int)), verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, compiled.get_weights()))


def test_bad_arguments(compiled):
    x, y = data()
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
        compiled.fit(x, y, batch_size=0)
    with pytest.raises(ValueError, match=r"`validation_split` must be a float in \[0, 1\)"):
        compiled.fit(x, y, validation_split=1.5)
    with pytest.raises(ValueError, match="compile\\(\\) was called without a `loss`"):
        model = small_classifier()
        model.compile("adam")
        model.fit(x, y)
