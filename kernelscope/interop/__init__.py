"""Interoperability with Keras files: load Keras weight files into kernelscope models.

>>> import kernelscope as ks
>>> # ks.interop.load_keras_weights(model, "vgg16_weights_tf_dim_ordering_tf_kernels.h5")

Reading HDF5 uses h5py, a dependency of kernelscope (as of Keras itself).
"""

from .keras_h5 import load_keras_weights
from .layer_order import keras_layer_order

__all__ = ["load_keras_weights", "keras_layer_order"]
