"""BatchNormalization with Keras 3's defaults and moving-statistics update, and LayerNormalization."""

# N batch, H/W height/width, C channels

from __future__ import annotations

import numbers

import numpy as np

from .. import initializers, ops, regularizers
from .._runtime import workers
from ..autograd import Tensor
from .._checks import check_axis
from .base import Layer
from .core import check_unsupported, mark_built, weight_config

__all__ = ["BatchNormalization", "LayerNormalization"]


class BatchNormalization(Layer):
    """Normalize each feature (channel) to zero mean and unit variance, then scale and shift.

    Parameters
    ----------
    axis : int
        The feature axis (-1: channels last).
    momentum : float
        ``moving = moving * momentum + batch_stat * (1 - momentum)`` after each training call.
    epsilon : float
        Added to the variance before the square root.
    center, scale : bool
        Whether to learn ``beta`` (shift) and ``gamma`` (scale).

    With ``training=True`` the batch mean and (biased) variance normalize the
    input and update ``moving_mean`` / ``moving_variance``; otherwise the moving
    statistics are used. A layer with ``trainable=False`` always runs in
    inference mode, as in Keras 3. Weights: gamma, beta (trainable),
    moving_mean, moving_variance (non-trainable): 4 per feature.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center: bool = True, scale: bool = True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, synchronized: bool = False, **kwargs):
        super().__init__(**kwargs)
        check_unsupported(beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)
        check_axis(axis)
        if not isinstance(momentum, numbers.Real) or not 0.0 <= momentum <= 1.0:
            raise ValueError(f"`momentum` must be a float in [0, 1]. Received: momentum={momentum!r}.")
        if not isinstance(epsilon, numbers.Real) or epsilon <= 0:
            raise ValueError(f"`epsilon` must be a positive float. Received: epsilon={epsilon!r}.")
        self.axis, self.momentum, self.epsilon = int(axis), float(momentum), float(epsilon)
        self.center, self.scale, self.synchronized = bool(center), bool(scale), bool(synchronized)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def _feature_axis(self, shape) -> int:
        if not -len(shape) <= self.axis < len(shape):
            raise ValueError(f"Layer '{self.name}': `axis`={self.axis} is out of range for inputs of shape "
                             f"{tuple(shape)}.")
        return self.axis % len(shape)

    def build(self, input_shape) -> None:
        features = input_shape[self._feature_axis(input_shape)]
        if features is None:
            raise ValueError(f"Layer '{self.name}': the feature axis {self.axis} of the input must be known. "
                             f"Received: input_shape={tuple(input_shape)}.")
        shape = (int(features),)
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer)
        self.moving_mean = self.add_weight(shape, self.moving_mean_initializer, name="moving_mean",
                                           trainable=False)
        self.moving_variance = self.add_weight(shape, self.moving_variance_initializer,
                                               name="moving_variance", trainable=False)
        mark_built(self, input_shape)

    def _affine(self, inputs) -> tuple:
        size = self.moving_mean.shape[0]
        gamma = self.gamma if self.gamma is not None else Tensor(np.ones(size, inputs.dtype))
        beta = self.beta if self.beta is not None else Tensor(np.zeros(size, inputs.dtype))
        return gamma, beta

    def call(self, inputs, training=False):
        axis = self._feature_axis(inputs.shape)
        if inputs.shape[axis] != self.moving_mean.shape[0]:
            raise ValueError(
                f"Layer '{self.name}' expects inputs with {self.moving_mean.shape[0]} features on axis "
                f"{self.axis}. Received: input of shape {tuple(inputs.shape)}.")
        gamma, beta = self._affine(inputs)
        if training and self.trainable:
            outputs, mean, variance = ops.batch_norm_with_stats(inputs, gamma, beta, epsilon=self.epsilon,
                                                                axis=self.axis)
            if workers.worker_index() != 0:  # split over workers: every worker has the same statistics
                return outputs
            m = self.momentum
            self.moving_mean.assign(self.moving_mean.data * m + np.asarray(mean) * (1.0 - m))
            self.moving_variance.assign(self.moving_variance.data * m + np.asarray(variance) * (1.0 - m))
            return outputs
        return ops.batch_norm(inputs, gamma, beta, self.moving_mean, self.moving_variance, training=False,
                              epsilon=self.epsilon, axis=self.axis)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, **weight_config(self, "beta", "gamma"),
                **weight_config(self, "moving_mean", "moving_variance", regularized=False),
                "synchronized": self.synchronized}


class LayerNormalization(Layer):
    """Normalize each sample over ``axis`` (its own mean and variance), then scale and shift.

    Parameters
    ----------
    axis : int or list of ints
        The axes normalized together, and the shape of ``gamma``/``beta`` (-1: the features).
    epsilon : float
        Added to the variance before the square root.
    center, scale : bool
        Whether to learn ``beta`` (shift) and ``gamma`` (scale).
    rms_scaling : bool
        Keras 3's deprecated variant: ``x / sqrt(var + epsilon) * gamma``, no centring and no
        ``beta`` (Keras warns that it scales by the variance, not the root mean square).

    Unlike BatchNormalization nothing depends on the batch, so training and inference agree.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, rms_scaling: bool = False, **kwargs):
        super().__init__(**kwargs)
        check_unsupported(beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)
        axes = list(axis) if isinstance(axis, (list, tuple)) else axis
        if not all(isinstance(a, numbers.Integral) and not isinstance(a, bool)
                   for a in (axes if isinstance(axes, list) else [axes])):
            raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis'. Received: axis={axis!r}.")
        if not isinstance(epsilon, numbers.Real) or epsilon <= 0:
            raise ValueError(f"`epsilon` must be a positive float. Received: epsilon={epsilon!r}.")
        self.axis, self.epsilon = axes, float(epsilon)
        self.center, self.scale, self.rms_scaling = bool(center), bool(scale), bool(rms_scaling)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def _axes(self, ndim: int) -> list:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        if any(not -ndim <= a < ndim for a in axes):
            raise ValueError(f"Layer '{self.name}': `axis`={self.axis} is out of range for inputs of rank {ndim}.")
        normalized = sorted(a % ndim for a in axes)
        if len(set(normalized)) != len(normalized):
            raise ValueError(f"Duplicate axes are not allowed. Received: axis={self.axis}.")
        return normalized

    def build(self, input_shape) -> None:
        axes = self._axes(len(input_shape))
        shape = tuple(input_shape[d] for d in axes)
        if any(d is None for d in shape):
            raise ValueError(f"Layer '{self.name}': the normalized axes {axes} of the input must be known. "
                             f"Received: input_shape={tuple(input_shape)}.")
        self.gamma = self.beta = None
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer)
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta", regularizer=self.beta_regularizer)
        mark_built(self, input_shape)

    def call(self, inputs):
        axes = tuple(self._axes(inputs.ndim))
        broadcast = tuple(inputs.shape[d] if d in axes else 1 for d in range(inputs.ndim))
        variance = inputs.var(axis=axes, keepdims=True)
        centred = inputs if self.rms_scaling else inputs - inputs.mean(axis=axes, keepdims=True)
        outputs = centred / (variance + self.epsilon).sqrt()
        if self.gamma is not None:
            outputs = outputs * ops.reshape(self.gamma, broadcast)
        if self.beta is not None:
            outputs = outputs + ops.reshape(self.beta, broadcast)
        return outputs

    def compute_output_shape(self, input_shape):
        self._axes(len(input_shape))
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "rms_scaling": self.rms_scaling, **weight_config(self, "beta", "gamma")}


class UnitNormalization(Layer):
    """Scale each sample to unit L2 norm over ``axis``: ``x / max(||x||, 1e-12)`` (Keras 3's layer).

    Parameters
    ----------
    axis : int or list of ints, default=-1
        The axes whose joint norm becomes 1 (-1: the features), as in ``keras.ops.normalize``.

    The usual last layer of an embedding network for the triplet loss (FaceNet's ``||f(x)|| = 1``).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and all(isinstance(a, numbers.Integral) and not isinstance(a, bool)
                                                  for a in axis):
            self.axis = list(axis)
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            raise TypeError("Invalid value for `axis` argument: expected an int or a list/tuple of ints. "
                            f"Received: axis={axis!r}")

    def call(self, inputs):
        return ops.normalize(inputs, axis=tuple(self._axes(inputs.ndim)), order=2, epsilon=1e-12)

    def _axes(self, ndim: int) -> list:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        if any(not -ndim <= a < ndim for a in axes):
            raise ValueError(f"Axis {self.axis} is out of bounds for an input of rank {ndim}.")
        return axes

    def compute_output_shape(self, input_shape):
        self._axes(len(input_shape))
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
