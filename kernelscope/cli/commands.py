"""The four sub-commands; each takes the parsed arguments and returns an exit code."""

from __future__ import annotations

import csv
import json
import os
import pathlib
import sys
import time

import numpy as np

from .._io import atomic_write, atomic_write_text
from .catalog import ARCHITECTURES, CommandError, UsageError, build_model, check_compatible, load_data, \
    load_model_file, model_input_shape
from .common import prepare_out, read_image

_LEARNING_RATES = {"adam": 1e-3, "rmsprop": 1e-3, "sgd": 1e-2}
_COLOR_MODES = {1: "grayscale", 3: "rgb", 4: "rgba"}
_PIL_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def run_train(args) -> int:
    """``kernelscope train``: fit, keep the best epoch, evaluate, save model, history and report."""
    import kernelscope as ks

    size = (args.image_size, args.image_size)
    (x_train, y_train), (x_test, y_test), class_names = load_data(args.data, size, args.seed, download=args.download)
    ks.utils.set_random_seed(args.seed)
    model = build_model(args.model, x_train.shape[1:], len(class_names))
    check_compatible(model, x_train, len(class_names), f"dataset {args.data!r}")
    out = prepare_out(args.out, pathlib.Path(args.data).name or 'data')
    rate = args.learning_rate or _LEARNING_RATES[args.optimizer]
    optimizer = {"adam": ks.optimizers.Adam, "sgd": ks.optimizers.SGD, "rmsprop": ks.optimizers.RMSprop}
    model.compile(optimizer=optimizer[args.optimizer](learning_rate=rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    print(f"Training {args.model} on {args.data}: {len(x_train)} training images {tuple(x_train.shape[1:])}, "
          f"{len(x_test)} test images, {len(class_names)} classes, {model.count_params():,} parameters")
    # the path is a format string to ModelCheckpoint: braces in --out are literal
    target = str(out / "model.keras").replace("{", "{{").replace("}", "}}")
    checkpoint = ks.callbacks.ModelCheckpoint(target, monitor="val_loss" if args.validation_split > 0 else "loss",
                                              save_best_only=True)
    history = ks.callbacks.History()
    _write_json(out / "classes.json", class_names)
    started = time.perf_counter()
    try:
        # a diverging run is reported once (non-finite epochs are never saved), not as NumPy
        # overflow warnings from every layer
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, shuffle=True,
                      validation_split=args.validation_split, callbacks=[history, checkpoint],
                      verbose=0 if args.quiet else 1)
    except KeyboardInterrupt:
        return _interrupted(checkpoint, history, out)
    info = {"data": args.data, "model": args.model, "epochs": None, "best epoch": None,  # filled in by _conclude
            "optimizer": f"{args.optimizer} (learning rate {rate:g})",
            "batch size": args.batch_size, "seed": args.seed,
            "training time": f"{time.perf_counter() - started:.1f} s"}
    return _conclude(checkpoint, _history_rows(history), out, (x_test, y_test), class_names, info)


def _conclude(checkpoint, rows: list, out: pathlib.Path, test: tuple, class_names: list, info: dict) -> int:
    """After fit: history.csv, then the saved best model (loaded back) evaluated and reported."""
    import kernelscope as ks

    _write_history(out / "history.csv", rows)
    monitor, best_epoch = checkpoint.monitor, checkpoint.last_saved_epoch
    if best_epoch is None:
        raise CommandError(f"{monitor} was not finite in any of the {len(rows)} epochs (training diverged: try a "
                           f"lower --learning-rate); no model saved. History: {out / 'history.csv'}")
    diverged = sum(not np.isfinite(row.get(monitor, np.nan)) for row in rows)
    if diverged:
        print(f"Note: {diverged} of {len(rows)} epochs had a non-finite {monitor} (training diverged); "
              f"they were never taken as the best.")
    model = ks.models.load_model(checkpoint.last_saved_filepath)  # evaluate and report the file on disk
    x_test, y_test = test
    probabilities = np.asarray(model.predict(x_test, batch_size=256, verbose=0))
    accuracy = float(np.mean(probabilities.argmax(axis=-1) == y_test))
    print(f"Trained {len(rows)} epochs in {info['training time']}; best epoch {best_epoch + 1} "
          f"({monitor} {checkpoint.best:.4f}).")
    print(f"Test accuracy: {accuracy:.4f} ({len(y_test)} images)")
    print(f"Model:   {out / 'model.keras'}\nHistory: {out / 'history.csv'}")
    info = {**info, "epochs": len(rows), "best epoch": best_epoch + 1}
    curves = {key: [row.get(key) for row in rows] for key in rows[0] if key != "epoch"}
    _report(out / "report.html", model, curves, x_test, y_test, class_names, probabilities, info)
    return 0


def _history_rows(history) -> list:
    """One dict per finished epoch (``epoch`` 1-based, then the logs as floats), for history.csv."""
    return [{"epoch": epoch + 1, **{key: float(values[i]) for key, values in history.history.items()
                                    if i < len(values)}}
            for i, epoch in enumerate(history.epoch)]


def _interrupted(checkpoint, history, out: pathlib.Path) -> int:
    """Say what Ctrl-C left on disk: ModelCheckpoint records a save only once its file is in place."""
    rows = _history_rows(history)
    if rows:
        _write_history(out / "history.csv", rows)
    done = f"interrupted after {len(rows)} epoch(s)" if rows else "interrupted before the first epoch ended"
    if checkpoint.last_saved_epoch is None:
        earlier = " (the model.keras there is from an earlier run)" if (out / "model.keras").exists() else ""
        print(f"kernelscope train: {done}; no model saved{earlier}", file=sys.stderr)
    else:
        print(f"kernelscope train: {done}; best model (epoch {checkpoint.last_saved_epoch + 1}, "
              f"{checkpoint.monitor} {checkpoint.best:.4f}) saved to {checkpoint.last_saved_filepath}",
              file=sys.stderr)
    return 130


def _report(path, model, history, x_test, y_test, class_names, probabilities, info) -> None:
    from .. import report

    try:
        report.require_matplotlib()
    except ImportError:
        print('Report:  skipped (matplotlib is missing): pip install "kernelscope[plot]"')
        return
    report.write_report(path, model, history, x_test, y_test, class_names, probabilities=probabilities, info=info)
    print(f"Report:  {path}")


def _write_history(path: pathlib.Path, rows: list) -> None:
    keys = list(dict.fromkeys(key for row in rows for key in row))

    def write(handle) -> None:
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)

    atomic_write(path, write, mode="w", encoding="utf-8", newline="")


def _write_json(path: pathlib.Path, value) -> None:
    atomic_write_text(path, json.dumps(value))


def _class_names(model_path: str, n_classes: int) -> list:
    """Class names from ``classes.json`` beside the model (written by ``train``), else the indices."""
    try:
        names = json.loads((pathlib.Path(model_path).parent / "classes.json").read_text(encoding="utf-8"))
        if isinstance(names, list) and len(names) == n_classes:
            return [str(name) for name in names]
    except (OSError, ValueError):
        pass
    return [str(i) for i in range(n_classes)]


def run_evaluate(args) -> int:
    """``kernelscope evaluate``: accuracy, per-class precision/recall and the confusion matrix."""
    from ..report import classification_metrics, format_confusion_table, format_metrics_table

    model = load_model_file(args.model)
    height, width, channels = model_input_shape(model)
    _, (x_test, y_test), class_names = load_data(args.data, (height, width), args.seed,
                                                 _COLOR_MODES.get(channels, "rgb"), args.download)
    check_compatible(model, x_test, len(class_names), f"dataset {args.data!r}")
    probabilities = np.asarray(model.predict(x_test, batch_size=256, verbose=0))
    metrics = classification_metrics(y_test, probabilities.argmax(axis=-1), len(class_names))
    print(f"Test accuracy: {metrics.accuracy:.4f} ({len(y_test)} images of {args.data})\n")
    print(format_metrics_table(metrics, class_names) + "\n")
    print(format_confusion_table(metrics.confusion, class_names))
    return 0


def run_predict(args) -> int:
    """``kernelscope predict``: the top-k classes of each image file."""
    model = load_model_file(args.model)
    height, width, channels = model_input_shape(model)
    images = np.stack([read_image_for_model(path, width, height, channels) for path in args.images])
    probabilities = np.asarray(model.predict(images, verbose=0))
    names = _class_names(args.model, probabilities.shape[-1])
    for path, row in zip(args.images, probabilities):
        print(path)
        for rank, index in enumerate(np.argsort(-row, kind="stable")[: args.top_k], start=1):
            print(f"  {rank}. {names[index]:<12} {row[index]:.4f}")
    return 0


def run_summary(args) -> int:
    """``kernelscope summary``: a saved model's or a builtin architecture's layer table."""
    if args.model in ARCHITECTURES or args.model.endswith(".json"):
        model = build_model(args.model, args.input_shape, args.classes)
    elif os.path.exists(args.model):
        model = load_model_file(args.model)
    else:
        raise UsageError(f"{args.model!r} is neither a model file nor a builtin architecture "
                         f"({', '.join(ARCHITECTURES)})")
    model.summary()
    return 0


def read_image_for_model(path: str, width: int, height: int, channels: int) -> np.ndarray:
    """An image file resized and converted to a model's input: (height, width, channels), 0..255."""
    if channels not in _PIL_MODES:
        raise CommandError(f"the model takes {channels}-channel input; image files give 1, 3 or 4 channels")
    array = read_image(path, _PIL_MODES[channels], (width, height))
    return array[..., None] if array.ndim == 2 else array
