"""Scale-out on Dask: pickling, grid search under joblib's dask backend, distributed prediction.

The cluster is a real ``distributed.LocalCluster`` with two worker processes (nannies) on
loopback, so every model crosses a process boundary by pickle, as on a real cluster. The
references are the same computations run locally in this process.
"""

import copy
import os
import pickle
import signal
import time

import numpy as np
import pytest

import kernelscope as ks

import dask.array as da  # the `dask` extra, installed by the test extra: a missing one fails, not skips
import distributed
import joblib
from sklearn.model_selection import GridSearchCV

from kernelscope.sklearn import NeuralNetClassifier


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=40) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def _digits(n=240):
    x, y = ks.datasets.load_digits()[0]
    return x[:n], y[:n]


def _cnn(seed=0):
    ks.utils.set_random_seed(seed)
    model = ks.Sequential([ks.Input((8, 8, 1)), ks.layers.Conv2D(6, 3, activation="relu"),
                           ks.layers.BatchNormalization(), ks.layers.Flatten(),
                           ks.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# ------------------------------------------------------------------ pickling
def test_a_trained_model_pickles_as_its_file_and_keeps_training_identically():
    x, y = _digits(96)
    model = _cnn()
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
    clone = pickle.loads(pickle.dumps(model))
    assert type(clone) is type(model) and clone is not model
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    # compile settings and optimizer state came along: one more epoch moves both the same way
    assert clone.compiled and clone.optimizer.iterations == model.optimizer.iterations
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
    clone.fit(x, y, epochs=1, batch_size=32, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_the_pickle_holds_no_live_objects():
    model = _cnn()
    model.fit(*_digits(64), epochs=1, verbose=0)
    payload = pickle.dumps(model)
    # what travels is the saved file and the (empty) table of custom classes: a function and two arguments
    reducer, (data, classes) = model.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    assert isinstance(data, bytes) and data[:2] == b"PK" and classes == {}
    assert b"Tensor" not in payload and b"GradientTape" not in payload


class Twice(ks.layers.Layer):
    def call(self, inputs):
        return inputs * 2


def test_an_unregistered_custom_layer_travels_with_the_model():
    inputs = ks.Input((3,))
    model = ks.Model(inputs, ks.layers.Dense(2)(Twice()(inputs)))
    clone = pickle.loads(pickle.dumps(model))
    assert type(clone.layers[1]) is Twice
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_an_unbuilt_model_pickles_as_its_configuration():
    model = ks.Sequential([ks.layers.Dense(3, name="d")], name="later")
    clone = pickle.loads(pickle.dumps(model))
    assert not clone.built and clone.name == "later" and clone.layers[0].get_config()["units"] == 3


def test_copies_stay_copies_of_the_live_object():
    model = _cnn()
    shallow, deep = copy.copy(model), copy.deepcopy(model)
    assert shallow.layers[1] is model.layers[1]
    assert deep.layers[1] is not model.layers[1]
    x = _digits(8)[0]
    np.testing.assert_array_equal(deep.predict(x, verbose=0), model.predict(x, verbose=0))


# ------------------------------------------------------------------ on the cluster
def test_grid_search_on_the_cluster_equals_the_local_one(client):
    x, y = _digits(160)
    x = x.reshape(len(x), -1)
    grid = {"hidden_layer_sizes": [(16,), (32,)], "learning_rate": [0.003, 0.01]}
    estimator = NeuralNetClassifier(epochs=4, batch_size=32, random_state=0)
    local = GridSearchCV(estimator, grid, cv=2, n_jobs=1).fit(x, y)
    with joblib.parallel_backend("dask"):
        remote = GridSearchCV(estimator, grid, cv=2, n_jobs=-1).fit(x, y)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(remote.predict(x), local.predict(x))


def test_distributed_prediction_equals_local_prediction(client):
    x, y = _digits(200)
    model = _cnn()
    model.fit(x, y, epochs=1, verbose=0)
    lazy = ks.dask.predict(model, da.from_array(x, chunks=(48, 8, 8, 1)), batch_size=16)
    assert lazy.shape == (200, 10) and lazy.chunks[0] == (48, 48, 48, 48, 8)
    np.testing.assert_allclose(lazy.compute(), model.predict(x, batch_size=16, verbose=0), rtol=1e-5, atol=1e-6)


def test_distributed_features_equal_the_local_transformer(client):
    x, _ = _digits(100)
    model = _cnn()
    extractor = ks.sklearn.FeatureExtractor(model, layer=model.layers[0].name, pooling="max")
    lazy = ks.dask.feature_extract(model, da.from_array(x, chunks=(30, 8, 8, 1)), layer=model.layers[0].name,
                                   pooling="max")
    np.testing.assert_allclose(lazy.compute(), extractor.fit(x).transform(x), rtol=1e-5, atol=1e-6)


def test_a_worker_killed_mid_job_is_replaced_and_the_result_is_complete(client):
    ks.utils.set_random_seed(1)
    model = ks.Sequential([ks.Input((32, 32, 3)), ks.layers.Conv2D(32, 3, activation="relu"),
                           ks.layers.Conv2D(32, 3, activation="relu"), ks.layers.GlobalAveragePooling2D(),
                           ks.layers.Dense(4)])
    x = np.random.default_rng(0).random((640, 32, 32, 3), dtype=np.float32)
    future = client.compute(ks.dask.predict(model, da.from_array(x, chunks=(32, 32, 32, 3))))
    deadline = time.monotonic() + 60
    while not any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    busy = [addr for addr, keys in client.processing().items() if keys]
    assert busy, "no task started within a minute"
    pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
    os.kill(pid, signal.SIGKILL)
    result = future.result(timeout=300)
    np.testing.assert_allclose(result, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_an_image_folder_is_read_lazily_per_partition(client, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
        for i in range(5):
            Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)).save(tmp_path / name / f"{i}.png")
    images, labels, names = ks.dask.image_folder(tmp_path, image_size=(12, 10), partition_size=4)
    assert names == ["cat", "dog"] and labels.tolist() == [0] * 5 + [1] * 5
    assert images.shape == (10, 12, 10, 3) and images.chunks[0] == (4, 4, 2)
    direct = np.stack([np.asarray(Image.open(tmp_path / n / f"{i}.png"), np.float32)
                       for n in names for i in range(5)])
    np.testing.assert_array_equal(client.compute(images).result(), direct)


# ------------------------------------------------------------------ errors
def test_bad_arguments_are_named(tmp_path):
    model = _cnn()
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
        ks.dask.predict(model, np.zeros((4, 8, 8, 1), np.float32), batch_size=0)
    with pytest.raises(ValueError, match="`model` must be a built kernelscope model"):
        ks.dask.predict(ks.Sequential([ks.layers.Dense(2)]), np.zeros((4, 3), np.float32))
    with pytest.raises(TypeError, match="`client` must be a distributed.Client"):
        ks.dask.predict(model, np.zeros((4, 8, 8, 1), np.float32), client="tcp://x")
    with pytest.raises(ValueError, match="No images found"):
        ks.dask.image_folder(tmp_path, image_size=(4, 4))
    with pytest.raises(ValueError, match="`partition_size` must be a positive integer"):
        ks.dask.image_folder(tmp_path, image_size=(4, 4), partition_size=0)
