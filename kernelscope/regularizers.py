"""Weight regularizers with Keras 3's names and formula:
``l1 * sum(|w|) + l2 * sum(w**2)``, returned as a scalar Tensor that joins the loss.

>>> import numpy as np, kernelscope as ks
>>> float(ks.regularizers.L2(0.5)(ks.Tensor(np.array([1.0, 2.0]))).item())
2.5
"""

from __future__ import annotations

import math

from ._keras_object import KerasObject, serialize_member
from .autograd import Tensor, as_tensor

__all__ = ["Regularizer", "L1", "L2", "L1L2", "get", "serialize", "deserialize"]


def _check_factor(value, name: str) -> float:
    if (not isinstance(value, (int, float)) or isinstance(value, bool) or math.isinf(value)
            or math.isnan(value) or value < 0):
        raise ValueError(f"`{name}` must be a non-negative float. Received: {name}={value!r}.")
    return float(value)


class Regularizer(KerasObject):
    """Base class: ``__call__(weight) -> scalar Tensor`` and ``get_config``."""

    def __call__(self, x) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.__call__ is not implemented.")


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``; both factors default to 0 as in Keras."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _check_factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _check_factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, x) -> Tensor:
        x = as_tensor(x)
        penalty = as_tensor(0.0, like=x)
        if self.l1:
            penalty = penalty + abs(x).sum() * self.l1
        if self.l2:
            penalty = penalty + (x * x).sum() * self.l2
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|x|)``, l1=0.01 by default."""

    def __init__(self, l1=0.01):
        super().__init__(l1=0.01 if l1 is None else l1, l2=0.0)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(x**2)``, l2=0.01 by default."""

    def __init__(self, l2=0.01):
        super().__init__(l1=0.0, l2=0.01 if l2 is None else l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2}


def _l1_l2_string() -> L1L2:
    # Keras documents 'l1_l2' as l1=0.01 and l2=0.01 (the class itself defaults to 0, 0).
    return L1L2(l1=0.01, l2=0.01)


_STRINGS = {"l1": L1, "l2": L2, "l1_l2": _l1_l2_string, "L1": L1, "L2": L2, "L1L2": L1L2}


def serialize(regularizer) -> dict | None:
    """Keras-like config dict: ``{"module", "class_name", "config", "registered_name"}``."""
    return serialize_member(regularizer, Regularizer, "regularizer")


def deserialize(config: dict) -> Regularizer:
    name = config.get("class_name")
    if name not in _CLASSES:
        raise ValueError(f"Unknown regularizer class_name {name!r}. Known: {sorted(_CLASSES)}.")
    return _CLASSES[name].from_config(dict(config.get("config") or {}))


def get(identifier):
    """Resolve None, a name (``"l2"``), a config dict, an instance or a callable."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _STRINGS:
            raise ValueError(f"Unknown regularizer: '{identifier}'. Known names: 'l1', 'l2', 'l1_l2'.")
        return _STRINGS[identifier]()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret regularizer identifier: {identifier!r}. Expected a name, "
                    "a config dict, a Regularizer or a callable.")
