"""The opening and closing every ``keras.applications`` builder shares, written once.

A builder reads like Keras's ``vgg16.py``: it opens an :class:`Application`
(Keras's argument checks, the ImageNet weight file, the input shape and the
``ks.Input``), lays down its ``# Block`` layers on ``app.input``, and closes
with ``app.head`` (the usual global-average-pooling classifier, or the pooling
of ``include_top=False``) and ``app.model`` (the Model, with its weights
loaded)::

    app = Application(include_top, weights, input_tensor, input_shape, pooling, classes,
                      classifier_activation, download, default_size=224, min_size=32, imagenet=FILE)
    x = app.input
    # Block 1 ...
    return app.model(app.head(x), name)
"""

from __future__ import annotations

import numbers
import os
import warnings

from .. import layers
from ..models import Model
from ._weights import KerasWeights, resolve_weights
from .imagenet_utils import obtain_input_shape, validate_activation

__all__ = ["Application", "check_arguments", "check_alpha", "imagenet_size", "documented", "keras_application"]

_ARGS_DOC = """
    Parameters
    ----------
    include_top : bool
        Keep the classifier (``predictions``) on top.
    weights : "imagenet", None or str
        ``"imagenet"`` (the default, as in Keras): Keras's file ``{fname}`` (``{notop}`` without the
        top) from the model cache (see ``ks.applications.models_dir``); None: random initialization;
        or the path to a Keras weight file.
    input_tensor : KerasTensor, optional
        A tensor from ``ks.Input`` to build on.
    input_shape : tuple, optional
        ``(height, width, channels)``, {sizes}.
    pooling : None, "avg" or "max"
        Without the top: the 4-D feature map, or its global average / maximum.
    classes : int
        Output classes of the top.
    classifier_activation : str, callable or None
        Activation of ``predictions`` (None: logits).
    name : str
        The model's name.
    download : bool
        Fetch a missing ImageNet file with ``ks.utils.get_file`` (checking Keras's hash).
    """


def documented(summary: str, fname: str, notop: str, sizes: str):
    """Give a builder with Keras's standard signature its docstring: ``summary`` and the shared arguments."""
    def decorate(builder):
        builder.__doc__ = summary + "\n" + _ARGS_DOC.format(fname=fname, notop=notop, sizes=sizes)
        return builder
    return decorate


def keras_application(public_name: str, module: str, summary: str, model_name: str, build, imagenet, *,
                      default_size: int = 224, min_size: int = 32):
    """A public builder with Keras's standard signature: it opens the :class:`Application` and calls
    ``build(app, name)``; ``imagenet(include_top)`` is the Keras file ``weights="imagenet"`` stands for.
    """
    def builder(include_top: bool = True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes: int = 1000, classifier_activation="softmax", name: str = model_name, *,
                download: bool = False) -> Model:
        app = Application(include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                          download, default_size=default_size, min_size=min_size, imagenet=imagenet(include_top))
        return build(app, name)

    builder.__name__ = builder.__qualname__ = public_name
    builder.__module__ = module
    sizes = f"at least {min_size}x{min_size}; ({default_size}, {default_size}, 3) with the top and ImageNet weights"
    return documented(summary, imagenet(True).fname, imagenet(False).fname, sizes)(builder)


def check_alpha(alpha, weights, imagenet_alphas: tuple) -> None:
    """The width multiplier of the MobileNets: a positive number, one Keras has ImageNet weights for."""
    if not isinstance(alpha, numbers.Real) or isinstance(alpha, bool) or alpha <= 0:
        raise ValueError(f"`alpha` must be a positive number. Received: alpha={alpha!r}.")
    if weights == "imagenet" and alpha not in imagenet_alphas:
        raise ValueError("If imagenet weights are being loaded, alpha can be one of "
                         f"{', '.join(f'`{a}`' for a in imagenet_alphas)} only. Received alpha={alpha}")


def imagenet_size(input_shape, include_top: bool, weights, sizes: tuple) -> int:
    """The square size whose Keras weights fit ``input_shape`` (224 otherwise, with Keras's warning)."""
    square = input_shape is not None and len(input_shape) == 3 and input_shape[0] == input_shape[1]
    if square and input_shape[0] in sizes:
        return input_shape[0]
    if weights == "imagenet" and not (input_shape is None and include_top):
        warnings.warn(f"`input_shape` is undefined or non-square, or `rows` is not in {list(sizes)}. Weights for "
                      "input shape (224, 224) will be loaded as the default.", stacklevel=3)
    return 224


def check_arguments(weights, include_top: bool, classes, pooling, classifier_activation) -> None:
    """Keras's argument checks, run before any layer is built."""
    if weights not in (None, "imagenet") and not (isinstance(weights, (str, os.PathLike)) and
                                                  os.path.isfile(weights)):
        raise ValueError("The `weights` argument should be either `None` (random initialization), 'imagenet' "
                         "(pre-training on ImageNet), or the path to the weights file to be loaded. "
                         f"Received: weights={weights!r}")
    if not isinstance(include_top, bool):
        raise TypeError(f"`include_top` must be True or False. Received: include_top={include_top!r}.")
    if not isinstance(classes, numbers.Integral) or isinstance(classes, bool) or classes < 1:
        raise ValueError(f"`classes` must be a positive integer. Received: classes={classes!r}.")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000. "
                         f"Received classes={classes}")
    if not include_top and pooling not in (None, "avg", "max"):
        raise ValueError(f'`pooling` must be None, "avg" or "max". Received: pooling={pooling!r}.')
    validate_activation(classifier_activation, weights)


def _image_input(input_tensor, input_shape: tuple):
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not isinstance(input_tensor, layers.KerasTensor):
        raise TypeError("`input_tensor` must be a symbolic tensor from ks.Input(...). "
                        f"Received: input_tensor of type {type(input_tensor).__name__}.")
    return input_tensor


def _source_inputs(tensor):
    """The ``ks.Input`` tensors behind ``tensor`` (Keras's ``get_source_inputs``)."""
    sources, stack, seen = [], [tensor], set()
    while stack:
        tensor = stack.pop()
        layer, node_index, _ = tensor._keras_history
        if isinstance(layer, layers.InputLayer):
            if id(tensor) not in seen:
                seen.add(id(tensor))
                sources.append(tensor)
            continue
        stack.extend(reversed(layer._inbound_nodes[node_index].input_tensors))
    return sources[0] if len(sources) == 1 else sources


class Application:
    """One builder call: its checked arguments, the resolved weight file and the model input.

    ``imagenet`` is the Keras file ``weights="imagenet"`` stands for (None: there is none);
    ``default_channels`` and ``pretrained_shape_checks`` exist for LeNet-5's 1-channel input.
    """

    def __init__(self, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                 download: bool = False, *, default_size: int, min_size: int, imagenet: KerasWeights | None,
                 default_channels: int = 3, pretrained_shape_checks: bool = True):
        check_arguments(weights, include_top, classes, pooling, classifier_activation)
        self.weights_path = resolve_weights(weights, imagenet, download)
        self.include_top, self.pooling = include_top, pooling
        self.classes, self.classifier_activation = classes, classifier_activation
        self.input_shape = obtain_input_shape(input_shape, default_size=default_size, min_size=min_size,
                                              require_flatten=include_top,
                                              weights=self.weights_path if pretrained_shape_checks else None,
                                              default_channels=default_channels)
        self.input_tensor = input_tensor
        self.input = _image_input(input_tensor, self.input_shape)

    def predictions(self, x):
        """The classifier's Dense layer, ``predictions``."""
        return layers.Dense(self.classes, activation=self.classifier_activation, name="predictions")(x)

    def pool(self, x, avg_name: str | None = None, max_name: str | None = None):
        """The ``include_top=False`` ending: the feature map, or its global average / maximum."""
        if self.pooling == "avg":
            return layers.GlobalAveragePooling2D(name=avg_name)(x)
        if self.pooling == "max":
            return layers.GlobalMaxPooling2D(name=max_name)(x)
        return x

    def dense_head(self, x, units: tuple, activation: str):
        """With the top, ``flatten``, the dense ``fc1``, ``fc2``, ... and ``predictions``; else :meth:`pool`."""
        if not self.include_top:
            return self.pool(x)
        x = layers.Flatten(name="flatten")(x)
        for i, width in enumerate(units, start=1):
            x = layers.Dense(width, activation=activation, name=f"fc{i}")(x)
        return self.predictions(x)

    def head(self, x, top_pool: str | None = "avg_pool", avg_name: str | None = None, max_name: str | None = None):
        """With the top, global average pooling (named ``top_pool``) and ``predictions``; else :meth:`pool`."""
        if self.include_top:
            return self.predictions(layers.GlobalAveragePooling2D(name=top_pool)(x))
        return self.pool(x, avg_name, max_name)

    def model(self, x, name: str) -> Model:
        """The Model from the input (or the inputs behind ``input_tensor``) to ``x``, with its weights loaded."""
        inputs = self.input if self.input_tensor is None else _source_inputs(self.input_tensor)
        model = Model(inputs, x, name=name)
        if self.weights_path is not None:
            from ..interop import load_keras_weights

            load_keras_weights(model, self.weights_path)
        return model
