"""``kernelscope.data``: the part of ``tf.data`` that keras-io CNN examples use.

``from tensorflow import data as tf_data`` becomes ``from kernelscope import data as tf_data``.
See :mod:`kernelscope.data.dataset`. (This folder also holds the package's data files.)
"""

from __future__ import annotations

from .dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset

__all__ = ["Dataset", "AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY"]


def __getattr__(name: str):
    raise AttributeError(f"kernelscope.data has no `{name}`: it implements a small part of tf.data "
                         f"({', '.join(__all__)}).")
