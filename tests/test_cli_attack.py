"""``kernelscope explain attack MODEL IMAGE --eps E`` on the digits CNN of `kernelscope train`."""

import json
import pathlib

import numpy as np
import pytest
from PIL import Image

import kernelscope as ks
from kernelscope.cli import main
from kernelscope.cli.catalog import CommandError, UsageError, small_cnn

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "digits_small_cnn.npz"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """model.keras and classes.json as `kernelscope train` leaves them, and a held-out digit as a PNG."""
    folder = tmp_path_factory.mktemp("attack")
    model = small_cnn(ks, (8, 8, 1), 10)
    stored = np.load(FIXTURE)
    model.set_weights([stored[f"w{i}"] for i in range(len(stored.files))])
    model.save(str(folder / "model.keras"))
    (folder / "classes.json").write_text(json.dumps([f"digit {i}" for i in range(10)]))
    (_, _), (x_test, y_test) = ks.datasets.load_digits()
    Image.fromarray(np.rint(x_test[2, :, :, 0] * 255).astype(np.uint8)).save(folder / "three.png")
    assert y_test[2] == 3
    return folder


def test_attack_writes_the_triptych_and_prints_both_predictions(capsys, run_folder, tmp_path):
    out = tmp_path / "triptych.png"
    code = main(["explain", "attack", str(run_folder / "model.keras"), str(run_folder / "three.png"),
                 "--eps", "0.2", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "three.png: digit 3 (" in text and "(fooled; fgsm, eps 0.2 of 0..255)" in text
    assert f"Wrote {out}" in text
    with Image.open(out) as image:
        image.load()
        assert image.format == "PNG" and image.size[0] > 2 * image.size[1]  # three panels side by side


def test_targeted_pgd_and_the_default_output_name(capsys, run_folder, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["explain", "attack", str(run_folder / "model.keras"), str(run_folder / "three.png"),
                 "--eps", "0.3", "--method", "pgd", "--target", "8"])
    text = capsys.readouterr().out
    assert code == 0 and "-> digit 8 (" in text and (tmp_path / "three-attack.png").is_file()


def test_attack_errors(capsys, run_folder, tmp_path):
    model, image = str(run_folder / "model.keras"), str(run_folder / "three.png")
    with pytest.raises(SystemExit) as exit_info:
        main(["explain", "attack", model, image, "--eps", "1.5"])
    assert exit_info.value.code == 2
    assert "argument --eps: must be a fraction of the pixel range in [0, 1], got 1.5" in capsys.readouterr().err
    with pytest.raises(UsageError, match=r"--target must be a class number in \[0, 10\) for this model, got 10"):
        main(["explain", "attack", model, image, "--target", "10", "--debug"])
    with pytest.raises(CommandError, match="image file not found"):
        main(["explain", "attack", model, str(tmp_path / "none.png"), "--debug"])
    with pytest.raises(SystemExit) as exit_info:
        main(["explain", "attack", model, image, "--steps", "0", "--method", "pgd"])
    assert exit_info.value.code == 2
    assert "argument --steps: must be a positive integer, got 0" in capsys.readouterr().err
