"""``keras.utils.np_utils`` was Keras 2's module: importing it works, so that its names
(``to_categorical``, ``normalize``) can raise an ImportError naming ``kernelscope.utils``
(see kernelscope/_keras2.py) instead of a bare "No module named"."""

from .._keras2 import removed_module


def __getattr__(name: str):
    removed_module("utils.np_utils", "kernelscope.utils", name, names=("to_categorical", "normalize"))
