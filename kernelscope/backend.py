"""``keras.backend`` / ``keras.config``: the process-wide settings and dtype helpers.

kernelscope has one backend, NumPy, and one image layout, channels-last, so
``backend()`` is ``"numpy"`` and ``set_image_data_format`` accepts only
``"channels_last"``. ``floatx`` is the dtype that ``ks.ops`` creation functions,
``ks.Variable`` and new layers use when none is given; ``epsilon`` is the fuzz
factor that the probability losses (``ks.losses``) and ``ks.ops`` read at call
time (``1e-7`` as in Keras; metrics and preprocessing layers keep ``1e-7``).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "backend",
    "epsilon",
    "set_epsilon",
    "floatx",
    "set_floatx",
    "image_data_format",
    "set_image_data_format",
    "standardize_data_format",
    "clear_session",
    "is_tensor",
    "is_keras_tensor",
    "is_float_dtype",
    "is_int_dtype",
    "standardize_dtype",
    "result_type",
    "int_shape",
]

_FLOATX = "float32"
_EPSILON = 1e-7
_FLOAT_DTYPES = ("float16", "float32", "float64")
# Keras's ALLOWED_DTYPES that NumPy can hold (bfloat16 and the float8 types it cannot).
_ALLOWED = {"bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
            "float16", "float32", "float64", "complex64", "complex128", "string"}
_PYTHON = {int: "int64", float: "float32", bool: "bool", str: "string"}


def backend() -> str:
    """The name of the backend: always ``"numpy"``."""
    return "numpy"


def epsilon() -> float:
    """The fuzz factor used in numeric expressions (default ``1e-7``)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Set the fuzz factor returned by :func:`epsilon` (read by ``ks.losses`` and ``ks.ops``)."""
    global _EPSILON
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0 <= value < 1:
        raise ValueError(f"`epsilon` must be a float in [0, 1). Received: value={value!r}.")
    _EPSILON = float(value)


def floatx() -> str:
    """The default float dtype, as a string (default ``"float32"``)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float dtype: ``"float16"``, ``"float32"`` or ``"float64"``.

    ``"bfloat16"`` (a Keras option) is refused: NumPy has no bfloat16.
    """
    global _FLOATX
    if value not in _FLOAT_DTYPES:
        raise ValueError(f"Unknown `floatx` value: {value!r}. Expected one of {set(_FLOAT_DTYPES)} "
                         "(NumPy has no bfloat16).")
    _FLOATX = str(value)


def image_data_format() -> str:
    """The image layout: always ``"channels_last"``."""
    return "channels_last"


def set_image_data_format(data_format: str) -> None:
    """Accept ``"channels_last"``; kernelscope has no channels-first kernels."""
    standardize_data_format(data_format)


def standardize_data_format(data_format) -> str:
    """``None`` or ``"channels_last"`` give ``"channels_last"``; anything else is refused."""
    if data_format is None:
        return "channels_last"
    value = str(data_format).lower()
    if value == "channels_first":
        raise ValueError('kernelscope is channels-last only: data_format="channels_first" is not supported. '
                         "Transpose your data to (batch, height, width, channels). "
                         f"Received: data_format={data_format!r}.")
    if value != "channels_last":
        raise ValueError("The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                         f"Received: data_format={data_format!r}.")
    return value


def clear_session() -> None:
    """Reset automatic layer names (``dense``, ``dense_1``, ...), as Keras's ``clear_session``."""
    from .layers.base import clear_session as reset_names

    reset_names()


def is_tensor(x) -> bool:
    """Whether ``x`` is a backend tensor (a ``ks.Tensor``, Variables included)."""
    from .autograd import Tensor

    return isinstance(x, Tensor)


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic tensor of the functional API (what ``ks.Input`` returns)."""
    from .layers.base import KerasTensor

    return isinstance(x, KerasTensor)


def standardize_dtype(dtype) -> str:
    """A dtype's Keras name (``"float32"``...); ``None`` gives :func:`floatx`."""
    if dtype is None:
        return floatx()
    if isinstance(dtype, type) and dtype in _PYTHON:
        return _PYTHON[dtype]
    if isinstance(dtype, str) and dtype in _ALLOWED:
        return dtype
    try:
        name = np.dtype(dtype.dtype if isinstance(getattr(dtype, "dtype", None), np.dtype) else dtype).name
    except TypeError:
        name = None
    if name not in _ALLOWED:
        raise ValueError(f"Invalid dtype: {dtype!r}. Expected one of {sorted(_ALLOWED)}.")
    return name


def is_float_dtype(dtype) -> bool:
    """Whether ``dtype`` is a floating-point type."""
    return standardize_dtype(dtype).startswith("float")


def is_int_dtype(dtype) -> bool:
    """Whether ``dtype`` is a (signed or unsigned) integer type."""
    return standardize_dtype(dtype).startswith(("int", "uint"))


def result_type(*dtypes) -> str:
    """The dtype of an operation on these dtypes; integers meeting floats give :func:`floatx` or wider."""
    if not dtypes:
        return floatx()
    names = [standardize_dtype(d) for d in dtypes]
    floats = [n for n in names if n.startswith("float")]
    if floats and len(floats) < len(names):  # int32 + float32 is float32 in Keras, not NumPy's float64
        return np.result_type(*floats).name
    return np.result_type(*names).name


def int_shape(x) -> tuple:
    """The shape of a tensor, array or KerasTensor as a tuple (``None`` for unknown sizes)."""
    shape = getattr(x, "shape", None)
    if shape is None:
        raise TypeError(f"`int_shape` needs a tensor or an array. Received: {type(x).__name__}.")
    return tuple(None if d is None else int(d) for d in shape)
