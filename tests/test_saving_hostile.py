"""Hostile and damaged model files (issue 12 items 2, 5, 6, 12, 13): refused early, naming the file and the array.

Every hostile file is made here, small: a deflated member that inflates to 64 MiB, a
config asking for 10**12 units, weights of the wrong kind.
"""

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import kernelscope as ks
from native_format import save_native

L = ks.layers


def small_model(compile=True):
    ks.utils.set_random_seed(0)
    model = ks.Sequential([ks.Input((4,)), L.Dense(3, name="d1"), L.Dense(2, name="d2")])
    if compile:
        model.compile(ks.optimizers.Adam(0.01), "mse")
        model.fit(np.ones((4, 4), "float32"), np.zeros((4, 2), "float32"), epochs=1, verbose=0)
    return model


def archive_parts(path):
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        with np.load(io.BytesIO(archive.read("weights.npz"))) as npz:
            arrays = {key: npz[key] for key in npz.files}
    return config, arrays


def npz_bytes(arrays, compress=False):
    buffer = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def write_archive(path, config, weights: bytes, config_text=None):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", config_text if config_text is not None else json.dumps(config),
                         compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("weights.npz", weights, compress_type=zipfile.ZIP_DEFLATED)


def edited(tmp_path, name, edit_config=None, edit_arrays=None, compile=True):
    source = tmp_path / "good.keras"
    save_native(small_model(compile), source)
    config, arrays = archive_parts(source)
    if edit_config:
        edit_config(config)
    if edit_arrays:
        edit_arrays(arrays)
    path = tmp_path / name
    write_archive(path, config, npz_bytes(arrays))
    return path


# ------------------------------------------------------------------ item 2: failed loads change nothing
@pytest.mark.parametrize("bad", [np.array([["a", "b"]] * 3), np.full((3, 2), np.nan, "float32")])
def test_failed_load_weights_leaves_the_model_unchanged(tmp_path, bad):
    model = small_model(compile=False)
    path = tmp_path / "w.npz"
    model.save_weights(path)
    with np.load(path) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays["layers/d2/vars/0"] = bad  # the last layer's kernel: every layer before it would be overwritten
    arrays["layers/d1/vars/0"] = arrays["layers/d1/vars/0"] + 1
    np.savez(path, **arrays)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"w\.npz': weight 'layers/d2/vars/0' (has dtype <U1|holds NaN)"):
        model.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_set_weights_with_a_bad_array_changes_nothing():
    model = small_model(compile=False)
    before = [w.copy() for w in model.get_weights()]
    new = [w + 1 for w in before]
    new[-1] = np.array(["x", "y"])
    with pytest.raises(ValueError):
        model.set_weights(new)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


# ------------------------------------------------------------------ item 5: bombs are refused unread
def test_weights_member_inflating_far_beyond_the_architecture_is_refused(tmp_path):
    config, arrays = archive_parts(edited(tmp_path, "plain.keras"))
    arrays["model/layers/d1/vars/0"] = np.zeros(1 << 23)  # 64 MiB of zeros, deflated to ~70 kB
    bomb = npz_bytes(arrays, compress=True)
    path = tmp_path / "bomb.keras"
    write_archive(path, config, bomb)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("weights.npz").file_size < (1 << 20)  # the inner member holds the bomb
    with pytest.raises(ValueError, match=r"bomb\.keras' is refused: array 'model/layers/d1/vars/0' declares "
                                         r"67,108,\d+ bytes, more than its expected shape \(4, 3\)"):
        ks.models.load_model(path)


def test_outer_weights_member_declaring_more_than_the_architecture_needs(tmp_path):
    config, _ = archive_parts(edited(tmp_path, "plain.keras"))
    path = tmp_path / "big.keras"
    write_archive(path, config, bytes(16 << 20))  # 16 MiB of zeros, deflated to ~16 kB
    with pytest.raises(ValueError, match=r"big\.keras' is refused: its weights\.npz declares 16,777,216 bytes "
                                         r"uncompressed, more than the model's weights"):
        ks.models.load_model(path)


def test_config_bomb_is_refused_unread(tmp_path):
    good = tmp_path / "good.keras"
    save_native(small_model(), good)
    config, arrays = archive_parts(good)
    path = tmp_path / "cfg.keras"
    write_archive(path, config, npz_bytes(arrays), config_text=json.dumps(config) + " " * (65 << 20))
    with pytest.raises(ValueError, match=r"cfg\.keras' is refused: its config\.json declares 68,[\d,]+ bytes "
                                         r"uncompressed, more than the 64 MiB cap"):
        ks.models.load_model(path)


def test_npy_header_declaring_a_huge_array_is_refused_before_reading(tmp_path):
    model = small_model(compile=False)
    path = tmp_path / "w.npz"
    model.save_weights(path)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                   "shape": (60000, 60000)})
    with np.load(path) as loaded:
        arrays = {key: loaded[key] for key in loaded.files}
    with zipfile.ZipFile(path, "w") as npz:
        for key, value in arrays.items():
            if key == "layers/d1/vars/0":
                npz.writestr(key + ".npy", header.getvalue())  # 28.8 GB announced, 128 bytes present
            else:
                buffer = io.BytesIO()
                np.save(buffer, value)
                npz.writestr(key + ".npy", buffer.getvalue())
    with pytest.raises(ValueError, match=r"w\.npz': array 'layers/d1/vars/0' has shape \(60000, 60000\), but "
                                         r"the model expects \(4, 3\)"):
        model.load_weights(path)


# ------------------------------------------------------------------ item 6: huge layers are not allocated
@pytest.mark.parametrize("units", [10**12, 10**7])
def test_config_asking_for_huge_weights_is_refused_before_allocating(tmp_path, units):
    def grow(config):
        config["model"]["config"]["layers"][1]["config"]["units"] = units

    path = edited(tmp_path, "huge.keras", edit_config=grow, compile=False)
    with pytest.raises(ValueError, match=r"huge\.keras' is refused: its config asks for weight 'kernel' of layer "
                                         r"'d1' of shape \(4, 10+\).*Nothing was allocated"):
        ks.models.load_model(path)


def test_compressed_weights_count_for_at_most_100_times_their_size(tmp_path):
    # weights.npz inflates to 64 MiB (ratio ~1000): a config asking for a 64 MB kernel is refused before
    # it is allocated, although the declared size alone would allow it
    config, arrays = archive_parts(edited(tmp_path, "plain.keras", compile=False))
    config["model"]["config"]["layers"][1]["config"]["units"] = 4_000_000
    path = tmp_path / "zeros.keras"
    write_archive(path, config, npz_bytes({"model/filler": np.zeros(1 << 23)}))
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("weights.npz")
    assert info.file_size > 64_000_000 > 100 * info.compress_size
    with pytest.raises(ValueError, match=r"zeros\.keras' is refused: its config asks for weight 'kernel' of layer "
                                         r"'d1' of shape \(4, 4000000\)"):
        ks.models.load_model(path)


# ------------------------------------------------------------------ item 12: only finite real floats
@pytest.mark.parametrize("value, reason", [
    (np.ones((4, 3), np.complex64) * 1j, r"has dtype complex64; weights must be real floating-point"),
    (np.zeros((4, 3), "datetime64[s]"), r"has dtype datetime64\[s\]"),
    (np.full((4, 3), "1.5"), r"has dtype <U3"),
    (np.full((4, 3), np.inf, np.float32), r"holds NaN or infinite values in the file"),
    (np.full((4, 3), 1e300), r"holds NaN or infinite values once converted to float32"),
    (np.ones((4, 3), np.int64), r"has dtype int64"),
])
def test_weights_that_are_not_finite_real_floats_are_refused(tmp_path, value, reason):
    path = edited(tmp_path, "odd.keras", edit_arrays=lambda a: a.update({"model/layers/d1/vars/0": value}))
    with pytest.raises(ValueError, match=r"odd\.keras': weight 'model/layers/d1/vars/0' " + reason):
        ks.models.load_model(path)


# ------------------------------------------------------------------ item 13: clear errors naming the file
def test_unsupported_constraint_names_the_file(tmp_path):
    def constrain(config):
        config["model"]["config"]["layers"][1]["config"]["kernel_constraint"] = {"class_name": "NonNeg",
                                                                                  "config": {}}

    path = edited(tmp_path, "nonneg.keras", edit_config=constrain)
    with pytest.raises(ValueError, match=r"Cannot rebuild the model in '.*nonneg\.keras': `kernel_constraint` "
                                         r"is not supported"):
        ks.models.load_model(path)


def test_compile_config_without_optimizer(tmp_path):
    path = edited(tmp_path, "noopt.keras", edit_config=lambda c: c["compile_config"].pop("optimizer"))
    with pytest.raises(ValueError, match=r"noopt\.keras' has an invalid compile_config: .* it lacks "
                                         r"\['optimizer'\]\. Load it with compile=False"):
        ks.models.load_model(path)
    assert ks.models.load_model(path, compile=False).count_params() == 23


def test_optimizer_state_of_the_wrong_shape(tmp_path):
    path = edited(tmp_path, "state.keras", edit_arrays=lambda a: a.update({"optimizer/iterations": np.ones(3)}))
    with pytest.raises(ValueError, match=r"state\.keras': array 'optimizer/iterations' has shape \(3,\), but the "
                                         r"model expects \(\)"):
        ks.models.load_model(path)


@pytest.mark.parametrize("edit, error, match", [
    (lambda c: c["compile_config"].update(loss={"class_name": "NoSuchLoss", "config": {}}), ValueError,
     r"Cannot restore the compile settings in '.*loss\.keras': Unknown loss class: 'NoSuchLoss'"),
    (lambda c: c["compile_config"]["optimizer"]["config"].update(learning_rate=-1.0), ValueError,
     r"Cannot restore the compile settings in '.*loss\.keras': .*learning_rate` must be >= 0"),
])
def test_bad_loss_or_learning_rate_names_the_file(tmp_path, edit, error, match):
    path = edited(tmp_path, "loss.keras", edit_config=edit)
    with pytest.raises(error, match=match):
        ks.models.load_model(path)


@pytest.mark.parametrize("cut", [22, 60, 100])
def test_file_missing_its_last_bytes_is_called_truncated(tmp_path, cut):
    path = tmp_path / "cut.keras"
    save_native(small_model(), path)
    path.write_bytes(path.read_bytes()[:-cut])
    with pytest.raises(ValueError, match=r"cut\.keras' is not a kernelscope model file that can be read: it is "
                                         r"truncated"):
        ks.models.load_model(path)


# ------------------------------------------------------------------ item 8: only regular files
def test_fifo_and_device_model_paths_fail_fast(tmp_path):
    fifo = tmp_path / "pipe.keras"
    import os

    os.mkfifo(fifo)
    code = ("import sys, kernelscope as ks\n"
            "for p in sys.argv[1:]:\n"
            "    try:\n        ks.models.load_model(p)\n"
            "    except ValueError as e:\n        print(e)\n")
    # a subprocess with a timeout: before the fix the FIFO blocks open() forever and /dev/zero reads forever
    done = subprocess.run([sys.executable, "-c", code, str(fifo), "/dev/zero"], capture_output=True, text=True,
                          timeout=120)
    assert "pipe.keras' is not a regular file (a FIFO, device or socket)" in done.stdout, done.stderr
    assert "'/dev/zero' is not a regular file" in done.stdout, done.stderr
