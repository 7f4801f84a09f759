"""Detection metrics against pycocotools (the COCO numbers) and plain loops written here (VOC numbers)."""

import contextlib
import doctest
import io

import numpy as np
import pytest

from kernelscope.detection import metrics as metrics_module
from kernelscope.detection.metrics import (average_precision, coco_average_precision, match_detections,
                                           precision_recall, precision_recall_curve)



def pair_iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


def random_task(seed, n_images=12, n_classes=3):
    """Ground truth, plus detections that are jittered copies of it and random false alarms."""
    rng = np.random.default_rng(seed)
    y_true, y_pred = [], []
    for _ in range(n_images):
        n = rng.integers(0, 6)
        corner = rng.uniform(0, 80, (n, 2))
        boxes = np.concatenate([corner, corner + rng.uniform(5, 40, (n, 2))], axis=1)
        labels = rng.integers(0, n_classes, n)
        keep = rng.uniform(size=n) < 0.8
        jitter = boxes[keep] + rng.normal(0, 3, (keep.sum(), 4))
        jitter[:, 2:] = np.maximum(jitter[:, 2:], jitter[:, :2] + 1)
        m = rng.integers(0, 5)
        corner = rng.uniform(0, 80, (m, 2))
        noise = np.concatenate([corner, corner + rng.uniform(5, 40, (m, 2))], axis=1)
        p_labels = np.concatenate([np.where(rng.uniform(size=keep.sum()) < 0.9, labels[keep],
                                            rng.integers(0, n_classes, keep.sum())), rng.integers(0, n_classes, m)])
        y_true.append({"boxes": boxes, "labels": labels})
        y_pred.append({"boxes": np.concatenate([jitter, noise]), "labels": p_labels,
                       "scores": rng.uniform(size=len(p_labels))})
    return y_true, y_pred


def coco_stats(y_true, y_pred):
    from pycocotools.coco import COCO  # the test extra's oracle
    from pycocotools.cocoeval import COCOeval

    def xywh(b):
        return [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])]

    annotations, results = [], []
    for i, (t, p) in enumerate(zip(y_true, y_pred)):
        for box, label in zip(t["boxes"], t["labels"]):
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": int(label),
                                "bbox": xywh(box), "area": float((box[2] - box[0]) * (box[3] - box[1])),
                                "iscrowd": 0})
        for box, label, score in zip(p["boxes"], p["labels"], p["scores"]):
            results.append({"image_id": i, "category_id": int(label), "bbox": xywh(box), "score": float(score)})
    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO()
        truth.dataset = {"images": [{"id": i} for i in range(len(y_true))], "annotations": annotations,
                         "categories": [{"id": c} for c in range(3)]}
        truth.createIndex()
        evaluation = COCOeval(truth, truth.loadRes(results), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation.stats


def test_doctests():
    assert doctest.testmod(metrics_module).failed == 0


@pytest.mark.parametrize("seed", range(4))
def test_coco_numbers_equal_pycocotools(seed):
    y_true, y_pred = random_task(seed)
    stats = coco_stats(y_true, y_pred)
    assert 0.05 < stats[1] < 0.99  # the task is neither trivial nor hopeless
    assert coco_average_precision(y_true, y_pred) == pytest.approx(stats[0], abs=1e-12)
    assert average_precision(y_true, y_pred, 0.5, "coco101", max_detections=100) == pytest.approx(stats[1], abs=1e-12)
    assert average_precision(y_true, y_pred, 0.75, "coco101", max_detections=100) == pytest.approx(stats[2], abs=1e-12)


def brute_ap(y_true, y_pred, iou_threshold, eleven_points):
    """VOC devkit's recipe, with plain loops: match greedily, then integrate per class."""
    aps = []
    classes = sorted({int(c) for t in y_true for c in t["labels"]})
    for c in classes:
        found, n_true = [], 0
        for t, p in zip(y_true, y_pred):
            truth = [b for b, lab in zip(t["boxes"], t["labels"]) if lab == c]
            n_true += len(truth)
            used = [False] * len(truth)
            dets = sorted([(s, b) for b, s, lab in zip(p["boxes"], p["scores"], p["labels"]) if lab == c],
                          key=lambda d: -d[0])
            for score, box in dets:
                best, best_j = -1.0, -1
                for j, g in enumerate(truth):
                    o = pair_iou(box, g)
                    if not used[j] and o >= iou_threshold and o > best:
                        best, best_j = o, j
                if best_j >= 0:
                    used[best_j] = True
                found.append((score, best_j >= 0))
        found.sort(key=lambda d: -d[0])
        tp = fp = 0
        rec, prec = [], []
        for _, hit in found:
            tp, fp = tp + hit, fp + (not hit)
            rec.append(tp / n_true)
            prec.append(tp / (tp + fp))
        if eleven_points:
            ap = sum(max([p for r, p in zip(rec, prec) if r >= t], default=0.0) for t in np.linspace(0, 1, 11)) / 11
        else:
            mrec, mpre = [0.0] + rec + [1.0], [0.0] + prec + [0.0]
            for i in range(len(mpre) - 2, -1, -1):
                mpre[i] = max(mpre[i], mpre[i + 1])
            ap = sum((mrec[i + 1] - mrec[i]) * mpre[i + 1] for i in range(len(mrec) - 1))
        aps.append(ap)
    return float(np.mean(aps))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("threshold", [0.3, 0.5])
def test_voc_numbers_equal_the_devkit_recipe(seed, threshold):
    y_true, y_pred = random_task(seed + 10)
    assert average_precision(y_true, y_pred, threshold, "all_points") == pytest.approx(
        brute_ap(y_true, y_pred, threshold, False), abs=1e-12)
    assert average_precision(y_true, y_pred, threshold, "voc11") == pytest.approx(
        brute_ap(y_true, y_pred, threshold, True), abs=1e-12)


def test_precision_recall_by_hand():
    truth = [{"boxes": [[0, 0, 10, 10], [20, 0, 30, 10]], "labels": [0, 1]}]
    found = [{"boxes": [[0, 0, 10, 10], [20, 0, 30, 10], [50, 50, 60, 60]], "labels": [0, 0, 1],
              "scores": [0.9, 0.8, 0.3]}]
    # box 2 has the right place but the wrong class; box 3 is nowhere
    assert precision_recall(truth, found) == (1 / 3, 1 / 2)
    assert precision_recall(truth, found, score_threshold=0.85) == (1.0, 1 / 2)
    precision, recall, thresholds = precision_recall_curve(truth, found)
    np.testing.assert_allclose(precision, [1, 1 / 2, 1 / 3])
    np.testing.assert_allclose(recall, [1 / 2, 1 / 2, 1 / 2])
    np.testing.assert_allclose(thresholds, [0.9, 0.8, 0.3])
    assert average_precision(truth, found) == pytest.approx(0.5)  # class 0: AP 1, class 1: AP 0


def test_matching_takes_each_true_box_once():
    flags = match_detections([[0, 0, 10, 10]], [[0, 0, 10, 10], [0, 0, 10, 9]], [0.2, 0.9])
    assert flags.tolist() == [False, True]


def test_bad_metric_arguments():
    truth = [{"boxes": [[0, 0, 1, 1]]}]
    with pytest.raises(ValueError, match=r"`y_true` and `y_pred` must have one entry per image"):
        average_precision(truth, [])
    with pytest.raises(ValueError, match=r"`y_pred\[0\]` has no 'scores'"):
        average_precision(truth, [{"boxes": [[0, 0, 1, 1]]}])
    with pytest.raises(ValueError, match=r"`method` must be one of"):
        average_precision(truth, [{"boxes": [], "scores": []}], method="voc12")
    with pytest.raises(ValueError, match=r"`iou_threshold` must be a number in \[0, 1\]"):
        average_precision(truth, [{"boxes": [], "scores": []}], iou_threshold=2)
    with pytest.raises(ValueError, match=r"`max_detections` must be None or an integer >= 1"):
        average_precision(truth, [{"boxes": [], "scores": []}], max_detections=0)
    with pytest.raises(TypeError, match=r"`y_true` must be a list of dicts"):
        average_precision([[0, 0, 1, 1]], [{"boxes": [], "scores": []}])
    with pytest.raises(ValueError, match=r"`y_pred\[0\]\['scores'\]` must hold one value per box"):
        average_precision(truth, [{"boxes": [[0, 0, 1, 1]], "scores": [0.1, 0.2]}])
