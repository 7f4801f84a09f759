"""Checks for ``Layer.add_weight``'s Keras 3 arguments and the call depth behind ``add_loss``.

Each argument is implemented or refused here with a clear error:
``regularizer`` adds a penalty to ``layer.losses``, ``constraint`` (a callable
``w -> w``) is applied after every optimizer step, ``overwrite_with_gradient``
makes the optimizer write the gradient into the weight, ``aggregation``
only labels the weight (there is a single replica) and ``autocast`` has
nothing to cast (there is no mixed precision: weights compute in their own dtype).
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["check_weight_options", "weight_shape", "call_depth"]

# How many Layer.__call__ are running in this thread: the outermost one clears add_loss terms.
call_depth = threading.local()


def weight_shape(shape) -> tuple:
    if shape is None:
        return ()
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"`shape` must be a tuple of positive integers. Received: shape={shape!r}.") from None
    if any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0 for d in dims):
        raise ValueError(f"`shape` must be fully defined: a tuple of non-negative integers (no None). "
                         f"Received: shape={shape!r}.")
    return tuple(int(d) for d in dims)


def check_weight_options(trainable, autocast, constraint, overwrite_with_gradient):
    """The resolved constraint (or None); raises on a bad value of any option (``aggregation`` is the
    Variable's own check)."""
    for name, value in (("trainable", trainable), ("autocast", autocast),
                        ("overwrite_with_gradient", overwrite_with_gradient)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"`{name}` must be a bool. Received: {name}={value!r}.")
    if constraint is not None and not callable(constraint):
        raise ValueError("`constraint` must be a callable mapping the weight's values to constrained values "
                         "(such as a Keras constraint object); kernelscope has no built-in constraint names. "
                         f"Received: constraint={constraint!r}.")
    return constraint
