"""Restoring a loaded model's compile settings and optimizer state, with errors naming the file."""

from __future__ import annotations

import numpy as np

from .._safe_load import weight_array

__all__ = ["restore_compile", "optimizer_targets", "set_optimizer_state"]

_COMPILE_KEYS = ("optimizer", "loss", "metrics")


def _resolve(value, module, custom_objects):
    from .. import saving as registry

    if isinstance(value, dict) and "class_name" in value and "config" in value:
        cls = registry.get_registered_object(value["class_name"], custom_objects)
        return cls.from_config(value["config"]) if cls is not None else module.get(value)
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


def _state_value(key: str, array: np.ndarray, target: np.ndarray, path: str):
    if key == "optimizer/iterations":
        if array.dtype.kind not in "iu" or int(array) < 0:
            raise ValueError(f"'{path}': optimizer state '{key}' must be a non-negative integer. "
                             f"Received: {array!r}.")
        return int(array)
    value = weight_array(array, target.dtype, path, key)
    if key == "optimizer/learning_rate" and value < 0:
        raise ValueError(f"'{path}': optimizer state '{key}' must be >= 0. Received: {float(value)}.")
    return value


def set_optimizer_state(model, arrays: dict, targets: dict, path: str) -> None:
    """Check every optimizer state array of ``arrays``, then hand them all to the optimizer."""
    state = {key[len("optimizer/"):]: _state_value(key, arrays[key], target, path)
             for key, target in targets.items()}
    model.optimizer.set_state(state, model.trainable_weights)
