"""``keras.ops.numpy``: the NumPy-like half of ``keras.ops``, by Keras's names.

Everything here is also at the top level (``ks.ops.sum`` is ``ks.ops.numpy.sum``);
the definitions live in ``creation``, ``elementwise``, ``reductions``, ``shapes``,
``linalg`` and ``core``.
"""

from .core import (cast, concatenate, expand_dims, matmul, max, mean, min, reshape, split, squeeze, stack,  # noqa: F401
                   sum, transpose)
from .composite import *  # noqa: F401,F403
from .composite import __all__ as _composite
from .creation import *  # noqa: F401,F403
from .creation import __all__ as _creation
from .elementwise import *  # noqa: F401,F403
from .elementwise import __all__ as _elementwise
from .linalg import dot, einsum, inner, outer, tensordot, vdot  # noqa: F401
from .reductions import *  # noqa: F401,F403
from .reductions import __all__ as _reductions
from .resize import pad  # noqa: F401
from .shapes import *  # noqa: F401,F403
from .shapes import __all__ as _shapes
from .symbolic import export

_core = ["cast", "concatenate", "expand_dims", "matmul", "max", "mean", "min", "reshape", "split", "squeeze",
         "stack", "sum", "transpose", "dot", "einsum", "inner", "outer", "tensordot", "vdot", "pad"]
# shapes also holds helpers and Keras's core-file ops (ks.ops top level only)
_NOT_NUMPY = ("get_item", "pad_with_mode", "slice_update", "scatter", "scatter_update")
__all__ = [*_core, *_composite, *_creation, *_elementwise, *_reductions,
           *[n for n in _shapes if n not in _NOT_NUMPY]]
export(globals(), __all__)
