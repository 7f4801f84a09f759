"""The ``kernelscope`` console command: train, evaluate, predict, summary.

``kernelscope train`` with no arguments trains a small CNN on the bundled 8x8
digits (no network, well under a minute on a laptop CPU) and writes
``model.keras``, ``history.csv`` and ``report.html`` into
``runs/digits-<date>-<time>/``. Exit codes: 0 success, 1 runtime failure,
2 usage error (unknown name, bad option), 130 interrupted (Ctrl-C).

Every model the command builds reads raw pixel values 0..255 (it starts with
``Rescaling(1/255)``), so ``predict`` feeds image files unscaled; the 8x8
digits (values 0..16) are scaled to 0..255 on loading.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .catalog import ARCHITECTURES, DATASETS, CommandError, UsageError
from .common import fraction, image_shape, non_negative_int, positive_float, positive_int

OPTIMIZERS = ("adam", "sgd", "rmsprop")
# Modules of this package that register subcommands through add_parsers(commands, common);
# each sets a `handler` default that main() calls.
_EXTENSIONS = ("explain", "anomaly", "export", "detect", "style")
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# --------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``kernelscope`` command."""
    from .. import __version__

    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error")
    parser = _Parser(prog="kernelscope", parents=[common],
                     description="Train, evaluate and inspect CNNs with kernelscope (NumPy only).")
    parser.add_argument("--version", action="version", version=f"kernelscope {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_train(commands.add_parser("train", parents=[common], help="train a model and write a report",
                                   description="Train a model, evaluate it on the test split and write "
                                               "model.keras, history.csv and report.html into --out."))
    evaluate = commands.add_parser("evaluate", parents=[common], help="accuracy, per-class metrics, confusion",
                                   description="Evaluate a saved model on a dataset's test split.")
    evaluate.add_argument("model", metavar="MODEL", help="a saved model file (.keras)")
    _add_data_options(evaluate)
    predict = commands.add_parser("predict", parents=[common], help="classify image files",
                                  description="Print the top-k classes of each image (PNG, JPEG, BMP, GIF; "
                                              "needs Pillow).")
    predict.add_argument("model", metavar="MODEL", help="a saved model file (.keras)")
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    predict.add_argument("--top-k", type=positive_int, default=3, help="classes to show per image (default 3)")
    summary = commands.add_parser("summary", parents=[common], help="print a model's layers and parameters",
                                  description="Print the summary of a saved model or a builtin architecture "
                                              f"({', '.join(ARCHITECTURES)}).")
    summary.add_argument("model", metavar="MODEL|ARCHITECTURE")
    summary.add_argument("--input-shape", type=image_shape, default=(8, 8, 1),
                         help="for a builtin architecture: H,W,C (default 8,8,1)")
    summary.add_argument("--classes", type=positive_int, default=10, help="for a builtin architecture (default 10)")
    for name in _EXTENSIONS:  # feature modules add their own subcommands
        importlib.import_module(f".{name}", __name__).add_parsers(commands, common)
    return parser


def _add_data_options(parser) -> None:
    parser.add_argument("--data", default="digits",
                        help=f"{', '.join(DATASETS)} or an image folder with one subfolder per class "
                             "(default digits)")
    parser.add_argument("--download", action="store_true",
                        help="fetch missing mnist / fashion-mnist files (SHA-256 checked) into the cache")
    parser.add_argument("--image-size", type=positive_int, default=64,
                        help="side length images of a folder are resized to (default 64)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="random seed: weights, shuffling, folder split (default 0)")


def _add_train(parser) -> None:
    _add_data_options(parser)
    parser.add_argument("--model", default="small-cnn",
                        help=f"{', '.join(ARCHITECTURES)} or a model config FILE.json (default small-cnn)")
    parser.add_argument("--epochs", type=positive_int, default=30, help="default 30")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="default 32")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="default adam")
    parser.add_argument("--learning-rate", type=positive_float, default=None,
                        help="default: 1e-3 for adam and rmsprop, 1e-2 for sgd")
    parser.add_argument("--validation-split", type=fraction, default=0.1,
                        help="fraction of the training data held out to pick the best epoch, by validation loss (default 0.1)")
    parser.add_argument("--out", default=None, help="output folder (default runs/<data>-<YYYYmmdd-HHMMSS>)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")


# ----------------------------------------------------------------- main


def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    from .. import _interrupt_guard

    _interrupt_guard.in_main = True  # Ctrl-C raises KeyboardInterrupt from here on (see _interrupt_guard)
    try:
        return _run(argv)
    except KeyboardInterrupt:
        print("kernelscope: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        _interrupt_guard.in_main = False


def _run(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    from . import commands

    debug = getattr(args, "debug", False)
    try:
        handler = getattr(args, "handler", None) or getattr(commands, f"run_{args.command}")
        return handler(args)
    except Exception as error:  # noqa: BLE001 - the command line reports every failure in one line
        if debug:
            raise
        code = EXIT_USAGE if isinstance(error, UsageError) else EXIT_FAILURE
        text = " ".join(str(error).split()) or type(error).__name__
        if not isinstance(error, (UsageError, CommandError)):
            text = f"{type(error).__name__}: {text}"
        print(f"kernelscope {args.command}: error: {text}", file=sys.stderr)
        return code
