"""Hostile, damaged and unmappable Keras-format files: refused early, naming the file, the layer or the array.

The guarantees of the earlier kernelscope format hold for ``.keras`` / ``.weights.h5``: sizes
checked before reading, nothing unpickled or run (safe_mode), HDF5 external storage refused, a
failed load changes nothing. Every hostile file is made here, small.
"""

import io
import json
import zipfile

import h5py
import numpy as np
import pytest

import kernelscope as ks

L = ks.layers


def small_model():
    ks.utils.set_random_seed(0)
    model = ks.Sequential([ks.Input((4,)), L.Dense(3, name="d1"), L.BatchNormalization(name="bn"),
                           L.Dense(2, name="d2")])
    model.compile(ks.optimizers.Adam(0.01), "mse")
    model.fit(np.ones((4, 4), "float32"), np.zeros((4, 2), "float32"), epochs=1, verbose=0)
    return model


def parts(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json")), archive.read("model.weights.h5")


def write(path, config, weights: bytes, compress=zipfile.ZIP_STORED, config_text=None):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", "{}")
        archive.writestr("config.json", config_text or json.dumps(config), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("model.weights.h5", weights, compress_type=compress)
    return path


def edit_h5(weights: bytes, edit) -> bytes:
    buffer = io.BytesIO(weights)
    with h5py.File(buffer, "r+") as handle:
        edit(handle)
    return buffer.getvalue()


def layer_config(config, name):
    return next(l for l in config["config"]["layers"] if l["config"]["name"] == name)


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.keras"
    small_model().save(path)
    return path


# ------------------------------------------------------------------ sizes checked before reading
def test_config_asking_for_huge_weights_is_refused_before_allocating(good, tmp_path):
    config, weights = parts(good)
    layer_config(config, "d1")["config"]["units"] = 10**9
    path = write(tmp_path / "huge.keras", config, weights)
    with pytest.raises(ValueError, match=r"huge\.keras' is refused: its config asks for .* of shape \(4, "
                                         r"1000000000\).*Nothing was allocated"):
        ks.models.load_model(path)


def test_weights_member_inflating_beyond_the_architecture_is_refused_unread(good, tmp_path):
    config, _ = parts(good)
    path = write(tmp_path / "bomb.keras", config, bytes(64 << 20), compress=zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match=r"bomb\.keras' is refused: its model\.weights\.h5 declares 67,108,864 "
                                         r"bytes uncompressed, more than the model's weights"):
        ks.models.load_model(path)


def test_config_bomb_is_refused_unread(good, tmp_path):
    _, weights = parts(good)
    path = write(tmp_path / "cfg.keras", None, weights, config_text=" " * (65 << 20))
    with pytest.raises(ValueError, match=r"cfg\.keras' is refused: its config\.json declares 68,157,440 bytes"):
        ks.models.load_model(path)


def test_truncated_keras_file(good, tmp_path):
    path = tmp_path / "cut.keras"
    path.write_bytes(good.read_bytes()[:-100])
    with pytest.raises(ValueError, match=r"cut\.keras' is not a kernelscope model file that can be read: it is "
                                         r"truncated"):
        ks.models.load_model(path)


# ------------------------------------------------------------------ arrays checked before assigning
def test_external_storage_is_refused(good, tmp_path):
    config, weights = parts(good)
    (tmp_path / "secret.bin").write_bytes(np.arange(6, dtype="float32").tobytes())

    def external(handle):
        del handle["layers/dense/vars/1"]
        handle["layers/dense/vars"].create_dataset("1", shape=(3,), dtype="float32",
                                                   external=[(str(tmp_path / "secret.bin"), 0, 12)])

    path = write(tmp_path / "ext.keras", config, edit_h5(weights, external))
    with pytest.raises(ValueError, match=r"ext\.keras' is refused: the dataset '/layers/dense/vars/1' is stored "
                                         r"in external files"):
        ks.models.load_model(path)


def test_non_finite_weight_is_refused_and_load_weights_changes_nothing(good, tmp_path):
    config, weights = parts(good)

    def poison(handle):
        handle["layers/dense_1/vars/0"][0, 0] = np.nan

    path = write(tmp_path / "nan.keras", config, edit_h5(weights, poison))
    with pytest.raises(ValueError, match=r"nan\.keras': weight '/layers/dense_1/vars/0 \(weight 'kernel' of "
                                         r"layer 'd2'\)' holds NaN"):
        ks.models.load_model(path)
    model = small_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match="holds NaN"):
        model.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_optimizer_state_of_the_wrong_shape(good, tmp_path):
    config, weights = parts(good)

    def reshape(handle):
        del handle["optimizer/vars/2"]
        handle["optimizer/vars"].create_dataset("2", data=np.zeros((5, 5), "float32"))

    path = write(tmp_path / "opt.keras", config, edit_h5(weights, reshape))
    with pytest.raises(ValueError, match=r"opt\.keras': optimizer variable '/optimizer/vars/2' \(m/0\) has shape "
                                         r"\(5, 5\), but the model's optimizer expects \(4, 3\)"):
        ks.models.load_model(path)
    assert ks.models.load_model(path, compile=False).compiled is False


# ------------------------------------------------------------------ what kernelscope cannot map
def test_a_layer_kernelscope_lacks_is_named(good, tmp_path):
    config, weights = parts(good)
    layer_config(config, "d2")["class_name"] = "LSTM"
    path = write(tmp_path / "lstm.keras", config, weights)
    with pytest.raises(ValueError, match=r"lstm\.keras': Unknown layer class 'LSTM' \(layer 'd2'\): kernelscope "
                                         r"has no such layer"):
        ks.models.load_model(path)


def test_a_keras_argument_kernelscope_lacks_is_named(good, tmp_path):
    config, weights = parts(good)
    layer_config(config, "bn")["config"].update(renorm=True, renorm_clipping=None, renorm_momentum=0.9)
    path = write(tmp_path / "renorm.keras", config, weights)
    with pytest.raises(ValueError, match=r"renorm\.keras': Layer 'bn' \(BatchNormalization\): BatchNormalization "
                                         r"got unexpected keyword argument\(s\): renorm, "
                                         r"renorm_momentum"):
        ks.models.load_model(path)


def test_a_mixed_precision_policy_is_refused(good, tmp_path):
    config, weights = parts(good)
    layer_config(config, "d1")["config"]["dtype"] = {"module": "keras", "class_name": "DTypePolicy",
                                                     "config": {"name": "mixed_float16"}, "registered_name": None}
    path = write(tmp_path / "mixed.keras", config, weights)
    with pytest.raises(ValueError, match=r"Layer 'd1' \(Dense\) uses the dtype policy DTypePolicy\('mixed_float16'\)"):
        ks.models.load_model(path)


def test_lambda_bytecode_needs_safe_mode_false(tmp_path):
    model = ks.Sequential([ks.Input((3,)), L.Lambda(lambda t: t * 2.0 + 1.0)])
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match=r"lambda\.keras'.*Python lambda.*safe_mode=False"):
        ks.models.load_model(tmp_path / "lambda.keras")
    loaded = ks.models.load_model(tmp_path / "lambda.keras", safe_mode=False)
    np.testing.assert_array_equal(loaded.predict(np.ones((1, 3)), verbose=0), [[3.0, 3.0, 3.0]])


def test_keras_npz_weights_format_is_refused(good, tmp_path):
    config, weights = parts(good)
    path = tmp_path / "npz.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.npz", b"")
    with pytest.raises(ValueError, match=r"npz\.keras' holds config\.json but not model\.weights\.h5"):
        ks.models.load_model(path)


# ------------------------------------------------------------------ files named for their format
def test_model_checkpoint_writes_what_its_file_name_says(tmp_path):
    model = small_model()
    x, y = np.ones((4, 4), "float32"), np.zeros((4, 2), "float32")
    callbacks = [ks.callbacks.ModelCheckpoint(str(tmp_path / "m.keras")),
                 ks.callbacks.ModelCheckpoint(str(tmp_path / "w.weights.h5"), save_weights_only=True),
                 ks.callbacks.ModelCheckpoint(str(tmp_path / "w.npz"), save_weights_only=True)]
    model.fit(x, y, epochs=1, verbose=0, callbacks=callbacks)
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert "model.weights.h5" in archive.namelist()
    with h5py.File(tmp_path / "w.weights.h5") as handle:
        assert sorted(handle["layers"]) == ["batch_normalization", "dense", "dense_1"]
    for name in ("m.keras", "w.weights.h5", "w.npz"):
        twin = ks.Sequential.from_config(model.get_config())
        twin.load_weights(tmp_path / name)
        assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights()))
    with pytest.raises(ValueError, match=r"does not write legacy HDF5 model files.*Received: filepath=m\.h5"):
        ks.callbacks.ModelCheckpoint("m.h5")
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`.*Received: filepath=m\.keras"):
        ks.callbacks.ModelCheckpoint("m.keras", save_weights_only=True)
    with pytest.raises(ValueError, match=r"must end in `\.keras` \(Keras model format\). Received: filepath=m\.zip"):
        ks.callbacks.ModelCheckpoint("m.zip")
