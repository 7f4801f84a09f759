"""Pickling a model goes through its file format, as in Keras 3.

``pickle.dumps(model)`` (what joblib, Dask and multiprocessing do to move a model between
processes) writes the model with :meth:`Model.save` into memory and sends those bytes:
architecture, weights, compile settings and optimizer state, no live objects (tapes,
caches, thread pools, callbacks). ``pickle.loads`` rebuilds it with ``load_model``. The
classes of custom layers and models travel beside the bytes (by reference under plain
pickle, by value for ``__main__`` classes under cloudpickle, as Dask does), so they need
not be registered on the receiving side. An unbuilt model travels as its configuration.
A subclassed model (its own ``call``) cannot be rebuilt from a configuration before its
first call, so it pickles its object graph, as Python does by default.

``copy.copy`` and ``copy.deepcopy`` are not pickling: they copy the live object graph
(scikit-learn's ``clone`` relies on it), so a copy is exactly the model it came from.
"""

from __future__ import annotations

import copy
import os
import tempfile

__all__ = ["reduce_model", "copy_model"]


def _custom_classes(model) -> dict:
    """``{saved class name: class}`` for every class in the model defined outside kernelscope."""
    from ..saving import get_registered_name

    found, stack, seen = {}, [model], set()
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        cls = type(layer)
        if not cls.__module__.startswith("kernelscope"):
            found[get_registered_name(cls)] = cls
        stack.extend(layer._sublayers())
    return found


def reduce_model(model, protocol: int) -> tuple:
    """The ``__reduce_ex__`` tuple of a model: its saved file's bytes (or its config when unbuilt)."""
    from .functional import Functional
    from .sequential import Sequential

    if not isinstance(model, (Functional, Sequential)):
        return object.__reduce_ex__(model, protocol)
    classes = _custom_classes(model)
    if not model.built:
        return _model_from_config, (model.to_json(), classes)
    with tempfile.TemporaryDirectory(prefix="kernelscope-pickle-") as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        with open(path, "rb") as handle:
            data = handle.read()
    return _model_from_bytes, (data, classes)


def _model_from_bytes(data: bytes, classes: dict):
    from ..saving import load_model

    with tempfile.TemporaryDirectory(prefix="kernelscope-pickle-") as folder:
        path = os.path.join(folder, "model.keras")
        with open(path, "wb") as handle:
            handle.write(data)
        return load_model(path, custom_objects=classes or None)


def _model_from_config(text: str, classes: dict):
    import json

    from ..saving.serialization import deserialize_layer

    return deserialize_layer(json.loads(text), custom_objects=classes or None)


def copy_model(model, memo: dict | None = None):
    """Python's default copy of ``model``: shallow without ``memo``, deep (member by member) with it."""
    cls = type(model)
    duplicate = cls.__new__(cls)
    if memo is not None:
        memo[id(model)] = duplicate
    for key, value in model.__dict__.items():
        object.__setattr__(duplicate, key, value if memo is None else copy.deepcopy(value, memo))
    return duplicate
