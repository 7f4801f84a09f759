"""Saving and loading models in Keras 3's formats, and the registry of custom classes.

``model.save("x.keras")`` writes Keras 3's ``.keras`` zip, which
``keras.saving.load_model`` opens; ``load_model`` reads it back, and reads the
files Keras 3 makes (and legacy ``.h5`` models). See :mod:`.api` for which
file goes to which format. Nothing is ever unpickled, every size is checked
before it is read, writes are atomic, and a failed load changes nothing.

This package imports layers, never models at import time: models import it.
Custom classes are registered with ``@ks.saving.register_keras_serializable``
(see :mod:`.registry`).
"""

from __future__ import annotations

from .api import load_model, load_weights, save_model, save_weights
from .registry import get_custom_objects, get_registered_name, get_registered_object, register_keras_serializable

__all__ = ["register_keras_serializable", "get_registered_name", "get_registered_object", "load_model",
           "save_model", "save_weights", "load_weights", "get_custom_objects"]
