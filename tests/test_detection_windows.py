"""Sliding windows, scan and fully_convolutional: brute-force crops, equal scores, the AP quality bar."""

import doctest
import importlib

import numpy as np
import pytest

import kernelscope as ks
from kernelscope.detection import (average_precision, detect, fully_convolutional, image_pyramid,
                                   network_stride, scan, sliding_windows)

fc_module = importlib.import_module("kernelscope.detection.fully_convolutional")
windows_module = importlib.import_module("kernelscope.detection.windows")


def test_doctests():
    assert doctest.testmod(fc_module).failed == 0
    assert doctest.testmod(windows_module).failed == 0


def test_sliding_windows_is_a_view_of_every_crop():
    scene = np.random.default_rng(0).uniform(size=(13, 17, 3))
    windows, boxes = sliding_windows(scene, (4, 5), strides=(3, 2))
    assert np.shares_memory(windows, scene)
    assert windows.shape == (4, 7, 4, 5, 3) and boxes.shape == (4, 7, 4)
    for r in range(4):
        for c in range(7):
            np.testing.assert_array_equal(windows[r, c], scene[3 * r:3 * r + 4, 2 * c:2 * c + 5])
            assert boxes[r, c].tolist() == [2 * c, 3 * r, 2 * c + 5, 3 * r + 4]


def test_bad_windows_and_strides():
    scene = np.zeros((10, 12))
    with pytest.raises(ValueError, match=r"`window` must fit in the scene. Received: window=\(11, 3\)"):
        sliding_windows(scene, (11, 3))
    with pytest.raises(ValueError, match=r"`strides` must be >= 1. Received: strides=0"):
        sliding_windows(scene, 3, strides=0)
    with pytest.raises(ValueError, match=r"`scene` must be \(height, width\) or \(height, width, channels\)"):
        sliding_windows(np.zeros(5), 3)


def tile_model(seed=0, head="flatten", units=1, activation="sigmoid"):
    ks.utils.set_random_seed(seed)
    body = [ks.Input((12, 12, 2)), ks.layers.Conv2D(4, 3, activation="relu"), ks.layers.BatchNormalization(),
            ks.layers.MaxPooling2D(2), ks.layers.Conv2D(6, 2, strides=1, activation="relu"),
            ks.layers.AveragePooling2D(2)]
    if head == "flatten":
        body += [ks.layers.Flatten(), ks.layers.Dropout(0.3), ks.layers.Dense(5, activation="relu")]
    else:
        body += [ks.layers.GlobalAveragePooling2D()]
    model = ks.Sequential(body + [ks.layers.Dense(units, activation=activation)])
    bn = model.layers[1]
    rng = np.random.default_rng(seed)
    bn.set_weights([rng.uniform(0.5, 2, 4), rng.normal(size=4), rng.normal(size=4), rng.uniform(0.5, 2, 4)])
    return model


def test_scan_scores_equal_the_model_on_each_crop():
    model = tile_model()
    scene = np.random.default_rng(1).uniform(size=(30, 41, 2)).astype(np.float32)
    found = scan(model, scene, strides=(4, 8), batch_size=7)
    crops = np.stack([scene[y1:y2, x1:x2] for x1, y1, x2, y2 in found.boxes.astype(int)])
    np.testing.assert_allclose(found.scores, model.predict(crops, verbose=0)[:, 0], rtol=1e-5, atol=1e-6)
    assert found.score_map.shape == ((30 - 12) // 4 + 1, (41 - 12) // 8 + 1)


@pytest.mark.parametrize("head, units, activation", [("flatten", 1, "sigmoid"), ("gap", 3, "softmax"),
                                                     ("flatten", 2, None)])
@pytest.mark.parametrize("strides", [4, (8, 12)])
def test_fully_convolutional_scores_equal_scan(head, units, activation, strides):
    model = tile_model(head=head, units=units, activation=activation)
    assert network_stride(model) == (4, 4)
    scene = np.random.default_rng(2).uniform(size=(37, 50, 2)).astype(np.float32)
    index = None if units == 1 else units - 1
    windows = scan(model, scene, strides=strides, class_index=index)
    convolutional = scan(model, scene, strides=strides, class_index=index, method="fully_convolutional")
    np.testing.assert_allclose(convolutional.score_map, windows.score_map, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(convolutional.boxes, windows.boxes)
    fc = fully_convolutional(model)
    assert not any(isinstance(layer, (ks.layers.Dense, ks.layers.Flatten)) for layer in fc.layers)


def test_the_fully_convolutional_pass_in_bands_equals_one_pass(monkeypatch):
    model = tile_model()
    scene = np.random.default_rng(3).uniform(size=(61, 30, 2)).astype(np.float32)
    whole = scan(model, scene, strides=4, method="fully_convolutional").score_map
    monkeypatch.setattr(fc_module, "_BAND_PIXELS", 30 * 20)  # bands of 3 output rows, 20 scene rows
    assert fc_module._bands(whole.shape[0], 4, 12, 30) == [(0, 3), (3, 6), (6, 9), (9, 12), (12, 13)]
    banded = scan(model, scene, strides=4, method="fully_convolutional").score_map
    np.testing.assert_allclose(banded, whole, rtol=1e-5, atol=1e-6)


def test_fully_convolutional_refuses_what_it_cannot_convert():
    same = ks.Sequential([ks.Input((8, 8, 1)), ks.layers.Conv2D(2, 3, padding="same", name="c_same"),
                          ks.layers.Flatten(), ks.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"layer 'c_same' \(Conv2D\) has padding='same': it pads the tile's"):
        fully_convolutional(same)
    inputs = ks.Input((8, 8, 1))
    a = ks.layers.Conv2D(2, 3)(inputs)
    b = ks.layers.Conv2D(2, 3)(inputs)
    joined = ks.layers.Add(name="join")([a, b])
    branching = ks.Model(inputs, ks.layers.Dense(1)(ks.layers.Flatten()(joined)))
    with pytest.raises(ValueError, match=r"cannot be made fully convolutional: layer '.*' \(.*\) is not fed by"):
        fully_convolutional(branching)
    after = ks.Sequential([ks.Input((8, 8, 1)), ks.layers.Flatten(), ks.layers.Reshape((8, 8, 1), name="back"),
                           ks.layers.Conv2D(1, 8)])
    with pytest.raises(ValueError, match=r"layer 'back' \(Reshape\) comes after Flatten"):
        fully_convolutional(after)
    other = ks.Sequential([ks.Input((8, 8, 1)), ks.layers.Reshape((64, 1), name="reshape_it")])
    with pytest.raises(ValueError, match=r"layer 'reshape_it' \(Reshape\) has no convolutional equivalent"):
        fully_convolutional(other)
    with pytest.raises(ValueError, match=r"it ends with Flatten"):
        fully_convolutional(ks.Sequential([ks.Input((8, 8, 1)), ks.layers.Flatten()]))


def test_scan_argument_errors():
    model = tile_model()
    scene = np.zeros((30, 30, 2), np.float32)
    with pytest.raises(ValueError, match=r"`strides` must be a multiple of the model's total stride \(4, 4\)"):
        scan(model, scene, strides=6, method="fully_convolutional")
    with pytest.raises(ValueError, match=r"`window` must be the model's tile size \(12, 12\)"):
        scan(model, scene, window=16, strides=4, method="fully_convolutional")
    with pytest.raises(ValueError, match=r"`method` must be one of \['windows', 'fully_convolutional'\]"):
        scan(model, scene, method="overfeat")
    with pytest.raises(ValueError, match=r"`scene` has 1 channel\(s\) but the model expects 2"):
        scan(model, scene[..., :1])
    with pytest.raises(ValueError, match=r"`class_index` is needed: the model has several outputs"):
        scan(tile_model(units=3, activation="softmax"), scene)
    with pytest.raises(ValueError, match=r"`batch_size` must be an integer >= 1"):
        scan(model, scene, batch_size=0)
    with pytest.raises(ValueError, match=r"`window` must fit in the scene"):
        detect(model, np.zeros((10, 10, 2), np.float32))
    with pytest.raises(ValueError, match=r"`scales` must be a non-empty list of positive numbers"):
        image_pyramid(scene, scales=(1.0, 0.0))


def test_image_pyramid_sizes():
    levels = image_pyramid(np.ones((40, 60, 3)), scales=(1.0, 0.5))
    assert [(s, level.shape) for s, level in levels] == [(1.0, (40, 60, 3)), (0.5, (20, 30, 3))]
    np.testing.assert_allclose(levels[1][1], 1.0)


@pytest.fixture(scope="module")
def digit_finder():
    """A tile classifier trained on synthetic digit tiles vs background tiles (seeded)."""
    ks.utils.set_random_seed(0)
    tiles, labels = ks.datasets.make_digit_tiles(3000, tile_size=20, digit_size=(16, 20), seed=0)
    model = ks.Sequential([ks.Input((20, 20, 1)), ks.layers.Conv2D(8, 3, activation="relu"),
                           ks.layers.MaxPooling2D(2), ks.layers.Conv2D(16, 3, activation="relu"),
                           ks.layers.MaxPooling2D(2), ks.layers.Flatten(), ks.layers.Dense(32, activation="relu"),
                           ks.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(tiles, labels, epochs=5, batch_size=64, verbose=0)
    return model


def test_the_digit_finder_reaches_ap_0_8_on_held_out_scenes(digit_finder):
    scenes, truth = ks.datasets.make_digit_scenes(20, scene_size=96, digits_per_scene=(2, 4), digit_size=(16, 20),
                                                  seed=5, subset="test")
    truth = [{"boxes": t["boxes"]} for t in truth]  # object vs background: the finder does not name digits
    found = [detect(digit_finder, scene, strides=4, iou_threshold=0.2, method="fully_convolutional")
             for scene in scenes]
    assert average_precision(truth, found, iou_threshold=0.5) >= 0.8
    windows = scan(digit_finder, scenes[0], strides=4)
    np.testing.assert_allclose(scan(digit_finder, scenes[0], strides=4, method="fully_convolutional").score_map,
                               windows.score_map, rtol=1e-5, atol=1e-6)


def test_a_pyramid_level_finds_digits_twice_the_tile_size(digit_finder):
    # Only the half-size level: at full size this finder also fires on the parts of a big digit, as it never
    # saw such parts as negatives; the test is that boxes found on a level map back to the scene.
    scenes, truth = ks.datasets.make_digit_scenes(10, scene_size=128, digits_per_scene=(1, 3), digit_size=(34, 38),
                                                  seed=6, subset="test")
    truth = [{"boxes": t["boxes"]} for t in truth]
    found = [detect(digit_finder, scene, strides=4, scales=(0.5,), iou_threshold=0.2) for scene in scenes]
    assert average_precision(truth, found, iou_threshold=0.5) >= 0.8
