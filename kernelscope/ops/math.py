"""``keras.ops.math``: ``logsumexp``, ``top_k``, ``rsqrt``, ``erf`` (also at the ``ks.ops`` top level)."""

from .activations import logsumexp  # noqa: F401
from .elementwise import erf, rsqrt  # noqa: F401
from .nn import in_top_k, top_k  # noqa: F401
from .symbolic import export

__all__ = ["logsumexp", "top_k", "in_top_k", "rsqrt", "erf"]
export(globals(), __all__)
