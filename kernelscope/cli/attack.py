"""``kernelscope explain attack MODEL IMAGE --eps 0.1``: an adversarial example of one image file.

Models of the command line read raw pixels 0..255, so ``--eps`` is a fraction of that
range (0.1 = 25.5 grey levels), as the papers state it for images in [0, 1].
"""

from __future__ import annotations

import argparse
import pathlib

import numpy as np

from .catalog import CommandError, UsageError
from .common import finite_float, positive_int

_METHODS = ("fgsm", "pgd")
_PIXEL_RANGE = (0.0, 255.0)


def _eps(text: str) -> float:
    value = finite_float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction of the pixel range in [0, 1], got {text}")
    return value


def add_parser(which, common) -> None:
    """Register ``explain attack`` among the ``explain`` sub-commands."""
    attack = which.add_parser("attack", parents=[common], help="an adversarial example of an image (FGSM, PGD)",
                              description="Attack a saved model on one image file and write the original, the "
                                          "perturbation (amplified) and the adversarial image side by side, with "
                                          "the predictions (needs Pillow and matplotlib).")
    attack.add_argument("model", metavar="MODEL", help="a saved model file (.keras)")
    attack.add_argument("image", metavar="IMAGE", help="an image file (fed as 0..255 pixels, like predict)")
    attack.add_argument("--eps", type=_eps, default=0.1,
                        help="L-inf budget as a fraction of the pixel range 0..255 (default 0.1)")
    attack.add_argument("--method", choices=_METHODS, default="fgsm", help="fgsm or pgd (default fgsm)")
    attack.add_argument("--steps", type=positive_int, default=10, help="PGD steps (default 10)")
    attack.add_argument("--target", type=int, default=None,
                        help="a class to take the image to (targeted attack; default: away from the prediction)")
    attack.add_argument("--out", default=None, help="output PNG (default IMAGE-attack.png in this folder)")
    attack.set_defaults(handler=run_attack)


def _label(names: list, probabilities: np.ndarray) -> tuple:
    index = int(np.argmax(probabilities))
    return index, f"{names[index]} ({100 * probabilities[index]:.1f}%)"


def run_attack(args) -> int:
    """Attack, print both predictions and write the triptych."""
    from .. import adversarial
    from ..adversarial import _core
    from .catalog import load_model_file, model_input_shape
    from .commands import _class_names, read_image_for_model

    model = load_model_file(args.model)
    height, width, channels = model_input_shape(model)
    image = read_image_for_model(args.image, width, height, channels)
    eps = args.eps * (_PIXEL_RANGE[1] - _PIXEL_RANGE[0])
    options = {"eps": eps, "clip": _PIXEL_RANGE, "targeted": args.target is not None}
    if args.method == "pgd":
        options.update(steps=args.steps, seed=0)
    classes = _core.n_classes(model, image[None])
    if args.target is not None and not 0 <= args.target < classes:
        raise UsageError(f"--target must be a class number in [0, {classes}) for this model, got {args.target}")
    try:
        attack = adversarial.fgsm if args.method == "fgsm" else adversarial.pgd
        adv = attack(model, image, args.target, **options)
    except ValueError as error:
        raise UsageError(str(error)) from None
    before, after = _core.probabilities(model, np.stack([image, adv]))
    names = _class_names(args.model, len(before))
    (was, was_text), (now, now_text) = _label(names, before), _label(names, after)
    out = pathlib.Path(args.out or f"{pathlib.Path(args.image).stem}-attack.png")
    try:
        adversarial.triptych(image, adv, out, original_label=was_text, adversarial_label=now_text,
                             value_range=_PIXEL_RANGE, eps=eps)
    except ImportError as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot write {out}: {error.strerror or error}") from None
    verdict = "unchanged" if was == now else "fooled"
    print(f"{args.image}: {was_text} -> {now_text} ({verdict}; {args.method}, eps {args.eps:g} of 0..255)")
    print(f"Wrote {out}")
    return 0
