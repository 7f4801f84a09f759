"""Classification + localization: the y vector, the head, the masked loss (NumPy float64 and central
differences), the box-IoU metric, and the quality bar on synthetic digit scenes."""

import doctest
import importlib

import numpy as np
import pytest

import kernelscope as ks
from kernelscope.autograd import Tensor, gradcheck
from kernelscope.detection import LocalizationLoss, LocalizationTarget, MeanBoxIoU, box_iou, iou, localization_head

loc_module = importlib.import_module("kernelscope.detection.localization")


def test_doctests():
    assert doctest.testmod(loc_module).failed == 0


def test_target_round_trip_and_layout():
    target = LocalizationTarget(num_classes=4, height=50, width=80)
    annotations = [{"boxes": [[8, 5, 40, 45]], "labels": [3]}, {"boxes": np.zeros((0, 4)), "labels": []}]
    y = target.encode(annotations)
    np.testing.assert_allclose(y[0], [1, 24 / 80, 25 / 50, 40 / 50, 32 / 80, 0, 0, 0, 1], rtol=1e-6)
    assert not y[1].any()
    decoded = target.decode(y)
    np.testing.assert_allclose(decoded[0]["boxes"], [[8, 5, 40, 45]], rtol=1e-5)
    assert decoded[0]["labels"].tolist() == [3] and decoded[1]["boxes"].shape == (0, 4)
    parts = target.split(y)
    assert [v.shape for v in parts.values()] == [(2, 1), (2, 4), (2, 4)]


def test_target_errors():
    target = LocalizationTarget(num_classes=2, height=10, width=10)
    with pytest.raises(ValueError, match=r"`annotations\[0\]` must hold at most one box with one label"):
        target.encode([{"boxes": [[0, 0, 1, 1], [1, 1, 2, 2]], "labels": [0, 1]}])
    with pytest.raises(ValueError, match=r"`annotations\[0\]` has label 5; expected 0..1"):
        target.encode([{"boxes": [[0, 0, 1, 1]], "labels": [5]}])
    with pytest.raises(ValueError, match=r"`y` must have shape \(n, 7\)"):
        target.decode(np.zeros((3, 6)))
    with pytest.raises(ValueError, match=r"`num_classes` must be an integer >= 1"):
        LocalizationTarget(num_classes=0, height=10, width=10)


def numpy_localization_loss(y_true, y_pred, w_obj, w_box, w_cls):
    """The slides' loss written out in float64 NumPy, per image, then averaged."""
    eps = 1e-7
    p = np.clip(y_pred[:, 0], eps, 1 - eps)
    bce = -(y_true[:, 0] * np.log(p) + (1 - y_true[:, 0]) * np.log(1 - p))
    box = np.sum((y_pred[:, 1:5] - y_true[:, 1:5]) ** 2, axis=1)
    probs = y_pred[:, 5:] / y_pred[:, 5:].sum(axis=1, keepdims=True)
    cce = -np.sum(y_true[:, 5:] * np.log(np.clip(probs, eps, 1 - eps)), axis=1)
    return np.mean(w_obj * bce + y_true[:, 0] * (w_box * box + w_cls * cce))


def random_y(rng, n=6, k=3):
    y_true = np.zeros((n, 5 + k))
    y_true[:, 0] = np.arange(n) % 2
    y_true[:, 1:5] = rng.uniform(0.1, 0.9, (n, 4))
    y_true[np.arange(n), 5 + rng.integers(0, k, n)] = 1
    y_pred = np.concatenate([rng.uniform(0.1, 0.9, (n, 1)), rng.uniform(0, 1, (n, 4)),
                             rng.dirichlet(np.ones(k), n) * 0.9 + 0.1 / k], axis=1)
    return y_true, y_pred


@pytest.mark.parametrize("weights", [(1.0, 5.0, 1.0), (0.5, 1.0, 2.0)])
def test_loss_equals_numpy_and_central_differences(weights):
    rng = np.random.default_rng(0)
    y_true, y_pred = random_y(rng)
    loss = LocalizationLoss(*weights)
    value = loss(y_true, Tensor(y_pred)).item()
    assert value == pytest.approx(numpy_localization_loss(y_true, y_pred, *weights), rel=1e-10)
    assert gradcheck(lambda p: loss(y_true, p), [y_pred], atol=1e-6, rtol=1e-6)


def test_loss_ignores_box_and_class_where_there_is_no_object():
    rng = np.random.default_rng(1)
    y_true, y_pred = random_y(rng)
    moved = y_pred.copy()
    moved[y_true[:, 0] == 0, 1:] = rng.uniform(0.1, 0.9, ((y_true[:, 0] == 0).sum(), y_pred.shape[1] - 1))
    loss = LocalizationLoss()
    assert loss(y_true, moved).item() == pytest.approx(loss(y_true, y_pred).item(), rel=1e-12)
    assert ks.losses.LocalizationLoss is LocalizationLoss
    assert LocalizationLoss.from_config(loss.get_config()).box_weight == 5.0


def test_loss_errors():
    with pytest.raises(ValueError, match=r"`box_weight` must be a number >= 0. Received: box_weight=-1"):
        LocalizationLoss(box_weight=-1)
    with pytest.raises(ValueError, match=r"`y_true` and `y_pred` must both have shape \(n, 5 \+ num_classes\)"):
        LocalizationLoss()(np.zeros((2, 7)), np.zeros((2, 8)))


def test_box_iou_metric_equals_pairwise_iou_on_images_with_an_object():
    rng = np.random.default_rng(2)
    y_true, y_pred = random_y(rng, n=8)
    corners = [ks.detection.convert_format(y[:, 1:5], "center_xyhw", "xyxy") for y in (y_true, y_pred)]
    per_image = np.diag(iou(*corners))
    np.testing.assert_allclose(box_iou(y_true, y_pred), per_image, atol=1e-12)
    metric = MeanBoxIoU()
    metric.update_state(y_true[:4], y_pred[:4])
    metric.update_state(y_true[4:], y_pred[4:])
    assert metric.result() == pytest.approx(per_image[y_true[:, 0] == 1].mean(), rel=1e-9)
    assert ks.metrics.MeanBoxIoU is MeanBoxIoU and metric.name == "mean_box_iou"


def test_head_names_its_outputs():
    inputs = ks.Input((12, 12, 1))
    features = ks.layers.Conv2D(4, 3)(inputs)
    model = ks.Model(inputs, localization_head(features, 3, class_features=ks.layers.GlobalMaxPooling2D()(features)))
    assert model.output.shape == (None, 8)
    assert [model.get_layer(n).units for n in ("objectness", "box", "classes")] == [1, 4, 3]
    y = model.predict(np.zeros((2, 12, 12, 1), np.float32), verbose=0)
    assert 0 < y[0, 0] < 1 and y[0, 5:].sum() == pytest.approx(1.0, rel=1e-5)


def test_localization_reaches_the_quality_bar_on_held_out_scenes():
    """One digit per 64x64 scene: mean IoU >= 0.6 and class accuracy >= 90% (seeded)."""
    ks.utils.set_random_seed(0)
    scenes, annotations = ks.datasets.make_digit_scenes(2000, scene_size=64, digit_size=(18, 24), seed=0)
    held_out, truth = ks.datasets.make_digit_scenes(300, scene_size=64, digit_size=(18, 24), seed=1, subset="test")
    target = LocalizationTarget(10, 64, 64)
    inputs = ks.Input((64, 64, 1))
    x = ks.layers.AveragePooling2D(2)(inputs)  # the digits were 8x8: half the scene's resolution loses nothing
    x = ks.layers.MaxPooling2D(2)(ks.layers.Conv2D(16, 3, activation="relu")(x))
    x = ks.layers.Conv2D(32, 5, activation="relu")(x)
    what = ks.layers.Dense(64, activation="relu")(ks.layers.GlobalMaxPooling2D()(x))
    where = ks.layers.Dense(64, activation="relu")(ks.layers.Flatten()(x))
    model = ks.Model(inputs, localization_head(where, 10, class_features=what))
    model.compile(optimizer=ks.optimizers.Adam(3e-3), loss=LocalizationLoss(box_weight=20.0),
                  metrics=[MeanBoxIoU()])
    model.fit(scenes, target.encode(annotations), epochs=10, batch_size=32, verbose=0)
    y_true, y_pred = target.encode(truth), model.predict(held_out, verbose=0)
    assert box_iou(y_true, y_pred).mean() >= 0.6          # 0.771 measured
    assert np.mean(y_pred[:, 5:].argmax(axis=1) == y_true[:, 5:].argmax(axis=1)) >= 0.9  # 0.960 measured


def test_a_compiled_localization_model_saves_and_loads(tmp_path):
    inputs = ks.Input((12, 12, 1))
    model = ks.Model(inputs, localization_head(ks.layers.Conv2D(4, 3)(inputs), 3))
    model.compile(optimizer="adam", loss=LocalizationLoss(box_weight=7.0), metrics=[MeanBoxIoU()])
    x, y = np.random.default_rng(0).uniform(size=(4, 12, 12, 1)), np.tile([1, .5, .5, .2, .2, 0, 1, 0], (4, 1))
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "loc.keras")
    loaded = ks.models.load_model(tmp_path / "loc.keras")
    assert isinstance(loaded.loss, LocalizationLoss) and loaded.loss.box_weight == 7.0
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert loaded.evaluate(x, y, verbose=0, return_dict=True)["mean_box_iou"] == pytest.approx(
        model.evaluate(x, y, verbose=0, return_dict=True)["mean_box_iou"])
