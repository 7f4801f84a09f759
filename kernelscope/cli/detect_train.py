"""``kernelscope train --task localization|tiles``: the lecture's localization model and ship-finder tiles.

``--task localization`` trains the slides' ``y = [p_c, b_x, b_y, b_h, b_w, c_1..]``
model on synthetic digit scenes; ``--task tiles`` trains a tile classifier (digit
tiles against background, or the Planet tiles of a ``shipsnet.json`` given with
``--data``) and, on digits, scans held-out scenes with it. Both print the IoU / AP
figures, save ``model.keras`` (reading raw pixels 0..255, as every model of the
command line) and draw ``examples.png``: ground truth in green, predictions in red.

The ``--task`` option is added to the existing ``train`` parser from here, so the
classification path (``commands.run_train``) is untouched.
"""

from __future__ import annotations

import numpy as np

from .catalog import UsageError
from .common import prepare_out

__all__ = ["extend_train"]

TASKS = ("classification", "localization", "tiles", "embedding")
_TASK_DEFAULTS = {"epochs": 30, "learning_rate": {"classification": None, "localization": 3e-3, "tiles": 1e-3}}


def extend_train(commands) -> None:
    """Add ``--task`` to the ``train`` subcommand and route the new tasks here."""
    train = commands.choices["train"]
    train.add_argument("--task", choices=TASKS, default="classification",
                       help="classification (default); localization: one digit per synthetic scene; tiles: a "
                            "sliding-window tile classifier (digits, or --data shipsnet.json); by default "
                            "10 and 5 epochs; embedding: semi-hard triplets on digits 0-4, one-shot on 5-9 "
                            "(10 epochs)")
    train.set_defaults(handler=run_train_task, epochs=None)


def run_train_task(args) -> int:
    """Classification goes to ``commands.run_train``; localization and tiles are trained here."""
    from . import commands

    if args.task == "classification":
        args.epochs = args.epochs or _TASK_DEFAULTS["epochs"]
        return commands.run_train(args)
    for option, default in (("model", "small-cnn"), ("download", False), ("image_size", 64)):
        if getattr(args, option) != default:
            raise UsageError(f"--{option.replace('_', '-')} does not apply to --task {args.task}")
    if args.task == "embedding":  # cli/embedding.py
        from .embedding import run_train_embedding

        args.epochs = args.epochs or 10
        return run_train_embedding(args)
    args.epochs = args.epochs or (10 if args.task == "localization" else 5)
    args.learning_rate = args.learning_rate or _TASK_DEFAULTS["learning_rate"][args.task]
    return (_localization if args.task == "localization" else _tiles)(args)


def _optimizer(args):
    import kernelscope as ks
    return {"adam": ks.optimizers.Adam, "sgd": ks.optimizers.SGD,
            "rmsprop": ks.optimizers.RMSprop}[args.optimizer](learning_rate=args.learning_rate)


def _fit(model, x, y, args) -> None:
    model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, validation_split=args.validation_split,
              verbose=0 if args.quiet else 1)


def _examples(out, scenes, truths, predictions, class_names=None) -> None:
    """A row of scenes, each with the true boxes in green and the predicted ones in red, scaled 3x."""
    from ..detection import draw_boxes
    pictures = []
    for scene, truth, found in zip(scenes, truths, predictions):
        big = np.repeat(np.repeat(scene, 3, axis=0), 3, axis=1)
        picture = draw_boxes(big, truth["boxes"] * 3, color=(0, 200, 0))
        labels = found.get("labels") if class_names is not None else None
        picture = draw_boxes(picture, found["boxes"] * 3, labels=labels, class_names=class_names,
                             scores=None if labels is not None else found["scores"], color=(255, 0, 0))
        pictures.append(np.pad(picture, ((4, 4), (4, 4), (0, 0)), constant_values=255))
    from ..detection import save_png
    save_png(np.concatenate(pictures, axis=1), out / "examples.png")


def _check_digits(args) -> None:
    if args.data != "digits":
        raise UsageError(f"--task {args.task} trains on synthetic digit scenes: --data must be digits"
                         + (" or a shipsnet.json" if args.task == "tiles" else "") + f", got {args.data}")


def _localization(args) -> int:
    import kernelscope as ks
    from ..detection import LocalizationLoss, LocalizationTarget, MeanBoxIoU, average_precision, box_iou, \
        localization_head
    _check_digits(args)
    ks.utils.set_random_seed(args.seed)
    scenes, truth = ks.datasets.make_digit_scenes(2000, 64, digit_size=(18, 24), seed=args.seed)
    held_out, held_truth = ks.datasets.make_digit_scenes(300, 64, digit_size=(18, 24), seed=args.seed + 1,
                                                         subset="test")
    target = LocalizationTarget(10, 64, 64)
    inputs = ks.Input((64, 64, 1))
    x = ks.layers.AveragePooling2D(2)(ks.layers.Rescaling(1 / 255)(inputs))
    x = ks.layers.MaxPooling2D(2)(ks.layers.Conv2D(16, 3, activation="relu")(x))
    x = ks.layers.Conv2D(32, 5, activation="relu")(x)
    what = ks.layers.Dense(64, activation="relu")(ks.layers.GlobalMaxPooling2D()(x))
    where = ks.layers.Dense(64, activation="relu")(ks.layers.Flatten()(x))
    model = ks.Model(inputs, localization_head(where, 10, class_features=what))
    model.compile(optimizer=_optimizer(args), loss=LocalizationLoss(box_weight=20.0), metrics=[MeanBoxIoU()])
    out = prepare_out(args.out, "localization")
    print(f"Training the localization model on {len(scenes)} synthetic digit scenes 64x64 "
          f"({model.count_params():,} parameters)")
    _fit(model, scenes * 255, target.encode(truth), args)
    y_true, y_pred = target.encode(held_truth), model.predict(held_out * 255, verbose=0)
    found = target.decode(y_pred)
    print(f"Held-out scenes ({len(held_out)}, digits never seen in training):")
    print(f"  mean IoU {box_iou(y_true, y_pred).mean():.3f}, class accuracy "
          f"{np.mean(y_pred[:, 5:].argmax(1) == y_true[:, 5:].argmax(1)):.3f}, "
          f"AP@0.5 {average_precision(held_truth, found, 0.5):.3f}")
    model.save(out / "model.keras")
    _examples(out, held_out[:8], held_truth[:8], found[:8], class_names=[str(i) for i in range(10)])
    print(f"Model: {out / 'model.keras'}\nExamples: {out / 'examples.png'} (truth green, predictions red)")
    return 0


def _tile_model(shape: tuple):
    import kernelscope as ks
    blocks = [ks.layers.Conv2D(8, 3, activation="relu"), ks.layers.MaxPooling2D(2),
              ks.layers.Conv2D(16, 3, activation="relu"), ks.layers.MaxPooling2D(2)]
    if shape[0] >= 40:  # 80x80 Planet tiles: one more block, total stride 4 * 5 = 20
        blocks += [ks.layers.Conv2D(32, 3, activation="relu"), ks.layers.MaxPooling2D(5)]
    return ks.Sequential([ks.Input(shape), ks.layers.Rescaling(1 / 255), *blocks, ks.layers.Flatten(),
                          ks.layers.Dense(32, activation="relu"), ks.layers.Dense(1, activation="sigmoid")])


def _tiles(args) -> int:
    import kernelscope as ks
    from ..detection import average_precision, detect
    ks.utils.set_random_seed(args.seed)
    shipsnet = str(args.data).endswith(".json")
    if shipsnet:
        images, labels = ks.datasets.load_shipsnet(args.data)
        order = np.random.default_rng(args.seed).permutation(len(images))
        cut = int(0.8 * len(images))
        (x, y), (x_test, y_test) = (images[order[:cut]], labels[order[:cut]]), (images[order[cut:]], labels[order[cut:]])
        x, x_test = x.astype(np.float32), x_test.astype(np.float32)
    else:
        _check_digits(args)
        x, y = ks.datasets.make_digit_tiles(3000, tile_size=20, seed=args.seed)
        x_test, y_test = ks.datasets.make_digit_tiles(600, tile_size=20, seed=args.seed + 1, subset="test")
        x, x_test = x * 255, x_test * 255
    model = _tile_model(x.shape[1:])
    model.compile(optimizer=_optimizer(args), loss="binary_crossentropy", metrics=["accuracy"])
    out = prepare_out(args.out, "tiles")
    print(f"Training a tile classifier on {len(x)} tiles {tuple(x.shape[1:])} from "
          f"{args.data if shipsnet else 'synthetic digit tiles'} ({model.count_params():,} parameters)")
    _fit(model, x, y, args)
    accuracy = np.mean((model.predict(x_test, verbose=0)[:, 0] > 0.5) == y_test)
    print(f"Held-out tiles ({len(x_test)}): accuracy {accuracy:.3f}")
    model.save(out / "model.keras")
    if not shipsnet:  # digit scenes have box ground truth: scan them
        scenes, truth = ks.datasets.make_digit_scenes(20, 96, digits_per_scene=(2, 4), digit_size=(16, 20),
                                                      seed=args.seed + 2, subset="test")
        truth = [{"boxes": t["boxes"]} for t in truth]
        found = [detect(model, s * 255, strides=4, iou_threshold=0.2, method="fully_convolutional") for s in scenes]
        print(f"Scanned 20 held-out scenes 96x96 (fully convolutional, strides 4, NMS IoU 0.2): "
              f"AP@0.5 {average_precision(truth, found, 0.5):.3f}")
        _examples(out, scenes[:4], truth[:4], found[:4])
        print(f"Examples: {out / 'examples.png'} (truth green, detections red)")
    print(f"Model: {out / 'model.keras'} (try: kernelscope detect {out / 'model.keras'} SCENE.png --strides 4)")
    return 0
