"""The losses of neural style transfer (Gatys, Ecker & Bethge, 2015), as keras-io writes them.

Shape legend: H/W height/width of a feature map, C its channels, N batch.

- ``gram_matrix``: the channel-by-channel inner products of a feature map, ``F^T F``
  with ``F`` the ``(H*W, C)`` matrix of its pixels: which features fire together.
- ``style_loss``: squared distance of two Gram matrices over ``4 C^2 M^2`` (Gatys's
  equation 4, ``M = H*W``).
- ``content_loss``: the summed squared difference of two feature maps (keras-io
  leaves out Gatys's factor 1/2: its weights are tuned without it).
- ``total_variation_loss``: ``sum((dx^2 + dy^2) ** 1.25)`` over the image, a smoothness prior.

Every function takes Tensors or arrays and returns a scalar Tensor, differentiable
with respect to its inputs.
"""

from __future__ import annotations

import numbers

from ..autograd import Tensor, as_tensor

__all__ = ["gram_matrix", "style_loss", "content_loss", "total_variation_loss"]


def gram_matrix(x) -> Tensor:
    """The Gram matrix of a feature map: ``(H, W, C) -> (C, C)``, or per image ``(N, H, W, C) -> (N, C, C)``.

    Examples
    --------
    >>> import numpy as np
    >>> gram_matrix(np.arange(4.0).reshape(2, 1, 2)).numpy()
    array([[ 4.,  6.],
           [ 6., 10.]])
    """
    x = as_tensor(x)
    if x.ndim == 3:
        features = x.reshape(-1, x.shape[-1])
        return features.T @ features
    if x.ndim == 4:
        features = x.reshape(x.shape[0], -1, x.shape[-1])
        return features.transpose(0, 2, 1) @ features
    raise ValueError("gram_matrix() expects a feature map (height, width, channels) or a batch of them "
                     f"(batch, height, width, channels). Received: x of shape {tuple(x.shape)}.")


def style_loss(style, combination, channels: int | None = None, size: int | None = None) -> Tensor:
    """``sum((G(style) - G(combination))^2) / (4 channels^2 size^2)``, ``G`` the Gram matrix.

    Parameters
    ----------
    style, combination : feature maps ``(H, W, C)`` or ``(N, H, W, C)`` with the same channels
        (their heights and widths may differ: Gram matrices are ``C x C``).
    channels, size : int, optional
        The normalisation. By default Gatys's: the feature map's channels and its
        ``H * W`` (of ``combination``). keras-io passes the image's: 3 and its pixel count.
    """
    style, combination = as_tensor(style), as_tensor(combination)
    if style.ndim != combination.ndim or style.shape[-1:] != combination.shape[-1:]:
        raise ValueError("style_loss() needs feature maps with the same rank and number of channels. "
                         f"Received: style of shape {tuple(style.shape)}, combination of shape "
                         f"{tuple(combination.shape)}.")
    gram_style, gram_combination = gram_matrix(style), gram_matrix(combination)
    channels = combination.shape[-1] if channels is None else _positive_int(channels, "channels")
    size = combination.shape[-3] * combination.shape[-2] if size is None else _positive_int(size, "size")
    return ((gram_style - gram_combination) ** 2).sum() / (4.0 * float(channels) ** 2 * float(size) ** 2)


def content_loss(base, combination) -> Tensor:
    """``sum((combination - base)^2)``: how far the combination's features are from the content's."""
    base, combination = as_tensor(base), as_tensor(combination)
    if base.shape != combination.shape:
        raise ValueError("content_loss() needs feature maps of the same shape. Received: base of shape "
                         f"{tuple(base.shape)}, combination of shape {tuple(combination.shape)}.")
    return ((combination - base) ** 2).sum()


def total_variation_loss(x) -> Tensor:
    """``sum((dy^2 + dx^2) ** 1.25)`` of an image ``(H, W, C)`` or batch ``(N, H, W, C)``.

    ``dy``/``dx`` are the differences to the pixel below and to the right, over the
    ``(H-1) x (W-1)`` pixels that have both (keras-io's definition).
    """
    x = as_tensor(x)
    if x.ndim == 3:
        x = x.reshape(1, *x.shape)
    if x.ndim != 4 or x.shape[1] < 2 or x.shape[2] < 2:
        raise ValueError("total_variation_loss() expects an image (height, width, channels) or a batch of them, "
                         f"at least 2x2 pixels. Received: x of shape {tuple(x.shape)}.")
    corner = x[:, :-1, :-1, :]
    down = (corner - x[:, 1:, :-1, :]) ** 2
    right = (corner - x[:, :-1, 1:, :]) ** 2
    return ((down + right) ** 1.25).sum()


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}.")
    return int(value)
