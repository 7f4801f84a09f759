"""``keras.random``: seeded draws returning ``ks.Tensor``.

``seed`` follows Keras 3: an int gives the same draw at every call, a
:class:`SeedGenerator` advances at every call, ``None`` draws from
kernelscope's root generator (``kernelscope.rng``), so that
``ks.utils.set_random_seed(n)`` makes a whole run repeat.

>>> import kernelscope as ks
>>> bool((ks.random.normal((2,), seed=1) == ks.random.normal((2,), seed=1)).numpy().all())
True
"""

from __future__ import annotations

import numpy as np

from . import rng as _rng
from .autograd import Tensor, as_tensor

__all__ = ["SeedGenerator", "normal", "uniform", "randint", "truncated_normal", "categorical", "dropout",
           "shuffle", "gamma", "binomial", "beta"]


class SeedGenerator:
    """A stateful source of seeds: each draw that takes it gets new numbers.

    Parameters
    ----------
    seed : int or None
        Start state; None draws one from kernelscope's root generator.
    name : str, optional
    """

    def __init__(self, seed=None, name: str | None = None, **kwargs):
        if kwargs:
            raise TypeError(f"SeedGenerator got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"Argument `seed` must be an integer or None. Received: seed={seed!r}.")
        self.initial_seed = None if seed is None else int(seed)
        self.name = name or "seed_generator"
        self._generator = _rng.make_rng(None if seed is None else int(seed) % 2**63)

    def next(self, ordered: bool = True) -> np.random.Generator:
        """A fresh NumPy Generator; the state moves on."""
        return np.random.default_rng(self._generator.integers(2**63))

    def get_config(self) -> dict:
        return {"seed": self.initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "SeedGenerator":
        return cls(**config)


def _generator(seed) -> np.random.Generator:
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        return _rng.make_rng(None)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed) % 2**63)
    raise ValueError("Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
                     f"Received: seed={seed!r} (of type {type(seed)}).")


def _float(dtype) -> np.dtype:
    from .backend import standardize_dtype

    name = standardize_dtype(dtype)
    if not name.startswith("float"):
        raise ValueError(f"`dtype` must be a floating-point type. Received: dtype={dtype!r}.")
    return np.dtype(name)


def _shape(shape) -> tuple:
    items = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0 for d in items):
        raise ValueError(f"`shape` must be a tuple of non-negative integers. Received: shape={shape!r}.")
    return tuple(int(d) for d in items)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Draws from a normal distribution with ``mean`` and ``stddev``."""
    values = _generator(seed).normal(mean, stddev, _shape(shape))
    return Tensor(values.astype(_float(dtype)))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None) -> Tensor:
    """Draws from ``[minval, maxval)`` uniformly."""
    values = _generator(seed).uniform(minval, maxval, _shape(shape))
    return Tensor(values.astype(_float(dtype)))


def randint(shape, minval, maxval, dtype="int32", seed=None) -> Tensor:
    """Integers drawn uniformly from ``[minval, maxval)``."""
    from .backend import standardize_dtype

    dtype = np.dtype(standardize_dtype(dtype))
    values = _generator(seed).integers(minval, maxval, _shape(shape))
    return Tensor._constant(values.astype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Normal draws, those beyond two standard deviations redrawn (as Keras)."""
    from .initializers import _truncated_normal

    values = _truncated_normal(_generator(seed), _shape(shape), float(mean), float(stddev))
    return Tensor(values.astype(_float(dtype)))


def categorical(logits, num_samples: int, dtype="int32", seed=None) -> Tensor:
    """``num_samples`` class indices per row of the ``(batch, classes)`` ``logits``."""
    from .backend import standardize_dtype

    z = np.asarray(as_tensor(logits).data, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"`logits` should be a 2-D tensor with shape [batch_size, num_classes]. "
                         f"Received: logits.shape={z.shape}.")
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    draws = _generator(seed).random((z.shape[0], int(num_samples)))
    picks = (draws[..., None] > np.cumsum(p, axis=1)[:, None, :]).sum(-1)
    return Tensor._constant(np.minimum(picks, z.shape[1] - 1).astype(standardize_dtype(dtype)))


def dropout(inputs, rate: float, noise_shape=None, seed=None) -> Tensor:
    """Zero a ``rate`` fraction of ``inputs`` and scale the rest by ``1 / (1 - rate)`` (differentiable)."""
    from .ops.normalization import dropout as dropout_op

    return dropout_op(inputs, rate, training=True, seed=_generator(seed), noise_shape=noise_shape)


def shuffle(x, axis: int = 0, seed=None) -> Tensor:
    """``x`` with its entries along ``axis`` permuted (gradients follow the entries)."""
    from .ops.core import normalize_axis

    x = as_tensor(x)
    axis = normalize_axis(axis, x.ndim)
    order = _generator(seed).permutation(x.shape[axis])
    return x[(slice(None),) * axis + (order,)]


def gamma(shape, alpha, dtype=None, seed=None) -> Tensor:
    """Draws from a gamma distribution of shape ``alpha`` (scale 1)."""
    return Tensor(_generator(seed).gamma(alpha, 1.0, _shape(shape)).astype(_float(dtype)))


def binomial(shape, counts, probabilities, dtype=None, seed=None) -> Tensor:
    """Draws of a binomial distribution (``counts`` trials of success ``probabilities``)."""
    return Tensor(_generator(seed).binomial(counts, probabilities, _shape(shape)).astype(_float(dtype)))


def beta(shape, alpha, beta, dtype=None, seed=None) -> Tensor:  # noqa: A002 - Keras name
    """Draws from a beta distribution."""
    return Tensor(_generator(seed).beta(alpha, beta, _shape(shape)).astype(_float(dtype)))
