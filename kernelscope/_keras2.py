"""Hints for Keras 1/2 code: the spellings Keras 3 removed fail with an error that names the Keras 3 one.

Keras 3 itself answers ``SGD(lr=0.01)`` with "Argument(s) not recognized" and
``model.fit_generator`` with a bare AttributeError; course code from 2016-2019 is
full of them. Every hint lives here; the classes that raise them call in with a
line or two (optimizers/base.py, layers/base.py, models/model.py, layers/__init__.py)
and the removed modules (``utils/np_utils.py``, ``layers/merge.py``) are shims that
raise from here.
"""

from __future__ import annotations

import functools
import inspect
import numbers

# Keras 1 keyword -> its Keras 2 and 3 name (all renamed in Keras 2.0)
_LAYER_KWARGS = {
    "nb_filter": "filters", "nb_row": "kernel_size", "nb_col": "kernel_size", "border_mode": "padding",
    "subsample": "strides", "init": "kernel_initializer", "dim_ordering": "data_format", "output_dim": "units",
    "W_regularizer": "kernel_regularizer", "b_regularizer": "bias_regularizer", "bias": "use_bias",
    "W_constraint": "kernel_constraint", "b_constraint": "bias_constraint",
}
_DIM_ORDERING = {"tf": "'channels_last'", "th": "'channels_first'"}

_MODEL_METHODS = {
    "fit_generator": "`fit_generator` is Keras 2's (deprecated since TensorFlow 2.1, removed in Keras 3): `fit` "
                     "takes generators and PyDatasets itself; use model.fit(generator, steps_per_epoch=..., "
                     "epochs=...).",
    "evaluate_generator": "`evaluate_generator` is Keras 2's (removed in Keras 3): use "
                          "model.evaluate(generator, steps=...).",
    "predict_generator": "`predict_generator` is Keras 2's (removed in Keras 3): use "
                         "model.predict(generator, steps=...).",
    "predict_classes": "`predict_classes` was removed in Keras 2.6: use np.argmax(model.predict(x), axis=-1) "
                       "(softmax output) or (model.predict(x) > 0.5).astype('int32') (sigmoid output).",
    "predict_proba": "`predict_proba` was removed in Keras 2.6: use model.predict(x), which returns the "
                     "probabilities of a softmax or sigmoid output.",
}

_REMOVED_LAYERS = {
    "Merge": "The `Merge` layer was removed in Keras 2.0: use layers.Add, Concatenate, Multiply, Average, Dot "
             "(or the functions layers.add(...), layers.concatenate(...)) on a list of tensors.",
}


def check_optimizer_kwargs(optimizer: str, kwargs: dict) -> None:
    """Raise for ``lr=`` and a non-zero ``decay=``; drop ``decay=0`` (a Keras 2 config default that does nothing)."""
    if "lr" in kwargs:
        value = kwargs["lr"]
        raise TypeError(f"`lr` was renamed `learning_rate` in Keras 2.3; use "
                        f"{optimizer}(learning_rate={value!r}). Received: lr={value!r}.")
    if "decay" in kwargs:
        decay = kwargs["decay"]
        if isinstance(decay, numbers.Number) and decay == 0:
            kwargs.pop("decay")
            return
        raise TypeError("`decay` was removed from the optimizers in Keras 2.11 (Keras 3 ignores it). Keras 2's "
                        "decay, lr / (1 + decay * step), is the schedule "
                        "optimizers.schedules.InverseTimeDecay(initial_learning_rate=lr, decay_steps=1, "
                        f"decay_rate={decay!r}): pass it as {optimizer}(learning_rate=schedule). "
                        f"Received: decay={decay!r}.")


@functools.lru_cache(maxsize=None)
def _parameters(cls: type) -> frozenset:
    return frozenset(inspect.signature(cls.__init__).parameters)


def check_layer_kwargs(cls: type, kwargs: dict) -> None:
    """Raise a TypeError naming the Keras 3 keyword for the first Keras 1/2 keyword in ``kwargs``
    that ``cls.__init__`` does not itself take (a custom layer may well have a ``bias`` argument)."""
    layer = cls.__name__
    for old, value in kwargs.items():
        if old not in _LAYER_KWARGS or old in _parameters(cls):
            continue
        new = _LAYER_KWARGS[old]
        if old == "dim_ordering":
            suggestion = f"{new}={_DIM_ORDERING.get(value, repr(value))}"
        elif old in ("nb_row", "nb_col"):
            rows, cols = kwargs.get("nb_row", "?"), kwargs.get("nb_col", "?")
            suggestion = f"kernel_size=({rows}, {cols})"
        else:
            suggestion = f"{new}={value!r}"
        raise TypeError(f"`{old}` is Keras 1's name, renamed `{new}` in Keras 2.0; use "
                        f"{layer}(..., {suggestion}). Received: {old}={value!r}.")


def check_keras1_conv_args(alias: str, args: tuple) -> None:
    """``Convolution2D(64, 3, 3)`` is Keras 1's (nb_filter, nb_row, nb_col); in Keras 3 the third is strides."""
    if len(args) >= 3 and all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args[1:3]):
        raise TypeError(f"{alias}({args[0]}, {args[1]}, {args[2]}) is Keras 1's (nb_filter, nb_row, nb_col): "
                        f"Keras 2 and 3 read the third argument as `strides`. Use Conv2D({args[0]}, "
                        f"({args[1]}, {args[2]})), or pass strides= by keyword.")


def keras1_conv_alias(cls: type, alias: str) -> type:
    """``cls`` under its old ``alias``, refusing Keras 1's positional kernel size; instances are plain ``cls``."""
    def __new__(klass, *args, **kwargs):
        check_keras1_conv_args(alias, args)
        return cls(*args, **kwargs)  # not a klass instance, so __init__ is not run twice
    return type(alias, (cls,), {"__new__": __new__, "__doc__": f"``{cls.__name__}`` (its Keras alias)."})


class _RemovedMethod:
    """A class attribute that raises AttributeError with a hint (so hasattr() stays False, as in Keras 3)."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, instance, owner=None):
        raise AttributeError(_MODEL_METHODS[self.name])


def install_model_hints(model_class: type) -> None:
    """Give ``model_class`` the removed Keras 2 methods, each raising its hint."""
    for name in _MODEL_METHODS:
        descriptor = _RemovedMethod()
        descriptor.__set_name__(model_class, name)
        setattr(model_class, name, descriptor)


def removed_layer(name: str):
    """For ``kernelscope.layers.__getattr__``: the hint for a layer Keras removed, else a plain AttributeError."""
    if name in _REMOVED_LAYERS:
        raise AttributeError(_REMOVED_LAYERS[name])
    raise AttributeError(f"module 'kernelscope.layers' has no attribute '{name}'")


def removed_module(module: str, keras3: str, name: str, names=None):
    """For a removed module's ``__getattr__``: an ImportError naming where ``name`` lives in Keras 3
    (for every name, or only those in ``names``; others get a plain AttributeError)."""
    if name.startswith("__") or (names is not None and name not in names):
        raise AttributeError(f"module 'kernelscope.{module}' has no attribute '{name}'")
    raise ImportError(f"`keras.{module}` is Keras 2's module (Keras 3 has none); import {name} from {keras3}: "
                      f"`from {keras3} import {name}`.")
