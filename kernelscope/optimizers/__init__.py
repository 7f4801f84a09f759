"""Optimizers with Keras 3's names, defaults and update rules.

Every optimizer updates ``Variable.data`` in place (float32 stays float32) from
NumPy gradients: ``opt.apply_gradients(zip(grads, variables))``. The update
rules are those of ``keras.optimizers`` (see each class); clipping and decoupled
weight decay are in :class:`~kernelscope.optimizers.base.Optimizer`.

>>> import numpy as np, kernelscope as ks
>>> from kernelscope.layers.base import Variable
>>> w = Variable(np.array([1.0, 2.0], dtype=np.float32), name="w")
>>> opt = ks.optimizers.SGD(learning_rate=0.1)
>>> _ = opt.apply_gradients([(np.array([1.0, -1.0], dtype=np.float32), w)])
>>> w.data
array([0.9, 2.1], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from . import schedules
from .base import Optimizer, clip_by_global_norm

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "get", "serialize", "deserialize",
           "schedules", "clip_by_global_norm"]


def _check_unit_interval(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"`{name}` must be a float between [0, 1]. Received: {name}={value!r}")
    return float(value)


def _check_epsilon(value) -> float:
    # epsilon keeps the denominators away from 0: 0 or less divides by zero once a slot is 0
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value > 0:
        raise ValueError(f"`epsilon` must be a float > 0. Received: epsilon={value!r}")
    return float(value)


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum.

    ``velocity = momentum * velocity - lr * g``; then ``w += velocity``, or with
    ``nesterov=True`` ``w += momentum * velocity - lr * g``. Without momentum
    ``w -= lr * g``.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="SGD", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)
        self.momentum = _check_unit_interval("momentum", momentum)
        self.nesterov = bool(nesterov)
        self._slot_names = ("momentum",) if self.momentum != 0 else ()

    def _update_step(self, grad, var, index, lr):
        step = np.multiply(grad, lr, out=self._scratch(var))
        if not self.momentum:
            var -= step
            return
        velocity = self._slots["momentum"][index]
        velocity *= self.momentum
        velocity -= step
        if self.nesterov:
            var -= step
            var += np.multiply(velocity, self.momentum, out=step)
        else:
            var += velocity

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square.

    ``v = rho * v + (1 - rho) * g**2``; the step is ``lr * g / sqrt(v + epsilon)``
    (``centered`` uses ``v - mean_g**2 + epsilon``); with ``momentum`` the step
    feeds ``m = momentum * m + step`` and ``w -= m``.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name="rmsprop",
                 **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)
        self.rho = _check_unit_interval("rho", rho)
        self.momentum = _check_unit_interval("momentum", momentum)
        self.epsilon = _check_epsilon(epsilon)
        self.centered = bool(centered)
        self._slot_names = ("velocity",) + (("momentum",) if self.momentum > 0 else ()) \
            + (("average_gradient",) if self.centered else ())

    def _update_step(self, grad, var, index, lr):
        s = self._scratch(var)
        velocity = self._slots["velocity"][index]
        velocity *= self.rho
        velocity += np.multiply(np.square(grad, out=s), 1 - self.rho, out=s)
        if self.centered:
            average = self._slots["average_gradient"][index]
            average *= self.rho
            average += np.multiply(grad, 1 - self.rho, out=s)
            np.subtract(velocity, np.square(average, out=s), out=s)
            s += self.epsilon
        else:
            np.add(velocity, self.epsilon, out=s)
        np.divide(grad, np.sqrt(s, out=s), out=s)
        s *= lr
        if self.momentum > 0:
            momentum = self._slots["momentum"][index]
            momentum *= self.momentum
            momentum += s
            var -= momentum
        else:
            var -= s

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


def _fast_adam(grad: np.ndarray, var: np.ndarray):
    """The numba Adam loop when it applies (same dtype, contiguous arrays), else None."""
    from .._runtime import fast
    from ..kernels import loops

    plain = grad.dtype == var.dtype and fast.handles(var) and grad.flags.c_contiguous and var.flags.c_contiguous
    return fast.compiled(loops.adam) if plain and grad.shape == var.shape else None


class Adam(Optimizer):
    """Adam with Keras's bias correction folded into the step size.

    ``m += (g - m) * (1 - beta_1)``, ``v += (g**2 - v) * (1 - beta_2)``,
    ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`` and
    ``w -= alpha * m / (sqrt(v) + epsilon)`` at step ``t = iterations + 1``;
    ``amsgrad`` uses the running maximum of ``v``.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adam", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)
        self.beta_1 = _check_unit_interval("beta_1", beta_1)
        self.beta_2 = _check_unit_interval("beta_2", beta_2)
        self.epsilon = _check_epsilon(epsilon)
        self.amsgrad = bool(amsgrad)
        self._slot_names = ("m", "v") + (("v_hat",) if self.amsgrad else ())

    def _update_step(self, grad, var, index, lr):
        t = self.iterations + 1
        alpha = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        kernel = None if self.amsgrad else _fast_adam(grad, var)
        if kernel is not None:  # one pass instead of ten (kernelscope[fast])
            m, v, scalar = self._slots["m"][index], self._slots["v"][index], var.dtype.type
            kernel(var.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1), scalar(1 - self.beta_1),
                   scalar(1 - self.beta_2), scalar(self.epsilon), scalar(alpha))
            return
        s = self._scratch(var)
        m, v = self._slots["m"][index], self._slots["v"][index]
        m += np.multiply(np.subtract(grad, m, out=s), 1 - self.beta_1, out=s)
        np.square(grad, out=s)
        s -= v
        v += np.multiply(s, 1 - self.beta_2, out=s)
        if self.amsgrad:
            v = np.maximum(self._slots["v_hat"][index], v, out=self._slots["v_hat"][index])
        np.sqrt(v, out=s)
        s += self.epsilon
        np.divide(m, s, out=s)
        s *= alpha
        var -= s

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (``w -= w * weight_decay * lr`` before each step)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name, **kwargs)


class Adagrad(Optimizer):
    """Adagrad: ``acc += g**2``; ``w -= lr * g / sqrt(acc + epsilon)``, ``acc`` starting at
    ``initial_accumulator_value``."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adagrad", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)
        if isinstance(initial_accumulator_value, bool) or not isinstance(initial_accumulator_value, (int, float)) \
                or initial_accumulator_value < 0:
            raise ValueError("`initial_accumulator_value` must be a float >= 0. "
                             f"Received: initial_accumulator_value={initial_accumulator_value!r}")
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = _check_epsilon(epsilon)
        self._slot_names = ("accumulator",)

    def _init_slot(self, slot, value):
        return np.full_like(value, self.initial_accumulator_value)

    def _update_step(self, grad, var, index, lr):
        s = self._scratch(var)
        accumulator = self._slots["accumulator"][index]
        accumulator += np.square(grad, out=s)
        np.add(accumulator, self.epsilon, out=s)
        np.divide(grad, np.sqrt(s, out=s), out=s)
        s *= lr
        var -= s

    def get_config(self) -> dict:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


_OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "adagrad": Adagrad}


def serialize(optimizer: Optimizer) -> dict:
    """``{"class_name": ..., "config": ...}``, the form :func:`get` and :func:`deserialize` accept."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """Rebuild an optimizer from :func:`serialize` output."""
    name = config.get("class_name")
    cls = (custom_objects or {}).get(name) or _OPTIMIZERS.get(str(name).lower())
    if cls is None:
        raise ValueError(f"Could not interpret optimizer identifier: {name!r}. "
                         f"Expected one of {sorted(_OPTIMIZERS)}.")
    return cls.from_config(config.get("config", {}), custom_objects)


def get(identifier) -> Optimizer:
    """An optimizer from a name (``"adam"``, ``"sgd"``, ...), a config dict or an instance.

    >>> get("adam").learning_rate
    0.001
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str) and identifier.lower() in _OPTIMIZERS:
        return _OPTIMIZERS[identifier.lower()]()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. "
                     f"Expected one of {sorted(_OPTIMIZERS)}, a config dict or an Optimizer instance.")
