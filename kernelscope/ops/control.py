"""Control flow and gradient tools of ``keras.ops`` (its ``core`` file), run eagerly.

kernelscope executes eagerly, so ``cond`` is an ``if``, ``while_loop`` a
``while`` and ``scan`` a ``for`` over the leading axis: gradients flow through
whatever ops the branches and bodies run. Called on KerasTensors they record
one graph node, like every ``ks.ops`` function. ``custom_gradient`` replaces
the backward pass of a function by the one it returns, as in Keras.
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from ..autograd import Tensor, as_tensor, make_result, no_grad

__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "map", "vectorized_map", "custom_gradient",
           "saturate_cast"]


def cond(pred, true_fn: Callable, false_fn: Callable):
    """``true_fn()`` if ``pred`` holds, else ``false_fn()``."""
    return true_fn() if bool(pred) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``, ``index`` clamped to the valid range (as Keras)."""
    if not branches:
        raise ValueError("`branches` must be a non-empty list of callables.")
    position = int(np.clip(int(index), 0, len(branches) - 1))
    return branches[position](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):  # noqa: A002 - Keras names
    """Run ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (at most ``maximum_iterations``)."""
    is_sequence = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if is_sequence else (loop_vars,)
    count = 0
    while (maximum_iterations is None or count < maximum_iterations) and bool(cond(*state)):
        state = body(*state)
        state = tuple(state) if isinstance(state, (tuple, list)) else (state,)
        count += 1
    return state if is_sequence else state[0]


def fori_loop(lower, upper, body_fun: Callable, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``."""
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def _stack(items: list):
    from .core import stack

    if isinstance(items[0], (tuple, list)):
        return type(items[0])(_stack([item[k] for item in items]) for k in range(len(items[0])))
    return stack([as_tensor(item) for item in items], axis=0)


def scan(f: Callable, init, xs=None, length=None, reverse: bool = False, unroll=1):
    """``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns ``(carry, stacked ys)``."""
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f!r}")
    if not isinstance(unroll, bool) and (not isinstance(unroll, int) or unroll < 1):
        raise ValueError(f"`unroll` must be an positive integer or boolean. Received: unroll={unroll}")
    if xs is None and length is None:
        raise ValueError("Got no `xs` to scan over and `length` not provided.")
    sequences = None if xs is None else ([as_tensor(x) for x in xs] if isinstance(xs, (tuple, list))
                                         else as_tensor(xs))
    n = int(length) if length is not None else (sequences[0] if isinstance(sequences, list) else sequences).shape[0]
    carry, ys = init, []
    for i in (reversed(range(n)) if reverse else range(n)):
        x = None if sequences is None else (
            type(xs)(s[i] for s in sequences) if isinstance(sequences, list) else sequences[i])
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        return carry, None
    return carry, _stack(ys)


def map(f: Callable, xs):  # noqa: A001 - Keras name
    """``stack([f(x) for x in xs])`` over the leading axis."""
    xs = as_tensor(xs)
    return _stack([f(xs[i]) for i in range(xs.shape[0])])


def vectorized_map(function: Callable, elements):
    """``function`` applied to each slice of ``elements`` along axis 0, results stacked."""
    if isinstance(elements, (tuple, list)):
        items = [as_tensor(e) for e in elements]
        return _stack([function(type(elements)(e[i] for e in items)) for i in range(items[0].shape[0])])
    return map(function, elements)


def custom_gradient(f: Callable) -> Callable:
    """Decorate ``f(*args) -> (output, grad_fn)``: backward calls ``grad_fn(upstream)`` for the input gradients.

    ``grad_fn`` returns one gradient per Tensor argument (or per positional argument).

    Examples
    --------
    >>> @custom_gradient
    ... def clip_gradient(x):
    ...     return x * 1.0, lambda upstream: upstream.clip(-1.0, 1.0)
    """
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        with no_grad():
            out, grad_fn = f(*args, **kwargs)
        tensors = [a for a in args if isinstance(a, Tensor)]
        out = as_tensor(out)

        def backward(g):
            grads = grad_fn(Tensor._constant(g))
            grads = list(grads) if isinstance(grads, (tuple, list)) else [grads]
            if len(grads) == len(args) and len(args) != len(tensors):  # one per positional argument
                grads = [gr for gr, a in zip(grads, args) if isinstance(a, Tensor)]
            if len(grads) != len(tensors):
                raise ValueError(f"The gradient function of `{f.__name__}` returned {len(grads)} gradients for "
                                 f"{len(tensors)} tensor inputs.")
            return tuple(None if gr is None else np.asarray(gr.data if isinstance(gr, Tensor) else gr)
                         for gr in grads)

        return make_result(out.data, tensors, backward)

    return wrapper


def saturate_cast(x, dtype) -> Tensor:
    """Cast to ``dtype``, clipping first to the range it can hold (no wrap-around)."""
    from ..backend import standardize_dtype
    from .core import cast

    x = as_tensor(x)
    target = np.dtype(standardize_dtype(dtype))
    if target.kind in "iu":
        info = np.iinfo(target)
        x = x.clip(info.min, info.max) if x.dtype.kind == "f" else Tensor._constant(
            np.clip(x.data, max(info.min, np.iinfo(x.dtype).min), min(info.max, np.iinfo(x.dtype).max)))
    elif target.kind == "f" and x.dtype.kind == "f" and target.itemsize < x.dtype.itemsize:
        info = np.finfo(target)
        x = x.clip(float(info.min), float(info.max))
    return cast(x, target)


from .symbolic import export  # noqa: E402 - after the definitions it wraps

export(globals(), [n for n in __all__ if n != "custom_gradient"])  # a decorator, not an op on tensors
