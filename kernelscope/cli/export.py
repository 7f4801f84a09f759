"""``kernelscope export MODEL --onnx OUT [--opset N]``: write a saved model as ONNX."""

from __future__ import annotations

import argparse
import os

from .catalog import CommandError, UsageError, load_model_file

__all__ = ["add_parsers", "run_export"]


def _opset(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text}") from None


def add_parsers(commands, common) -> None:
    """Register the ``export`` subcommand."""
    parser = commands.add_parser(
        "export", parents=[common], help="export a saved model to ONNX",
        description="Write a saved model (.keras) as an ONNX graph with a dynamic batch dimension and "
                    "channels-last inputs (needs the onnx package: pip install \"kernelscope[onnx]\").")
    parser.add_argument("model", metavar="MODEL", help="a saved model file (.keras)")
    parser.add_argument("--onnx", metavar="OUT", required=True, help="the ONNX file to write")
    parser.add_argument("--opset", type=_opset, default=None, help="ONNX opset version (default 17)")
    parser.set_defaults(handler=run_export)


def run_export(args) -> int:
    """Load ``args.model`` and export it to ``args.onnx``."""
    from ..export import to_onnx

    model = load_model_file(args.model)
    folder = os.path.dirname(os.path.abspath(args.onnx))
    if not os.path.isdir(folder):
        raise CommandError(f"cannot write {args.onnx}: folder {folder} does not exist")
    try:
        proto = to_onnx(model, args.onnx, opset=args.opset)
    except ImportError as error:
        raise CommandError(str(error)) from None
    except ValueError as error:
        if "`opset`" in str(error):
            raise UsageError(str(error)) from None
        raise CommandError(str(error)) from None
    print(f"wrote {args.onnx} (opset {proto.opset_import[0].version}, {len(proto.graph.node)} nodes)")
    return 0
