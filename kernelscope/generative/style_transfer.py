"""Neural style transfer: optimise an image so that a pretrained CNN sees the content of one
picture in the style of another (Gatys et al., 2015; keras-io's ``neural_style_transfer``).

The feature extractor is a functional ``ks.Model(model.inputs, [layer outputs])``; the
generated image is a ``ks.Variable`` in the network's input space (after
``preprocess_input``), differentiated with ``ks.GradientTape`` and updated with an
optimizer's ``apply``, exactly as keras-io's training loop does. The content and style
targets are constant, so their features are computed once, not at every step.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import warnings

import numpy as np

from .. import optimizers
from ..autograd import no_grad
from ..gradient_tape import GradientTape
from ..layers.pixel_preprocessing import PREPROCESS_MODES
from ..variables import Variable
from .images import check_image, deprocess_image
from .losses import content_loss, style_loss, total_variation_loss

__all__ = ["StyleTransfer", "CONTENT_LAYER", "STYLE_LAYERS"]

CONTENT_LAYER = "block5_conv2"
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")


class StyleTransfer:
    """Generate an image with the content of ``content`` and the style of ``style``.

    Parameters
    ----------
    content, style : array_like
        RGB images ``(H, W, C)`` or ``(1, H, W, C)``, pixel values in [0, 255], with the
        same channels. ``style`` is resized (bilinearly) to the content's size, as keras-io
        loads both at one size.
    model : ks.Model, optional
        The pretrained network, with layers named ``content_layer`` and ``style_layers``.
        By default ``ks.applications.VGG19(include_top=False, weights=weights)``.
    content_layer : str
        The layer whose features the generated image keeps from ``content``.
    style_layers : sequence of str
        The layers whose Gram matrices it takes from ``style``.
    content_weight, style_weight, total_variation_weight : float
        keras-io's weights of the three losses (tuned for VGG19 on 400-pixel-high images).
        The style weight is shared equally by the style layers.
    weights : str, optional
        The Keras weight file of the default VGG19 (``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5``).
    preprocess_mode : {"caffe", "tf", "torch", None}
        How ``model`` expects its input (``preprocess_input``'s ``mode``; VGG's is "caffe");
        None for a model that reads pixels 0..255 as they are.

    Attributes
    ----------
    combination_image : ks.Variable
        The image being optimised, ``(1, H, W, C)`` in the model's input space.
    feature_extractor : ks.Model
        ``model``'s inputs to the outputs of the content and style layers.
    history : list of dict
        Per step: ``loss``, ``content_loss``, ``style_loss``, ``total_variation_loss`` (weighted),
        computed before that step's update.

    Examples
    --------
    >>> import numpy as np, kernelscope as ks
    >>> rng = np.random.default_rng(0)
    >>> content, style = rng.uniform(0, 255, (2, 16, 16, 3))
    >>> transfer = ks.generative.StyleTransfer(content, style, model=ks.generative.small_vgg())
    >>> images = list(transfer.run(steps=2, progress=False))
    >>> images[-1].shape, images[-1].dtype
    ((16, 16, 3), dtype('uint8'))
    """

    def __init__(self, content, style, model=None, content_layer: str = CONTENT_LAYER,
                 style_layers=STYLE_LAYERS, content_weight: float = 2.5e-8, style_weight: float = 1e-6,
                 total_variation_weight: float = 1e-6, weights=None, preprocess_mode: str | None = "caffe"):
        content_batch, style_batch = check_image(content, "content"), check_image(style, "style")
        if style_batch.shape[-1] != content_batch.shape[-1]:
            raise ValueError("`content` and `style` must have the same number of channels. Received: content of "
                             f"shape {np.shape(content)}, style of shape {np.shape(style)}.")
        if preprocess_mode is not None and preprocess_mode not in PREPROCESS_MODES:
            raise ValueError(f"`preprocess_mode` must be one of {list(PREPROCESS_MODES)} or None. "
                             f"Received: preprocess_mode={preprocess_mode!r}.")
        self.content_layer = _layer_name(content_layer, "content_layer")
        self.style_layers = _style_layers(style_layers)
        self.content_weight = _weight(content_weight, "content_weight")
        self.style_weight = _weight(style_weight, "style_weight")
        self.total_variation_weight = _weight(total_variation_weight, "total_variation_weight")
        self.preprocess_mode = preprocess_mode
        self.model = _default_model(model, weights)
        self.feature_extractor = _feature_extractor(self.model, self.content_layer, self.style_layers)
        _check_input(self.feature_extractor, content_batch.shape)
        self._shape = np.shape(content)
        self._targets(content_batch, _resized(style_batch, content_batch.shape[1:3]))
        self.combination_image = Variable(self._preprocess(content_batch), name="combination_image")
        self.history: list = []

    @property
    def image(self) -> np.ndarray:
        """The generated image now: uint8 pixels, the shape of ``content``."""
        return deprocess_image(self.combination_image.numpy(), self.preprocess_mode).reshape(self._shape)

    def run(self, steps: int, optimizer=None, callback=None, progress: bool = True, every: int = 1):
        """Optimise the image for ``steps`` gradient steps, yielding it as it goes.

        Parameters
        ----------
        steps : int
            Number of updates (at least 1). Calling ``run`` again continues from the current image.
        optimizer : ks.optimizers.Optimizer, str or dict, optional
            By default keras-io's: SGD with ``ExponentialDecay(100.0, decay_steps=100, decay_rate=0.96)``.
        callback : callable, optional
            Called after every step as ``callback(step, image, logs)`` (``logs`` as in ``history``).
        progress : bool
            Show a progress bar (a summary line when not in a terminal).
        every : int
            Yield the image every ``every`` steps, and after the last one.

        Returns
        -------
        A generator of uint8 images with the content's shape; nothing runs until it is iterated.
        """
        steps, every = _positive_int(steps, "steps"), _positive_int(every, "every")
        if optimizer is None:
            schedule = optimizers.schedules.ExponentialDecay(100.0, decay_steps=100, decay_rate=0.96)
            optimizer = optimizers.SGD(learning_rate=schedule)
        optimizer = optimizers.get(optimizer)
        if callback is not None and not callable(callback):
            raise TypeError(f"`callback` must be callable as callback(step, image, logs). Received: {callback!r}.")
        return self._iterate(steps, optimizer, callback, bool(progress), every)

    def _iterate(self, steps: int, optimizer, callback, progress: bool, every: int):
        from ..models.progress import Progress

        bar = Progress(1 if progress else 0, epochs=1, steps=steps)
        bar.epoch_begin(0)
        try:
            for step in range(1, steps + 1):
                logs = self._step(optimizer)
                self.history.append(logs)
                bar.batch_end(logs)
                wanted = step % every == 0 or step == steps
                if callback is not None or wanted:
                    image = self.image
                    if callback is not None:
                        callback(step, image, logs)
                    if wanted:
                        yield image
            bar.epoch_end(0, logs)
        finally:
            bar.close()

    def _step(self, optimizer) -> dict:
        # a diverging run is reported once, below, not as NumPy overflow warnings from every layer
        with np.errstate(over="ignore", invalid="ignore"), _frozen(self.feature_extractor.weights):
            with GradientTape() as tape:
                losses = self._losses(self.combination_image)
            grads = tape.gradient(losses["loss"], [self.combination_image])
        logs = {name: float(value.numpy()) for name, value in losses.items()}
        if not math.isfinite(logs["loss"]):
            raise FloatingPointError(f"The style transfer loss became {logs['loss']} at step {len(self.history) + 1}"
                                     "; lower the optimizer's learning rate.")
        optimizer.apply(grads, [self.combination_image])
        return logs

    def _losses(self, image) -> dict:
        """keras-io's ``compute_loss``: weighted content, style and total variation losses."""
        features = self._features(image)
        content = self.content_weight * content_loss(self._content_target, features[self.content_layer])
        _, height, width, channels = image.shape
        style = 0.0
        for name in self.style_layers:
            # keras-io normalises by the image's channels and pixels, not the layer's
            style = style + style_loss(self._style_targets[name], features[name], channels, height * width)
        style = style * (self.style_weight / len(self.style_layers))
        variation = self.total_variation_weight * total_variation_loss(image)
        return {"loss": content + style + variation, "content_loss": content, "style_loss": style,
                "total_variation_loss": variation}

    def _features(self, x) -> dict:
        outputs = self.feature_extractor(x, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return dict(zip(_unique(self.content_layer, self.style_layers), outputs))

    def _targets(self, content, style) -> None:
        with no_grad():
            self._content_target = self._features(self._preprocess(content))[self.content_layer].numpy()
            features = self._features(self._preprocess(style))
            self._style_targets = {name: features[name].numpy() for name in self.style_layers}

    def _preprocess(self, pixels: np.ndarray) -> np.ndarray:
        from ..applications.imagenet_utils import preprocess_input

        return pixels if self.preprocess_mode is None else preprocess_input(pixels, mode=self.preprocess_mode)


# ------------------------------------------------------------------ checks and helpers
def _unique(content_layer: str, style_layers: tuple) -> list:
    return list(dict.fromkeys((content_layer, *style_layers)))


def _default_model(model, weights):
    from ..models.model import Model

    if model is None:
        from ..applications import VGG19

        if weights is None:
            warnings.warn("StyleTransfer without `model` or `weights` uses a VGG19 with random weights; pass "
                          "weights='vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5' for real results.",
                          stacklevel=3)
        return VGG19(include_top=False, weights=weights)
    if weights is not None:
        raise ValueError("`weights` is the weight file of the default VGG19; load weights into your own model "
                         f"instead. Received: model={getattr(model, 'name', model)!r} and weights={weights!r}.")
    if not isinstance(model, Model):
        raise TypeError(f"`model` must be a ks.Model (for example ks.applications.VGG19(include_top=False)). "
                        f"Received: model of type {type(model).__name__}.")
    return model


def _feature_extractor(model, content_layer: str, style_layers: tuple):
    from ..models.model import Model

    names = [layer.name for layer in model.layers]
    missing = [name for name in _unique(content_layer, style_layers) if name not in names]
    if missing:
        raise ValueError(f"Model '{model.name}' has no layer named {', '.join(map(repr, missing))} "
                         f"(content_layer={content_layer!r}, style_layers={list(style_layers)}). "
                         f"Its layers are: {', '.join(names)}.")
    outputs = [model.get_layer(name).output for name in _unique(content_layer, style_layers)]
    return Model(model.inputs, outputs, name=f"{model.name}_features")


def _check_input(extractor, shape: tuple) -> None:
    if len(extractor.inputs) != 1:
        raise ValueError(f"`model` must have one image input. Received: a model with {len(extractor.inputs)} "
                         "inputs.")
    expected = tuple(extractor.inputs[0].shape)
    if len(expected) != 4 or any(e is not None and e != s for e, s in zip(expected[1:], shape[1:])):
        raise ValueError(f"`model` reads inputs of shape {expected}, which the content image does not fit. "
                         f"Received: content of shape {shape[1:]} (build the model with "
                         "input_shape=(None, None, channels) to take any size).")


def _resized(style: np.ndarray, size: tuple) -> np.ndarray:
    from ..ops.image import resize

    if style.shape[1:3] == tuple(size):
        return style
    return np.clip(resize(style, size, interpolation="bilinear").numpy(), 0, 255)


@contextlib.contextmanager
def _frozen(weights: list):
    """No weight gradients while the image is optimised: the backward pass skips them."""
    flags = [w.requires_grad for w in weights]
    for w in weights:
        w.requires_grad = False
    try:
        yield
    finally:
        for w, flag in zip(weights, flags):
            w.requires_grad = flag


def _layer_name(value, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"`{name}` must be a layer name (a non-empty string). Received: {name}={value!r}.")
    return value


def _style_layers(value) -> tuple:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise TypeError("`style_layers` must be a list of layer names, e.g. ['block1_conv1', 'block2_conv1']. "
                        f"Received: style_layers={value!r}.")
    layers = tuple(_layer_name(v, "style_layers") for v in value)
    if not layers:
        raise ValueError("`style_layers` must name at least one layer. Received: style_layers=[].")
    return layers


def _weight(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"`{name}` must be a finite number >= 0. Received: {name}={value!r}.")
    return float(value)


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}.")
    return int(value)
