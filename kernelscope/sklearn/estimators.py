"""NeuralNetClassifier and NeuralNetRegressor: kernelscope models as scikit-learn estimators."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets

from ._base import BaseNeuralNet

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]

_PARAMETERS_DOC = """
    Parameters
    ----------
    model : callable, optional
        None builds :func:`~kernelscope.sklearn.default_model` (an MLP, or a
        small CNN when ``input_shape`` is given). Otherwise a function (or
        class) returning a new ks.Model; it is called with the routed
        ``model__*`` parameters and with those of ``n_features_in_``,
        ``n_outputs_``, ``n_classes_``, ``classes_`` and ``input_shape`` its
        signature names. A model it returns compiled keeps its own optimizer,
        loss and metrics.
    input_shape : tuple of 3 int, optional
        ``(H, W, C)``: the default model views each row as an image of this shape.
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden Dense layers of the default model.
    epochs, batch_size : int, default=20, 32
    optimizer : str, ks.optimizers.Optimizer class or instance, default="adam"
    learning_rate : float, optional
        None keeps the optimizer's default (1e-3 for Adam).
    loss, metrics : optional
        As in ``Model.compile``; the default loss suits the estimator.
    validation_split : float, default=0.0
        Fraction of the rows (the last ones, as in Keras) held out each epoch.
    callbacks : list of ks.callbacks.Callback, optional
    verbose : int, default=0
    random_state : int, RandomState or None
        An integer makes weights, dropout and shuffling repeat exactly, without
        touching kernelscope's global generator.
    warm_start : bool, default=False
        ``fit`` continues training the fitted model instead of building a new one.
    shuffle : bool, default=True
    **kwargs
        Routed parameters: ``model__<arg>`` (the model builder),
        ``optimizer__<arg>`` (the optimizer) and ``fit__<arg>`` (``Model.fit``).
"""


class NeuralNetClassifier(ClassifierMixin, BaseNeuralNet):
    __doc__ = """A kernelscope network as a scikit-learn classifier.

    Labels may be any sortable values (strings, non-contiguous integers):
    they are encoded to ``0..n_classes_-1`` for the network and ``predict``
    returns the original ones.
    """ + _PARAMETERS_DOC + """    class_weight : dict, "balanced" or None
        Per-class weights multiplied into ``sample_weight``.

    Attributes
    ----------
    model_ : ks.Model
    history_ : dict of lists, the per-epoch logs of every fit
    classes_ : ndarray, n_classes_ : int, n_features_in_ : int, n_outputs_ : int
    n_iter_ : int, epochs run so far

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from kernelscope.sklearn import NeuralNetClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = NeuralNetClassifier(hidden_layer_sizes=(16,), epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    _y_numeric = False
    _multi_output = False

    def __init__(self, model=None, *, input_shape=None, hidden_layer_sizes=(100,), epochs=20, batch_size=32,
                 optimizer="adam", learning_rate=None, loss=None, metrics=None, validation_split=0.0,
                 callbacks=None, verbose=0, random_state=None, warm_start=False, shuffle=True, class_weight=None,
                 **kwargs):
        super().__init__(model, input_shape=input_shape, hidden_layer_sizes=hidden_layer_sizes, epochs=epochs,
                         batch_size=batch_size, optimizer=optimizer, learning_rate=learning_rate, loss=loss,
                         metrics=metrics, validation_split=validation_split, callbacks=callbacks, verbose=verbose,
                         random_state=random_state, warm_start=warm_start, shuffle=shuffle, **kwargs)
        self.class_weight = class_weight

    def fit(self, X, y, sample_weight=None):
        """Train for ``epochs`` epochs (a new model unless ``warm_start``); returns self."""
        return self._fit(X, y, sample_weight, reset=not self.warm_start, epochs=self.epochs)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch on ``(X, y)``; ``classes`` (all labels) is required on the first call."""
        return self._fit(X, y, sample_weight, reset=False, epochs=1, classes=classes, partial=True)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape ``(n_samples, n_classes_)``, columns in ``classes_`` order."""
        output = self._raw_predict(X).astype(np.float64)
        if output.shape[1] == 1:  # one sigmoid unit for two classes
            output = np.hstack([1.0 - output, output])
        output = np.clip(output, 0.0, None)
        return output / np.maximum(output.sum(axis=1, keepdims=True), np.finfo(np.float64).tiny)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row, as an original label."""
        index = np.argmax(self.predict_proba(X), axis=1)
        return self.classes_[index]

    # ---------------------------------------------------------------- hooks
    def _encode_targets(self, y, weights, reset: bool, classes, partial: bool):
        check_classification_targets(y)
        if reset:
            self._set_classes(y, classes, partial)
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"`classes`={np.unique(classes).tolist()} is not the same as on the first call to "
                             f"partial_fit ({self.classes_.tolist()}).")
        unseen = np.setdiff1d(y, self.classes_)
        if len(unseen):
            raise ValueError(f"`y` holds labels the estimator was not fitted with: {unseen.tolist()[:5]}. "
                             f"Known classes: {self.classes_.tolist()}.")
        if self.class_weight is not None:
            if partial and isinstance(self.class_weight, str):
                raise ValueError("class_weight='balanced' is not supported by partial_fit, which sees one batch "
                                 "at a time; pass a dict of weights computed on the whole data instead.")
            per_class = compute_sample_weight(self.class_weight, y)
            weights = per_class if weights is None else weights * per_class
        encoded = np.searchsorted(self.classes_, y)
        return encoded, weights

    def _set_classes(self, y, classes, partial: bool) -> None:
        if partial and classes is None:
            raise ValueError("`classes` must be passed on the first call to partial_fit: the labels of every "
                             "class, e.g. classes=np.unique(y_all).")
        self.classes_ = np.unique(y if classes is None else classes)
        if len(self.classes_) < 2:
            raise ValueError(f"`y` has only one class ({self.classes_.tolist()[0]!r}); a classifier needs samples of "
                             "at least 2 classes.")
        self.n_classes_ = len(self.classes_)
        self.n_outputs_ = 1

    def _meta(self) -> dict:
        return {**super()._meta(), "n_classes_": self.n_classes_, "classes_": self.classes_}

    def _output_units(self) -> int:
        return self.n_classes_

    def _output_activation(self) -> str:
        return "softmax"

    def _allowed_widths(self) -> tuple:
        return (self.n_classes_, 1) if self.n_classes_ == 2 else (self.n_classes_,)

    def _output_description(self) -> str:
        return f"{self.n_classes_} classes" + ("; or 1 sigmoid unit" if self.n_classes_ == 2 else "")

    def _default_loss(self, width: int) -> str:
        return "binary_crossentropy" if width == 1 else "sparse_categorical_crossentropy"

    def _model_targets(self, encoded, width: int):
        return encoded.astype(np.float32).reshape(-1, 1) if width == 1 else encoded


class NeuralNetRegressor(RegressorMixin, BaseNeuralNet):
    __doc__ = """A kernelscope network as a scikit-learn regressor (one or several targets).
    """ + _PARAMETERS_DOC + """
    Attributes
    ----------
    model_ : ks.Model
    history_ : dict of lists
    n_features_in_ : int, n_outputs_ : int, n_iter_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from kernelscope.sklearn import NeuralNetRegressor
    >>> X = np.linspace(-1, 1, 40).reshape(-1, 1); y = 2 * X.ravel()
    >>> NeuralNetRegressor(epochs=2, random_state=0).fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _y_numeric = True
    _multi_output = True

    def fit(self, X, y, sample_weight=None):
        """Train for ``epochs`` epochs (a new model unless ``warm_start``); returns self."""
        return self._fit(X, y, sample_weight, reset=not self.warm_start, epochs=self.epochs)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch on ``(X, y)``."""
        return self._fit(X, y, sample_weight, reset=False, epochs=1)

    def predict(self, X) -> np.ndarray:
        """Predictions as float64, shape ``(n,)`` for a 1-D ``y``, else ``(n, n_outputs_)``."""
        output = self._raw_predict(X).astype(np.float64)
        return output.ravel() if self._y_1d else output

    def _encode_targets(self, y, weights, reset: bool, classes, partial: bool):
        with np.errstate(over="ignore"):  # beyond float32's range becomes inf, which fit() refuses
            y = np.asarray(y, dtype=np.float32)
        targets = y.reshape(len(y), -1)
        if reset:
            self._y_1d = y.ndim == 1
            self.n_outputs_ = targets.shape[1]
        elif targets.shape[1] != self.n_outputs_:
            raise ValueError(f"`y` has {targets.shape[1]} target column(s) but the estimator was fitted with "
                             f"{self.n_outputs_}.")
        return targets, weights

    def _output_units(self) -> int:
        return self.n_outputs_

    def _output_activation(self):
        return None

    def _allowed_widths(self) -> tuple:
        return (self.n_outputs_,)

    def _output_description(self) -> str:
        return f"{self.n_outputs_} target(s)"

    def _default_loss(self, width: int) -> str:
        return "mean_squared_error"

    def _model_targets(self, targets, width: int):
        return targets

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
