"""Differentiable operations on Tensors or arrays: kernelscope's ops and the ``keras.ops`` namespace.

Each op validates its arguments, runs a pure NumPy kernel from
``kernelscope.kernels`` (or NumPy itself) and records the matching backward on
the tape. Keras's sub-namespaces are here too: ``ks.ops.nn``, ``ks.ops.image``,
``ks.ops.numpy``, ``ks.ops.linalg``, ``ks.ops.math``. Called on a symbolic
KerasTensor (functional model construction), every op records a graph node
instead (see ``ops.symbolic``).
"""

from . import image, linalg, math, nn, numpy  # noqa: F401 - Keras's sub-namespaces
from .activations import *  # noqa: F401,F403
from .activations import __all__ as _activations
from .control import *  # noqa: F401,F403
from .control import __all__ as _control
from .conv import *  # noqa: F401,F403
from .conv import __all__ as _conv
from .core import *  # noqa: F401,F403
from .core import __all__ as _core
from .linalg import norm  # noqa: F401
from .nn import *  # noqa: F401,F403
from .nn import __all__ as _nn
from .normalization import *  # noqa: F401,F403
from .normalization import __all__ as _normalization
from .numpy import *  # noqa: F401,F403
from .numpy import __all__ as _numpy
from .pooling import *  # noqa: F401,F403
from .pooling import __all__ as _pooling
from .resize import *  # noqa: F401,F403
from .resize import __all__ as _resize
from .shapes import get_item, scatter, scatter_update, slice_update  # noqa: F401 - get_item: KerasTensor[...]
from .symbolic import export

__all__ = list(dict.fromkeys([*_activations, *_control, *_conv, *_core, *_nn, *_normalization, *_numpy, *_pooling,
                              *_resize, "norm", "get_item", "logsumexp", "scatter", "scatter_update",
                              "slice_update"]))
export(globals(), __all__)
