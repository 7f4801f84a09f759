"""``kernelscope detect MODEL SCENE``: slide a saved tile classifier over a scene, write boxes and a picture.

As every model the command line builds, MODEL reads raw pixel values 0..255
(its first layer rescales them), so the scene is fed unscaled.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import pathlib

import numpy as np

from .._io import atomic_write_text
from .catalog import CommandError, UsageError, load_model_file
from .common import numbers, positive_int, read_image

__all__ = ["add_parsers", "run_detect"]


def _unit_interval(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return value


def _scales(text: str) -> tuple:
    scales = numbers(text)
    if not scales or min(scales) <= 0:
        raise argparse.ArgumentTypeError(f"must be positive numbers separated by commas, got {text}")
    return scales


def add_parsers(commands, common) -> None:
    """Register the ``detect`` subcommand, and ``train --task localization|tiles``."""
    from .detect_train import extend_train

    extend_train(commands)
    parser = commands.add_parser(
        "detect", parents=[common], help="find objects in a scene with a tile classifier",
        description="Score every window of SCENE with the tile classifier MODEL (one output: the object's "
                    "probability), keep windows above --threshold, merge overlaps with non-max suppression, "
                    "and write the picture (--out) with the boxes as CSV and JSON next to it.")
    parser.add_argument("model", metavar="MODEL", help="a saved tile classifier (.keras)")
    parser.add_argument("scene", metavar="SCENE", help="the scene image (PNG, JPEG...)")
    parser.add_argument("--window", type=positive_int, default=None,
                        help="window side in pixels (default: the model's input size)")
    parser.add_argument("--strides", type=positive_int, default=None, help="step between windows (default: window)")
    parser.add_argument("--fully-convolutional", action="store_true",
                        help="score all windows in one pass of the model made fully convolutional")
    parser.add_argument("--iou", type=_unit_interval, default=0.3, help="NMS IoU threshold (default 0.3)")
    parser.add_argument("--threshold", type=_unit_interval, default=0.5, help="minimum score (default 0.5)")
    parser.add_argument("--scales", type=_scales, default=(1.0,), help="image pyramid, e.g. 1,0.5 (default 1)")
    parser.add_argument("--out", default="boxes.png", help="picture to write (default boxes.png); "
                                                           "the boxes go to the same name .csv and .json")
    parser.set_defaults(handler=run_detect)


def _write_boxes(out: pathlib.Path, found: dict) -> None:
    rows = [{"x1": round(float(b[0]), 2), "y1": round(float(b[1]), 2), "x2": round(float(b[2]), 2),
             "y2": round(float(b[3]), 2), "score": round(float(s), 6)} for b, s in zip(found["boxes"], found["scores"])]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["x1", "y1", "x2", "y2", "score"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out.with_suffix(".csv"), text.getvalue())
    atomic_write_text(out.with_suffix(".json"), json.dumps({"box_format": "xyxy", "boxes": rows}, indent=1))


def run_detect(args) -> int:
    """Detect, then write the picture, boxes.csv and boxes.json."""
    from ..detection import detect, draw_boxes

    model = load_model_file(args.model)
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4 or shape[-1] not in (1, 3):
        raise CommandError(f"{args.model} is not a tile classifier of images: its input shape is {shape}")
    scene = read_image(args.scene, mode="L" if shape[-1] == 1 else "RGB")
    out = pathlib.Path(args.out)
    if not out.parent.is_dir():
        raise CommandError(f"cannot write {out}: folder {out.parent} does not exist")
    method = "fully_convolutional" if args.fully_convolutional else "windows"
    try:
        found = detect(model, scene, args.window, args.strides, args.scales, args.threshold, args.iou, method=method)
    except ValueError as error:
        raise UsageError(str(error)) from None
    draw_boxes(np.clip(scene, 0, 255).astype(np.uint8), found["boxes"], scores=found["scores"], path=out)
    _write_boxes(out, found)
    print(f"{len(found['boxes'])} boxes in {args.scene} ({scene.shape[1]}x{scene.shape[0]}, {method}): "
          f"{out}, {out.with_suffix('.csv')}, {out.with_suffix('.json')}")
    for box, score in list(zip(found["boxes"], found["scores"]))[:10]:
        print(f"  [{', '.join(f'{v:.0f}' for v in box)}]  score {score:.3f}")
    return 0
