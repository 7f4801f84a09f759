"""Lambda: any function of tensors as a layer, saved as Keras 3 saves it.

A Python ``lambda`` is saved as its bytecode (``marshal``, base64), its defaults and its
closure values, in Keras's ``{"class_name": "__lambda__", ...}`` entry. Loading it runs
that code, so it is refused unless the caller says the file is trusted
(``ks.models.load_model(path, safe_mode=False)``), as in Keras. A named function is saved
by name and found again only in ``custom_objects`` (never imported from the file).
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import contextvars
import inspect
import marshal
import types

import numpy as np

from .base import KerasTensor, Layer, _flatten
from .symbolic import infer_output_spec, is_shape, shapes_to_tensors

__all__ = ["Lambda", "safe_mode_scope"]

_SAFE_MODE: contextvars.ContextVar = contextvars.ContextVar("kernelscope_safe_mode", default=None)


@contextlib.contextmanager
def safe_mode_scope(safe_mode: bool | None):
    """Within the block, ``Lambda.from_config`` refuses bytecode unless ``safe_mode`` is False."""
    token = _SAFE_MODE.set(safe_mode)
    try:
        yield
    finally:
        _SAFE_MODE.reset(token)


def _lambda_globals() -> dict:
    # What a saved lambda's body may name: the usual imports of Keras code written for kernelscope.
    import kernelscope

    return {"__builtins__": builtins, "np": np, "numpy": np, "ks": kernelscope, "keras": kernelscope,
            "ops": kernelscope.ops}


def _dump_function(fn) -> dict:
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        closure = None if not fn.__closure__ else [c.cell_contents for c in fn.__closure__]
        code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
        return {"class_name": "__lambda__", "config": {"code": code, "defaults": fn.__defaults__,
                                                       "closure": closure}}
    if callable(fn):
        from .. import saving

        name = getattr(fn, "__name__", type(fn).__name__)
        return {"module": getattr(fn, "__module__", None), "class_name": "function", "config": name,
                "registered_name": saving.get_registered_name(fn)}
    raise ValueError(f"Invalid input type for serialization. Received: {fn!r} of type {type(fn).__name__}.")


def _cell(value):
    return (lambda: value).__closure__[0]


def _load_function(entry, custom_objects, safe_mode: bool, what: str):
    if isinstance(entry, dict) and entry.get("class_name") == "__lambda__":
        if safe_mode:
            raise ValueError(
                "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. This "
                "carries a potential risk of arbitrary code execution and thus it is disallowed by default. If "
                "you trust the source of the artifact, you can override this error by passing "
                f"`safe_mode=False` to the loading function (ks.models.load_model). Received: {what} "
                "stored as Python bytecode.")
        config = entry["config"]
        code = marshal.loads(base64.decodebytes(config["code"].encode("ascii")))
        closure = None if config.get("closure") is None else tuple(_cell(v) for v in config["closure"])
        defaults = None if config.get("defaults") is None else tuple(config["defaults"])
        return types.FunctionType(code, _lambda_globals(), code.co_name, defaults, closure)
    if isinstance(entry, dict) and entry.get("class_name") == "function":
        from .. import saving

        for key in (entry.get("registered_name"), entry.get("config")):
            found = saving.get_registered_object(key, custom_objects) if key else None
            if callable(found):
                return found
        raise ValueError(f"Cannot load the Lambda layer's {what} `{entry.get('config')}`: named functions are "
                         f"looked up, never imported; pass custom_objects={{'{entry.get('config')}': "
                         f"{entry.get('config')}}} to load_model.")
    return entry


class Lambda(Layer):
    """Wrap a function of tensors as a layer: ``Lambda(lambda x: x ** 2)``.

    Parameters
    ----------
    function : callable
        Called as ``function(inputs, **arguments)`` (plus ``training`` when it takes one).
    output_shape : tuple, callable or None
        Without the batch axis (a tuple), or ``f(input_shape)`` giving the whole shape;
        None infers it by running ``function`` on stand-in data.
    mask : None
        kernelscope has no masking, so only None is accepted.
    arguments : dict, optional
        Keyword arguments passed to ``function``.

    Saved with ``model.save``, a Python lambda is stored as bytecode and loading refuses
    it unless ``safe_mode=False`` (as Keras).
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"`function` must be callable. Received: function={function!r}.")
        if mask is not None:
            raise ValueError(f"kernelscope has no masking: `mask` must be None. Received: mask={mask!r}.")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"`arguments` must be a dict of keyword arguments. Received: arguments={arguments!r}.")
        if output_shape is not None and not callable(output_shape) and not _is_shape_structure(output_shape):
            raise TypeError("`output_shape` must be a tuple (without the batch axis), a structure of tuples, "
                            f"a callable or None. Received: output_shape={output_shape!r}.")
        self.function, self.arguments, self.mask = function, dict(arguments or {}), None
        self._output_shape = tuple(output_shape) if is_shape(output_shape) else output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):  # builtins without a signature
            params = {}
        self._fn_expects_training_arg = "training" in params

    def call(self, inputs, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = _flatten(input_shape, is_leaf=is_shape)[0][0]
        return shapes_to_tensors(self._output_shape, lambda shape: (batch,) + shape)

    def _output_spec(self, args: tuple, kwargs: dict):
        if self._output_shape is None:  # keep the dtype the function returns (e.g. int argmax)
            return infer_output_spec(self, args, kwargs, KerasTensor)
        return super()._output_spec(args, kwargs)

    def get_config(self) -> dict:
        config = {**super().get_config(), "function": _dump_function(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = (_dump_function(self._output_shape) if callable(self._output_shape)
                                      else self._output_shape)
        config["arguments"] = dict(self.arguments)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None, safe_mode: bool | None = None):
        config = dict(config)
        safe = (safe_mode if safe_mode is not None else _SAFE_MODE.get()) is not False
        config["function"] = _load_function(config["function"], custom_objects, safe, "function")
        if "output_shape" in config:
            shape = _load_function(config["output_shape"], custom_objects, safe, "output_shape")
            config["output_shape"] = tuple(shape) if isinstance(shape, list) and is_shape(shape) else shape
        return cls(**config)


def _is_shape_structure(value) -> bool:
    if is_shape(value):
        return True
    if isinstance(value, dict):
        return all(_is_shape_structure(v) for v in value.values())
    return isinstance(value, (list, tuple)) and all(_is_shape_structure(v) for v in value)
