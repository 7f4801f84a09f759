"""Input checks of fit/evaluate/predict, saving, callbacks, losses, optimizers and metrics.

Each new error message has one ``pytest.raises(..., match=...)``; the behaviours
(empty predictions, a single callback, atomic CSV logs) are checked against
hand-computed expectations.
"""

import csv
import pickle
import warnings

import numpy as np
import pytest

import kernelscope as ks
from kernelscope import callbacks as C
from kernelscope import losses, metrics, optimizers

L = ks.layers


def classifier(units=3, features=4):
    model = ks.Sequential([ks.Input((features,)), L.Dense(5, activation="relu"), L.Dense(units, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    return model


def two_input_model():
    a, b = ks.Input((4,), name="a"), ks.Input((2,), name="b")
    out = L.Dense(3)(L.Concatenate()([a, b]))
    model = ks.Model([a, b], out)
    model.compile("sgd", "mse")
    return model


def data(n=12, features=4, classes=3):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, features)).astype("float32"), rng.integers(0, classes, n)


# ------------------------------------------------------------- sample counts
def test_predict_refuses_inputs_of_different_lengths():
    model = two_input_model()
    a, b = np.zeros((2, 4), "float32"), np.zeros((3, 2), "float32")
    with pytest.raises(ValueError, match=r"All x arrays must have the same number of samples: x\[0\] has 2, "
                                         r"x\[1\] has 3"):
        model.predict([a, b], verbose=0)
    with pytest.raises(ValueError, match=r"x\[0\] has 2, x\[1\] has 3"):
        model.evaluate([a, b], np.zeros((2, 3)), verbose=0)


@pytest.mark.parametrize("method", ["fit", "evaluate"])
def test_zero_samples_are_refused(method):
    model = classifier()
    with pytest.raises(ValueError, match=r"`x` has 0 samples; fit and evaluate need at least one\. "
                                         r"Received: x\.shape=\(0, 4\)"):
        getattr(model, method)(np.zeros((0, 4), "float32"), np.zeros((0,), "int64"), verbose=0)


def test_predict_on_zero_samples_gives_empty_outputs():
    model = classifier()
    out = model.predict(np.zeros((0, 4), "float32"), verbose=0)
    assert out.shape == (0, 3) and out.dtype == np.float32
    two = two_input_model().predict([np.zeros((0, 4), "float32"), np.zeros((0, 2), "float32")], verbose=0)
    assert two.shape == (0, 3)


# ------------------------------------------------------------ fit arguments
def test_fit_shuffle_must_be_bool():
    x, y = data()
    with pytest.raises(TypeError, match=r"`shuffle` must be a bool\. Received: shuffle='yes' \(of type str\)"):
        classifier().fit(x, y, shuffle="yes", verbose=0)


def test_fit_accepts_a_single_callback():
    x, y = data()
    stopper = C.EarlyStopping(monitor="loss", patience=0)
    history = classifier().fit(x, y, epochs=2, callbacks=stopper, verbose=0)
    assert stopper.model is not None and len(history.history["loss"]) >= 1


def test_fit_callbacks_must_be_a_list():
    x, y = data()
    with pytest.raises(TypeError, match=r"`callbacks` must be a list of ks\.callbacks\.Callback instances "
                                        r"\(or one Callback\)\. Received: callbacks='stop' \(of type str\)"):
        classifier().fit(x, y, callbacks="stop", verbose=0)


# ------------------------------------------------------------------ saving
def test_save_into_missing_folder(tmp_path):
    target = tmp_path / "missing" / "m.keras"
    with pytest.raises(ValueError, match=r"Cannot save to '.*m\.keras': the folder '.*missing' does not exist"):
        classifier().save(target)
    assert not (tmp_path / "missing").exists()


def test_load_model_none_path():
    with pytest.raises(TypeError, match=r"`filepath` must be a string or a path-like object such as "
                                        r"'model\.keras'\. Received: filepath=None \(of type NoneType\)"):
        ks.models.load_model(None)


@pytest.mark.parametrize("kind", ["text", "pickle"])
def test_load_weights_from_text_or_pickle(tmp_path, kind):
    path = tmp_path / "w.npz"
    if kind == "text":
        path.write_text("epoch,loss\n0,1.0\n")
    else:
        path.write_bytes(pickle.dumps({"layers/dense/vars/0": [1.0, 2.0]}))
    with pytest.raises(ValueError, match=r"w\.npz' is not a kernelscope weights file \(\.npz\): it is text or "
                                         r"pickled Python data, not NumPy arrays") as info:
        classifier().load_weights(path)
    assert "allow_pickle" not in str(info.value)


def test_load_weights_from_object_arrays(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, a=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match=r"obj\.npz' is not a kernelscope weights file \(\.npz\): it holds "
                                         r"arrays of Python objects") as info:
        classifier().load_weights(path)
    assert "allow_pickle" not in str(info.value)


def test_load_weights_from_npy(tmp_path):
    path = tmp_path / "one.npy"
    np.save(path, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"one\.npy' is not a kernelscope weights file \(\.npz\): it holds a "
                                         r"single array of shape \(2, 3\)"):
        classifier().load_weights(path)


def test_load_weights_closes_the_file(tmp_path):
    model = classifier()
    path = tmp_path / "w.npz"
    model.save_weights(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.load_weights(path)
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


# --------------------------------------------------------------- callbacks
@pytest.mark.parametrize("owner, make", [("EarlyStopping", lambda p: C.EarlyStopping(patience=p)),
                                         ("ReduceLROnPlateau", lambda p: C.ReduceLROnPlateau(patience=p))])
@pytest.mark.parametrize("patience", [-1, 1.5])
def test_patience_must_be_a_non_negative_integer(owner, make, patience):
    with pytest.raises(ValueError, match=rf"`patience` of {owner} must be an integer >= 0 \(a number of epochs\)\. "
                                         rf"Received: patience={patience}"):
        make(patience)


def test_reduce_lr_factor_must_be_positive():
    with pytest.raises(ValueError, match=r"`factor` of ReduceLROnPlateau must be in \(0, 1\): a factor <= 0 would "
                                         r"set the learning rate to 0 or below\. Received: factor=0"):
        C.ReduceLROnPlateau(factor=0)


def test_reduce_lr_factor_must_be_a_number():
    with pytest.raises(TypeError, match=r"`factor` of ReduceLROnPlateau must be a number in \(0, 1\)\. "
                                        r"Received: factor='half' \(of type str\)"):
        C.ReduceLROnPlateau(factor="half")


class _Model:
    metrics_names = ["loss"]


def test_csv_logger_keeps_the_old_log_until_an_epoch_ends(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\n0,9.0\n")
    logger = C.CSVLogger(str(path))
    logger.set_model(_Model())
    logger.on_train_begin()
    assert path.read_text() == "epoch,loss\n0,9.0\n"  # not wiped at train start
    logger.on_epoch_end(0, {"loss": 1.0})
    assert list(csv.reader(path.open())) == [["epoch", "loss"], ["0", "1.0"]]
    logger.on_epoch_end(1, {"loss": 0.5})  # no on_train_end: as after a crash, the file is a complete CSV
    assert list(csv.reader(path.open())) == [["epoch", "loss"], ["0", "1.0"], ["1", "0.5"]]
    assert [p.name for p in tmp_path.iterdir()] == ["log.csv"]  # no temporary file left behind


def test_csv_logger_append_extends_the_existing_file(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss\n0,9.0")  # no final newline
    logger = C.CSVLogger(str(path), append=True)
    logger.set_model(_Model())
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 1.0})
    logger.on_train_end()
    assert list(csv.reader(path.open())) == [["epoch", "loss"], ["0", "9.0"], ["0", "1.0"]]


# ------------------------------------------------------------------ losses
def test_huber_delta_must_be_positive():
    with pytest.raises(ValueError, match=r"`delta` must be a number > 0\. Received: delta=0"):
        losses.Huber(delta=0)


@pytest.mark.parametrize("cls", [losses.BinaryCrossentropy, losses.CategoricalCrossentropy])
@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_label_smoothing_range(cls, value):
    with pytest.raises(ValueError, match=rf"`label_smoothing` must be a number in \[0, 1\]\. "
                                         rf"Received: label_smoothing={value}"):
        cls(label_smoothing=value)


def test_sparse_loss_with_one_hot_labels_gives_a_hint():
    y_pred = np.full((10, 3), 1 / 3, dtype="float32")
    one_hot = np.eye(3)[np.arange(10) % 3]
    with pytest.raises(ValueError, match=r"y looks one-hot \(it has the output's shape\): use "
                                         r"categorical_crossentropy"):
        losses.SparseCategoricalCrossentropy()(one_hot, y_pred)


# -------------------------------------------------------------- optimizers
@pytest.mark.parametrize("cls", [optimizers.Adam, optimizers.AdamW, optimizers.RMSprop, optimizers.Adagrad])
@pytest.mark.parametrize("epsilon", [0.0, -1e-7])
def test_epsilon_must_be_positive(cls, epsilon):
    with pytest.raises(ValueError, match=rf"`epsilon` must be a float > 0\. Received: epsilon={epsilon}"):
        cls(epsilon=epsilon)


# ----------------------------------------------------------------- metrics
@pytest.mark.parametrize("cls", [metrics.TopKCategoricalAccuracy, metrics.SparseTopKCategoricalAccuracy])
@pytest.mark.parametrize("k", [0, 2.0])
def test_top_k_must_be_a_positive_integer(cls, k):
    with pytest.raises(ValueError, match=rf"`k` must be an integer >= 1 \(how many top scores count\)\. "
                                         rf"Received: k={k}"):
        cls(k=k)


def test_binary_accuracy_threshold_must_be_a_number():
    with pytest.raises(TypeError, match=r"Invalid value for argument `threshold`\. Expected a number in interval "
                                        r"\(0, 1\)\. Received: threshold='a' \(of type str\)"):
        metrics.BinaryAccuracy(threshold="a")


@pytest.mark.parametrize("metric, what", [(metrics.Accuracy(), "accuracy"),
                                          (metrics.BinaryAccuracy(), "binary_accuracy"),
                                          (metrics.CategoricalAccuracy(), r"categorical_accuracy \(one-hot labels\)"),
                                          (metrics.TopKCategoricalAccuracy(k=1),
                                           r"top_k_categorical_accuracy \(one-hot labels\)"),
                                          (metrics.MeanSquaredError(), "mean_squared_error"),
                                          (metrics.MeanAbsoluteError(), "mean_absolute_error")])
def test_metric_shape_mismatch(metric, what):
    with pytest.raises(ValueError, match=rf"`y_true` and `y_pred` must have the same shape for {what}\. "
                                         r"Received: y_true\.shape=\(4, 3\), y_pred\.shape=\(5, 3\)"):
        metric.update_state(np.zeros((4, 3)), np.zeros((5, 3)))


@pytest.mark.parametrize("metric, what", [(metrics.SparseCategoricalAccuracy(), "sparse_categorical_accuracy"),
                                          (metrics.SparseTopKCategoricalAccuracy(k=1), "top_k_categorical_accuracy")])
def test_sparse_metric_label_shape_mismatch(metric, what):
    with pytest.raises(ValueError, match=rf"{what} needs one integer label per row of scores: `y_true` must have "
                                         r"the shape of `y_pred` without its last \(class\) axis\. "
                                         r"Received: y_true\.shape=\(4,\), y_pred\.shape=\(5, 3\)"):
        metric.update_state(np.zeros(4), np.zeros((5, 3)))


def test_metrics_still_accept_matching_shapes():
    acc = metrics.SparseCategoricalAccuracy()
    acc.update_state(np.array([[0], [2]]), np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1]]))
    assert acc.result() == pytest.approx(0.5)  # first right, second wrong
    mse = metrics.MeanSquaredError()
    mse.update_state(np.array([1.0, 2.0]), np.array([[1.0], [4.0]]))  # (2,) vs (2, 1): aligned as Keras
    assert mse.result() == pytest.approx(2.0)  # (0 + 4) / 2
