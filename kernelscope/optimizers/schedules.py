"""Learning-rate schedules: functions of the optimizer step, as in Keras 3.

A schedule is called with the step count (``optimizer.iterations``) and returns
the learning rate for that step. The formulas are Keras's
(``keras.optimizers.schedules``).

>>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(20)
0.025
"""

from __future__ import annotations

import math

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay", "CosineDecay",
           "InverseTimeDecay", "PolynomialDecay", "serialize", "deserialize"]


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step) -> float`` and ``get_config``."""

    def __call__(self, step) -> float:
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override "
                                  "`__call__(self, step)`.")

    def get_config(self) -> dict:
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override "
                                  "`get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        return cls(**config)


def _check_decay_steps(name: str, value) -> None:
    if not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value!r}")


class _Decay(LearningRateSchedule):
    """The schedules that decay ``initial_learning_rate`` over ``decay_steps``.

    Subclasses pass their own settings as keywords (kept as attributes) and list in ``_CONFIG``
    what ``get_config`` returns, in Keras's order.
    """

    _CONFIG: tuple = ()

    def __init__(self, initial_learning_rate: float, decay_steps: int, name: str | None, **settings):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.name = name
        for key, value in settings.items():
            setattr(self, key, value)

    def get_config(self) -> dict:
        return {key: getattr(self, key) for key in self._CONFIG}


class _StepDecay(_Decay):
    """Shared by the schedules that decay with ``step / decay_steps`` (floored with ``staircase``)."""

    _CONFIG = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name")

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str | None = None):
        super().__init__(initial_learning_rate, decay_steps, name or type(self).__name__, decay_rate=decay_rate,
                         staircase=staircase)

    def _progress(self, step) -> float:
        p = float(step) / self.decay_steps
        return math.floor(p) if self.staircase else p


class ExponentialDecay(_StepDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``.
    """

    def __call__(self, step) -> float:
        return float(self.initial_learning_rate * self.decay_rate ** self._progress(step))


class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (floored with ``staircase``)."""

    def __call__(self, step) -> float:
        return float(self.initial_learning_rate / (1.0 + self.decay_rate * self._progress(step)))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while ``step <= boundaries[1]``, ...

    and ``values[-1]`` after the last boundary.
    """

    def __init__(self, boundaries, values, name: str = "PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError("The length of boundaries should be 1 less than the length of values. "
                             f"Received: boundaries={list(boundaries)} of length {len(boundaries)}, "
                             f"and values={list(values)} of length {len(values)}.")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step) -> float:
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(_Decay):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps``."""

    _CONFIG = ("initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle", "name")

    def __init__(self, initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False, name: str = "PolynomialDecay"):
        super().__init__(initial_learning_rate, decay_steps, name, end_learning_rate=end_learning_rate,
                         power=power, cycle=cycle)

    def __call__(self, step) -> float:
        step = float(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return float((self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power
                     + self.end_learning_rate)


class CosineDecay(_Decay):
    """Cosine decay with an optional linear warmup, as Keras 3.

    Without ``warmup_target``: ``lr = initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)``
    with ``s = min(step, decay_steps)``. With it, the rate first rises linearly from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then decays
    from ``warmup_target``.
    """

    _CONFIG = ("initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target", "warmup_steps")

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None, warmup_steps: int = 0):
        super().__init__(initial_learning_rate, decay_steps, name, alpha=alpha, warmup_target=warmup_target,
                         warmup_steps=warmup_steps)

    def _decay(self, step: float, start_lr: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return start_lr * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step) -> float:
        step = float(step)
        if self.warmup_target is None:
            return float(self._decay(min(step, self.decay_steps), self.initial_learning_rate))
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return float((self.warmup_target - self.initial_learning_rate) * fraction + self.initial_learning_rate)
        return float(self._decay(step - self.warmup_steps, self.warmup_target))


_SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay,
                                            InverseTimeDecay, PolynomialDecay)}


def serialize(schedule: LearningRateSchedule) -> dict:
    """``{"class_name": ..., "config": ...}`` for a built-in schedule."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """Rebuild a schedule from :func:`serialize` output."""
    known = {**_SCHEDULES, **(custom_objects or {})}
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in known:
        raise ValueError(f"Unknown learning rate schedule: {name!r}. Expected one of {sorted(known)}. "
                         f"Received: config={config!r}")
    return known[name].from_config(dict(config.get("config", {})))
