"""Weight initializers with Keras 3's names, arguments and statistics.

Each initializer is called as ``init(shape, dtype)`` and returns an ndarray.
Fans follow Keras's ``compute_fans``: for a conv kernel ``(kh, kw, in, out)``
the receptive field ``kh*kw`` multiplies both ``in`` (fan_in) and ``out`` (fan_out).

>>> import kernelscope as ks
>>> ks.initializers.get("glorot_uniform")((3, 3, 8, 16)).shape
(3, 3, 8, 16)
"""

from __future__ import annotations

import math

import numpy as np

from . import rng as _rng
from ._keras_object import KerasObject, serialize_member

__all__ = [
    "Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
    "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal",
    "LecunUniform", "Orthogonal", "Identity", "compute_fans", "get", "serialize", "deserialize",
]

# std of a standard normal truncated to [-2, 2]: rescales truncated draws to the wanted std
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape: tuple) -> tuple:
    """(fan_in, fan_out) of a weight shape, as Keras computes them."""
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _float_dtype(dtype) -> np.dtype:
    dt = np.dtype("float32" if dtype is None else dtype)
    if dt.kind != "f":
        raise TypeError(f"Initializers produce floating-point weights. Received: dtype={dtype!r}.")
    return dt


class Initializer(KerasObject):
    """Base class: ``__call__(shape, dtype=None) -> ndarray`` and ``get_config``."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.__call__ is not implemented.")


class _Seeded(Initializer):
    """An int seed gives the same values on every call (as in Keras); None draws fresh values
    from a generator taken from kernelscope's root generator at construction."""

    def __init__(self, seed=None):
        if seed is not None and not isinstance(seed, np.random.Generator) and (
                not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0):
            raise ValueError(f"`seed` must be None, a non-negative integer or a numpy Generator. "
                             f"Received: seed={seed!r}.")
        self.seed = seed
        self._generator = _rng.make_rng(seed) if seed is None or isinstance(seed, np.random.Generator) else None

    def _generator_for_call(self) -> np.random.Generator:
        return self._generator if self._generator is not None else _rng.make_rng(self.seed)

    def get_config(self) -> dict:
        return {"seed": self.seed if isinstance(self.seed, (int, np.integer, type(None))) else None}


def _truncated_normal(gen: np.random.Generator, shape: tuple, mean: float, stddev: float) -> np.ndarray:
    """Normal draws outside two standard deviations are redrawn (TensorFlow's truncation)."""
    values = gen.standard_normal(shape)
    bad = np.abs(values) > 2.0
    while bad.any():
        values[bad] = gen.standard_normal(int(bad.sum()))
        bad = np.abs(values) > 2.0
    return mean + stddev * values


class Zeros(Initializer):
    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.zeros(tuple(shape), dtype=_float_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.ones(tuple(shape), dtype=_float_dtype(dtype))


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.full(tuple(shape), self.value, dtype=_float_dtype(dtype))

    def get_config(self) -> dict:
        return {"value": self.value}


class RandomNormal(_Seeded):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None) -> np.ndarray:
        gen = self._generator_for_call()
        return gen.normal(self.mean, self.stddev, tuple(shape)).astype(_float_dtype(dtype))

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(_Seeded):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None) -> np.ndarray:
        gen = self._generator_for_call()
        return gen.uniform(self.minval, self.maxval, tuple(shape)).astype(_float_dtype(dtype))

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class TruncatedNormal(_Seeded):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None) -> np.ndarray:
        values = _truncated_normal(self._generator_for_call(), tuple(shape), self.mean, self.stddev)
        return values.astype(_float_dtype(dtype))

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class VarianceScaling(_Seeded):
    """Draws with variance ``scale / fan``, fan chosen by ``mode`` (Keras's formula)."""

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if not isinstance(scale, (int, float)) or scale <= 0.0:
            raise ValueError(f"`scale` must be a positive float. Received: scale={scale!r}.")
        if mode not in self._MODES:
            raise ValueError(f"`mode` must be one of {self._MODES}. Received: mode={mode!r}.")
        distribution = distribution.lower() if isinstance(distribution, str) else distribution
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"`distribution` must be one of {self._DISTRIBUTIONS}. "
                             f"Received: distribution={distribution!r}.")
        super().__init__(seed)
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape = tuple(shape)
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, fan)
        gen = self._generator_for_call()
        if self.distribution == "truncated_normal":
            values = _truncated_normal(gen, shape, 0.0, math.sqrt(variance) / _TRUNCATED_STD)
        elif self.distribution == "untruncated_normal":
            values = gen.normal(0.0, math.sqrt(variance), shape)
        else:
            limit = math.sqrt(3.0 * variance)
            values = gen.uniform(-limit, limit, shape)
        return values.astype(_float_dtype(dtype))

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


def _preset(name: str, scale: float, mode: str, distribution: str) -> type:
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale=scale, mode=mode, distribution=distribution, seed=seed)

    def get_config(self) -> dict:
        return _Seeded.get_config(self)

    doc = f"VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r})."
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform")


class Orthogonal(_Seeded):
    """A (semi-)orthogonal matrix over the flattened ``(prod(shape[:-1]), shape[-1])`` view."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._generator_for_call().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))  # makes the distribution uniform over orthogonal matrices
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(_float_dtype(dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain, **super().get_config()}


class Identity(Initializer):
    """``gain`` times the (possibly rectangular) identity matrix; 2-D shapes only."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape = tuple(shape)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        return (self.gain * np.eye(*shape)).astype(_float_dtype(dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain}


_CLASSES = {cls.__name__: cls for cls in (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling, GlorotUniform,
    GlorotNormal, HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal, Identity)}
_ALIASES = {"zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
            "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
            "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
            "glorot_normal": GlorotNormal, "he_normal": HeNormal, "he_uniform": HeUniform,
            "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform, "orthogonal": Orthogonal,
            "identity": Identity, "IdentityInitializer": Identity}


def serialize(initializer) -> dict | None:
    """Keras-like config dict: ``{"module", "class_name", "config", "registered_name"}``."""
    return serialize_member(initializer, Initializer, "initializer")


def deserialize(config: dict) -> Initializer:
    """Inverse of :func:`serialize` (also accepts ``{"class_name": ..., "config": ...}``)."""
    name = config.get("class_name")
    cls = _CLASSES.get(name) or _ALIASES.get(name)
    if cls is None:
        raise ValueError(f"Unknown initializer class_name {name!r}. Known: {sorted(_CLASSES)}.")
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """Resolve a name (``"he_normal"``), a config dict, an instance or a callable.

    A NumPy array is accepted as a constant value of exactly the requested shape.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown initializer: '{identifier}'. Known names: {sorted(_ALIASES)}.")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, np.ndarray):
        return _ArrayInitializer(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret initializer identifier: {identifier!r}. Expected a name, "
                    "a config dict, an Initializer or a callable.")


class _ArrayInitializer(Initializer):
    def __init__(self, array: np.ndarray):
        self.array = array

    def __call__(self, shape, dtype=None) -> np.ndarray:
        if tuple(shape) != self.array.shape:
            raise ValueError(f"The initial value has shape {self.array.shape} but the weight has shape "
                             f"{tuple(shape)}.")
        return self.array.astype(_float_dtype(dtype), copy=True)
