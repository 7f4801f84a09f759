"""Classic image filters as kernels, and :func:`apply` to run one over an image with ``ks.ops``.

Kernels are 2-D float32 arrays used as deep-learning frameworks and the slides use
them: as a cross-correlation (no flip). The slides' edge filters respond positively
where the image gets darker to the right (``vertical_edge``) or downwards
(``horizontal_edge``); the gradient filters ``sobel_*`` and ``scharr_*`` follow the
derivative's sign: positive where the image gets brighter to the right (``_x``) or
downwards (``_y``), as OpenCV's and scikit-image's do.

>>> import numpy as np, kernelscope as ks
>>> image = np.array([[10, 10, 10, 0, 0, 0]] * 6)
>>> ks.filters.apply(image, ks.filters.vertical_edge(), padding="valid")
array([[ 0., 30., 30.,  0.],
       [ 0., 30., 30.,  0.],
       [ 0., 30., 30.,  0.],
       [ 0., 30., 30.,  0.]], dtype=float32)
"""

# H/W height/width, C channels, kh/kw kernel height/width

from __future__ import annotations

import math
import numbers

import numpy as np

from .geometry import check_int
__all__ = ["vertical_edge", "horizontal_edge", "sobel_x", "sobel_y", "scharr_x", "scharr_y", "laplacian",
           "box_blur", "gaussian_blur", "sharpen", "emboss", "identity", "get", "apply", "NAMES"]


def _kernel(rows) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def vertical_edge() -> np.ndarray:
    """The slides' vertical edge detector ``[[1, 0, -1]] * 3`` (bright left, dark right -> positive)."""
    return _kernel([[1, 0, -1]] * 3)


def horizontal_edge() -> np.ndarray:
    """The slides' horizontal edge detector ``[[1, 1, 1], [0, 0, 0], [-1, -1, -1]]`` (the transpose)."""
    return _kernel([[1, 1, 1], [0, 0, 0], [-1, -1, -1]])


def sobel_x() -> np.ndarray:
    """Sobel derivative along x: ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]``."""
    return _kernel([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def sobel_y() -> np.ndarray:
    """Sobel derivative along y (downwards): ``[[-1, -2, -1], [0, 0, 0], [1, 2, 1]]``."""
    return _kernel([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])


def scharr_x() -> np.ndarray:
    """Scharr derivative along x: ``[[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]``."""
    return _kernel([[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]])


def scharr_y() -> np.ndarray:
    """Scharr derivative along y: ``[[-3, -10, -3], [0, 0, 0], [3, 10, 3]]``."""
    return _kernel([[-3, -10, -3], [0, 0, 0], [3, 10, 3]])


def laplacian() -> np.ndarray:
    """The slides' Laplacian edge detector ``[[0, 1, 0], [1, -4, 1], [0, 1, 0]]``."""
    return _kernel([[0, 1, 0], [1, -4, 1], [0, 1, 0]])


def _size(value, name: str, odd: bool) -> int:
    value = check_int(value, name, expected="a positive integer")
    if odd and value % 2 == 0:
        # an even kernel has no centre pixel: the filtered image would move by half a pixel
        raise ValueError(f"`{name}` must be an odd positive integer (1, 3, 5, ...) so that the kernel has a "
                         f"centre pixel. Received: {name}={value!r}.")
    return value


def box_blur(n: int = 3) -> np.ndarray:
    """The slides' box filter: an ``n`` x ``n`` kernel of ``1/n**2`` (the mean of the window).

    An even ``n`` is allowed (``box_blur(2)`` is the 2 x 2 average, as in OpenCV's
    ``blur``), but such a window has no centre pixel: with ``apply(padding="same")``
    it covers ``(n-1)//2`` pixels above/left and ``n//2`` below/right of each output
    pixel (TensorFlow's "same" padding), so the result moves half a pixel towards the
    top-left. Use an odd ``n`` for a blur that keeps features in place.
    """
    n = _size(n, "n", odd=False)
    return np.full((n, n), 1.0 / (n * n), dtype=np.float32)


def gaussian_blur(sigma: float = 1.0, size: int | None = None) -> np.ndarray:
    """A normalized Gaussian kernel centred on its middle pixel; ``size`` (odd) defaults to
    ``2*ceil(3*sigma) + 1``."""
    if not isinstance(sigma, numbers.Real) or isinstance(sigma, bool) or not sigma > 0:
        raise ValueError(f"`sigma` must be a positive number. Received: sigma={sigma!r}.")
    size = 2 * math.ceil(3 * sigma) + 1 if size is None else _size(size, "size", odd=True)
    axis = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(axis ** 2) / (2 * sigma ** 2))
    kernel = np.outer(g, g)
    return (kernel / kernel.sum()).astype(np.float32)


def sharpen() -> np.ndarray:
    """The slides' sharpen filter ``[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]``."""
    return _kernel([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])


def emboss() -> np.ndarray:
    """The slides' emboss filter ``[[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]``."""
    return _kernel([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])


def identity(n: int = 3) -> np.ndarray:
    """``n`` x ``n`` zeros with a 1 in the centre (``n`` odd): the image comes out unchanged."""
    n = _size(n, "n", odd=True)
    kernel = np.zeros((n, n), dtype=np.float32)
    kernel[n // 2, n // 2] = 1.0
    return kernel


_BUILDERS = {f.__name__: f for f in (vertical_edge, horizontal_edge, sobel_x, sobel_y, scharr_x, scharr_y,
                                     laplacian, box_blur, gaussian_blur, sharpen, emboss, identity)}
NAMES = tuple(sorted(_BUILDERS))


def get(name: str) -> np.ndarray:
    """A filter by name (``"sobel_x"``), with its default arguments."""
    if not isinstance(name, str) or name not in _BUILDERS:
        raise ValueError(f"Unknown filter {name!r}. Valid names: {', '.join(NAMES)}.")
    return _BUILDERS[name]()


def _image(image) -> tuple:
    """(1, H, W, C) array and the original rank; integers become float32."""
    array = np.asarray(image)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"`image` must hold numbers. Received: dtype={array.dtype}.")
    if array.ndim not in (2, 3):
        raise ValueError("`image` must be greyscale (H, W) or (H, W, 1), or have channels (H, W, C) such as "
                         f"RGB (H, W, 3). Received: image.shape={array.shape}.")
    dtype = np.float64 if array.dtype == np.float64 else np.float32
    batch = array.astype(dtype, copy=False)
    return (batch[None, :, :, None] if array.ndim == 2 else batch[None]), array.ndim


_BORDERS = {"reflect": "reflect", "edge": "edge", "symmetric": "symmetric"}


def apply(image, kernel, padding="same") -> np.ndarray:
    """Filter an image: every channel separately, through :func:`kernelscope.ops.depthwise_conv2d`.

    Parameters
    ----------
    image : array_like, (H, W), (H, W, 1) or (H, W, C) (RGB: C = 3)
    kernel : 2-D array_like or a filter name (see :data:`NAMES`)
    padding : "same" (zero padding, output H x W), "valid", an int / pair / ((top, bottom),
        (left, right)) of zero padding, or "reflect", "edge" or "symmetric" to extend the
        border (NumPy's ``np.pad`` modes) instead of padding with zeros (output H x W).

    Returns
    -------
    ndarray with the image's layout, float32 (float64 for a float64 image).
    """
    from . import ops

    kernel = get(kernel) if isinstance(kernel, str) else np.asarray(kernel)
    if kernel.ndim != 2 or kernel.dtype.kind not in "biuf":
        raise ValueError(f"`kernel` must be a 2-D array of numbers or a filter name. "
                         f"Received: kernel.shape={kernel.shape}, dtype={kernel.dtype}.")
    x, ndim = _image(image)
    kernel = kernel.astype(x.dtype)
    if isinstance(padding, str) and padding.lower() in _BORDERS:
        kh, kw = kernel.shape
        pads = ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0))
        x, padding = np.pad(x, pads, mode=_BORDERS[padding.lower()]), "valid"
    depthwise = np.repeat(kernel[:, :, None, None], x.shape[3], axis=2)
    y = ops.depthwise_conv2d(x, depthwise, padding=padding).numpy()[0]
    return y[:, :, 0] if ndim == 2 else y
