"""``ks.Variable``: a named, assignable leaf Tensor (Keras 3's ``keras.Variable``).

A Variable is a Tensor, so it takes part in arithmetic and ``ks.ops`` and
collects a gradient when it is trainable. Layers create theirs with
``Layer.add_weight``; user code creates them directly, as in Keras:

>>> import kernelscope as ks
>>> v = ks.Variable([1.0, 2.0], name="v")
>>> v.assign_add([1.0, 1.0]).numpy()
array([2., 3.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from ._checks import check_choice
from .autograd import Tensor

__all__ = ["Variable"]

_AGGREGATIONS = (None, "none", "mean", "sum", "only_first_replica")
_SYNCHRONIZATIONS = (None, "none", "on_read", "on_write", "auto")
_counts: dict[str, int] = {}


def _auto_name() -> str:
    count = _counts.get("variable", 0)
    _counts["variable"] = count + 1
    return "variable" if count == 0 else f"variable_{count}"


def _initial_value(initializer, shape, dtype) -> np.ndarray:
    """The first value: an initializer (name or callable) is called with ``shape``; data is taken as is."""
    from . import backend, initializers

    if isinstance(initializer, str) or (callable(initializer) and not isinstance(initializer, Tensor)):
        if shape is None:
            raise ValueError("When creating a Variable from an initializer, the `shape` argument should be "
                             f"specified. Received: initializer={initializer!r} and shape={shape}.")
        dtype = backend.standardize_dtype(dtype)
        return np.asarray(initializers.get(initializer)(tuple(shape), dtype=dtype), dtype=dtype)
    value = np.asarray(initializer.data if isinstance(initializer, Tensor) else initializer)
    if value.dtype.kind not in "biuf":
        raise TypeError(f"A Variable's value must be numeric. Received: dtype={value.dtype}.")
    if dtype is not None:
        value = value.astype(backend.standardize_dtype(dtype))
    elif not isinstance(initializer, (np.ndarray, np.generic, Tensor)) and value.dtype.kind == "f":
        value = value.astype(backend.floatx())  # Python floats become floatx, as Keras converts them
    if shape is not None and tuple(shape) != value.shape:
        raise ValueError(f"The initial value has shape {value.shape}, but `shape`={tuple(shape)}.")
    return np.array(value, copy=True)


class Variable(Tensor):
    """A named, assignable Tensor with a ``trainable`` flag (Keras 3 ``keras.Variable``).

    Parameters
    ----------
    initializer : array_like, Tensor, str or callable
        The initial value, or an initializer (``"zeros"``, ``"glorot_uniform"``, an
        ``ks.initializers`` object or any ``f(shape, dtype)``) called with ``shape``.
    shape : tuple of int, optional
        Required with an initializer; checked against a value.
    dtype : str, optional
        Defaults to the value's dtype (a Python float: ``ks.backend.floatx()``).
    trainable : bool
        Whether optimizers update it (and gradients are collected for it).
    autocast, aggregation, synchronization : as Keras; one device, so only validated and kept.
    layout : must be None (no distribution).
    name : str, optional
        Defaults to ``variable``, ``variable_1``, ...
    regularizer, constraint : callables, optional
        What ``Layer.add_weight`` attaches (penalty of the value, projection after updates).
    """

    __slots__ = ("_trainable", "regularizer", "constraint", "autocast", "aggregation", "synchronization",
                 "overwrite_with_gradient")

    def __init__(self, initializer=None, shape=None, dtype=None, trainable: bool = True, autocast: bool = True,
                 aggregation="none", synchronization="auto", name: str | None = None, layout=None,
                 regularizer=None, constraint=None, **kwargs):
        if "value" in kwargs:  # the pre-Keras-3 spelling, kept for existing callers
            initializer = kwargs.pop("value")
        if kwargs:
            raise TypeError(f"Variable got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
        if layout is not None:
            raise ValueError(f"`layout` (a distribution layout) is not supported: kernelscope runs on one "
                             f"device. Received: layout={layout!r}.")
        if initializer is None:
            raise ValueError("Variable needs an `initializer`: a value or an initializer with a `shape`.")
        # Keras refuses "/" in names (it builds paths from them); kernelscope's weights are named
        # "layer/kernel" already, so "/" is allowed.
        if name is not None and not isinstance(name, str):
            raise ValueError(f"Argument `name` must be a string. Received: name={name!r}.")
        check_choice(aggregation, _AGGREGATIONS, "aggregation")
        check_choice(synchronization, _SYNCHRONIZATIONS, "synchronization")
        value = _initial_value(initializer, shape, dtype)
        super().__init__(np.zeros((), np.float32), name=name or _auto_name())
        self.data = value  # set directly: an integer Variable stays integer, as in Keras
        self._trainable = bool(trainable)
        self.requires_grad = self._trainable and value.dtype.kind == "f"
        self.regularizer, self.constraint = regularizer, constraint
        self.autocast, self.aggregation = bool(autocast), aggregation or "none"
        self.synchronization = synchronization or "none"
        self.overwrite_with_gradient = False  # Layer.add_weight(overwrite_with_gradient=True) sets it

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        self.requires_grad = self._trainable and self.data.dtype.kind == "f"

    @property
    def value(self) -> "Variable":
        """The variable itself, as a Tensor (so gradients still reach it)."""
        return self

    @property
    def path(self) -> str:
        return self.name

    def numpy(self) -> np.ndarray:
        return self.data

    def _new_value(self, value, what: str) -> np.ndarray:
        value = np.asarray(value.data if isinstance(value, Tensor) else value)
        if value.shape != self.data.shape:
            raise ValueError(f"The shape of the target variable and the shape of the target value in "
                             f"`variable.{what}(value)` must match. variable.shape={self.data.shape}, "
                             f"Received: value.shape={value.shape}. Target variable: {self.name}.")
        return value

    def assign(self, value) -> "Variable":
        """Overwrite the values in place (shape and dtype are kept); returns the variable."""
        self.data[...] = self._new_value(value, "assign")
        return self

    def assign_add(self, value) -> "Variable":
        """``self += value`` in place; returns the variable."""
        self.data[...] = self.data + self._new_value(value, "assign_add")
        return self

    def assign_sub(self, value) -> "Variable":
        """``self -= value`` in place; returns the variable."""
        self.data[...] = self.data - self._new_value(value, "assign_sub")
        return self

    def __repr__(self) -> str:
        return f"<Variable path={self.name}, shape={self.data.shape}, dtype={self.data.dtype}, value={self.data}>"
