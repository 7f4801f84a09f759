"""Regularization layers active only in training: Dropout and GaussianNoise.

Each layer draws its random numbers from its own generator, made once at
construction from ``seed`` (or from kernelscope's root generator), so
``ks.rng.set_random_seed(n)`` before building a model makes a run repeat.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import ops
from .. import rng as _rng
from ..autograd import Tensor
from .base import Layer

__all__ = ["Dropout", "GaussianNoise"]


def _seed_config(seed):
    return seed if seed is None or isinstance(seed, (int, np.integer)) else None


class Dropout(Layer):
    """Zero each input with probability ``rate`` in training and scale the rest by ``1/(1-rate)``.

    Parameters
    ----------
    rate : float in [0, 1)
    noise_shape : tuple, optional
        Shape of the keep-mask, broadcast against the input (None entries take the input's size).
    seed : int, optional
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, numbers.Real) or isinstance(rate, bool) or not 0 <= rate < 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float value between "
                             f"0 and 1. Received: rate={rate!r}.")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._generator = _rng.make_rng(seed)

    def _resolved_noise_shape(self, shape):
        if self.noise_shape is None:
            return None
        if len(self.noise_shape) != len(shape):
            raise ValueError(f"Layer '{self.name}': `noise_shape` must have the input's rank {len(shape)}. "
                             f"Received: noise_shape={self.noise_shape} for input of shape {tuple(shape)}.")
        return tuple(n if d is None else d for d, n in zip(self.noise_shape, shape))

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        return ops.dropout(inputs, self.rate, training=True, seed=self._generator,
                           noise_shape=self._resolved_noise_shape(inputs.shape))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": _seed_config(self.seed)}


class GaussianNoise(Layer):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` in training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(stddev, numbers.Real) or isinstance(stddev, bool) or not 0 <= stddev <= 1:
            raise ValueError("Invalid value received for argument `stddev`. Expected a float value between "
                             f"0 and 1. Received: stddev={stddev!r}.")
        self.stddev = float(stddev)
        self.seed = seed
        self._generator = _rng.make_rng(seed)

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        noise = self._generator.normal(0.0, self.stddev, inputs.shape).astype(inputs.dtype)
        return inputs + Tensor(noise)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev, "seed": _seed_config(self.seed)}
