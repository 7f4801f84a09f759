"""Pieces every subcommand shares: argument types, the output folder, reading images."""

from __future__ import annotations

import argparse
import datetime
import math
import os
import pathlib
import stat
import tempfile

import numpy as np

from ..utils.image_utils import MAX_IMAGE_PIXELS  # one cap (8192x8192) for every image reader
from .catalog import CommandError



def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


def finite_float(text: str) -> float:
    """A finite number: "nan" and "inf", which float() accepts, are refused."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def positive_float(text: str) -> float:
    value = finite_float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def fraction(text: str) -> float:
    value = finite_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def numbers(text: str, kind=float) -> tuple:
    """Comma-separated numbers ("2,3" -> (2, 3) with ``kind=int``); () when one does not parse."""
    try:
        return tuple(kind(part) for part in text.split(","))
    except ValueError:
        return ()


def image_shape(text: str) -> tuple:
    shape = numbers(text, int)
    if len(shape) != 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"must be three positive integers H,W,C, got {text}")
    return shape


def prepare_out(out, run_name: str) -> pathlib.Path:
    """The output folder (default ``runs/<run_name>-<YYYYmmdd-HHMMSS>``), created and checked writable."""
    if out is None:
        out = pathlib.Path("runs") / f"{run_name}-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    out = pathlib.Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise CommandError(f"cannot write to output folder {out}: {error.strerror or error}") from None
    return out


def require_regular_file(path: str, what: str) -> None:
    """Raise a one-line CommandError unless ``path`` is a regular file (checked before opening it:
    a folder, a FIFO that would block, or a device such as /dev/zero that never ends)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise CommandError(f"{what} not found: {path}") from None
    except OSError as error:
        raise CommandError(f"cannot read {what} {path}: {error.strerror or error}") from None
    if stat.S_ISDIR(mode):
        raise CommandError(f"{what} {path} is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise CommandError(f"{what} {path} is not a regular file")


def read_image(path: str, mode: str | None = None, size: tuple | None = None) -> np.ndarray:
    """An image file as float32 0..255 (H, W) or (H, W, C).

    ``mode`` is a Pillow mode ("L", "RGB", "RGBA"); None keeps greyscale files greyscale and
    makes the rest RGB. ``size`` is (width, height) to resize to, bilinearly. Images of more
    than ``MAX_IMAGE_PIXELS`` pixels are refused before they are decoded.
    """
    from ..utils.image_utils import ImageTooLargeError, open_image, pillow  # the one reader: regular files, pixel cap

    try:
        image_module = pillow()
    except ImportError:
        raise CommandError('reading images needs Pillow: pip install "kernelscope[image]"') from None
    require_regular_file(path, "image file")
    try:
        image = open_image(path)
        if mode is None:
            mode = "L" if image.mode in ("L", "LA", "I", "I;16", "1") else "RGB"
        pixels = image.convert(mode)
        if size is not None:
            pixels = pixels.resize(size, image_module.Resampling.BILINEAR)
    except ImageTooLargeError as error:
        known = error.width is not None
        raise CommandError(_too_large(path, f"{error.width}x{error.height} = {error.width * error.height:,} pixels"
                                      if known else "more than twice Pillow's limit")) from None
    except ValueError as error:  # open_image's message already names the file
        raise CommandError(str(error)[:1].lower() + str(error)[1:]) from None
    except OSError as error:
        raise CommandError(f"cannot read image {path}: {error}") from None
    return np.asarray(pixels, dtype=np.float32)


def _too_large(path: str, size: str) -> str:
    return (f"image {path} is too large to read: {size}; the limit is {MAX_IMAGE_PIXELS:,} pixels "
            f"(8192x8192, a decompression-bomb guard)")
