"""Differentiable operations on Tensors or arrays, with Keras argument names.

Each op validates its arguments, runs a pure NumPy kernel from
``kernelscope.kernels`` and records the matching backward kernel on the tape.
"""

from ..autograd import maximum, minimum, where
from .activations import *  # noqa: F401,F403
from .activations import __all__ as _activations
from .conv import *  # noqa: F401,F403
from .conv import __all__ as _conv
from .core import *  # noqa: F401,F403
from .core import __all__ as _core
from .normalization import *  # noqa: F401,F403
from .normalization import __all__ as _normalization
from .pooling import *  # noqa: F401,F403
from .pooling import __all__ as _pooling
from .resize import *  # noqa: F401,F403
from .resize import __all__ as _resize

__all__ = ["maximum", "minimum", "where", *_activations, *_conv, *_core, *_normalization, *_pooling, *_resize]
