"""Compile settings and optimizer state: saved as Keras 3's ``compile_config``, restored with errors naming the file."""

from __future__ import annotations

import warnings

import numpy as np

from .._safe_load import weight_array
from . import registry

__all__ = ["compile_config", "restore_compile", "optimizer_targets", "set_optimizer_state"]

_COMPILE_KEYS = ("optimizer", "loss", "metrics")
_KERAS_MODULES = {"optimizer": "keras.optimizers", "loss": "keras.losses", "metric": "keras.metrics"}


# ------------------------------------------------------------------ saving
def _compile_entry(value, module, what: str):
    """A JSON-able form of a loss/metric/optimizer identifier (strings stay strings), in Keras's schema."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_compile_entry(v, module, what) for v in value]
    if isinstance(value, dict):
        return {k: _compile_entry(v, module, what) for k, v in value.items()}
    if isinstance(value, type) or not hasattr(value, "get_config"):
        name = registry.get_registered_name(value)
        if getattr(module, name, None) is value or registry.get_registered_object(name) is value:
            return name
        raise TypeError(f"The {what} {value!r} cannot be saved: register it with "
                        "@ks.saving.register_keras_serializable().")
    cls = type(value)
    registered = registry.get_registered_name(cls)
    custom = registered != cls.__name__
    return {"module": cls.__module__ if custom else _KERAS_MODULES[what], "class_name": cls.__name__,
            "config": value.get_config(), "registered_name": registered if custom else None}


def compile_config(model) -> dict | None:
    """The arguments of ``compile`` as Keras 3 writes them, or None when not compiled (or not savable)."""
    from .. import losses, metrics, optimizers

    if not model.compiled:
        return None
    cfg = model._compile_config
    try:
        return {"optimizer": _compile_entry(model.optimizer, optimizers, "optimizer"),
                "loss": _compile_entry(cfg["loss"], losses, "loss"),
                "loss_weights": cfg["loss_weights"],
                "metrics": _compile_entry(cfg["metrics"], metrics, "metric"),
                "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}
    except TypeError as err:
        warnings.warn(f"The compile settings are not saved: {err}", stacklevel=3)
        return None


# ------------------------------------------------------------------ loading
def _resolve(value, module, custom_objects):
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        found = None
        for key in (value.get("registered_name"), value["class_name"]):
            found = found or (registry.get_registered_object(key, custom_objects) if key else None)
        plain = {"class_name": value["class_name"], "config": value["config"]}
        return found.from_config(value["config"]) if found is not None else module.get(plain)
    if isinstance(value, list):
        return [_resolve(v, module, custom_objects) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, module, custom_objects) for k, v in value.items()}
    if isinstance(value, str):
        return registry.get_registered_object(value, custom_objects) or value
    return value


def restore_compile(model, config, path: str, custom_objects) -> None:
    """``model.compile`` with the saved settings; a bad entry is a ValueError/TypeError naming ``path``."""
    from .. import losses, metrics, optimizers

    hint = " Load it with compile=False to skip the compile settings."
    missing = [k for k in _COMPILE_KEYS if k not in config] if isinstance(config, dict) else list(_COMPILE_KEYS)
    if missing:
        raise ValueError(f"'{path}' has an invalid compile_config: it must be a dict with the keys "
                         f"{list(_COMPILE_KEYS)}, and it lacks {missing}.{hint}")
    if config.get("weighted_metrics"):
        raise ValueError(f"Cannot restore the compile settings in '{path}': weighted_metrics="
                         f"{config['weighted_metrics']!r} is not supported by kernelscope.{hint}")
    try:
        model.compile(optimizer=_resolve(config["optimizer"], optimizers, custom_objects),
                      loss=_resolve(config["loss"], losses, custom_objects),
                      metrics=_resolve(config["metrics"], metrics, custom_objects),
                      loss_weights=config.get("loss_weights"))
    except TypeError as err:
        raise TypeError(f"Cannot restore the compile settings in '{path}': {err}.{hint}") from err
    except (ValueError, KeyError, AttributeError, NotImplementedError) as err:
        raise ValueError(f"Cannot restore the compile settings in '{path}': {err}.{hint}") from err


def optimizer_targets(model) -> dict:
    """``{"optimizer/<key>": current array}`` of the compiled model's optimizer, built for its weights."""
    optimizer = model.optimizer
    optimizer.build(model.trainable_weights)
    return {f"optimizer/{key}": np.asarray(value) for key, value in optimizer.get_state().items()}


def state_value(key: str, array: np.ndarray, target: np.ndarray, path: str):
    """One optimizer state array checked (iterations a non-negative integer, the rest finite floats)."""
    if key == "optimizer/iterations":
        if array.dtype.kind not in "iu" or array.shape != () or int(array) < 0:
            raise ValueError(f"'{path}': optimizer state '{key}' must be a non-negative integer. "
                             f"Received: {array!r}.")
        return int(array)
    value = weight_array(array, target.dtype, path, key)
    if key == "optimizer/learning_rate" and value < 0:
        raise ValueError(f"'{path}': optimizer state '{key}' must be >= 0. Received: {float(value)}.")
    return value


def set_optimizer_state(model, arrays: dict, targets: dict, path: str) -> None:
    """Check every optimizer state array of ``arrays``, then hand them all to the optimizer."""
    state = {key[len("optimizer/"):]: state_value(key, arrays[key], target, path)
             for key, target in targets.items()}
    model.optimizer.set_state(state, model.trainable_weights)
