"""Image files <-> arrays, as ``keras.utils.load_img``/``img_to_array``/``array_to_img``/``save_img``.

Every image file kernelscope reads (``load_img``, ``image_dataset_from_directory``,
``ks.datasets.image_folder``, the command line) goes through :func:`open_image`,
which accepts only regular files (a FIFO or ``/dev/zero`` would hang or fill
memory) and refuses images of more than :data:`MAX_IMAGE_PIXELS` pixels before
decoding them (Pillow's own "decompression bomb" warning never leaks out).
Needs Pillow (``pip install "kernelscope[image]"``); arrays are channels-last.

>>> import kernelscope as ks
>>> image = ks.utils.load_img("photo.png", target_size=(32, 32))  # doctest: +SKIP
>>> ks.utils.img_to_array(image).shape  # doctest: +SKIP
(32, 32, 3)
"""

from __future__ import annotations

import io
import os
import pathlib
import warnings

import numpy as np

from .._checks import require
from .._io import atomic_write, open_regular_file

__all__ = ["MAX_IMAGE_PIXELS", "ImageTooLargeError", "open_image", "load_img", "img_to_array", "array_to_img", "save_img"]

#: Largest image (width x height) read: 8192 x 8192 = 2**26 pixels; larger files are refused from their
#: header, before decoding. Below Pillow's own thresholds (it warns from 89 Mpx and refuses from twice
#: that), so this cap is the one that speaks. The command line reads images through the same cap.
MAX_IMAGE_PIXELS = 8192 * 8192
#: load_img's interpolation names (Keras's PIL_INTERPOLATION_METHODS) -> Pillow filter names.
INTERPOLATIONS = {"nearest": "NEAREST", "bilinear": "BILINEAR", "bicubic": "BICUBIC", "hamming": "HAMMING",
                  "box": "BOX", "lanczos": "LANCZOS"}
_COLOR_MODES = ("grayscale", "rgb", "rgba")


class ImageTooLargeError(ValueError):
    """An image above :data:`MAX_IMAGE_PIXELS`; ``width``/``height`` are None when only Pillow knew."""

    def __init__(self, message: str, width=None, height=None):
        super().__init__(message)
        self.width, self.height = width, height


def pillow():
    """``PIL.Image``, or an ImportError naming the ``image`` extra."""
    return require("PIL.Image", "image", "Reading and writing image files")


def _read_regular_file(path) -> bytes:
    # the project's one check: a FIFO, device or folder is refused without blocking on it or reading it
    with open_regular_file(path, "an image file") as handle:
        return handle.read()


def open_image(path):
    """Open an image file (path or ``io.BytesIO``) as a fully decoded Pillow image.

    Raises
    ------
    ValueError
        ``path`` is not a regular file, the image is above :data:`MAX_IMAGE_PIXELS`
        pixels, or Pillow cannot decode it (each message names the file).
    TypeError
        ``path`` is neither path-like nor ``io.BytesIO``.
    """
    image_module = pillow()
    if isinstance(path, io.BytesIO):
        data, name = path, "<BytesIO>"
    elif isinstance(path, (str, bytes, os.PathLike)):
        name = os.fsdecode(path)
        data = io.BytesIO(_read_regular_file(path))
    else:
        raise TypeError(f"`path` must be path-like or io.BytesIO. Received: path of type {type(path).__name__}.")
    with warnings.catch_warnings():
        # the cap below replaces Pillow's: its warning would leak for images between the two caps
        warnings.simplefilter("ignore", image_module.DecompressionBombWarning)
        try:
            image = image_module.open(data)
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageTooLargeError(f"Image {name} is too large ({width}x{height} = {width * height} pixels): "
                                         f"the cap is {MAX_IMAGE_PIXELS} pixels "
                                         "(kernelscope.utils.image_utils.MAX_IMAGE_PIXELS).", width, height)
            image.load()
        except image_module.DecompressionBombError as error:
            raise ImageTooLargeError(f"Image {name} is too large ({error}): the cap is {MAX_IMAGE_PIXELS} pixels "
                                     "(kernelscope.utils.image_utils.MAX_IMAGE_PIXELS).") from None
        except (OSError, SyntaxError) as error:
            raise ValueError(f"Cannot read image {name}: {error}") from None
    return image


def load_img(path, color_mode: str = "rgb", target_size=None, interpolation: str = "nearest",
             keep_aspect_ratio: bool = False):
    """Load an image file into a Pillow image, as ``keras.utils.load_img``.

    Parameters
    ----------
    path : str, PathLike or io.BytesIO
    color_mode : "rgb", "rgba" or "grayscale"
        Greyscale keeps 16- and 32-bit greyscale files as they are (Keras does too).
    target_size : (height, width), optional
    interpolation : one of "nearest", "bilinear", "bicubic", "hamming", "box", "lanczos"
    keep_aspect_ratio : bool
        Crop the centre to the target aspect ratio before resizing.
    """
    if color_mode not in _COLOR_MODES:
        raise ValueError(f"`color_mode` must be one of {_COLOR_MODES}. Received: color_mode={color_mode!r}.")
    image = open_image(path)
    wanted = {"grayscale": ("L", "I;16", "I"), "rgba": ("RGBA",), "rgb": ("RGB",)}[color_mode]
    if image.mode not in wanted:
        image = image.convert(wanted[0])
    if target_size is None:
        return image
    height, width = _size_pair(target_size)
    if image.size == (width, height):
        return image
    return resize_image(image, (height, width), interpolation, crop_to_aspect_ratio=keep_aspect_ratio)


def _size_pair(target_size) -> tuple:
    if (not isinstance(target_size, (tuple, list)) or len(target_size) != 2
            or not all(isinstance(v, (int, np.integer)) and v > 0 for v in target_size)):
        raise ValueError(f"`target_size` must be a pair of positive integers (height, width). "
                         f"Received: target_size={target_size!r}.")
    return int(target_size[0]), int(target_size[1])


def resize_image(image, size, interpolation: str, crop_to_aspect_ratio: bool = False,
                 pad_to_aspect_ratio: bool = False):
    """Resize a Pillow image to ``size`` = (height, width); optionally crop or pad (centred) to its ratio first."""
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"`interpolation` must be one of {tuple(INTERPOLATIONS)}. "
                         f"Received: interpolation={interpolation!r}.")
    resample = getattr(pillow().Resampling, INTERPOLATIONS[interpolation])
    height, width = size
    old_w, old_h = image.size
    if crop_to_aspect_ratio:
        # Keras's keep_aspect_ratio arithmetic: the largest centred box of the target ratio
        crop_h, crop_w = min(old_h, (old_w * height) // width), min(old_w, (old_h * width) // height)
        top, left = (old_h - crop_h) // 2, (old_w - crop_w) // 2
        return image.resize((width, height), resample, box=(left, top, left + crop_w, top + crop_h))
    if pad_to_aspect_ratio:
        pad_h, pad_w = max(old_h, (old_w * height) // width), max(old_w, (old_h * width) // height)
        canvas = pillow().new(image.mode, (pad_w, pad_h))  # black, as Keras pads with zeros
        canvas.paste(image, ((pad_w - old_w) // 2, (pad_h - old_h) // 2))
        image = canvas
    return image.resize((width, height), resample)


def _check_data_format(data_format) -> None:
    if data_format not in (None, "channels_last"):
        raise ValueError("kernelscope is channels-last only: `data_format` must be None or 'channels_last'. "
                         f"Received: data_format={data_format!r}.")


def img_to_array(img, data_format=None, dtype=None) -> np.ndarray:
    """A Pillow image (or array) as a 3-D array (height, width, channels), float32 by default."""
    _check_data_format(data_format)
    x = np.asarray(img, dtype=dtype or "float32")
    if x.ndim == 2:
        return x[:, :, None]
    if x.ndim != 3:
        raise ValueError(f"`img` must be a 2-D or 3-D image. Received: an array of shape {x.shape}.")
    return x


def array_to_img(x, data_format=None, scale: bool = True, dtype=None):
    """A 3-D array (height, width, 1/3/4 channels) as a Pillow image; ``scale`` stretches it to 0..255."""
    _check_data_format(data_format)
    image_module = pillow()
    x = np.array(getattr(x, "numpy", lambda: x)(), dtype=dtype or "float32")
    if x.ndim != 3:
        raise ValueError(f"`x` must be a single image of rank 3 (height, width, channels). "
                         f"Received: an array of shape {x.shape}.")
    if scale:
        x = x - np.min(x)
        if np.max(x) != 0:
            x = x / np.max(x)
        x = x * 255
    channels = x.shape[2]
    if channels in (3, 4):
        return image_module.fromarray(x.astype("uint8"), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit greyscale, as Keras
            return image_module.fromarray(x[:, :, 0].astype("int32"), "I")
        return image_module.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"`x` must have 1, 3 or 4 channels. Received: an array of shape {x.shape}.")


def save_img(path, x, data_format=None, file_format=None, scale: bool = True, **kwargs) -> None:
    """Save an image array to ``path`` (format from the extension unless ``file_format``); kwargs go to Pillow."""
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower() or None
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    image = array_to_img(x, data_format=data_format, scale=scale)
    if image.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2)
        image = image.convert("RGB")
    if isinstance(path, (str, os.PathLike)):  # written beside and renamed: never a half-written image
        if not file_format:
            raise ValueError("Cannot tell the image format: give `path` an extension (.png, .jpg, ...) or pass "
                             f"`file_format`. Received: path={os.fspath(path)!r}, file_format={file_format!r}.")
        atomic_write(path, lambda handle: image.save(handle, format=file_format, **kwargs))
    else:
        image.save(path, format=file_format, **kwargs)
