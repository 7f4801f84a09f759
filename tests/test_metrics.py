"""Metrics accumulated over several batches against scikit-learn and Keras's documented examples."""

import numpy as np
import pytest
from sklearn.metrics import (accuracy_score, average_precision_score, mean_absolute_error, mean_squared_error,
                             precision_score, recall_score, roc_auc_score, top_k_accuracy_score)

import kernelscope as ks

M = ks.metrics
RNG = np.random.default_rng(1)


def batches(*arrays, size=64):
    n = len(arrays[0])
    for start in range(0, n, size):
        yield tuple(a[start:start + size] for a in arrays)


def feed(metric, *arrays):
    metric.reset_state()
    for batch in batches(*arrays):
        metric.update_state(*batch)
    return metric.result()


def classification_data(n=300, classes=5):
    labels = RNG.integers(0, classes, n)
    scores = RNG.random((n, classes)) + 0.8 * np.eye(classes)[labels] * RNG.random((n, 1))
    return labels, scores / scores.sum(axis=1, keepdims=True)


def binary_data(n=400):
    y = RNG.integers(0, 2, n)
    p = np.clip(0.35 * y + 0.65 * RNG.random(n), 0, 1)
    return y, p


def test_categorical_sparse_and_plain_accuracy_match_sklearn():
    labels, scores = classification_data()
    expected = accuracy_score(labels, scores.argmax(axis=1))
    assert feed(M.SparseCategoricalAccuracy(), labels, scores) == pytest.approx(expected)
    assert feed(M.SparseCategoricalAccuracy(), labels[:, None], scores) == pytest.approx(expected)
    assert feed(M.CategoricalAccuracy(), np.eye(5)[labels], scores) == pytest.approx(expected)
    # column vectors, as in Keras's examples (1-D inputs reduce to one value per batch there)
    assert feed(M.Accuracy(), labels[:, None], scores.argmax(axis=1)[:, None]) == pytest.approx(expected)


def test_weighted_accuracy_matches_sklearn():
    labels, scores = classification_data()
    weights = RNG.random(len(labels))
    m = M.SparseCategoricalAccuracy()
    for y, s, w in batches(labels, scores, weights):
        m.update_state(y, s, sample_weight=w)
    assert m.result() == pytest.approx(accuracy_score(labels, scores.argmax(1), sample_weight=weights))


def test_binary_accuracy_threshold():
    y, p = binary_data()
    for threshold in (0.5, 0.7):
        expected = accuracy_score(y, p > threshold)
        assert feed(M.BinaryAccuracy(threshold=threshold), y[:, None], p[:, None]) == pytest.approx(expected)
    # Keras docstring example
    m = M.BinaryAccuracy()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], sample_weight=[1, 0, 0, 1])
    assert m.result() == pytest.approx(0.5)


@pytest.mark.parametrize("k", [1, 3])
def test_top_k_accuracy_matches_sklearn(k):
    labels, scores = classification_data()
    expected = top_k_accuracy_score(labels, scores, k=k, labels=np.arange(5))
    assert feed(M.SparseTopKCategoricalAccuracy(k=k), labels, scores) == pytest.approx(expected)
    assert feed(M.TopKCategoricalAccuracy(k=k), np.eye(5)[labels], scores) == pytest.approx(expected)


def test_top_k_ties_count_as_inside_like_tf_in_top_k():
    m = M.SparseTopKCategoricalAccuracy(k=1)
    m.update_state([1], [[0.5, 0.5, 0.0]])
    assert m.result() == 1.0


def test_precision_recall_match_sklearn():
    y, p = binary_data()
    for threshold in (0.5, 0.3):
        pred = p > threshold
        assert feed(M.Precision(thresholds=threshold), y, p) == pytest.approx(precision_score(y, pred))
        assert feed(M.Recall(thresholds=threshold), y, p) == pytest.approx(recall_score(y, pred))
    both = feed(M.Precision(thresholds=[0.3, 0.5]), y, p)
    assert both == pytest.approx([precision_score(y, p > 0.3), precision_score(y, p > 0.5)])


def test_precision_with_class_id_and_top_k():
    labels, scores = classification_data()
    one_hot = np.eye(5)[labels]
    expected = precision_score(labels == 2, scores[:, 2] > 0.5)
    assert feed(M.Precision(class_id=2), one_hot, scores) == pytest.approx(expected)
    # top_k=1 with the default threshold: the arg-max class is the positive one
    top1 = scores.argmax(1)
    expected = precision_score(labels == 2, top1 == 2)
    assert feed(M.Precision(top_k=1, class_id=2), one_hot, scores) == pytest.approx(expected)


def test_auc_roc_and_pr_close_to_sklearn_over_batches():
    y, p = binary_data()
    assert feed(M.AUC(), y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-3)
    assert feed(M.AUC(curve="PR"), y, p) == pytest.approx(average_precision_score(y, p), abs=2e-3)
    weights = RNG.random(len(y))
    auc = M.AUC()
    for yy, pp, ww in batches(y, p, weights):
        auc.update_state(yy, pp, sample_weight=ww)
    assert auc.result() == pytest.approx(roc_auc_score(y, p, sample_weight=weights), abs=1e-3)


def test_auc_keras_docstring_values_and_from_logits():
    # Keras's AUC example: thresholds [0, 0.5, 1] -> tp [2, 1, 0], fp [2, 0, 0], ... -> 0.75
    m = M.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert m.result() == pytest.approx(0.75)
    y, p = binary_data()
    logits = np.log(np.clip(p, 1e-6, 1 - 1e-6) / np.clip(1 - p, 1e-6, 1))
    assert feed(M.AUC(from_logits=True), y, logits) == pytest.approx(feed(M.AUC(), y, p), abs=1e-9)


def test_auc_multi_label_averages_labels():
    y = RNG.integers(0, 2, (300, 3))
    p = np.clip(0.3 * y + 0.7 * RNG.random((300, 3)), 0, 1)
    expected = np.mean([roc_auc_score(y[:, j], p[:, j]) for j in range(3)])
    assert feed(M.AUC(multi_label=True), y, p) == pytest.approx(expected, abs=1e-3)


def test_regression_metrics_match_sklearn():
    y = RNG.standard_normal((200, 3))
    p = y + RNG.standard_normal((200, 3)) * 0.3
    assert feed(M.MeanSquaredError(), y, p) == pytest.approx(mean_squared_error(y, p))
    assert feed(M.MeanAbsoluteError(), y, p) == pytest.approx(mean_absolute_error(y, p))


def test_mean_weighted_and_reset():
    m = M.Mean()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert m.result() == pytest.approx(2.0)
    m.update_state(4.0)
    assert m.result() == pytest.approx((1 + 3 + 4) / 3)
    m.reset_state()
    assert m.result() == 0.0


def test_get_resolves_accuracy_like_keras():
    assert isinstance(M.get("accuracy", loss="sparse_categorical_crossentropy"), M.SparseCategoricalAccuracy)
    assert isinstance(M.get("acc", loss=ks.losses.BinaryCrossentropy()), M.BinaryAccuracy)
    assert isinstance(M.get("accuracy", loss="mse", output_shape=(None, 1)), M.BinaryAccuracy)
    assert isinstance(M.get("accuracy", loss="categorical_crossentropy"), M.CategoricalAccuracy)
    assert isinstance(M.get("accuracy", output_shape=(None, 10), y_true_shape=(None,)),
                      M.SparseCategoricalAccuracy)
    assert M.get("acc", loss="sparse_categorical_crossentropy").name == "acc"
    assert isinstance(M.get("mae"), M.MeanAbsoluteError) and M.get("mae").name == "mae"
    assert isinstance(M.get("auc"), M.AUC) and isinstance(M.get("precision"), M.Precision)
    assert isinstance(M.get("top_k_categorical_accuracy"), M.TopKCategoricalAccuracy)
    bce = M.get("binary_crossentropy")
    bce.update_state(np.array([[1.0]]), np.array([[0.5]]))
    assert bce.result() == pytest.approx(np.log(2), rel=1e-6)
    auc = M.AUC(curve="PR", num_thresholds=50)
    clone = M.deserialize(M.serialize(auc))
    assert clone.get_config() == auc.get_config()


def test_errors():
    with pytest.raises(ValueError, match="Could not interpret metric identifier: 'f1'"):
        M.get("f1")
    with pytest.raises(ValueError, match="Could not interpret metric identifier: 3"):
        M.get(3)
    with pytest.raises(ValueError, match="Unknown metric class: 'F1Score'"):
        M.deserialize({"class_name": "F1Score"})
    with pytest.raises(ValueError, match=r"Expected a value in interval \(0, 1\). Received: threshold=1.5"):
        M.BinaryAccuracy(threshold=1.5)
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]. Received: \[2\]"):
        M.Precision(thresholds=2)
    with pytest.raises(ValueError, match='Invalid AUC curve value: "XY"'):
        M.AUC(curve="XY")
    with pytest.raises(ValueError, match='Invalid AUC summation method value: "trapezoid"'):
        M.AUC(summation_method="trapezoid")
    with pytest.raises(ValueError, match="Argument `num_thresholds` must be an integer > 1. Received: num_thresholds=1"):
        M.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="`y_pred` must have rank 2 when `multi_label=True`"):
        M.AUC(multi_label=True).update_state(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match=r"`y_true` and `y_pred` must have the same shape. .*\(4,\).*\(4, 2\)"):
        M.Recall().update_state(np.zeros(4), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"`sample_weight` of shape \(3,\) cannot be broadcast"):
        M.Mean().update_state(np.zeros(4), sample_weight=np.ones(3))
