"""Callbacks driven by scripted logs on a small fake model (Keras 3 semantics)."""

import csv
import math

import numpy as np
import pytest

import kernelscope as ks

C = ks.callbacks


class FakeModel:
    """Just what callbacks touch: weights, saving, an optimizer and the stop flag."""

    def __init__(self):
        self.weights = [np.zeros(2)]
        self.stop_training = False
        self.optimizer = ks.optimizers.SGD(learning_rate=0.1)
        self.saved = []
        self.metrics_names = ["loss"]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]

    def save(self, path):
        self.saved.append(("model", path))

    def save_weights(self, path):
        self.saved.append(("weights", path))


def drive(callback, logs_per_epoch, model=None):
    """Run a fake fit: weights become [epoch, epoch] during each epoch; stop when asked."""
    model = model or FakeModel()
    callbacks = C.CallbackList([callback], add_history=True, model=model, epochs=len(logs_per_epoch))
    callbacks.on_train_begin()
    epochs_run = 0
    for epoch, logs in enumerate(logs_per_epoch):
        callbacks.on_epoch_begin(epoch)
        model.weights = [np.full(2, float(epoch))]
        callbacks.on_epoch_end(epoch, dict(logs))
        epochs_run += 1
        if model.stop_training:
            break
    callbacks.on_train_end()
    return model, epochs_run, callbacks.history


def test_history_records_logs():
    _, _, history = drive(C.Callback(), [{"loss": 1.0}, {"loss": 0.5}])
    assert history.history == {"loss": [1.0, 0.5]} and history.epoch == [0, 1]


def test_early_stopping_patience_and_restore_best_weights():
    losses = [1.0, 0.5, 0.6, 0.7, 0.4]
    cb = C.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    model, epochs_run, _ = drive(cb, [{"val_loss": v} for v in losses])
    assert epochs_run == 4 and cb.stopped_epoch == 3 and model.stop_training
    assert cb.best == 0.5 and cb.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])  # weights of epoch 1 restored at train end


def test_early_stopping_min_delta_mode_max_baseline_and_start_epoch():
    cb = C.EarlyStopping(monitor="val_accuracy", min_delta=0.05, patience=1)
    _, epochs_run, _ = drive(cb, [{"val_accuracy": v} for v in (0.5, 0.52, 0.9)])
    assert epochs_run == 2  # +0.02 is within min_delta: no improvement, patience 1 exhausted
    stalling = [{"val_loss": v} for v in (1.0, 0.9, 0.9, 0.9, 0.9)]
    _, epochs_run, _ = drive(C.EarlyStopping(monitor="val_loss", patience=2), stalling)
    assert epochs_run == 4
    # with a baseline never beaten, the wait is not reset by improvements: stop one epoch sooner
    _, epochs_run, _ = drive(C.EarlyStopping(monitor="val_loss", patience=2, baseline=0.1), stalling)
    assert epochs_run == 3
    cb = C.EarlyStopping(monitor="loss", patience=0, start_from_epoch=3)
    _, epochs_run, _ = drive(cb, [{"loss": v} for v in (1.0, 2.0, 3.0, 4.0, 5.0)])
    assert epochs_run == 5  # epoch 3 is the first monitored; epoch 4 is the first without improvement


def test_early_stopping_missing_monitor_warns_and_unknown_direction_raises():
    with pytest.warns(UserWarning, match="Early stopping conditioned on metric `val_loss` which is not available"):
        drive(C.EarlyStopping(), [{"loss": 1.0}])
    with pytest.raises(ValueError, match="isn't able to automatically determine whether that metric"):
        drive(C.EarlyStopping(monitor="val_dice"), [{"val_dice": 1.0}])


def test_reduce_lr_on_plateau():
    cb = C.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=0.03, cooldown=1)
    seen = []
    model = FakeModel()
    callbacks = C.CallbackList([cb], model=model)
    callbacks.on_train_begin()
    for epoch, value in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]):
        logs = {"val_loss": value}
        callbacks.on_epoch_end(epoch, logs)
        seen.append((logs["learning_rate"], model.optimizer.learning_rate))
    # Keras's order: epoch 0 sets best; waits 1, 2 -> halve at epoch 2; epoch 3 spends the cooldown and
    # (cooldown now over) counts wait 1; epoch 4 wait 2 -> halve, clamped to min_lr; then lr is not
    # above min_lr, so nothing changes
    after = [lr for _, lr in seen]
    assert after == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.03, 0.03, 0.03, 0.03])
    assert [logged for logged, _ in seen][:3] == pytest.approx([0.1, 0.1, 0.1])  # logged before reducing
    with pytest.raises(ValueError, match="ReduceLROnPlateau does not support a factor >= 1.0. Received factor=2"):
        C.ReduceLROnPlateau(factor=2)


def test_model_checkpoint_formats_path_and_saves_best_only(tmp_path):
    path = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    cb = C.ModelCheckpoint(path, save_best_only=True)
    model, _, _ = drive(cb, [{"val_loss": v} for v in (0.5, 0.7, 0.25)])
    assert model.saved == [("model", str(tmp_path / "ckpt-01-0.50.keras")),
                           ("model", str(tmp_path / "ckpt-03-0.25.keras"))]
    cb = C.ModelCheckpoint(str(tmp_path / "sub" / "w.weights.h5"), save_weights_only=True)
    model, _, _ = drive(cb, [{"val_loss": 1.0}, {"val_loss": 2.0}])
    assert [kind for kind, _ in model.saved] == ["weights", "weights"] and (tmp_path / "sub").is_dir()
    with pytest.raises(KeyError, match='Failed to format this callback filepath: ".*{acc}.keras"'):
        drive(C.ModelCheckpoint(str(tmp_path / "{acc}.keras")), [{"loss": 1.0}])
    with pytest.raises(ValueError, match="Unrecognized save_freq: 'batch'"):
        C.ModelCheckpoint("x.keras", save_freq="batch")


def test_model_checkpoint_save_freq_in_batches(tmp_path):
    model = FakeModel()
    cb = C.ModelCheckpoint(str(tmp_path / "m-{epoch}-{batch}.keras"), save_freq=2)
    cb.set_model(model)
    cb.on_epoch_begin(0)
    for batch in range(5):
        cb.on_train_batch_end(batch, {"loss": 1.0})
    assert [p for _, p in model.saved] == [str(tmp_path / "m-1-2.keras"), str(tmp_path / "m-1-4.keras")]


def test_terminate_on_nan():
    model = FakeModel()
    cb = C.TerminateOnNaN()
    cb.set_model(model)
    cb.on_train_batch_end(0, {"loss": 0.3})
    assert not model.stop_training
    cb.on_train_batch_end(1, {"loss": float("nan")})
    assert model.stop_training
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 2"):
        C.TerminateOnNaN(raise_error=True).on_train_batch_end(2, {"loss": math.inf})


def test_csv_logger_content_and_append(tmp_path):
    path = tmp_path / "log.csv"
    drive(C.CSVLogger(str(path)), [{"loss": 0.5, "accuracy": 0.75}, {"loss": 0.25, "accuracy": 0.875}])
    rows = list(csv.reader(path.open()))
    assert rows == [["epoch", "accuracy", "loss"], ["0", "0.75", "0.5"], ["1", "0.875", "0.25"]]
    drive(C.CSVLogger(str(path), separator=";", append=True), [{"loss": 0.125, "accuracy": 1.0}])
    assert path.read_text().splitlines()[-1] == "0;1.0;0.125"
    assert path.read_text().count("epoch") == 1  # no second header when appending


def test_csv_logger_flushes_each_epoch(tmp_path):
    path = tmp_path / "partial.csv"
    cb = C.CSVLogger(str(path))
    cb.set_model(FakeModel())
    cb.on_train_begin()
    cb.on_epoch_end(0, {"loss": 1.0})
    assert path.read_text().splitlines() == ["epoch,loss", "0,1.0"]  # readable before training ends
    cb.on_train_end()


def test_learning_rate_scheduler():
    cb = C.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch > 0 else lr)
    model, _, history = drive(cb, [{"loss": 1.0}] * 3)
    assert model.optimizer.learning_rate == pytest.approx(0.025)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])
    one_arg = C.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))
    model, _, _ = drive(one_arg, [{"loss": 1.0}] * 2)
    assert model.optimizer.learning_rate == pytest.approx(0.02)
    with pytest.raises(ValueError, match="The output of the `schedule` function should be a float. Got: 'x'"):
        drive(C.LearningRateScheduler(lambda epoch, lr: "x"), [{"loss": 1.0}])


def test_callback_list_and_lambda_callback():
    seen = []
    cb = C.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, logs["loss"])))
    drive(cb, [{"loss": 2.0}, {"loss": 1.0}])
    assert seen == [(0, 2.0), (1, 1.0)]
    with pytest.raises(TypeError, match="Every callback must be a `ks.callbacks.Callback` instance"):
        C.CallbackList([print])
    with pytest.raises(ValueError, match="Unknown callback hook 'on_epoch_finish'"):
        C.LambdaCallback(on_epoch_finish=print)
