"""Hostile and damaged Keras weight files (issue 12 items 2, 6, 7, 14): refused before any weight changes.

Files are written here with h5py by hand, in the Keras 3 layout ``layers/<class>/vars/<i>``
or the legacy layout (``layer_names`` / ``weight_names`` attributes).
"""

import zipfile

import h5py
import numpy as np
import pytest

import kernelscope as ks
from kernelscope import layers as L


def two_dense():
    ks.utils.set_random_seed(0)
    return ks.Sequential([ks.Input((4,)), L.Dense(3, name="first"), L.Dense(2, name="second")])


def keras3_file(path, last_kernel=None, **create):
    """A Keras 3 ``.weights.h5`` for :func:`two_dense`; ``last_kernel`` replaces the last layer's kernel."""
    rng = np.random.default_rng(1)
    with h5py.File(path, "w") as f:
        for group, (n_in, n_out) in (("dense", (4, 3)), ("dense_1", (3, 2))):
            f.create_dataset(f"layers/{group}/vars/0", data=rng.random((n_in, n_out), np.float32))
            f.create_dataset(f"layers/{group}/vars/1", data=rng.random(n_out, np.float32))
        if last_kernel is not None or create:
            del f["layers/dense_1/vars/0"]
            if last_kernel is not None:
                f["layers/dense_1/vars/0"] = last_kernel
            else:
                f.create_dataset("layers/dense_1/vars/0", **create)
    return path


def weights_of(model):
    return [w.copy() for w in model.get_weights()]


def assert_unchanged(model, before):
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


# ------------------------------------------------------------------ item 2: nothing half-assigned
@pytest.mark.parametrize("bad", [np.array([[b"ab", b"cd"]] * 3), np.array([["ab", "c"]] * 3, dtype=object)])
def test_string_dataset_of_the_right_shape_changes_nothing(tmp_path, bad):
    if bad.dtype == object:
        bad = bad.astype(h5py.string_dtype())
    path = keras3_file(tmp_path / "text.weights.h5", last_kernel=bad)
    model = two_dense()
    before = weights_of(model)
    with pytest.raises(ValueError, match=r"text\.weights\.h5': weight '/layers/dense_1/vars/0 \(weight 'kernel' of "
                                         r"layer 'second'\)' has dtype (\|S2|object)"):
        ks.interop.load_keras_weights(model, path)
    assert_unchanged(model, before)


def test_nan_dataset_changes_nothing(tmp_path):
    path = keras3_file(tmp_path / "nan.weights.h5", last_kernel=np.full((3, 2), np.nan, np.float32))
    model = two_dense()
    before = weights_of(model)
    with pytest.raises(ValueError, match=r"nan\.weights\.h5': weight .* holds NaN or infinite values"):
        ks.interop.load_keras_weights(model, path)
    assert_unchanged(model, before)


# ------------------------------------------------------------------ item 6: shapes checked before reading
def test_huge_dataset_is_not_read(tmp_path, monkeypatch):
    # 60000 x 60000 float32 declared (14.4 GB), never written: the file stays a few kB
    path = keras3_file(tmp_path / "huge.weights.h5", shape=(60000, 60000), dtype="float32")
    assert path.stat().st_size < 100_000
    reads = []
    original = h5py.Dataset.__getitem__
    monkeypatch.setattr(h5py.Dataset, "__getitem__", lambda self, key: reads.append(self.name) or original(self, key))
    with pytest.raises(ValueError, match=r"weight 'kernel' has shape \(3, 2\), but group 'layers/dense_1/vars' in "
                                         r"the file holds shape \(60000, 60000\)"):
        ks.interop.load_keras_weights(two_dense(), path)
    assert reads == []


def test_keras_zip_member_larger_than_the_model_can_take_is_refused(tmp_path):
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("model.weights.h5", bytes(257 << 20))  # 257 MiB of zeros, ~250 kB deflated
    assert path.stat().st_size < (2 << 20)
    with pytest.raises(ValueError, match=r"bomb\.keras' is refused: its model\.weights\.h5 declares 269,484,032 "
                                         r"bytes uncompressed, more than twice the model's weights"):
        ks.interop.load_keras_weights(two_dense(), path)


# ------------------------------------------------------------------ item 7: nothing from other files
def test_external_storage_is_refused(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(6, dtype="<f4").tobytes())
    path = keras3_file(tmp_path / "ext.weights.h5", shape=(3, 2), dtype="<f4", external=[(str(secret), 0, 24)])
    model = two_dense()
    before = weights_of(model)
    with pytest.raises(ValueError, match=r"ext\.weights\.h5' is refused: the dataset '/layers/dense_1/vars/0' is "
                                         r"stored in external files"):
        ks.interop.load_keras_weights(model, path)
    assert_unchanged(model, before)


def test_virtual_dataset_is_refused(tmp_path):
    source = keras3_file(tmp_path / "source.weights.h5")
    path = keras3_file(tmp_path / "virtual.weights.h5")
    layout = h5py.VirtualLayout(shape=(3, 2), dtype="float32")
    layout[:] = h5py.VirtualSource(str(source), "layers/dense_1/vars/0", shape=(3, 2))
    with h5py.File(path, "a") as f:
        del f["layers/dense_1/vars/0"]
        f.create_virtual_dataset("layers/dense_1/vars/0", layout)
    with pytest.raises(ValueError, match=r"virtual\.weights\.h5' is refused: the dataset '/layers/dense_1/vars/0' "
                                         r"is a virtual dataset"):
        ks.interop.load_keras_weights(two_dense(), path)


@pytest.mark.parametrize("where", ["layers/dense_1/vars/0", "layers"])
def test_external_link_is_refused(tmp_path, where):
    other = keras3_file(tmp_path / "other.weights.h5")
    path = keras3_file(tmp_path / "link.weights.h5")
    with h5py.File(path, "a") as f:
        del f[where]
        f[where] = h5py.ExternalLink(str(other), "/" + where)
    with pytest.raises(ValueError, match=r"link\.weights\.h5' is refused: '/layers(/dense_1/vars/0)?' is an "
                                         r"external link to another file"):
        ks.interop.load_keras_weights(two_dense(), path)


# ------------------------------------------------------------------ item 14: clear errors
def test_non_numeric_vars_keys(tmp_path):
    path = keras3_file(tmp_path / "names.weights.h5")
    with h5py.File(path, "a") as f:
        f["layers/dense_1/vars"].move("1", "bias")
    with pytest.raises(ValueError, match=r"names\.weights\.h5' is not a valid Keras weight file: group "
                                         r"'/layers/dense_1/vars' must hold datasets named 0, 1, 2, \.\.\. "
                                         r"Received: \['bias'\]"):
        ks.interop.load_keras_weights(two_dense(), path)


def test_vars_entry_that_is_a_group(tmp_path):
    path = keras3_file(tmp_path / "group.weights.h5")
    with h5py.File(path, "a") as f:
        del f["layers/dense_1/vars/0"]
        f.create_group("layers/dense_1/vars/0")
    with pytest.raises(ValueError, match=r"group\.weights\.h5' is not a valid Keras weight file: "
                                         r"'/layers/dense_1/vars/0' is a group, where a dataset of weights"):
        ks.interop.load_keras_weights(two_dense(), path)


def test_legacy_file_missing_a_dataset(tmp_path):
    path = tmp_path / "legacy.h5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"first", b"second"]
        for name, shape in (("first", (4, 3)), ("second", (3, 2))):
            group = f.create_group(name)
            group.attrs["weight_names"] = [f"{name}/kernel:0".encode(), f"{name}/bias:0".encode()]
            group.create_dataset(f"{name}/kernel:0", data=np.zeros(shape, np.float32))
        f["first"].create_dataset("first/bias:0", data=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"legacy\.h5' is incomplete: the dataset '/second/second/bias:0' is "
                                         r"missing"):
        ks.interop.load_keras_weights(two_dense(), path)


def test_directory_is_called_a_directory(tmp_path):
    folder = tmp_path / "weights.h5"
    folder.mkdir()
    with pytest.raises(ValueError, match=r"weights\.h5' is a directory; a Keras weight file must be a regular "
                                         r"file"):
        ks.interop.load_keras_weights(two_dense(), folder)
