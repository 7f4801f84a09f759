"""BatchNormalization with Keras 3's defaults and moving-statistics update."""

# N batch, H/W height/width, C channels

from __future__ import annotations

import numbers

import numpy as np

from .. import initializers, ops, regularizers
from ..autograd import Tensor
from .base import Layer
from .core import check_unsupported, mark_built, serialize_initializer, serialize_regularizer

__all__ = ["BatchNormalization"]


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
        if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
            raise ValueError(f"`axis` must be an integer. Received: axis={axis!r}.")
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
                "center": self.center, "scale": self.scale,
                "beta_initializer": serialize_initializer(self.beta_initializer),
                "gamma_initializer": serialize_initializer(self.gamma_initializer),
                "moving_mean_initializer": serialize_initializer(self.moving_mean_initializer),
                "moving_variance_initializer": serialize_initializer(self.moving_variance_initializer),
                "beta_regularizer": serialize_regularizer(self.beta_regularizer),
                "gamma_regularizer": serialize_regularizer(self.gamma_regularizer),
                "beta_constraint": None, "gamma_constraint": None, "synchronized": self.synchronized}
