"""Boxes, IoU and NMS against plain brute-force loops written here, and hand-computed cases."""

import doctest

import numpy as np
import pytest

from kernelscope.detection import boxes as boxes_module
from kernelscope.detection import convert_format, iou, non_max_suppression


def random_boxes(rng, n, size=50.0):
    corner = rng.uniform(0, size, (n, 2))
    extent = rng.uniform(0, size / 2, (n, 2))
    return np.concatenate([corner, corner + extent], axis=1)


def brute_iou(a, b):
    out = np.zeros((len(a), len(b)))
    for i, (ax1, ay1, ax2, ay2) in enumerate(a):
        for j, (bx1, by1, bx2, by2) in enumerate(b):
            w = max(0.0, min(ax2, bx2) - max(ax1, bx1))
            h = max(0.0, min(ay2, by2) - max(ay1, by1))
            inter = w * h
            union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
            out[i, j] = inter / union if union > 0 else 0.0
    return out


def brute_nms(boxes, scores, iou_threshold, score_threshold=-np.inf, classes=None):
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    kept = []
    for i in order:
        if scores[i] <= score_threshold:
            continue
        suppressed = False
        for k in kept:
            same_class = classes is None or classes[k] == classes[i]
            if same_class and brute_iou(boxes[i:i + 1], boxes[k:k + 1])[0, 0] > iou_threshold:
                suppressed = True
        if not suppressed:
            kept.append(i)
    return kept


def test_doctests():
    assert doctest.testmod(boxes_module).failed == 0


@pytest.mark.parametrize("seed", range(5))
def test_iou_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    a, b = random_boxes(rng, 17), random_boxes(rng, 23)
    np.testing.assert_allclose(iou(a, b), brute_iou(a, b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("other, expected", [
    ([10, 10, 12, 12], 0.0),          # disjoint
    ([4, 0, 8, 4], 0.0),              # touching along an edge
    ([1, 1, 3, 3], 4.0 / 16.0),       # nested
    ([0, 0, 4, 4], 1.0),              # identical
    ([2, 0, 6, 4], 8.0 / 24.0),       # half overlapping: 8 / (16 + 16 - 8)
])
def test_iou_hand_computed(other, expected):
    assert iou([[0, 0, 4, 4]], [other])[0, 0] == pytest.approx(expected)


def test_iou_of_empty_boxes_is_zero():
    assert iou([[1, 1, 1, 1]], [[1, 1, 1, 1]])[0, 0] == 0.0


def test_iou_in_other_formats_equals_xyxy():
    rng = np.random.default_rng(1)
    a, b = random_boxes(rng, 5), random_boxes(rng, 6)
    for fmt in ("xywh", "center_xywh", "center_yxhw", "center_xyhw", "yxyx"):
        np.testing.assert_allclose(iou(convert_format(a, "xyxy", fmt), convert_format(b, "xyxy", fmt), fmt),
                                   iou(a, b), atol=1e-12)


def test_convert_format_by_hand_and_round_trip():
    box = [[10.0, 20.0, 30.0, 60.0]]  # x1, y1, x2, y2: width 20, height 40
    assert convert_format(box, "xyxy", "xywh").tolist() == [[10, 20, 20, 40]]
    assert convert_format(box, "xyxy", "center_xywh").tolist() == [[20, 40, 20, 40]]
    assert convert_format(box, "xyxy", "center_xyhw").tolist() == [[20, 40, 40, 20]]  # b_x, b_y, b_h, b_w
    assert convert_format(box, "xyxy", "yxyx").tolist() == [[20, 10, 60, 30]]
    np.testing.assert_allclose(convert_format(box, "xyxy", "rel_xyxy", height=100, width=200),
                               [[0.05, 0.2, 0.15, 0.6]])
    relative = {"rel_yxyx": [0.2, 0.05, 0.6, 0.15], "rel_xywh": [0.05, 0.2, 0.1, 0.4],
                "rel_center_xywh": [0.1, 0.4, 0.1, 0.4], "rel_center_yxhw": [0.4, 0.1, 0.4, 0.1],
                "rel_center_xyhw": [0.1, 0.4, 0.4, 0.1]}
    for fmt, expected in relative.items():
        np.testing.assert_allclose(convert_format(box, "xyxy", fmt, height=100, width=200), [expected])
    rng = np.random.default_rng(2)
    many = random_boxes(rng, 10)
    for fmt in boxes_module.BOX_FORMATS:
        there = convert_format(many, "xyxy", fmt, height=80, width=120)
        np.testing.assert_allclose(convert_format(there, fmt, "xyxy", height=80, width=120), many, atol=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_nms_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, 60, size=30.0)
    scores = rng.uniform(size=60)
    for threshold in (0.0, 0.3, 0.7):
        assert non_max_suppression(boxes, scores, threshold).tolist() == brute_nms(boxes, scores, threshold)
    assert non_max_suppression(boxes, scores, 0.5, score_threshold=0.4).tolist() == \
        brute_nms(boxes, scores, 0.5, score_threshold=0.4)
    classes = rng.integers(0, 3, 60)
    assert non_max_suppression(boxes, scores, 0.3, classes=classes).tolist() == \
        brute_nms(boxes, scores, 0.3, classes=classes)
    assert non_max_suppression(boxes, scores, 0.3, max_outputs=4).tolist() == brute_nms(boxes, scores, 0.3)[:4]


def test_nms_keeps_everything_at_threshold_one_and_handles_no_boxes():
    boxes = [[0, 0, 10, 10], [0, 0, 10, 10]]
    assert non_max_suppression(boxes, [0.2, 0.9], iou_threshold=1.0).tolist() == [1, 0]
    assert non_max_suppression(np.zeros((0, 4)), np.zeros(0)).tolist() == []


def test_bad_boxes_are_refused():
    with pytest.raises(ValueError, match=r"`boxes_a` has a box with x2 < x1 .*boxes_a\[1\]"):
        iou([[0, 0, 1, 1], [5, 0, 2, 3]], [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match=r"`boxes_b` must have shape \(\.\.\., 4\)"):
        iou([[0, 0, 1, 1]], [[0, 0, 1]])
    with pytest.raises(ValueError, match=r"`box_format` must be one of .*Received: box_format='xxyy'"):
        iou([[0, 0, 1, 1]], [[0, 0, 1, 1]], box_format="xxyy")
    with pytest.raises(ValueError, match=r"`height` is required for the relative format target='rel_xyxy'"):
        convert_format([[0, 0, 1, 1]], "xyxy", "rel_xyxy")
    with pytest.raises(ValueError, match=r"`boxes_a` must hold finite numbers"):
        iou([[0, 0, np.nan, 1]], [[0, 0, 1, 1]])


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "0.5"])
def test_nms_iou_threshold_outside_unit_interval(threshold):
    with pytest.raises(ValueError, match=r"`iou_threshold` must be a number in \[0, 1\]"):
        non_max_suppression([[0, 0, 1, 1]], [1.0], iou_threshold=threshold)


def test_nms_argument_shapes():
    with pytest.raises(ValueError, match=r"`scores` must hold one score per box"):
        non_max_suppression([[0, 0, 1, 1]], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"`classes` must hold one label per box"):
        non_max_suppression([[0, 0, 1, 1]], [1.0], classes=[0, 1])
    with pytest.raises(ValueError, match=r"`max_outputs` must be None or an integer >= 0"):
        non_max_suppression([[0, 0, 1, 1]], [1.0], max_outputs=-1)
