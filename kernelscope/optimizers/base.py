"""The Optimizer base class: gradient clipping, decoupled weight decay, slots, state.

It follows Keras 3's ``BaseOptimizer``: on every ``apply_gradients`` call the
gradients are clipped (``clipnorm`` per tensor, ``global_clipnorm`` over all of
them, or ``clipvalue`` element-wise), weight decay ``var -= var * weight_decay * lr``
is applied to the variables, then each subclass's ``_update_step`` changes the
variable in place, and ``iterations`` goes up by one.
"""

from __future__ import annotations

import re
import warnings
from typing import Iterable

import numpy as np

from .._keras2 import check_optimizer_kwargs
from ..autograd import Tensor
from . import schedules as schedules_module

__all__ = ["Optimizer", "clip_by_global_norm"]


# Keras optimizer features kernelscope does not implement: (default, whether a value means "off", as
# Keras tests it). Keras code and configs pass them switched off (a saved optimizer carries all of
# them); a value that switches one on is refused, never silently ignored.
_OFF_FEATURES = {"use_ema": (False, lambda v: not v), "loss_scale_factor": (None, lambda v: v is None),
                 "gradient_accumulation_steps": (None, lambda v: not v)}
_EMA_ONLY = ("ema_momentum", "ema_overwrite_frequency")  # read by Keras only when use_ema is on


def _refuse_unimplemented(owner: str, kwargs: dict) -> None:
    """Drop the Keras arguments above when they say "off"; raise, naming the argument, when one asks for its feature."""
    for name, (default, is_off) in _OFF_FEATURES.items():
        value = kwargs.pop(name, default)
        if not is_off(value):
            raise NotImplementedError(f"{owner}: `{name}` is not implemented in kernelscope; only its default "
                                      f"({default!r}) is accepted. Received: {name}={value!r}.")
    for name in _EMA_ONLY:
        kwargs.pop(name, None)


def _check_learning_rate(learning_rate):
    if isinstance(learning_rate, schedules_module.LearningRateSchedule) or callable(learning_rate):
        return learning_rate
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.floating, np.integer)):
        raise ValueError("Argument `learning_rate` should be float, or an instance of LearningRateSchedule, "
                         f"or a callable. Received: learning_rate={learning_rate!r}")
    if learning_rate < 0:
        raise ValueError(f"Argument `learning_rate` must be >= 0. Received: learning_rate={learning_rate}")
    return float(learning_rate)


def clip_by_global_norm(grads: list, clip_norm: float) -> list:
    """Scale all gradients by ``clip_norm / max(global_norm, clip_norm)`` (NaN if the norm is not finite)."""
    norm = float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads)))
    scale = clip_norm * min(1.0 / norm, 1.0 / clip_norm) if norm > 0 else 1.0
    if not np.isfinite(norm):
        scale = float("nan")
    return [g * np.asarray(scale, dtype=g.dtype) for g in grads]


class Optimizer:
    """Base class of the optimizers.

    Parameters
    ----------
    learning_rate : float, LearningRateSchedule or callable
        A float, a schedule evaluated at ``iterations``, or a no-argument callable.
    weight_decay : float, optional
        Decoupled weight decay: before each update ``var -= var * weight_decay * lr``.
    clipnorm, clipvalue, global_clipnorm : float, optional
        Gradient clipping; at most one may be set.
    name : str, optional
    """

    _slot_names: tuple = ()

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        _refuse_unimplemented(type(self).__name__, kwargs)
        check_optimizer_kwargs(type(self).__name__, kwargs)  # lr=, decay=: hints for Keras 2 code
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                             f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        for arg, value in (("weight_decay", weight_decay), ("clipnorm", clipnorm), ("clipvalue", clipvalue),
                           ("global_clipnorm", global_clipnorm)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or value < 0):
                raise ValueError(f"Argument `{arg}` must be a float >= 0 or None. Received: {arg}={value!r}")
        self.name = name or re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self._learning_rate = _check_learning_rate(learning_rate)
        self.iterations = 0
        self.built = False
        self._var_index: dict[int, int] = {}
        self._variables: list = []
        self._slots: dict[str, list] = {}
        self._exclude_vars: list = []
        self._exclude_ids: set = set()
        self._exclude_pattern = None
        self._buffers: dict = {}

    def __setstate__(self, state: dict) -> None:
        """After ``copy.deepcopy`` (or unpickling): the tables keyed by ``id()`` are rebuilt for the copied variables.

        Without this, a copy's ``build`` did not recognise its own variables and appended a second
        set of slots, so the copied model trained on from fresh (zero) moments.
        """
        self.__dict__.update(state)
        self._var_index = {id(var): i for i, var in enumerate(self._variables)}
        self._exclude_vars = list(state.get("_exclude_vars", ()))
        self._exclude_ids = {id(var) for var in self._exclude_vars}

    # ---------------------------------------------------------- learning rate
    @property
    def learning_rate(self) -> float:
        """The learning rate for the next step (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        if isinstance(lr, schedules_module.LearningRateSchedule):
            return float(lr(self.iterations))
        if callable(lr):
            return float(lr())
        return lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(self._learning_rate, schedules_module.LearningRateSchedule) and not callable_or_schedule(value):
            raise TypeError("This optimizer was created with a `LearningRateSchedule` object as its "
                            "`learning_rate` constructor argument, hence its learning rate is not settable. "
                            "If you need the learning rate to be settable, you should instantiate the "
                            "optimizer with a float `learning_rate` argument.")
        self._learning_rate = _check_learning_rate(value)

    # ------------------------------------------------------------------ slots
    def build(self, var_list: Iterable) -> None:
        """Create the optimizer's slot arrays (momentum, moments, ...) for ``var_list``."""
        for var in var_list:
            if id(var) in self._var_index:
                continue
            self._var_index[id(var)] = len(self._variables)
            self._variables.append(var)
            for slot in self._slot_names:
                self._slots.setdefault(slot, []).append(self._init_slot(slot, var.data))
        self.built = True

    def _init_slot(self, slot: str, value: np.ndarray) -> np.ndarray:
        return np.zeros_like(value)

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Exempt variables (or those whose name contains one of ``var_names``) from weight decay."""
        self._exclude_vars = list(var_list or [])
        self._exclude_ids = {id(v) for v in self._exclude_vars}
        self._exclude_pattern = re.compile("|".join(map(re.escape, var_names))) if var_names else None

    def _use_weight_decay(self, var) -> bool:
        if id(var) in self._exclude_ids:
            return False
        return not (self._exclude_pattern and var.name and self._exclude_pattern.search(var.name))

    # ----------------------------------------------------------------- update
    def apply_gradients(self, grads_and_vars) -> int:
        """Update each variable in place from its gradient; returns ``iterations``.

        ``grads_and_vars`` is an iterable of ``(gradient ndarray or None, Variable)``.
        Variables whose gradient is None are skipped.
        """
        pairs = [(g, v) for g, v in grads_and_vars]
        self.build([v for _, v in pairs])  # slot indices follow the variables' order, even without gradients
        missing = [getattr(v, "name", "?") for g, v in pairs if g is None]
        pairs = [(g, v) for g, v in pairs if g is not None]
        if not pairs:
            raise ValueError("No gradients provided for any variable.")
        if missing:
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the loss.",
                          stacklevel=2)
        grads = [self._as_gradient(g, v) for g, v in pairs]
        variables = [v for _, v in pairs]
        grads = self._clip_gradients(grads)
        lr = self.learning_rate
        if self.weight_decay:
            for var in variables:
                if self._use_weight_decay(var) and not getattr(var, "overwrite_with_gradient", False):
                    var.data *= 1.0 - self.weight_decay * lr
        for grad, var in zip(grads, variables):
            if getattr(var, "overwrite_with_gradient", False):  # add_weight(overwrite_with_gradient=True)
                var.data[...] = grad
                continue
            self._update_step(grad, var.data, self._var_index[id(var)], lr)
            if getattr(var, "constraint", None) is not None:
                value = var.constraint(var.data)
                var.data[...] = value.data if isinstance(value, Tensor) else value
        self.iterations += 1
        return self.iterations

    def apply(self, grads, trainable_variables=None) -> int:
        """Update ``trainable_variables`` from ``grads`` (Tensors or arrays, one per variable), as Keras 3.

        Without ``trainable_variables`` the variables the optimizer was built with are updated.
        """
        grads = list(grads)
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must already be built "
                                 "on a list of variables. Call `optimizer.build(trainable_variables)` first.")
            trainable_variables = self._variables
        variables = list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"`grads` and `trainable_variables` must have the same length. Received: "
                             f"{len(grads)} gradients and {len(variables)} variables.")
        return self.apply_gradients(zip(grads, variables))

    def _as_gradient(self, grad, var) -> np.ndarray:
        grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
        if grad.shape != var.data.shape:
            raise ValueError(f"Gradient for variable '{getattr(var, 'name', '?')}' has shape {grad.shape}; "
                             f"expected the variable's shape {var.data.shape}.")
        return grad.astype(var.data.dtype, copy=False)

    def _clip_gradients(self, grads: list) -> list:
        if self.clipnorm:
            return [self._clip_by_norm(g) for g in grads]
        if self.global_clipnorm:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _clip_by_norm(self, grad: np.ndarray) -> np.ndarray:
        norm = float(np.sqrt(np.sum(np.square(grad, dtype=np.float64))))
        return grad * np.asarray(self.clipnorm / max(norm, self.clipnorm), dtype=grad.dtype)

    def _update_step(self, grad: np.ndarray, var: np.ndarray, index: int, lr: float) -> None:
        raise NotImplementedError

    def _scratch(self, like: np.ndarray) -> np.ndarray:
        """A reusable work array shaped like ``like``, so steps allocate no new arrays."""
        key = (like.shape, like.dtype.str)
        if key not in self._buffers:
            self._buffers[key] = np.empty_like(like)
        return self._buffers[key]

    # ------------------------------------------------------------------ state
    def get_state(self) -> dict:
        """Arrays to save: ``iterations``, ``learning_rate`` (if a float) and ``<slot>/<var index>``."""
        state = {"iterations": np.asarray(self.iterations, dtype=np.int64)}
        if isinstance(self._learning_rate, float):
            state["learning_rate"] = np.asarray(self._learning_rate, dtype=np.float64)
        for slot, arrays in self._slots.items():
            for i, array in enumerate(arrays):
                state[f"{slot}/{i}"] = array
        return state

    def set_state(self, state: dict, var_list) -> None:
        """Restore :meth:`get_state` output for ``var_list`` (the same variables, in the same order)."""
        self.build(var_list)
        for key, value in state.items():
            if key == "iterations":
                self.iterations = int(value)
            elif key == "learning_rate":
                if isinstance(self._learning_rate, float):
                    self._learning_rate = float(value)
            else:
                self._set_slot(key, np.asarray(value))

    def _set_slot(self, key: str, value: np.ndarray) -> None:
        slot, _, index = key.rpartition("/")
        if slot not in self._slots or not index.isdigit() or int(index) >= len(self._slots[slot]):
            raise ValueError(f"Optimizer '{self.name}' has no state entry '{key}'. "
                             f"Expected one of {sorted(self.get_state())}.")
        target = self._slots[slot][int(index)]
        if target.shape != value.shape:
            raise ValueError(f"Optimizer state '{key}' has shape {target.shape}; received shape {value.shape}.")
        target[...] = value

    # ----------------------------------------------------------------- config
    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, schedules_module.LearningRateSchedule):
            lr = schedules_module.serialize(lr)
        elif callable(lr):
            warnings.warn("A callable learning rate cannot be serialized; its current value is stored.",
                          stacklevel=2)
            lr = self.learning_rate
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Optimizer":
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules_module.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self.learning_rate:g}>"


def callable_or_schedule(value) -> bool:
    return isinstance(value, schedules_module.LearningRateSchedule) or callable(value)
