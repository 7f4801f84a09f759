"""kernelscope networks as scikit-learn estimators (needs the ``sklearn`` extra).

:class:`NeuralNetClassifier` and :class:`NeuralNetRegressor` fit in pipelines,
cross-validation and grid searches. Parameters follow SciKeras:
``model__<arg>``, ``optimizer__<arg>`` and ``fit__<arg>`` are routed to the
model builder, the optimizer and ``Model.fit``, and can be tuned like any other.

>>> from sklearn.datasets import load_digits
>>> from sklearn.model_selection import cross_val_score
>>> from kernelscope.sklearn import NeuralNetClassifier
>>> X, y = load_digits(return_X_y=True)
>>> clf = NeuralNetClassifier(input_shape=(8, 8, 1), epochs=10, random_state=0)
>>> bool(cross_val_score(clf, X / 16, y, cv=3).mean() > 0.85)
True
"""

from __future__ import annotations

from .._checks import require

require("sklearn", "sklearn", "kernelscope.sklearn", note=" >= 1.6")

from ._builders import default_model
from .estimators import NeuralNetClassifier, NeuralNetRegressor
from .transfer import FeatureExtractor, OneShotClassifier

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor", "FeatureExtractor", "OneShotClassifier", "default_model"]
