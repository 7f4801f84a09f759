"""load_shipsnet on files written here in the real layout, load_scene, and the synthetic digit generators."""

import json

import numpy as np
import pytest

import kernelscope as ks


def write_shipsnet(path, images, labels, **extra):
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), -1)  # R plane, then G, then B, row-major
    path.write_text(json.dumps({"data": planes.tolist(), "labels": list(labels), **extra}))


def test_load_shipsnet_round_trips_the_real_layout(tmp_path):
    images = np.zeros((3, 80, 80, 3), np.uint8)
    images[0, 10:30, 40:60, 0] = 255                      # a red square in tile 0
    images[1] = np.random.default_rng(0).integers(0, 256, (80, 80, 3))
    write_shipsnet(tmp_path / "shipsnet.json", images, [1, 0, 1], locations=[[1.0, 2.0]] * 3,
                   scene_ids=["a", "b", "c"])
    loaded, labels, meta = ks.datasets.load_shipsnet(tmp_path / "shipsnet.json", with_metadata=True)
    np.testing.assert_array_equal(loaded, images)
    assert loaded[0, 20, 50].tolist() == [255, 0, 0]      # lands in channel 0
    assert labels.tolist() == [1, 0, 1] and labels.dtype == np.uint8
    assert meta["scene_ids"] == ["a", "b", "c"] and meta["locations"].shape == (3, 2)


def test_load_shipsnet_refuses_foreign_and_truncated_files(tmp_path):
    foreign = tmp_path / "other.json"
    foreign.write_text(json.dumps({"images": [], "labels": []}))
    with pytest.raises(ValueError, match=r"other.json' is not a shipsnet.json file: it has no 'data' key"):
        ks.datasets.load_shipsnet(foreign)
    foreign.write_text(json.dumps({"data": []}))
    with pytest.raises(ValueError, match=r"other.json' is not a shipsnet.json file: it has no 'labels' key"):
        ks.datasets.load_shipsnet(foreign)
    truncated = tmp_path / "cut.json"
    truncated.write_text(json.dumps({"data": [[0] * 19200], "labels": [1]})[:5000])
    with pytest.raises(ValueError, match=r"cut.json' is not a shipsnet.json file: it is not valid JSON"):
        ks.datasets.load_shipsnet(truncated)
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"data": [[0] * 19200, [0] * 100], "labels": [1, 0]}))
    with pytest.raises(ValueError, match=r"short.json': tile 1 of 'data' has 100 values; expected 19200"):
        ks.datasets.load_shipsnet(short)
    short.write_text(json.dumps({"data": [[0] * 19200], "labels": [1, 0]}))
    with pytest.raises(ValueError, match=r"'labels' must hold one non-negative integer per tile \(1\)"):
        ks.datasets.load_shipsnet(short)
    short.write_text(json.dumps([1, 2]))
    with pytest.raises(ValueError, match=r"expected a JSON object with keys 'data' and 'labels'"):
        ks.datasets.load_shipsnet(short)
    with pytest.raises(FileNotFoundError, match=r"No shipsnet file at"):
        ks.datasets.load_shipsnet(tmp_path / "missing.json")


def test_load_scene(tmp_path):
    from PIL import Image
    pixels = np.random.default_rng(0).integers(0, 256, (30, 50, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "scene.png")
    np.testing.assert_array_equal(ks.datasets.load_scene(tmp_path / "scene.png"), pixels)
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"bad.png' is not a readable image"):
        ks.datasets.load_scene(tmp_path / "bad.png")


def test_digit_scenes_place_digits_inside_their_boxes():
    images, annotations = ks.datasets.make_digit_scenes(20, scene_size=48, digits_per_scene=(1, 3),
                                                        digit_size=(10, 14), noise=0.0, seed=3)
    assert images.shape == (20, 48, 48, 1) and images.dtype == np.float32
    for image, item in zip(images, annotations):
        mask = np.zeros((48, 48), bool)
        for x1, y1, x2, y2 in item["boxes"].astype(int):
            assert 10 <= x2 - x1 <= 14 and x2 - x1 == y2 - y1
            mask[y1:y2, x1:x2] = True
        assert image[..., 0][~mask].max() == 0 and image[..., 0][mask].max() > 0.5  # ink only inside boxes
        if len(item["boxes"]) > 1:
            overlaps = ks.detection.iou(item["boxes"], item["boxes"])
            assert np.allclose(overlaps - np.eye(len(overlaps)), 0)
        assert set(item["labels"].tolist()) <= set(range(10))
    again, _ = ks.datasets.make_digit_scenes(20, scene_size=48, digits_per_scene=(1, 3), digit_size=(10, 14),
                                             noise=0.0, seed=3)
    np.testing.assert_array_equal(images, again)


def test_digit_tiles_are_balanced():
    tiles, labels = ks.datasets.make_digit_tiles(40, tile_size=20, seed=0)
    assert tiles.shape == (40, 20, 20, 1) and labels.sum() == 20


def test_digit_generator_errors():
    with pytest.raises(ValueError, match=r"`digit_size` must fit in the scene"):
        ks.datasets.make_digit_scenes(2, scene_size=16, digit_size=20)
    with pytest.raises(ValueError, match=r"`n` must be an integer >= 1"):
        ks.datasets.make_digit_scenes(0)
    with pytest.raises(ValueError, match=r"`subset` must be one of \['train', 'test'\]"):
        ks.datasets.make_digit_scenes(2, subset="valid")
    with pytest.raises(ValueError, match=r"`digits_per_scene` must be an integer >= 0 or a \(low, high\) pair"):
        ks.datasets.make_digit_scenes(2, digits_per_scene=(3, 1))
    with pytest.raises(ValueError, match=r"`digit_size` must fit in the tile"):
        ks.datasets.make_digit_tiles(2, tile_size=10, digit_size=12)
