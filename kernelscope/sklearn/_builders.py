"""What the scikit-learn wrappers build: default models, optimizers, and a seeded scope.

The default model is a multilayer perceptron for tabular rows, or, when
``input_shape`` is given, a small CNN that first reshapes each flat row into an
image (``(8, 8, 1)`` turns a 64-column digits row back into its 8x8 picture).
"""

from __future__ import annotations

import contextlib
import inspect
import math
import numbers

import numpy as np

__all__ = ["default_model", "make_optimizer", "seeded", "call_builder"]


def default_model(n_features_in_: int, n_outputs_: int, output_activation: str | None = None,
                  hidden_layer_sizes=(100,), input_shape=None, activation: str = "relu",
                  dropout: float = 0.0, filters=(8, 16)):
    """The model a wrapper builds when ``model=None``.

    Parameters
    ----------
    n_features_in_ : int
        Columns of ``X``.
    n_outputs_ : int
        Units of the output layer (classes, or regression targets).
    output_activation : str, optional
        ``"softmax"`` / ``"sigmoid"`` for classifiers, None (linear) for regressors.
    hidden_layer_sizes : tuple of int
        Units of the hidden Dense layers (after the convolutions for a CNN).
    input_shape : tuple of int, optional
        ``(H, W, C)`` with ``H * W * C == n_features_in_``: build a small CNN
        (per block ``Conv2D(f, 3, padding="same", relu)`` and a 2x2 max pooling
        while the feature map is at least 2 pixels wide) on each row reshaped to
        this shape.
    activation : str
        Activation of the hidden layers.
    dropout : float
        Dropout rate after each hidden Dense layer.
    filters : tuple of int
        Filters of the CNN's convolution blocks.

    Returns
    -------
    ks.Sequential, not compiled.
    """
    from .. import layers, models

    stack = [layers.Input((n_features_in_,))]
    if input_shape is not None:
        shape = _check_input_shape(input_shape, n_features_in_)
        stack.append(layers.Reshape(shape))
        size = min(shape[:2])
        for i, n_filters in enumerate(filters, 1):
            stack.append(layers.Conv2D(int(n_filters), 3, padding="same", activation=activation, name=f"block{i}_conv"))
            if size >= 2:
                stack.append(layers.MaxPooling2D(2, name=f"block{i}_pool"))
                size //= 2
        stack.append(layers.Flatten())
    for units in hidden_layer_sizes:
        stack.append(layers.Dense(int(units), activation=activation))
        if dropout:
            stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(n_outputs_, activation=output_activation, name="output"))
    return models.Sequential(stack)


def _check_input_shape(input_shape, n_features: int) -> tuple:
    valid = (isinstance(input_shape, (tuple, list)) and len(input_shape) == 3
             and all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0 for d in input_shape))
    if not valid:
        raise ValueError("`input_shape` must be None or a tuple of 3 positive integers (height, width, channels). "
                         f"Received: input_shape={input_shape!r}.")
    if math.prod(input_shape) != n_features:
        raise ValueError(f"`input_shape`={tuple(input_shape)} holds {math.prod(input_shape)} values but X has "
                         f"{n_features} features per row; their product must equal the number of features.")
    return tuple(int(d) for d in input_shape)


def call_builder(builder, routed: dict, meta: dict):
    """Call a model builder with its routed ``model__*`` arguments and the meta values it names."""
    try:
        signature = inspect.signature(builder)
    except (TypeError, ValueError):  # builtins without a signature: pass the routed arguments only
        return builder(**routed)
    params = signature.parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    unknown = [name for name in routed if name not in params and not takes_any]
    if unknown:
        name = getattr(builder, "__name__", type(builder).__name__)
        raise TypeError(f"`model__{unknown[0]}` was given but the model builder {name}() has no argument "
                        f"`{unknown[0]}`. Its arguments: {', '.join(params) or 'none'}.")
    kwargs = {key: value for key, value in meta.items() if key in params and key not in routed}
    return builder(**kwargs, **routed)


def make_optimizer(optimizer, learning_rate, routed: dict):
    """A fresh optimizer from a name, a class or an instance (whose config is copied, state is not)."""
    from .. import optimizers

    if isinstance(optimizer, optimizers.Optimizer):
        cls, config = type(optimizer), optimizer.get_config()
    elif isinstance(optimizer, type) and issubclass(optimizer, optimizers.Optimizer):
        cls, config = optimizer, {}
    elif isinstance(optimizer, str) and optimizer.lower() in optimizers._OPTIMIZERS:
        cls, config = optimizers._OPTIMIZERS[optimizer.lower()], {}
    else:
        raise ValueError(f"`optimizer` must be one of {sorted(optimizers._OPTIMIZERS)}, a ks.optimizers.Optimizer "
                         f"class or instance. Received: optimizer={optimizer!r}.")
    config.update(routed)
    if learning_rate is not None:
        config["learning_rate"] = learning_rate
    return cls.from_config(config)


@contextlib.contextmanager
def seeded(random_state, step: int = 0):
    """Run the block with kernelscope's root generator seeded from ``random_state`` and ``step``.

    Weight initializers, dropout masks and the shuffling of ``fit`` all draw from
    that root generator, so an integer ``random_state`` repeats a fit exactly;
    ``step`` (the epochs already run) gives each later ``partial_fit`` its own draws.
    The previous root generator is put back afterwards, so the global state is untouched.
    """
    from .. import rng

    if random_state is None:
        yield
        return
    if isinstance(random_state, np.random.RandomState):
        seed = int(random_state.randint(np.iinfo(np.int32).max))
    else:
        seed = int(random_state)
    saved = rng._root
    rng._root = np.random.default_rng([seed, int(step)])
    try:
        yield
    finally:
        rng._root = saved
