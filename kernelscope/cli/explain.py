"""``kernelscope explain`` (conv, pool, size, params, model) and ``kernelscope filter``.

Matrices are typed as the slides print them: rows separated by ``;``, numbers by
spaces or commas, channels by ``|`` (``"1 2; 3 4 | 5 6; 7 8"`` is 2x2x2).

    kernelscope explain conv --input "1 3 1 2; 6 1 5 4; 5 4 2 5; 3 3 1 2" --kernel "1 2; 2 1" --padding 1 --strides 2
    kernelscope explain pool --input "1 3 1 2; 6 1 5 4; 5 4 2 5; 3 3 1 2" --pool-size 2 --strides 1 --mode average
    kernelscope explain size 4 2 --padding 1 --strides 2
    kernelscope explain model runs/digits/model.keras digit.png --out views/
    kernelscope filter photo.jpg --kernel sobel_x --out edges.png
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

import numpy as np

from .._io import atomic_write_text
from .catalog import CommandError, UsageError
from .common import finite_float, numbers, read_image

_FORMATS = ("text", "md", "html", "gif")
_EXTENSIONS = {".gif": "gif", ".html": "html", ".htm": "html", ".md": "md", ".txt": "text"}


# ---------------------------------------------------------------- parsing


def parse_matrix(text: str, option: str) -> np.ndarray:
    """``"1 2; 3 4 | 5 6; 7 8"`` -> array (2, 2, 2); one channel gives (H, W)."""
    channels = []
    for k, part in enumerate(text.split("|"), start=1):
        rows = [row for row in (r.replace(",", " ").split() for r in part.split(";"))]
        if any(not row for row in rows):
            raise UsageError(f"{option}: empty row in {text!r} (rows are separated by ';', numbers by spaces)")
        for r, row in enumerate(rows, start=1):
            if len(row) != len(rows[0]):
                raise UsageError(f"{option}: row {r} has {_numbers(len(row))} but row 1 has {_numbers(len(rows[0]))} "
                                 f"(rows are separated by ';')")
        try:
            matrix = np.array([[float(v) for v in row] for row in rows])
        except ValueError:
            bad = next(v for row in rows for v in row if not _is_number(v))
            raise UsageError(f"{option}: {bad!r} is not a number") from None
        if not np.isfinite(matrix).all():
            bad = next(v for row in rows for v in row if not np.isfinite(float(v)))
            raise UsageError(f"{option}: {bad!r} is not a finite number")
        if channels and matrix.shape != channels[0].shape:
            raise UsageError(f"{option}: channel {k} is {_dims(matrix.shape)} but channel 1 is "
                             f"{_dims(channels[0].shape)} (channels are separated by '|')")
        channels.append(matrix)
    return channels[0] if len(channels) == 1 else np.stack(channels, axis=-1)


def _numbers(n: int) -> str:
    return f"{n} number" if n == 1 else f"{n} numbers"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _dims(shape) -> str:
    return "x".join(str(d) for d in shape)


def _int_or_pair(text: str, minimum: int = 1):
    values = numbers(text, int)
    if len(values) not in (1, 2) or min(values) < minimum:
        what = "non-negative" if minimum == 0 else "positive"
        raise argparse.ArgumentTypeError(f"must be a {what} integer or two of them as 'H,W', got {text!r}")
    return values[0] if len(values) == 1 else values


def _stride(text: str):
    return _int_or_pair(text, 1)


def _pad_type(text: str):
    if text.lower() in ("valid", "same"):
        return text.lower()
    try:
        return _int_or_pair(text, minimum=0)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be valid, same, an integer or 'H,W', got {text!r}") from None


# ----------------------------------------------------------------- parser


def add_parsers(commands, common) -> None:
    """Register ``explain`` (with its own sub-commands) and ``filter``."""
    explain = commands.add_parser("explain", parents=[common], help="walk through convolutions, pooling, sizes "
                                  "and trained models", description=__doc__.split("\n\n")[0])
    which = explain.add_subparsers(dest="explain_command", metavar="WHAT", parser_class=type(explain))
    explain.set_defaults(handler=lambda args: _missing(explain))
    _add_conv(which, common)
    _add_pool(which, common)
    size = which.add_parser("size", parents=[common], help="output size formula",
                            description="Print floor((n + 2p - f)/s) + 1 with the numbers written in.")
    size.add_argument("n", type=int, help="input size")
    size.add_argument("f", type=int, help="kernel size")
    size.add_argument("--padding", default="0", help="valid, same or an integer (default 0)")
    size.add_argument("--strides", type=int, default=1, help="default 1")
    size.add_argument("--dilation", type=int, default=1, help="default 1")
    size.set_defaults(handler=run_size)
    params = which.add_parser("params", parents=[common], help="parameters per layer, with formulas",
                              description="Each layer's parameter count with its formula.")
    params.add_argument("model", metavar="MODEL|ARCHITECTURE")
    params.add_argument("--input-shape", default="8,8,1", help="for a builtin architecture: H,W,C (default 8,8,1)")
    params.add_argument("--classes", type=int, default=10, help="for a builtin architecture (default 10)")
    params.set_defaults(handler=run_params)
    _add_model(which, common)
    from . import attack  # explain attack: its own module (ks.adversarial)

    attack.add_parser(which, common)
    _add_filter(commands, common)


def _add_conv(which, common) -> None:
    conv = which.add_parser("conv", parents=[common], help="a convolution, cell by cell",
                            description="Show a convolution step by step: window, products, sum.")
    conv.add_argument("--input", required=True, help='the image, e.g. "1 3 1 2; 6 1 5 4" (channels: |)')
    conv.add_argument("--kernel", required=True, action="append",
                      help='a kernel, e.g. "1 2; 2 1"; repeat for several filters')
    conv.add_argument("--bias", type=finite_float, action="append", help="bias (one per kernel)")
    conv.add_argument("--dilation", type=_stride, default=1, help="dilation rate (default 1)")
    conv.add_argument("--order", choices=("columns", "rows"), default="columns",
                      help="order of the written-out sum (default columns, as the slides)")
    _add_window_options(conv, "valid: no padding")
    conv.set_defaults(handler=run_conv)


def _add_pool(which, common) -> None:
    pool = which.add_parser("pool", parents=[common], help="max or average pooling, cell by cell",
                            description="Show max or average pooling step by step.")
    pool.add_argument("--input", required=True, help='the image, e.g. "1 3 1 2; 6 1 5 4"')
    pool.add_argument("--pool-size", type=_stride, default=2, help="window size (default 2)")
    pool.add_argument("--mode", choices=("max", "average"), default="max", help="default max")
    _add_window_options(pool, "valid or same")
    pool.set_defaults(handler=run_pool)


def _add_model(which, common) -> None:
    model = which.add_parser("model", parents=[common], help="feature maps, kernels, saliency, Grad-CAM",
                             description="Write feature maps, kernels, saliency and Grad-CAM images of a "
                                         "saved model for one image, with an index.html (needs Pillow).")
    model.add_argument("model", metavar="MODEL", help="a saved model file (.keras)")
    model.add_argument("image", metavar="IMAGE", help="an image file (fed as 0..255 pixels, like predict)")
    model.add_argument("--out", required=True, help="output folder")
    model.add_argument("--class", dest="class_index", type=int, default=None, help="class (default: predicted)")
    model.add_argument("--layer", default=None, help="layer for Grad-CAM (default: last convolution)")
    model.set_defaults(handler=run_model)


def _add_window_options(parser, padding_help: str) -> None:
    parser.add_argument("--padding", type=_pad_type, default="valid", help=f"{padding_help}, an integer or H,W "
                        "(default valid)")
    parser.add_argument("--strides", type=_stride, default=None, help="stride (default 1; pooling: pool size)")
    parser.add_argument("--format", choices=_FORMATS, default=None,
                        help="text, md, html or gif (default: from --out's extension, else text)")
    parser.add_argument("--out", default=None, help="write to FILE instead of printing")


def _add_filter(commands, common) -> None:
    from ..filters import NAMES

    parser = commands.add_parser("filter", parents=[common], help="apply a classic image filter",
                                 description=f"Filter an image file with one of: {', '.join(NAMES)}, or a "
                                             "kernel matrix such as '1 0 -1; 1 0 -1; 1 0 -1' (needs Pillow).")
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("--kernel", required=True, help="a filter name or a kernel matrix")
    parser.add_argument("--out", default=None, help="output PNG (default IMAGE-KERNEL.png in this folder)")
    parser.add_argument("--padding", default="same", choices=("same", "valid", "reflect", "edge"),
                        help="zero padding (same, valid) or extend the border (reflect, edge); default same")
    parser.add_argument("--scale", default="auto", choices=("auto", "clip", "abs"),
                        help="to 0..255: clip, abs (|response| scaled to the maximum) or auto: abs for "
                             "kernels summing to 0 (edge detectors), else clip (default)")
    parser.set_defaults(handler=run_filter)


def _missing(parser) -> int:
    parser.print_help()
    return 2


# ------------------------------------------------------------ walkthroughs


def _output_format(args) -> str:
    fmt = args.format
    if fmt is None:
        fmt = _EXTENSIONS.get(pathlib.Path(args.out).suffix.lower(), "text") if args.out else "text"
    if fmt == "gif" and not args.out:
        raise UsageError("--format gif needs --out FILE.gif")
    return fmt


def _emit(walk, args, **text_options) -> int:
    fmt = _output_format(args)
    if fmt == "gif":
        try:
            walk.to_gif(args.out)
        except ImportError as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(f"cannot write {args.out}: {error.strerror or error}") from None
        print(f"Wrote {args.out} ({len(walk.frames())} frames)")
        return 0
    if fmt == "text":
        content = walk.to_text(color=False if args.out else None, **text_options)
    else:
        content = walk.to_markdown() if fmt == "md" else walk.to_html()
    if not args.out:
        sys.stdout.write(content)
        return 0
    _write_text(pathlib.Path(args.out), content)
    print(f"Wrote {args.out}")
    return 0


def _write_text(path: pathlib.Path, content: str) -> None:
    try:
        atomic_write_text(path, content)
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from None


def run_conv(args) -> int:
    """``kernelscope explain conv``."""
    from .. import explain

    x = parse_matrix(args.input, "--input")
    kernels = [parse_matrix(k, "--kernel") for k in args.kernel]
    if len({k.shape for k in kernels}) > 1:
        raise UsageError("--kernel: all kernels must have the same shape; got "
                         f"{' and '.join(_dims(k.shape) for k in kernels)}")
    kernel = kernels[0] if len(kernels) == 1 else np.stack(
        [k if k.ndim == 3 else k[:, :, None] for k in kernels], axis=-1)
    bias = args.bias
    if bias is not None and len(bias) != len(kernels):
        raise UsageError(f"--bias: give one bias per kernel ({len(kernels)}), got {len(bias)}")
    try:
        walk = explain.convolution(x, kernel, bias=bias, padding=args.padding, strides=args.strides or 1,
                                   dilation_rate=args.dilation)
    except ValueError as error:
        raise UsageError(str(error)) from None
    walk.order = args.order
    return _emit(walk, args)


def run_pool(args) -> int:
    """``kernelscope explain pool``."""
    from .. import explain

    x = parse_matrix(args.input, "--input")
    if not isinstance(args.padding, str):
        raise UsageError(f"--padding: pooling takes valid or same, got {args.padding}")
    try:
        walk = explain.pooling(x, args.pool_size, args.strides, args.padding, args.mode)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return _emit(walk, args)


def run_size(args) -> int:
    """``kernelscope explain size``."""
    from .. import explain

    padding = args.padding.lower() if args.padding.lower() in ("valid", "same") else None
    if padding is None:
        try:
            padding = int(args.padding)
        except ValueError:
            raise UsageError(f"--padding: expected valid, same or an integer, got {args.padding!r}") from None
    try:
        size = explain.output_size(args.n, args.f, padding, args.strides, args.dilation)
    except ValueError as error:
        raise UsageError(str(error)) from None
    print(f"n_out = {size.formula}")
    return 0


def run_params(args) -> int:
    """``kernelscope explain params``: each layer's parameters with the formula."""
    from .. import explain
    from .catalog import ARCHITECTURES, build_model, load_model_file

    if args.model in ARCHITECTURES or args.model.endswith(".json"):
        try:
            shape = tuple(int(v) for v in args.input_shape.split(","))
        except ValueError:
            shape = ()
        if len(shape) != 3 or min(shape) < 1:
            raise UsageError(f"--input-shape: expected three positive integers H,W,C, got {args.input_shape!r}")
        model = build_model(args.model, shape, args.classes)
    else:
        model = load_model_file(args.model)
    print(explain.parameters(model))
    return 0


# ------------------------------------------------------------------ filter


def _filter_kernel(text: str) -> tuple:
    """(kernel array, name for the output file)."""
    from .. import filters

    if text in filters.NAMES:
        return filters.get(text), text
    if re.fullmatch(r"[-+0-9.eE,;|\s]+", text):
        kernel = parse_matrix(text, "--kernel")
        if kernel.ndim != 2:
            raise UsageError("--kernel: a filter kernel is one 2-D matrix (no '|' channels)")
        return kernel, "kernel"
    raise UsageError(f"unknown filter {text!r}: expected one of {', '.join(filters.NAMES)} "
                     "or a kernel matrix such as '1 0 -1; 1 0 -1; 1 0 -1'")


def _to_uint8(response: np.ndarray, kernel: np.ndarray, scale: str) -> np.ndarray:
    if scale == "auto":
        scale = "abs" if abs(float(kernel.sum())) < 1e-6 else "clip"
    if scale == "abs":
        magnitude = np.abs(response)
        peak = magnitude.max()
        response = magnitude * (255.0 / peak) if peak > 0 else magnitude
    return np.clip(np.rint(response), 0, 255).astype(np.uint8)


def run_filter(args) -> int:
    """``kernelscope filter IMAGE --kernel NAME --out OUT.png``."""
    from .. import filters
    from ..report.page import save_png

    kernel, name = _filter_kernel(args.kernel)
    image = read_image(args.image)
    try:
        response = filters.apply(image, kernel, padding=args.padding)
    except ValueError as error:
        raise UsageError(str(error)) from None
    out = pathlib.Path(args.out or f"{pathlib.Path(args.image).stem}-{name}.png")
    try:
        save_png(_to_uint8(response, kernel, args.scale), out)
    except OSError as error:
        raise CommandError(f"cannot write {out}: {error.strerror or error}") from None
    print(f"Wrote {out} ({response.shape[1]}x{response.shape[0]}, {name}, response range "
          f"{response.min():.4g}..{response.max():.4g})")
    return 0


def run_model(args) -> int:
    """``kernelscope explain model MODEL IMAGE --out DIR``: views of a saved model for one image."""
    from ..explain.report import model_report
    from .catalog import load_model_file, model_input_shape
    from .commands import _class_names, read_image_for_model

    model = load_model_file(args.model)
    height, width, channels = model_input_shape(model)
    image = read_image_for_model(args.image, width, height, channels)
    out = pathlib.Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CommandError(f"cannot create output folder {out}: {error.strerror or error}") from None
    outputs = getattr(model, "outputs", None) or []
    names = _class_names(args.model, outputs[0].shape[-1]) if len(outputs) == 1 else None
    try:
        report = model_report(model, image, out, class_index=args.class_index, layer=args.layer,
                              class_names=names, title=f"{pathlib.Path(args.model).name} on "
                                                       f"{pathlib.Path(args.image).name}")
    except ValueError as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot write to {out}: {error.strerror or error}") from None
    for note in report["notes"]:
        print(f"Note: {note}")
    print(f"Wrote {len(report['files'])} images and {report['index']}")
    return 0
