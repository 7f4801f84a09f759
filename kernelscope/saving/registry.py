"""The registry of custom classes: ``@register_keras_serializable`` names them ``"package>name"``.

Loading looks class names up here and in the layer registry; it never
unpickles and never runs code from the file, so a custom layer must be
registered (or passed in ``custom_objects``) by the program that loads it.

>>> import kernelscope as ks
>>> @ks.saving.register_keras_serializable(package="Demo")
... class Twice(ks.layers.Layer):
...     def call(self, inputs):
...         return inputs * 2
>>> ks.saving.get_registered_name(Twice)
'Demo>Twice'
"""

from __future__ import annotations

__all__ = ["register_keras_serializable", "get_registered_name", "get_registered_object", "get_custom_objects"]

_CUSTOM_OBJECTS: dict[str, object] = {}
_CUSTOM_NAMES: dict[object, str] = {}


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Class decorator registering a custom layer (or loss, metric, ...) as ``"package>name"``.

    Parameters
    ----------
    package : str
        Namespace of the registered name.
    name : str, optional
        Defaults to the class name.
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"`package` must be a string without '>'. Received: package={package!r}.")

    def decorator(obj):
        registered = f"{package}>{name or obj.__name__}"
        if not hasattr(obj, "get_config"):
            raise ValueError(f"Cannot register {obj!r}: it has no get_config() method to save its arguments.")
        _CUSTOM_OBJECTS[registered] = obj
        _CUSTOM_NAMES[obj] = registered
        return obj

    return decorator


def get_registered_name(obj) -> str:
    """``"package>name"`` for a registered class, else its plain class name."""
    return _CUSTOM_NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name: str, custom_objects: dict | None = None):
    """The class registered (or passed in ``custom_objects``) as ``name``, or None."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return _CUSTOM_OBJECTS.get(name)


def get_custom_objects() -> dict:
    """The global registry ``{"package>name": class}`` (a live dict, as in Keras)."""
    return _CUSTOM_OBJECTS
