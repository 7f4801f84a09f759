"""Random-number plumbing: every draw takes a seed or a Generator.

``set_random_seed(n)`` reseeds the library's root generator; layers and
initializers created without an explicit seed draw their own generator from it
in creation order, so a whole seeded run repeats bit for bit.
"""

from __future__ import annotations

import random as _py_random

import numpy as np

_root = np.random.default_rng()


def set_random_seed(seed: int) -> None:
    """Seed kernelscope (and, as Keras does, Python's and NumPy's global generators)."""
    global _root
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer. Received: seed={seed!r}.")
    _root = np.random.default_rng(int(seed))
    _py_random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)


def make_rng(seed=None) -> np.random.Generator:
    """A Generator from ``seed``: a Generator is used as is, an int seeds a new one,
    None draws a fresh one from the root generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng(_root.integers(2**63))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ValueError(f"`seed` must be None, a non-negative integer or a numpy Generator. Received: seed={seed!r}.")
