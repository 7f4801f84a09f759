"""``kernelscope style``: neural style transfer from the command line (keras-io's loop).

    kernelscope style CONTENT.jpg STYLE.jpg --weights vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 \\
        --steps 200 --out out.png

Reads both images at ``--size`` pixels high (the style image is resized to the content's
size), runs :class:`~kernelscope.generative.StyleTransfer` on VGG19 with the Keras
weight file, and writes the generated image; ``--save-every N`` also writes
``OUT_at_iteration_N.png`` along the way. ``--model FILE.keras`` uses any saved model with
VGG19's layer names instead, ``--model small-vgg`` a random toy network. Needs Pillow
(the ``image`` extra) and, for ``--weights``, h5py (``keras-weights``).
"""

from __future__ import annotations

import pathlib

from .catalog import CommandError, UsageError, load_model_file
from .common import finite_float, non_negative_int, positive_float, positive_int, read_image, require_regular_file

_MODES = ("caffe", "tf", "torch", "none")


def add_parsers(commands, common) -> None:
    """Register the ``style`` subcommand."""
    parser = commands.add_parser(
        "style", parents=[common], help="neural style transfer: CONTENT painted in the style of STYLE",
        description="Optimise an image with the content of CONTENT and the style of STYLE (Gatys et al.; "
                    "keras-io's neural_style_transfer) through VGG19's features.")
    parser.add_argument("content", metavar="CONTENT", help="the content image (PNG, JPEG, ...)")
    parser.add_argument("style", metavar="STYLE", help="the style image")
    parser.add_argument("--weights", default=None,
                        help="Keras weight file of VGG19 without its top: vgg19_weights_tf_dim_ordering_tf_kernels_"
                             "notop.h5")
    parser.add_argument("--model", default=None,
                        help="instead of --weights: a saved model (.keras) with VGG19's layer names, or "
                             "small-vgg (ks.generative.small_vgg: random weights, to try the command in seconds)")
    parser.add_argument("--steps", type=positive_int, default=200, help="gradient steps (default 200)")
    parser.add_argument("--size", type=positive_int, default=256,
                        help="height of the generated image in pixels, width keeps the content's aspect ratio "
                             "(default 256; keras-io uses 400, slow on a CPU)")
    parser.add_argument("--content-weight", type=_non_negative_float, default=2.5e-8, help="default 2.5e-8")
    parser.add_argument("--style-weight", type=_non_negative_float, default=1e-6, help="default 1e-6")
    parser.add_argument("--total-variation-weight", type=_non_negative_float, default=1e-6, help="default 1e-6")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd",
                        help="sgd as keras-io (learning rate decayed by 0.96 every 100 steps) or adam (default sgd)")
    parser.add_argument("--learning-rate", type=positive_float, default=None,
                        help="initial learning rate, in pixel units (default 100 for sgd, 5 for adam)")
    parser.add_argument("--preprocess", choices=_MODES, default="caffe",
                        help="the model's preprocess_input mode; caffe for VGG (default caffe)")
    parser.add_argument("--save-every", type=non_negative_int, default=0,
                        help="also write OUT_at_iteration_N.png every N steps (default 0: only the result)")
    parser.add_argument("--out", default="style.png", help="the generated image (default style.png)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    parser.set_defaults(handler=run_style)


def run_style(args) -> int:
    """Load the network and the images, run the transfer, write the image(s)."""
    import kernelscope as ks

    out = _check_out(pathlib.Path(args.out))  # before the long run, not after it
    model = _load_network(args)
    channels = model.inputs[0].shape[-1]
    mode = {1: "L", 3: "RGB"}.get(channels)
    if mode is None:
        raise UsageError(f"the model reads {channels} channels; style transfer reads images with 1 or 3")
    content = _read(args.content, mode, args.size)
    style = _read(args.style, mode, None, like=content)
    transfer = ks.generative.StyleTransfer(
        content, style, model=model, content_weight=args.content_weight, style_weight=args.style_weight,
        total_variation_weight=args.total_variation_weight,
        preprocess_mode=None if args.preprocess == "none" else args.preprocess)
    print(f"Style transfer: {args.content} in the style of {args.style}, {content.shape[1]}x{content.shape[0]} "
          f"pixels, {args.steps} steps through {model.name}")
    _optimise(transfer, args, out)
    _save(transfer.image, out)
    first, last = transfer.history[0]["loss"], transfer.history[-1]["loss"]
    print(f"Loss {first:.4g} -> {last:.4g}. Image: {out}")
    return 0


def _optimise(transfer, args, out: pathlib.Path) -> None:
    """``--steps`` steps, writing ``OUT_at_iteration_N`` every ``--save-every`` steps before the last."""
    def save_intermediate(step, image, logs):
        if args.save_every and step % args.save_every == 0 and step < args.steps:
            _save(image, out.with_name(f"{out.stem}_at_iteration_{step}{out.suffix}"))

    try:
        for _ in transfer.run(args.steps, optimizer=_optimizer(args), callback=save_intermediate,
                              progress=not args.quiet, every=args.steps):
            pass
    except FloatingPointError as error:
        raise CommandError(str(error).replace("the optimizer's learning rate", "--learning-rate")) from None


def _optimizer(args):
    import kernelscope as ks

    if args.optimizer == "adam":
        return ks.optimizers.Adam(learning_rate=args.learning_rate or 5.0)
    schedule = ks.optimizers.schedules.ExponentialDecay(args.learning_rate or 100.0, decay_steps=100,
                                                        decay_rate=0.96)
    return ks.optimizers.SGD(learning_rate=schedule)


def _load_network(args):
    import kernelscope as ks

    if (args.weights is None) == (args.model is None):
        raise UsageError("give the network: --weights vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 (VGG19) "
                         "or --model FILE.keras, not both")
    if args.model == "small-vgg":
        return ks.generative.small_vgg()
    if args.model is not None:
        return load_model_file(args.model)
    require_regular_file(args.weights, "weight file")
    try:
        return ks.applications.VGG19(include_top=False, weights=args.weights)
    except ImportError as error:
        raise CommandError(str(error)) from None  # the loader names the extra (keras-weights)
    except (OSError, ValueError, KeyError) as error:
        raise CommandError(f"cannot load VGG19 weights from {args.weights}: {error}") from None


def _read(path: str, mode: str, height: int | None, like=None):
    """An image as float32 (H, W, C) in 0..255: ``height`` pixels high, or the size of ``like``."""
    if like is not None:
        size = (like.shape[1], like.shape[0])
    else:
        original = read_image(path, mode=mode)
        size = (max(1, round(original.shape[1] * height / original.shape[0])), height)
    pixels = read_image(path, mode=mode, size=size)
    return pixels[..., None] if pixels.ndim == 2 else pixels


def _check_out(out: pathlib.Path) -> pathlib.Path:
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"):
        raise UsageError(f"--out must name an image file (.png, .jpg, ...), got {out}")
    if not out.parent.is_dir():
        raise CommandError(f"cannot write {out}: folder {out.parent} does not exist")
    return out


def _save(image, path: pathlib.Path) -> None:
    import kernelscope as ks

    try:
        ks.utils.save_img(path, image, scale=False)
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot write {path}: {error}") from None


def _non_negative_float(text: str) -> float:
    import argparse

    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value
