"""``kernelscope detect``: a hand-made bright-square detector over a scene with two squares."""

import csv
import json

import numpy as np
import pytest
from PIL import Image

import kernelscope as ks
from kernelscope.cli import main


@pytest.fixture()
def files(tmp_path):
    """A saved tile classifier that scores an 8x8 tile by its mean brightness, and a scene with two squares."""
    model = ks.Sequential([ks.Input((8, 8, 1)), ks.layers.Rescaling(1 / 255), ks.layers.Flatten(),
                           ks.layers.Dense(1, activation="sigmoid")])
    model.layers[-1].set_weights([np.full((64, 1), 20 / 64, np.float32), np.array([-10.0], np.float32)])
    model.save(tmp_path / "bright.keras")
    scene = np.zeros((40, 60), np.uint8)
    scene[8:16, 12:20] = 255
    scene[24:32, 40:48] = 255
    Image.fromarray(scene).save(tmp_path / "scene.png")
    return tmp_path


@pytest.mark.parametrize("fully_convolutional", [False, True])
def test_detect_writes_the_boxes_and_the_picture(files, capsys, fully_convolutional):
    out = files / "found.png"
    argv = ["detect", str(files / "bright.keras"), str(files / "scene.png"), "--strides", "4", "--iou", "0.1",
            "--threshold", "0.9", "--out", str(out)] + (["--fully-convolutional"] if fully_convolutional else [])
    assert main(argv) == 0
    assert "2 boxes in" in capsys.readouterr().out
    boxes = json.loads(out.with_suffix(".json").read_text())["boxes"]
    assert sorted([b["x1"], b["y1"], b["x2"], b["y2"]] for b in boxes) == [[12, 8, 20, 16], [40, 24, 48, 32]]
    assert all(b["score"] > 0.99 for b in boxes)
    with open(out.with_suffix(".csv"), newline="") as f:
        assert len(list(csv.DictReader(f))) == 2
    picture = np.asarray(Image.open(out))
    assert picture.shape == (40, 60, 3) and picture[8, 14].tolist() == [255, 0, 0]


def test_detect_usage_errors(files, capsys):
    model, scene = str(files / "bright.keras"), str(files / "scene.png")
    assert main(["detect", model, scene, "--window", "80", "--out", str(files / "x.png")]) == 2
    assert "`window` must fit in the scene" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["detect", model, scene, "--iou", "1.5"])
    assert stopped.value.code == 2
    assert main(["detect", model, str(files / "missing.png")]) == 1
    assert "image file not found" in capsys.readouterr().err
    assert main(["detect", model, scene, "--strides", "3", "--fully-convolutional",
                 "--out", str(files / "x.png")]) == 0  # the model's stride is 1: any stride divides
