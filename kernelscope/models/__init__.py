"""Models: ``Sequential``, functional ``Model(inputs, outputs)``, training, summary and saving.

>>> import kernelscope as ks
>>> inputs = ks.Input(shape=(4,))
>>> outputs = ks.layers.Dense(2, activation="softmax")(inputs)
>>> model = ks.Model(inputs, outputs)
>>> model.count_params()
10
"""

from __future__ import annotations

from .functional import Functional
from .model import Model
from ..saving import load_model, save_model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "Functional", "load_model", "save_model", "clone_model"]


def clone_model(model, input_tensors=None):
    """A new model with the same architecture and freshly initialized weights (from its config)."""
    if input_tensors is not None:
        raise ValueError("`input_tensors` is not supported by clone_model. Received: input_tensors="
                         f"{input_tensors!r}.")
    return type(model).from_config(model.get_config())
