"""What Keras's configurable families share: ``get_config``/``from_config``/``repr``, and
``serialize``/``deserialize`` through a table of class names.

Initializers and regularizers subclass :class:`KerasObject` and serialize through
:func:`serialize_member`; losses and metrics through :func:`serialize` and :func:`deserialize`.
Imports nothing of kernelscope.
"""

from __future__ import annotations

from typing import Callable

__all__ = ["KerasObject", "serialize", "deserialize", "serialize_member"]


class KerasObject:
    """A configurable object rebuilt as ``cls(**get_config())``, shown as ``Name(arg=value, ...)``."""

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def serialize(obj) -> dict:
    """``{"class_name": ..., "config": ...}`` for an object with ``get_config``."""
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def serialize_member(obj, base: type, kind: str) -> dict | None:
    """Keras's config of an initializer or regularizer (``kind``): ``{"module": "keras.<kind>s",
    "class_name", "config", "registered_name"}``; None stays None, anything but a ``base`` is refused."""
    if obj is None:
        return None
    if isinstance(obj, base):
        return {"module": f"keras.{kind}s", "class_name": type(obj).__name__, "config": obj.get_config(),
                "registered_name": None}
    raise TypeError(f"Cannot serialize {kind} {obj!r}: only {base.__name__} instances "
                    "(or their names) can be saved in a config.")


def deserialize(config: dict, classes: dict, custom_objects: dict | None, kind: str,
                lazy: dict[str, Callable[[], type]] | None = None):
    """Rebuild an object from :func:`serialize` output by looking its class name up in ``classes``
    and ``custom_objects``; ``lazy`` maps names whose class is imported only when asked for."""
    known = {**classes, **(custom_objects or {})}
    name = config.get("class_name")
    if name in (lazy or {}) and name not in known:
        known[name] = lazy[name]()
    if name not in known:
        raise ValueError(f"Unknown {kind} class: {name!r}. Expected one of {sorted(known)}.")
    return known[name].from_config(dict(config.get("config", {})))
