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


def test_train_task_tiles_then_detect_with_the_saved_model(tmp_path, capsys):
    out = tmp_path / "tiles"
    assert main(["train", "--task", "tiles", "--epochs", "2", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "Held-out tiles (600): accuracy" in text and "AP@0.5" in text
    assert (out / "model.keras").is_file() and np.asarray(Image.open(out / "examples.png")).shape[2] == 3
    scenes, _ = ks.datasets.make_digit_scenes(1, 48, digits_per_scene=2, digit_size=(16, 20), seed=0, subset="test")
    Image.fromarray((scenes[0, ..., 0] * 255).astype(np.uint8)).save(tmp_path / "scene.png")
    assert main(["detect", str(out / "model.keras"), str(tmp_path / "scene.png"), "--strides", "4",
                 "--fully-convolutional", "--out", str(tmp_path / "found.png")]) == 0
    assert "boxes in" in capsys.readouterr().out


def test_train_task_localization_reports_iou_and_draws_examples(tmp_path, capsys):
    out = tmp_path / "loc"
    assert main(["train", "--task", "localization", "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "mean IoU" in text and "class accuracy" in text and "AP@0.5" in text
    model = ks.models.load_model(out / "model.keras")
    assert model.output.shape == (None, 15) and (out / "examples.png").is_file()


def test_train_task_tiles_on_a_shipsnet_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 100, (20, 80, 80, 3), dtype=np.uint8)
    labels = np.arange(20) % 2
    images[labels == 1, 30:50, 30:50] = 250                 # "ships": a bright blob in the middle
    planes = images.transpose(0, 3, 1, 2).reshape(20, -1)
    (tmp_path / "shipsnet.json").write_text(json.dumps({"data": planes.tolist(), "labels": labels.tolist()}))
    out = tmp_path / "ships"
    assert main(["train", "--task", "tiles", "--data", str(tmp_path / "shipsnet.json"), "--epochs", "1",
                 "--validation-split", "0", "--out", str(out), "--quiet"]) == 0
    assert "Held-out tiles (4): accuracy" in capsys.readouterr().out
    assert ks.models.load_model(out / "model.keras").inputs[0].shape == (None, 80, 80, 3)


def test_train_task_usage_errors(tmp_path, capsys):
    assert main(["train", "--task", "localization", "--data", "mnist", "--out", str(tmp_path / "a")]) == 2
    assert "--task localization trains on synthetic digit scenes: --data must be digits" in capsys.readouterr().err
    assert main(["train", "--task", "tiles", "--model", "lenet5", "--out", str(tmp_path / "b")]) == 2
    assert "--model does not apply to --task tiles" in capsys.readouterr().err
