"""model.save / ks.models.load_model, save_weights / load_weights: round trips, atomicity, bad files."""

import json
import os
import zipfile

import numpy as np
import pytest

import kernelscope as ks
from native_format import save_native
from kernelscope.saving import keras_file as saving_impl

L = ks.layers


def trained_model():
    ks.utils.set_random_seed(0)
    model = ks.Sequential([ks.Input((6, 6, 1)), L.Conv2D(4, 3, activation="relu"), L.MaxPool2D(2), L.Flatten(),
                           L.Dense(8, activation="relu"), L.BatchNormalization(), L.Dense(3, activation="softmax")])
    model.compile(ks.optimizers.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    x, y = dataset()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    return model


def dataset(seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((24, 6, 6, 1)).astype("float32"), rng.integers(0, 3, 24)


def test_roundtrip_predictions_compile_and_continued_training(tmp_path):
    model = trained_model()
    path = tmp_path / "net.keras"
    model.save(path)
    loaded = ks.models.load_model(path)
    x, y = dataset(1)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(loaded.optimizer).__name__ == "Adam" and loaded.optimizer.learning_rate == pytest.approx(0.01)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 6
    assert loaded.loss == "sparse_categorical_crossentropy"
    # training continues identically: same optimizer moments, same data order
    ks.utils.set_random_seed(9)
    h1 = model.fit(x, y, epochs=2, batch_size=8, verbose=0).history
    ks.utils.set_random_seed(9)
    h2 = loaded.fit(x, y, epochs=2, batch_size=8, verbose=0).history
    assert h1 == h2
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), loaded.get_weights()))


def test_file_layout(tmp_path):
    path = tmp_path / "net.keras"
    trained_model().save(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        config = json.loads(archive.read("config.json"))
    assert config["module"] == "keras" and config["class_name"] == "Sequential"
    assert [l["class_name"] for l in config["config"]["layers"]][:2] == ["InputLayer", "Conv2D"]
    assert config["config"]["layers"][1]["module"] == "keras.layers"
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    assert config["compile_config"]["metrics"] == ["accuracy"]


def test_save_needs_the_keras_extension(tmp_path):
    model = trained_model()
    with pytest.raises(ValueError, match=r"add a `\.keras` extension.*Received: filepath=.*net\.anything"):
        model.save(tmp_path / "net.anything")
    with pytest.raises(ValueError, match=r"legacy HDF5 format is not supported.*Received: filepath=.*net\.h5"):
        model.save(tmp_path / "net.h5")
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`.*or `\.npz`.*Received: filepath=.*w\.bin"):
        model.save_weights(tmp_path / "w.bin")
    assert os.listdir(tmp_path) == []


def test_functional_multi_output_roundtrip(tmp_path):
    a, b = ks.Input((3,), name="a"), ks.Input((3,), name="b")
    shared = L.Dense(4, name="shared")
    inner = ks.Sequential([ks.Input((4,)), L.Dense(2, name="inner_dense")], name="inner")
    out1 = inner(shared(a))
    out2 = L.Dense(1, name="o2")(L.Add()([shared(a), shared(b)]))
    model = ks.Model([a, b], [out1, out2])
    model.compile("sgd", loss=["mse", "mae"], loss_weights=[1.0, 0.3])
    path = tmp_path / "multi.keras"
    model.save(path)
    loaded = ks.models.load_model(path)
    x = [np.ones((2, 3)), np.arange(6.0).reshape(2, 3)]
    for got, want in zip(loaded.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_array_equal(got, want)
    assert loaded.count_params() == model.count_params()


@ks.saving.register_keras_serializable(package="Tests")
class ScaleLayer(L.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.scale = self.add_weight((input_shape[-1],), initializer="ones", name="scale")

    def call(self, inputs):
        return inputs * self.scale * self.factor

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_custom_layer_roundtrip(tmp_path):
    model = ks.Sequential([ks.Input((3,)), ScaleLayer(3.0, name="scale")])
    model.layers[0].set_weights([np.array([1.0, 2.0, 3.0])])
    path = tmp_path / "custom.keras"
    model.save(path)
    loaded = ks.models.load_model(path)
    assert isinstance(loaded.layers[0], ScaleLayer) and loaded.layers[0].factor == 3.0
    np.testing.assert_array_equal(loaded.predict(np.ones((1, 3)), verbose=0), [[3.0, 6.0, 9.0]])
    with zipfile.ZipFile(path) as archive:
        entry = json.loads(archive.read("config.json"))["config"]["layers"][1]
    assert entry["registered_name"] == "Tests>ScaleLayer"


def rewrite_config(src, dst, edit):
    with zipfile.ZipFile(src) as archive:
        config = json.loads(archive.read("config.json"))
        weights = archive.read("weights.npz")
    edit(config)
    with zipfile.ZipFile(dst, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("weights.npz", weights)


def test_unknown_layer_class_says_how_to_register(tmp_path):
    path = tmp_path / "m.keras"
    save_native(ks.Sequential([ks.Input((3,)), L.Dense(2)]), path)
    bad = tmp_path / "unknown.keras"
    rewrite_config(path, bad, lambda c: c["model"]["config"]["layers"][1].update(class_name="NoSuchLayer"))
    with pytest.raises(ValueError, match=r"unknown\.keras.*Unknown layer class 'NoSuchLayer'.*"
                                         r"register_keras_serializable"):
        ks.models.load_model(bad)


def test_atomic_save_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.keras"
    model = trained_model()
    model.save(path)
    before = path.read_bytes()

    def explode(*args):
        raise OSError("disk full")

    monkeypatch.setattr(saving_impl, "_write_archive", explode)
    model.fit(*dataset(), epochs=1, verbose=0)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.keras"]  # no temporary file left behind
    monkeypatch.undo()
    ks.models.load_model(path)


def test_text_file(tmp_path):
    path = tmp_path / "notes.keras"
    path.write_text("hello, I am not a model")
    with pytest.raises(ValueError, match=r"notes\.keras' is not a kernelscope model file: it is not a readable zip"):
        ks.models.load_model(path)


def test_truncated_file(tmp_path):
    path = tmp_path / "cut.keras"
    trained_model().save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.keras' is not a kernelscope model file"):
        ks.models.load_model(path)


def test_corrupted_weights(tmp_path):
    path = tmp_path / "flip.keras"
    save_native(trained_model(), path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("weights.npz")
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"flip\.keras' is corrupted or not a kernelscope file: weights\.npz"):
        ks.models.load_model(path)


def test_foreign_zip(tmp_path):
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("cat.txt", "meow")
    with pytest.raises(ValueError, match=r"photos\.zip' is a zip archive but not a kernelscope model file"):
        ks.models.load_model(path)


def test_keras_zip_without_a_model_config(tmp_path):
    path = tmp_path / "real.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("metadata.json", "{}")
        archive.writestr("model.weights.h5", b"")
    with pytest.raises(ValueError, match=r"real\.keras' is not a Keras model file: its config.json is not a "
                                         r"serialized model"):
        ks.models.load_model(path)


def test_wrong_format_name(tmp_path):
    path = tmp_path / "m.keras"
    save_native(ks.Sequential([ks.Input((3,)), L.Dense(2)]), path)
    other = tmp_path / "other.keras"
    rewrite_config(path, other, lambda c: c.update(format="something.else"))
    with pytest.raises(ValueError, match=r"other\.keras' is not a kernelscope model file: its config.json"):
        ks.models.load_model(other)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="File not found: filepath="):
        ks.models.load_model(tmp_path / "nothing.keras")


def test_save_and_load_weights(tmp_path):
    model = trained_model()
    twin = ks.Sequential.from_config(model.get_config())
    path = tmp_path / "w.npz"
    model.save_weights(path)
    twin.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights()))
    other = ks.Sequential([ks.Input((3,)), L.Dense(2)])
    with pytest.raises(ValueError, match=r"w\.npz' do not match model"):
        other.load_weights(path)
    whole = tmp_path / "whole.keras"
    model.save(whole)
    twin.set_weights([np.zeros_like(w) for w in twin.get_weights()])
    twin.load_weights(whole)  # the weights inside a full model file load too
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights()))


def test_pickled_npz_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"layers/dense/vars/0": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match=r"evil\.npz' is not a kernelscope weights file \(\.npz\)"):
        ks.Sequential([ks.Input((3,)), L.Dense(2, name="dense")]).load_weights(path)


def test_saving_never_imports_models_at_import_time():
    """models import saving; saving reaches models only inside functions (no import cycle)."""
    import ast
    import pathlib

    folder = pathlib.Path(ks.__file__).parent / "saving"
    for source in sorted(folder.glob("*.py")):
        tree = ast.parse(source.read_text())
        for node in tree.body:  # module level only
            if isinstance(node, ast.ImportFrom):
                assert "models" not in (node.module or "").split("."), f"{source.name} imports {node.module}"
                assert all(alias.name != "models" for alias in node.names), source.name
