"""Transfer and metric learning in scikit-learn: a network as a feature transformer, and one-shot recognition.

The lecture notes' teachable machine: "treat a whole network as a feature
transformer; use the last or second to last layer as input features to a
logistic regression". :class:`FeatureExtractor` is that transformer;
:class:`OneShotClassifier` classifies by the nearest class prototype in an
embedding space, from one (or a few) examples per class.

>>> import numpy as np, kernelscope as ks
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.pipeline import make_pipeline
>>> base = ks.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3), alpha=0.35)
>>> teachable = make_pipeline(FeatureExtractor(base), LogisticRegression())
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..similarity.distances import check_distance
from ..similarity.verification import distance_matrix, embed

__all__ = ["FeatureExtractor", "OneShotClassifier", "POOLINGS"]

POOLINGS = ("avg", "max", None)
# model-name prefix (as the application builders name their models) -> the family's preprocess_input module
_FAMILIES = (("vgg16", "vgg16"), ("vgg19", "vgg19"), ("resnet50v2", "resnet_v2"), ("resnet101v2", "resnet_v2"),
             ("resnet152v2", "resnet_v2"), ("resnet", "resnet"), ("inception_v3", "inception_v3"),
             ("xception", "xception"), ("mobilenetv2", "mobilenet_v2"), ("mobilenet", "mobilenet"),
             ("densenet", "densenet"), ("efficientnet", "efficientnet"))


def application_preprocess(model):
    """The ``preprocess_input`` of the ``ks.applications`` family ``model`` comes from (by its name), or None."""
    import importlib

    name = getattr(model, "name", "") or ""
    for prefix, module in _FAMILIES:
        if name.startswith(prefix):
            return importlib.import_module(f"kernelscope.applications.{module}").preprocess_input
    return None


class FeatureExtractor(TransformerMixin, BaseEstimator):
    """A trained network's layer output as features: pooled over space, flattened, one row per sample.

    Parameters
    ----------
    model : ks.Model
        The network (e.g. ``ks.applications.MobileNetV2(include_top=False, weights=PATH)``); never trained here.
    layer : str or int, optional
        The layer whose output is the feature vector (a name or an index into
        ``model.layers``); by default the model's output.
    pooling : {"avg", "max", None}, default="avg"
        How a feature map ``(N, H, W, C)`` becomes a vector: the mean or the
        maximum over ``H, W``, or None to flatten it whole.
    batch_size : int, default=32
    preprocess : "auto", None or callable, default="auto"
        Applied to ``X`` first. "auto" uses the ``preprocess_input`` of the
        ``ks.applications`` family the model comes from (recognised by the
        model's name: ``vgg16``, ``resnet50``, ``mobilenetv2_...``), and nothing
        for other models; None applies nothing; a callable is applied as is.

    ``fit`` builds and trains nothing: it checks the parameters, records
    ``n_features_in_`` and the output width (``n_features_out_``) and returns self.
    """

    def __init__(self, model=None, layer=None, pooling="avg", batch_size: int = 32, preprocess="auto"):
        self.model = model
        self.layer = layer
        self.pooling = pooling
        self.batch_size = batch_size
        self.preprocess = preprocess

    def fit(self, X, y=None):
        self._check_params()
        X = validate_data(self, X, reset=True, dtype=np.float32, allow_nd=True)
        self.n_features_out_ = self._features(X[:1]).shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        return self._features(validate_data(self, X, reset=False, dtype=np.float32, allow_nd=True))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "n_features_out_")
        prefix = self._target_layer().name if self.layer is not None else self.model.name
        return np.asarray([f"{prefix}_{i}" for i in range(self.n_features_out_)], dtype=object)

    def _check_params(self) -> None:
        if self.model is None or not hasattr(self.model, "predict"):
            raise ValueError(f"`model` must be a kernelscope model. Received: model={self.model!r}.")
        if self.pooling not in POOLINGS:
            raise ValueError(f"`pooling` must be one of {POOLINGS}. Received: pooling={self.pooling!r}.")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, numbers.Integral) \
                or self.batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive integer. Received: batch_size={self.batch_size!r}.")
        if not (self.preprocess in ("auto", None) or callable(self.preprocess)):
            raise ValueError('`preprocess` must be "auto", None or a callable. '
                             f"Received: preprocess={self.preprocess!r}.")
        if self.layer is not None:
            self._target_layer()

    def _target_layer(self):
        from ..explain._graph import get_layer

        return get_layer(self.model, self.layer)

    def _preprocess(self, X: np.ndarray) -> np.ndarray:
        fn = application_preprocess(self.model) if self.preprocess == "auto" else self.preprocess
        return X if fn is None else np.asarray(fn(X.copy()), dtype=np.float32)

    def _features(self, X: np.ndarray) -> np.ndarray:
        X = self._preprocess(X)
        if self.layer is None:
            out = np.asarray(self.model.predict(X, batch_size=self.batch_size, verbose=0))
        else:
            out = self._layer_output(X)
        if out.ndim == 4 and self.pooling is not None:
            out = out.mean(axis=(1, 2)) if self.pooling == "avg" else out.max(axis=(1, 2))
        return out.reshape(len(out), -1)

    def _layer_output(self, X: np.ndarray) -> np.ndarray:
        from ..autograd import Tensor, no_grad
        from ..explain._graph import evaluate, layer_output

        target = layer_output(self.model, self._target_layer())
        chunks = []
        with no_grad():
            for start in range(0, len(X), self.batch_size):
                (value,) = evaluate(self.model, Tensor(X[start:start + self.batch_size]), [target])
                chunks.append(value.data)
        return np.concatenate(chunks) if chunks else np.zeros((0,) + tuple(target.shape[1:]), np.float32)

    def __sklearn_clone__(self):
        return _clone_sharing_model(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # the network computes in float32, whatever comes in
        return tags


class OneShotClassifier(ClassifierMixin, BaseEstimator):
    """Nearest class prototype in an embedding space: learn a class from one (or a few) examples.

    Parameters
    ----------
    embedding_model : ks.Model
        A trained embedding network (e.g. with ``ks.similarity.TripletLoss``); not trained here.
    distance : {"euclidean", "squared_euclidean", "cosine"}, default="euclidean"
    batch_size : int, default=256

    ``fit(X, y)`` stores each class's mean embedding (``prototypes_``); ``predict``
    gives the class of the nearest prototype; ``decision_function`` is minus the
    distance to each class's prototype.
    """

    def __init__(self, embedding_model=None, distance: str = "euclidean", batch_size: int = 256):
        self.embedding_model = embedding_model
        self.distance = distance
        self.batch_size = batch_size

    def fit(self, X, y):
        check_distance(self.distance)
        if self.embedding_model is None or not hasattr(self.embedding_model, "predict"):
            raise ValueError("OneShotClassifier needs `embedding_model`, a trained embedding network. "
                             f"Received: embedding_model={self.embedding_model!r}.")
        X, y = validate_data(self, X, y, reset=True, dtype=np.float32, allow_nd=True)
        features = embed(self.embedding_model, X, self.batch_size)
        self.classes_ = np.unique(y)
        self.prototypes_ = np.stack([features[y == c].mean(axis=0) for c in self.classes_])
        return self

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "prototypes_")
        X = validate_data(self, X, reset=False, dtype=np.float32, allow_nd=True)
        return -distance_matrix(embed(self.embedding_model, X, self.batch_size), self.prototypes_, self.distance)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

    def __sklearn_clone__(self):
        return _clone_sharing_model(self)


def _clone_sharing_model(estimator):
    """An unfitted copy that shares the network: these estimators never change it, and a deep copy of
    an ImageNet network for every fold of a grid search would cost its size again each time."""
    return type(estimator)(**estimator.get_params(deep=False))
