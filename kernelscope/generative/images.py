"""Images in and out of a pretrained network: checking pixels, and undoing ``preprocess_input``."""

from __future__ import annotations

import numpy as np

from ..layers.pixel_preprocessing import _CAFFE_MEAN_BGR, _TORCH_MEAN, _TORCH_STD, PREPROCESS_MODES

__all__ = ["deprocess_image", "check_image"]


def deprocess_image(x, mode: str | None = "caffe") -> np.ndarray:
    """The inverse of ``ks.applications.*.preprocess_input(x, mode=mode)``, as a uint8 image.

    - caffe (VGG, ResNet): add the ImageNet mean pixel back (103.939, 116.779, 123.68 in
      BGR order), then BGR -> RGB.
    - tf: ``(x + 1) * 127.5``.
    - torch: ``(x * (0.229, 0.224, 0.225) + (0.485, 0.456, 0.406)) * 255``.
    - None: the pixels as they are (a model that reads raw 0..255 values).

    The result is rounded and clipped to [0, 255], as keras-io's ``deprocess_image``
    (which truncates instead); so ``deprocess_image(preprocess_input(img))`` gives a
    uint8 ``img`` back exactly.

    Examples
    --------
    >>> import numpy as np
    >>> deprocess_image(np.array([[[-103.939, 0.0, 200.0]]]))
    array([[[255, 117,   0]]], dtype=uint8)
    """
    if mode is not None and mode not in PREPROCESS_MODES:
        raise ValueError(f"`mode` must be one of {list(PREPROCESS_MODES)} or None. Received: mode={mode!r}.")
    x = np.array(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)
    if mode in ("caffe", "torch") and (x.ndim < 1 or x.shape[-1] != 3):
        raise ValueError(f"deprocess_image(mode={mode!r}) expects 3 color channels on the last axis. "
                         f"Received: an array of shape {x.shape}.")
    if mode == "caffe":
        x = (x + np.asarray(_CAFFE_MEAN_BGR))[..., ::-1]
    elif mode == "tf":
        x = (x + 1.0) * 127.5
    elif mode == "torch":
        x = (x * np.asarray(_TORCH_STD) + np.asarray(_TORCH_MEAN)) * 255.0
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def check_image(image, name: str) -> np.ndarray:
    """``image`` (H, W, C) or (1, H, W, C) with finite values in [0, 255] -> a float32 (1, H, W, C) batch."""
    array = np.asarray(image.numpy() if hasattr(image, "numpy") else image)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be an image array of numbers. Received: dtype={array.dtype}.")
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[0] != 1 or min(array.shape[1:3]) < 2:
        raise ValueError(f"`{name}` must be one image (height, width, channels) or a batch of one "
                         "(1, height, width, channels), at least 2x2 pixels. "
                         f"Received: {name} of shape {np.shape(image)}.")
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 255:
        raise ValueError(f"`{name}` must hold pixel values in [0, 255] (RGB, before preprocess_input). "
                         f"Received: values from {np.nanmin(array):g} to {np.nanmax(array):g}.")
    return array
