"""The autoencoders' layer stacks: dense or convolutional encoders, and decoders that mirror them.

The plain autoencoders (:func:`dense_autoencoder`, :func:`conv_autoencoder`) and
the variational one (:func:`kernelscope.anomaly.build_vae`) are made of the same
stacks; only what sits between encoder and decoder differs (a code, or a
Gaussian posterior to sample from).
"""

from __future__ import annotations

import numpy as np

__all__ = ["dense_autoencoder", "conv_autoencoder", "encoder_layers", "decoder_layers"]


def encoder_layers(input_shape: tuple, architecture: str, units, noise: float = 0.0) -> list:
    """The encoder's layers (without ``Input`` or code) for ``architecture`` "dense" or "conv".

    "dense": ``Dense(u, relu)`` per entry of ``units``, images flattened first;
    "conv": ``Conv2D(f, 3, strides=2, padding="same", relu)`` per entry (each
    halving the feature map), then ``Flatten``. Optional ``GaussianNoise`` first.
    """
    from .. import layers

    stack = [layers.GaussianNoise(noise, name="noise")] if noise else []
    if architecture == "conv":
        stack += [layers.Conv2D(f, 3, strides=2, padding="same", activation="relu", name=f"encoder_conv{i}")
                  for i, f in enumerate(units, 1)]
        return stack + [layers.Flatten()]
    if len(input_shape) > 1:
        stack.append(layers.Flatten())
    return stack + [layers.Dense(u, activation="relu", name=f"encoder_{i}") for i, u in enumerate(units, 1)]


def decoder_layers(input_shape: tuple, architecture: str, units, activation=None) -> list:
    """The decoder's layers, from a code back to ``input_shape``: the encoder's mirror.

    "dense": ``Dense(u, relu)`` per entry of ``units`` in reverse, a Dense of the
    input size with ``activation``, a reshape for images. "conv": a Dense back to
    the smallest feature map, ``Conv2DTranspose(f, 3, strides=2)`` per entry in
    reverse, a crop to ``H x W`` and a ``Conv2D(C, 3)`` with ``activation``.
    """
    from .. import layers

    if architecture == "conv":
        return _conv_decoder_layers(tuple(int(d) for d in input_shape), units, activation)
    stack = [layers.Dense(u, activation="relu", name=f"decoder_{i}") for i, u in enumerate(units[::-1], 1)]
    stack.append(layers.Dense(int(np.prod(input_shape)), activation=activation, name="reconstruction"))
    if len(input_shape) > 1:
        stack.append(layers.Reshape(tuple(input_shape)))
    return stack


def _conv_decoder_layers(input_shape: tuple, filters, activation) -> list:
    from .. import layers

    height, width, channels = input_shape
    h, w = height, width
    for _ in filters:  # "same" padding with stride 2: ceil(n / 2)
        h, w = -(-h // 2), -(-w // 2)
    stack = [layers.Dense(h * w * filters[-1], activation="relu", name="decoder_dense"),
             layers.Reshape((h, w, filters[-1]))]
    stack += [layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu", name=f"decoder_conv{i}")
              for i, f in enumerate(filters[::-1], 1)]
    extra_h, extra_w = h * 2 ** len(filters) - height, w * 2 ** len(filters) - width
    if extra_h or extra_w:
        stack.append(layers.Cropping2D(((0, extra_h), (0, extra_w))))
    stack.append(layers.Conv2D(channels, 3, padding="same", activation=activation, name="reconstruction"))
    return stack


def dense_autoencoder(input_shape: tuple, units=(64, 32), latent_dim: int = 8, noise: float = 0.0):
    """A dense autoencoder: ``Dense(u, relu)`` per unit count, a linear code of ``latent_dim``, the mirror.

    Images are flattened on the way in and reshaped on the way out.
    """
    from .. import layers, models

    return models.Sequential([layers.Input(tuple(input_shape)), *encoder_layers(input_shape, "dense", units, noise),
                              layers.Dense(latent_dim, name="code"),
                              *decoder_layers(input_shape, "dense", units)], name="dense_autoencoder")


def conv_autoencoder(input_shape: tuple, filters=(8, 16), latent_dim: int = 8, noise: float = 0.0):
    """A convolutional autoencoder for ``(H, W, C)`` images.

    Encoder: per entry of ``filters`` a ``Conv2D(f, 3, strides=2, padding="same", relu)``
    (halving the feature map), then a dense code of ``latent_dim``. Decoder: a
    Dense back to the smallest feature map, ``Conv2DTranspose(f, 3, strides=2)``
    per entry in reverse, a crop to ``H x W`` and a linear ``Conv2D(C, 3)``.
    """
    from .. import layers, models

    shape = tuple(int(d) for d in input_shape)
    return models.Sequential([layers.Input(shape), *encoder_layers(shape, "conv", filters, noise),
                              layers.Dense(latent_dim, name="code"),
                              *decoder_layers(shape, "conv", filters)], name="conv_autoencoder")
