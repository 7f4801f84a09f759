"""FeatureExtractor and OneShotClassifier: scikit-learn's checks, pipelines, layers, preprocessing."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

import kernelscope as ks
from kernelscope.sklearn import FeatureExtractor, OneShotClassifier


def _width_free_model():
    # ReLU over rows of any width: scikit-learn's checks feed arrays of many widths to a transformer
    return ks.Sequential([ks.Input((None,)), ks.layers.ReLU()], name="rows")


@parametrize_with_checks([FeatureExtractor(_width_free_model())])
def test_feature_extractor_passes_scikit_learns_checks(estimator, check):
    check(estimator)


def _digits_cnn():
    ks.utils.set_random_seed(0)
    model = ks.Sequential([ks.Input((8, 8, 1)), ks.layers.Conv2D(8, 3, padding="same", activation="relu",
                                                                 name="conv"),
                           ks.layers.MaxPooling2D(2, name="pool"), ks.layers.Flatten(),
                           ks.layers.Dense(10, activation="softmax", name="head")], name="digits_cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_layer_output_pooled_and_flattened():
    model = _digits_cnn()
    x = np.random.default_rng(0).uniform(size=(7, 8, 8, 1)).astype("float32")
    conv = ks.Model(model.inputs, model.get_layer("conv").output).predict(x, verbose=0)
    for pooling, expected in (("avg", conv.mean(axis=(1, 2))), ("max", conv.max(axis=(1, 2))),
                              (None, conv.reshape(7, -1))):
        features = FeatureExtractor(model, layer="conv", pooling=pooling, batch_size=3).fit_transform(x)
        np.testing.assert_allclose(features, expected, rtol=1e-6)
    extractor = FeatureExtractor(model, layer=2).fit(x)  # an index into model.layers: Flatten
    assert extractor.n_features_out_ == 4 * 4 * 8
    assert list(extractor.get_feature_names_out()[:2]) == [f"{model.layers[2].name}_0", f"{model.layers[2].name}_1"]
    np.testing.assert_allclose(FeatureExtractor(model).fit_transform(x), model.predict(x, verbose=0), rtol=1e-6)


def test_teachable_machine_pipeline_in_a_grid_search():
    (x, y), _ = ks.datasets.load_digits()
    model = _digits_cnn()
    model.fit(x[:600], y[:600], epochs=3, verbose=0)
    pipe = make_pipeline(FeatureExtractor(model, layer="pool", pooling=None), LogisticRegression(max_iter=500))
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=3).fit(x[600:900], y[600:900])
    assert search.best_estimator_.steps[0][1].model is model  # clones share the network, never copy it
    assert cross_val_score(pipe, x[600:900], y[600:900], cv=3).mean() > 0.8


def test_preprocess_auto_uses_the_applications_family():
    base = ks.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3), alpha=0.35)
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 32, 32, 3)).astype("float32")
    auto = FeatureExtractor(base).fit_transform(x)
    by_hand = FeatureExtractor(base, preprocess=ks.applications.mobilenet_v2.preprocess_input).fit_transform(x)
    raw = FeatureExtractor(base, preprocess=None).fit_transform(x)
    np.testing.assert_allclose(auto, by_hand, rtol=1e-6)
    assert np.abs(auto - raw).max() > 1e-3 * np.abs(raw).max()  # random weights: tiny values, compare relatively
    assert auto.shape == (2, 1280)


@pytest.mark.parametrize("params, match", [
    ({"model": None}, "`model` must be a kernelscope model"),
    ({"pooling": "sum"}, "`pooling` must be one of"),
    ({"batch_size": 0}, "`batch_size` must be a positive integer"),
    ({"preprocess": "caffe"}, "`preprocess` must be"),
    ({"layer": "nope"}, "Layer 'nope' not found in model 'digits_cnn'. Its layers are: conv, pool"),
])
def test_feature_extractor_errors(params, match):
    params = {"model": _digits_cnn(), **params}
    with pytest.raises(ValueError, match=match):
        FeatureExtractor(**params).fit(np.zeros((2, 8, 8, 1)))


def test_one_shot_classifier_predicts_the_nearest_prototype():
    embedding = ks.Sequential([ks.Input((2,)), ks.layers.Dense(2, use_bias=False, kernel_initializer="identity")])
    X = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [0.0, 12.0]])
    clf = OneShotClassifier(embedding).fit(X, ["a", "b", "c", "c"])
    np.testing.assert_allclose(clf.prototypes_, [[0, 0], [10, 0], [0, 11]])
    assert list(clf.predict([[1.0, 1.0], [9.0, 1.0], [0.0, 20.0]])) == ["a", "b", "c"]
    np.testing.assert_allclose(clf.decision_function([[0.0, 0.0]]), [[0.0, -10.0, -11.0]])
    with pytest.raises(ValueError, match="embedding_model"):
        OneShotClassifier().fit(X, [0, 1, 2, 2])
    with pytest.raises(ValueError, match="distance"):
        OneShotClassifier(embedding, distance="l1").fit(X, [0, 1, 2, 2])
