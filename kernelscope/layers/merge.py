"""``keras.layers.merge`` was Keras 2's module: every name in it raises an ImportError naming
``kernelscope.layers`` (see kernelscope/_keras2.py)."""

from .._keras2 import removed_module


def __getattr__(name: str):
    removed_module("layers.merge", "kernelscope.layers", name)
