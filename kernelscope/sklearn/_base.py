"""The shared half of the scikit-learn wrappers: parameters, routing, building and training.

Parameters follow SciKeras: keyword arguments that start with ``model__``,
``optimizer__`` or ``fit__`` are routed to the model builder, the optimizer and
``Model.fit``; they are stored as attributes and listed by ``get_params``, so
``GridSearchCV`` can tune them like any other parameter.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from ._builders import call_builder, default_model, make_optimizer, seeded

ROUTING_PREFIXES = ("model__", "optimizer__", "fit__")


class BaseNeuralNet(BaseEstimator):
    """Common code of :class:`NeuralNetClassifier` and :class:`NeuralNetRegressor`."""

    def __init__(self, model=None, *, input_shape=None, hidden_layer_sizes=(100,), epochs=20, batch_size=32,
                 optimizer="adam", learning_rate=None, loss=None, metrics=None, validation_split=0.0,
                 callbacks=None, verbose=0, random_state=None, warm_start=False, shuffle=True, **kwargs):
        self.model = model
        self.input_shape = input_shape
        self.hidden_layer_sizes = hidden_layer_sizes
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.loss = loss
        self.metrics = metrics
        self.validation_split = validation_split
        self.callbacks = callbacks
        self.verbose = verbose
        self.random_state = random_state
        self.warm_start = warm_start
        self.shuffle = shuffle
        for key, value in kwargs.items():  # routed parameters; unknown prefixes are rejected in fit
            setattr(self, key, value)

    # ------------------------------------------------------------ parameters
    def _routed_names(self) -> list:
        # attributes stored from **kwargs: neither constructor arguments, private, nor fitted (trailing "_")
        own = set(self._get_param_names())
        return [key for key in vars(self) if key not in own and not key.startswith("_") and not key.endswith("_")]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters plus the routed ``model__*`` / ``optimizer__*`` / ``fit__*`` ones."""
        params = super().get_params(deep=deep)
        params.update({key: getattr(self, key) for key in self._routed_names()})
        return params

    def set_params(self, **params):
        """Set parameters; routed keys (``model__units=...``) may be new."""
        routed = {k: v for k, v in params.items() if k.startswith(ROUTING_PREFIXES)}
        for key, value in routed.items():
            setattr(self, key, value)
        rest = {k: v for k, v in params.items() if k not in routed}
        return super().set_params(**rest) if rest else self

    def _routed(self, prefix: str) -> dict:
        return {key[len(prefix):]: getattr(self, key) for key in self._routed_names() if key.startswith(prefix)}

    def _check_params(self) -> None:
        unknown = [key for key in self._routed_names() if not key.startswith(ROUTING_PREFIXES)]
        if unknown:
            raise TypeError(f"Unknown parameter `{unknown[0]}`: routed parameters must start with one of "
                            f"{', '.join(ROUTING_PREFIXES)}.")
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}.")
        sizes = self.hidden_layer_sizes
        if not isinstance(sizes, (tuple, list)) or not all(
                isinstance(u, numbers.Integral) and not isinstance(u, bool) and u > 0 for u in sizes):
            raise ValueError("`hidden_layer_sizes` must be a tuple of positive integers (may be empty). "
                             f"Received: hidden_layer_sizes={sizes!r}.")
        state = self.random_state
        if not (state is None or isinstance(state, np.random.RandomState) or (
                isinstance(state, numbers.Integral) and not isinstance(state, bool) and state >= 0)):
            raise ValueError("`random_state` must be None, a non-negative integer or a numpy RandomState. "
                             f"Received: random_state={state!r}.")

    # ------------------------------------------------------------- building
    def _meta(self) -> dict:
        return {"n_features_in_": self.n_features_in_, "n_outputs_": self.n_outputs_,
                "input_shape": self.input_shape}

    def _build_model(self):
        from ..layers.base import Layer
        from ..models import Model

        routed = self._routed("model__")
        if self.model is None:
            model = default_model(self.n_features_in_, self._output_units(), self._output_activation(),
                                  hidden_layer_sizes=self.hidden_layer_sizes, input_shape=self.input_shape,
                                  **routed)
        elif isinstance(self.model, Layer) or not callable(self.model):
            raise TypeError("`model` must be None or a callable (function or class) that returns a new, "
                            "uncompiled ks.Model; pass the function that builds the model, not a model. "
                            f"Received: model={self.model!r}.")
        else:
            model = call_builder(self.model, routed, self._meta())
            if not isinstance(model, Model):
                raise TypeError(f"The `model` callable must return a ks.Model. Received: {type(model).__name__}.")
        return model

    def _new_model(self, X):
        """Build, probe with one row (shape errors surface before training) and compile a model."""
        model = self._build_model()
        width = self._check_output(model.predict(X[:1], verbose=0))
        if not model.compiled:  # a builder that compiles keeps its own optimizer, loss and metrics
            model.compile(optimizer=make_optimizer(self.optimizer, self.learning_rate, self._routed("optimizer__")),
                          loss=self.loss if self.loss is not None else self._default_loss(width),
                          metrics=self.metrics)
        return model, width

    # -------------------------------------------------------------- training
    def _fit(self, X, y, sample_weight, reset: bool, epochs: int, classes=None, partial: bool = False):
        self._check_params()
        reset = reset or not hasattr(self, "model_")
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float32, y_numeric=self._y_numeric,
                             multi_output=self._multi_output)
        weights = _check_sample_weight(sample_weight, len(X))
        targets, weights = self._encode_targets(y, weights, reset, classes, partial)
        step = 0 if reset else self.n_iter_
        with seeded(self.random_state, step):
            if reset:
                self.model_, self._output_width = self._new_model(X)
                self.history_ = {}
                self.n_iter_ = 0
            targets = self._model_targets(targets, self._output_width)
            options = {"batch_size": self.batch_size, "epochs": epochs, "verbose": self.verbose,
                       "validation_split": self.validation_split, "callbacks": self.callbacks,
                       "shuffle": self.shuffle, **self._routed("fit__")}
            history = self.model_.fit(X, targets, sample_weight=weights, **options)
        for key, values in history.history.items():
            self.history_.setdefault(key, []).extend(values)
        self.n_iter_ += len(history.epoch)
        return self

    def _check_output(self, output) -> int:
        if isinstance(output, (list, dict)) or output.ndim != 2 or output.shape[1] not in self._allowed_widths():
            shape = [o.shape for o in output] if isinstance(output, list) else getattr(output, "shape", output)
            raise ValueError(f"The model must have one output of shape (batch, {self._output_units()}) for this "
                             f"data ({self._output_description()}). Received: output shape {shape}.")
        return int(output.shape[1])

    def _raw_predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        return self.model_.predict(X, batch_size=max(self.batch_size, 256), verbose=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _check_sample_weight(sample_weight, n_samples: int):
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights))
    if weights.shape != (n_samples,):
        raise ValueError(f"`sample_weight` must be a 1-D array of one weight per sample ({n_samples}). "
                         f"Received: shape={weights.shape}.")
    with np.errstate(over="ignore"):  # training uses float32 weights: 1e39 would be inf there
        finite = np.isfinite(weights.astype(np.float32))
    if not np.all(finite) or np.any(weights < 0):
        raise ValueError("`sample_weight` must hold finite, non-negative weights. "
                         f"Received: min={weights.min()!r}.")
    if n_samples and not weights.any():
        raise ValueError("`sample_weight` is zero for every sample; at least one weight must be positive.")
    return weights
