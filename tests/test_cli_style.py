"""``kernelscope style``: content and style files in, a stylised PNG out."""

import numpy as np
import pytest
from PIL import Image

import kernelscope as ks
from kernelscope.cli import main


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(tmp_path / "content.png")
    Image.fromarray(rng.integers(0, 256, (30, 20, 3), dtype=np.uint8)).save(tmp_path / "style.jpg")
    ks.generative.small_vgg().save(tmp_path / "small.keras")
    return tmp_path


def _run(files, *options):
    return main(["style", str(files / "content.png"), str(files / "style.jpg"), *options])


def test_style_with_a_saved_model_writes_the_image_and_the_intermediates(files, capsys):
    out = files / "out.png"
    assert _run(files, "--model", str(files / "small.keras"), "--steps", "20", "--size", "32", "--style-weight", "1",
                "--optimizer", "adam", "--save-every", "10", "--out", str(out), "--quiet") == 0
    text = capsys.readouterr().out
    assert "43x32 pixels, 20 steps through small_vgg" in text and f"Image: {out}" in text
    first, last = (float(v) for v in text.split("Loss ")[1].split(". Image")[0].split(" -> "))
    assert last < 0.5 * first
    image = np.asarray(Image.open(out))
    assert image.shape == (32, 43, 3) and image.dtype == np.uint8
    assert (files / "out_at_iteration_10.png").is_file()
    assert not (files / "out_at_iteration_20.png").exists()  # the last step is the result itself


def test_style_with_keras_vgg19_weights(files, capsys):
    weights = files / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
    _write_legacy_h5(ks.applications.VGG19(include_top=False, weights=None), weights)
    out = files / "vgg.png"
    assert _run(files, "--weights", str(weights), "--steps", "1", "--size", "16", "--out", str(out), "--quiet") == 0
    assert "21x16 pixels, 1 steps through vgg19" in capsys.readouterr().out
    assert np.asarray(Image.open(out)).shape == (16, 21, 3)


def _write_legacy_h5(model, path):
    """The layout of Keras's download (legacy HDF5: layer_names, then weight_names per layer), random values."""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([layer.name.encode() for layer in model.layers], dtype="S")
        for layer in model.layers:
            group = f.create_group(layer.name)
            names = [f"{layer.name}/{w.name}:0" for w in layer.weights]
            group.attrs["weight_names"] = np.array([n.encode() for n in names], dtype="S")
            for name, w in zip(names, layer.weights):
                group[name] = w.numpy()


def test_style_small_vgg_is_built_in(files, capsys):
    assert _run(files, "--model", "small-vgg", "--steps", "2", "--size", "16", "--out", str(files / "s.png"),
                "--quiet") == 0
    assert "2 steps through small_vgg" in capsys.readouterr().out


def test_style_needs_exactly_one_network(files, capsys):
    assert _run(files, "--steps", "1") == 2
    assert "give the network: --weights vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5" in capsys.readouterr().err
    assert _run(files, "--weights", "a.h5", "--model", "b.keras") == 2


def test_style_reports_a_missing_weight_file(files, capsys):
    assert _run(files, "--weights", str(files / "absent.h5")) == 1
    assert "weight file not found" in capsys.readouterr().err


def test_style_reports_divergence_with_the_option_to_change(files, capsys):
    assert _run(files, "--model", str(files / "small.keras"), "--steps", "20", "--size", "16", "--style-weight",
                "1", "--learning-rate", "1e6", "--quiet") == 1
    assert "; lower --learning-rate" in capsys.readouterr().err


def test_style_checks_the_output_path_before_running(files, capsys):
    assert _run(files, "--model", "small-vgg", "--out", str(files / "result")) == 2
    assert "--out must name an image file (.png, .jpg, ...)" in capsys.readouterr().err
    assert _run(files, "--model", "small-vgg", "--out", str(files / "absent" / "out.png")) == 1
    assert "folder" in capsys.readouterr().err


def test_style_refuses_negative_weights(files, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _run(files, "--model", str(files / "small.keras"), "--style-weight", "-1")
    assert exit_info.value.code == 2
    assert "--style-weight: must be a number >= 0, got -1" in capsys.readouterr().err
