"""Monitoring callbacks never take a non-finite value (NaN, +-inf) as the best one, and ModelCheckpoint
records what a save left on disk, also when the save is interrupted (issue 12, items 1 and 11)."""

import math
import os

import numpy as np
import pytest

import kernelscope as ks

C = ks.callbacks
NAN, INF = math.nan, math.inf


class DiskModel:
    """What the callbacks touch; ``save`` writes the epoch's weights to a real file (``fail`` decides
    whether an interruption comes before the file is renamed into place, or after)."""

    def __init__(self):
        self.weights = [np.zeros(2)]
        self.stop_training = False
        self.optimizer = ks.optimizers.SGD(learning_rate=0.1)
        self.saved = []
        self.fail = None  # None, "before" or "after"

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]

    def save(self, path):
        if self.fail == "before":
            raise KeyboardInterrupt
        with open(path + ".tmp", "w") as handle:  # as model.save does: a temporary renamed into place
            handle.write(str(self.weights[0][0]))
        os.replace(path + ".tmp", path)
        self.saved.append(path)
        if self.fail == "after":
            raise KeyboardInterrupt


def drive(callback, values, monitor="val_loss", model=None):
    """A fake fit: weights are [epoch, epoch] during each epoch; stops when asked; returns epochs run."""
    model = model or DiskModel()
    callbacks = C.CallbackList([callback], model=model, epochs=len(values))
    callbacks.on_train_begin()
    epochs_run = 0
    for epoch, value in enumerate(values):
        callbacks.on_epoch_begin(epoch)
        model.weights = [np.full(2, float(epoch))]
        callbacks.on_epoch_end(epoch, {monitor: value})
        epochs_run += 1
        if model.stop_training:
            break
    callbacks.on_train_end()
    return model, epochs_run


@pytest.mark.parametrize("values, saved_epochs, best", [
    ([NAN, 0.9, 1.2, 0.5], [2, 4], 0.5),  # the NaN first epoch is skipped; later finite epochs are saved
    ([0.9, NAN, 0.5, INF], [1, 3], 0.5),
    ([-INF, 0.9, 0.8], [2, 3], 0.8),  # -inf would be "lowest" but is a diverged loss, not the best
    ([NAN, NAN], [], None),
])
def test_model_checkpoint_never_saves_a_non_finite_value_as_best(tmp_path, values, saved_epochs, best):
    cb = C.ModelCheckpoint(str(tmp_path / "m-{epoch}.keras"), save_best_only=True)
    model, _ = drive(cb, values)
    assert model.saved == [str(tmp_path / f"m-{e}.keras") for e in saved_epochs]
    assert cb.best == best
    assert cb.last_saved_epoch == (saved_epochs[-1] - 1 if saved_epochs else None)


def test_model_checkpoint_mode_max_skips_infinite_accuracy(tmp_path):
    cb = C.ModelCheckpoint(str(tmp_path / "m-{epoch}.keras"), monitor="val_accuracy", save_best_only=True)
    model, _ = drive(cb, [INF, 0.5, 0.7], monitor="val_accuracy")
    assert model.saved == [str(tmp_path / "m-2.keras"), str(tmp_path / "m-3.keras")] and cb.best == 0.7


def test_model_checkpoint_verbose_says_why_a_non_finite_epoch_is_not_saved(tmp_path, capsys):
    drive(C.ModelCheckpoint(str(tmp_path / "m.keras"), save_best_only=True, verbose=1), [NAN])
    assert "Epoch 1: val_loss is nan: a non-finite value is never the best, not saving" in capsys.readouterr().out


def test_early_stopping_ignores_non_finite_values():
    # mode max: +inf first would be a best never beaten, stopping the run after `patience` epochs
    cb = C.EarlyStopping(monitor="val_accuracy", patience=1)
    _, epochs_run = drive(cb, [INF, 0.5, 0.6, 0.7], monitor="val_accuracy")
    assert epochs_run == 4 and cb.best == 0.7 and cb.best_epoch == 3
    cb = C.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    model, epochs_run = drive(cb, [-INF, 0.9, 0.8, NAN, NAN])
    assert epochs_run == 4 and cb.best == 0.8 and cb.best_epoch == 2  # the first NaN epoch spends patience 1
    np.testing.assert_array_equal(model.weights[0], [2.0, 2.0])  # the best finite epoch is restored


def test_reduce_lr_on_plateau_ignores_non_finite_values():
    cb = C.ReduceLROnPlateau(monitor="val_loss", patience=2, factor=0.5)
    model, _ = drive(cb, [-INF, 1.0, 0.9, 0.8])  # -inf: one epoch without progress, then progress
    assert cb.best == 0.8 and model.optimizer.learning_rate == pytest.approx(0.1)  # never reduced
    cb = C.ReduceLROnPlateau(monitor="val_loss", patience=1, factor=0.5)
    model, _ = drive(cb, [1.0, NAN, 0.5])
    assert cb.best == 0.5 and model.optimizer.learning_rate == pytest.approx(0.05)  # NaN counts as no progress


@pytest.mark.parametrize("fail, first_saved", [("before", False), ("after", True)])
def test_model_checkpoint_interrupted_save_records_what_is_on_disk(tmp_path, fail, first_saved):
    path = tmp_path / "best.keras"
    cb = C.ModelCheckpoint(str(path), save_best_only=True)
    model = DiskModel()
    model.fail = fail
    with pytest.raises(KeyboardInterrupt):
        drive(cb, [0.9], model=model)
    assert path.exists() is first_saved
    assert (cb.last_saved_epoch, cb.best) == ((0, 0.9) if first_saved else (None, None))
    model.fail = None
    drive(cb, [0.8], model=model)  # a second run of one epoch: epoch 0 again, weights 0.0
    model.fail = fail
    with pytest.raises(KeyboardInterrupt):
        cb.set_model(model)
        model.weights = [np.full(2, 7.0)]
        cb.on_epoch_end(7, {"val_loss": 0.5})
    on_disk = float(path.read_text())
    assert (cb.last_saved_epoch, cb.best, on_disk) == ((7, 0.5, 7.0) if fail == "after" else (0, 0.8, 0.0))
