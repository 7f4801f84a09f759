"""draw_boxes (pixels checked by hand, PNG through Pillow) and score_map_overlay."""

import doctest
import importlib

import numpy as np
import pytest
from PIL import Image

from kernelscope.detection import draw_boxes, score_map_overlay

visuals = importlib.import_module("kernelscope.detection.visuals")


def test_doctests():
    assert doctest.testmod(visuals).failed == 0


def test_draw_boxes_outlines_each_box_and_leaves_the_rest(tmp_path):
    image = np.full((30, 40, 3), 0.5)
    picture = draw_boxes(image, [[5, 4, 15, 20]], color=(0, 255, 0), thickness=2, path=tmp_path / "boxes.png")
    outline = np.zeros((30, 40), bool)
    outline[4:20, 5:15] = True
    outline[6:18, 7:13] = False                          # a 2-pixel frame around rows 4..19, cols 5..14
    assert (picture[outline] == [0, 255, 0]).all()
    assert (picture[~outline] == 128).all()
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "boxes.png")), picture)
    assert not (tmp_path / "boxes.png.partial").exists()


def test_draw_boxes_writes_captions_and_clips_boxes():
    plain = draw_boxes(np.zeros((40, 60)), [[20, 20, 80, 90]])
    assert plain[20, 58].tolist() == [255, 0, 0] and plain[39, 30].tolist() == [255, 0, 0]
    captioned = draw_boxes(np.zeros((40, 60)), [[10, 15, 40, 35]], labels=[1], scores=[0.87],
                           class_names=["sea", "ship"])
    assert (captioned[4:14, 11:40] > 0).any()           # text above the box
    assert not (plain[4:14, 11:40] > 0).any()


def test_draw_boxes_errors():
    with pytest.raises(ValueError, match=r"`labels` must hold one label per box \(1\)"):
        draw_boxes(np.zeros((10, 10)), [[0, 0, 5, 5]], labels=[1, 2])
    with pytest.raises(ValueError, match=r"`color` must be an \(r, g, b\) triple"):
        draw_boxes(np.zeros((10, 10)), [[0, 0, 5, 5]], color=(300, 0, 0))
    with pytest.raises(ValueError, match=r"`boxes` has a box with x2 < x1"):
        draw_boxes(np.zeros((10, 10)), [[6, 0, 5, 5]])
    with pytest.raises(ValueError, match=r"`thickness` must be an integer >= 1"):
        draw_boxes(np.zeros((10, 10)), [[0, 0, 5, 5]], thickness=0)


def test_score_map_overlay_puts_high_scores_at_window_centres():
    scores = np.zeros((3, 4))
    scores[1, 2] = 1.0                                  # window at y=10..30, x=20..40 (strides 10, window 20)
    picture = score_map_overlay(np.zeros((40, 50)), scores, window=20, strides=10, alpha=1.0, colormap="gray")
    assert np.unravel_index(np.argmax(picture[..., 0]), picture.shape[:2]) == (20, 30)
    assert picture[20, 30, 0] == 255 and picture[25, 30, 0] == 128 and picture[30, 30, 0] == 0
    with pytest.raises(ValueError, match=r"`score_map` must be 2-D"):
        score_map_overlay(np.zeros((40, 50)), np.zeros(3), window=20)
