"""kernelscope: a NumPy-native deep-learning library for CNNs that speaks Keras.

>>> import numpy as np, kernelscope as ks
>>> image = np.array([[1, 3, 1, 2], [6, 1, 5, 4], [5, 4, 2, 5], [3, 3, 1, 2]]).reshape(1, 4, 4, 1)
>>> kernel = np.array([[1, 2], [2, 1]]).reshape(2, 2, 1, 1)
>>> ks.ops.conv2d(image, kernel).numpy()[0, :, :, 0]
array([[20., 12., 19.],
       [22., 21., 22.],
       [22., 15., 16.]], dtype=float32)

Sub-modules load on first use, so ``import kernelscope`` stays fast and an
optional extra (matplotlib, Pillow, scikit-learn, ...) is only needed by the
feature that uses it.
"""

from __future__ import annotations

from . import _interrupt_guard  # noqa: F401 - first: Ctrl-C while the command starts (see the module)

import importlib  # noqa: E402

from ._runtime.blas import set_thread_timeout

set_thread_timeout()  # before NumPy loads OpenBLAS: see _runtime/blas.py

from .autograd import Tensor, enable_grad, is_grad_enabled, no_grad  # noqa: E402 - after the line above

__version__ = "0.1.0"

_SUBMODULES = {
    "ops", "kernels", "layers", "models", "initializers", "regularizers", "losses", "metrics",
    "optimizers", "callbacks", "utils", "datasets", "explain", "filters", "applications",
    "interop", "export", "sklearn", "anomaly", "detection", "saving", "rng", "autograd",
    "backend", "random", "variables", "gradient_tape", "data", "config", "dask", "similarity", "generative",
    "adversarial",
}
# Public names that live in a sub-module: name -> module.
_ATTRIBUTES = {
    "Sequential": "models",
    "Model": "models",
    "load_model": "models",
    "Input": "layers",
    "set_random_seed": "rng",
    "Variable": "variables",
    "GradientTape": "gradient_tape",
}

__all__ = ["Tensor", "no_grad", "enable_grad", "is_grad_enabled", *sorted(_SUBMODULES), *sorted(_ATTRIBUTES)]


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    if name in _ATTRIBUTES:
        value = getattr(importlib.import_module(f".{_ATTRIBUTES[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kernelscope' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(__all__))
