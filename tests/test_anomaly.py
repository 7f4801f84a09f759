"""ks.anomaly.AutoencoderDetector: scikit-learn outlier-detector conventions and the one-class digits protocol."""

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

import kernelscope as ks
from kernelscope.anomaly import (AutoencoderDetector, conv_autoencoder, dense_autoencoder, one_class_roc_auc,
                                 one_class_split, plot_reconstructions)


# contamination=0.1 because check_outliers_train expects predict to flag some of the (clean, Gaussian) training
# blobs; the default "auto" threshold (a robust 3-sigma rule on log errors) rightly flags none of them there.
# "auto" is tested below.
@parametrize_with_checks([AutoencoderDetector(epochs=20, contamination=0.1)])
def test_sklearn_outlier_detector_checks(estimator, check):
    check(estimator)


def _plane(n=300, seed=0, offset=100.0):
    """Rows on a 2-D plane inside 4-D space (x0 == x1, x2 == x3), shifted far from the origin."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    return np.c_[z[:, 0], z[:, 0], z[:, 1], z[:, 1]] * 3.0 + offset


@pytest.fixture(scope="module")
def plane_detector():
    return AutoencoderDetector(latent_dim=2, epochs=60, contamination=0.1, random_state=0).fit(_plane())


def test_sign_conventions(plane_detector):
    inliers = _plane(50, seed=1)
    outliers = inliers + np.array([4.0, -4.0, 4.0, -4.0]) * 3.0  # off the plane
    scores_in, scores_out = plane_detector.score_samples(inliers), plane_detector.score_samples(outliers)
    assert scores_in.mean() > scores_out.mean() and np.median(scores_in) > scores_out.max()
    np.testing.assert_allclose(plane_detector.reconstruction_error(outliers), -scores_out)
    decision = plane_detector.decision_function(outliers)
    np.testing.assert_allclose(decision, scores_out - plane_detector.offset_)
    np.testing.assert_array_equal(plane_detector.predict(outliers), np.where(decision < 0, -1, 1))
    assert np.all(plane_detector.predict(outliers) == -1)
    assert np.mean(plane_detector.predict(inliers) == 1) > 0.7


def test_contamination_flags_that_fraction_of_the_training_data(plane_detector):
    X = _plane()
    flagged = plane_detector.predict(X) == -1
    assert abs(flagged.sum() - 30) <= 1  # 10% of 300
    labels = AutoencoderDetector(latent_dim=2, epochs=60, contamination=0.1, random_state=0).fit_predict(X)
    np.testing.assert_array_equal(labels, plane_detector.predict(X))


def test_auto_contamination_is_the_log_error_three_sigma_rule(plane_detector):
    X = _plane()
    detector = AutoencoderDetector(latent_dim=2, epochs=60, random_state=0).fit(X)
    logs = np.log(detector.reconstruction_error(X))
    median = np.median(logs)
    threshold = np.exp(median + 3 * 1.4826 * np.median(np.abs(logs - median)))
    assert detector.offset_ == pytest.approx(-threshold, rel=1e-9)
    assert np.mean(detector.predict(X) == -1) < 0.05


def test_standardisation_and_reconstruction_units(plane_detector):
    X = _plane()
    np.testing.assert_allclose(plane_detector.mean_, X.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(plane_detector.scale_, X.std(axis=0), rtol=1e-4)
    rebuilt = plane_detector.reconstruct(X[:20])
    assert rebuilt.shape == (20, 4)
    # a 2-D code reconstructs a 2-D plane well, in the original units (values near 100)
    assert np.abs(rebuilt - X[:20]).mean() < 0.3 * X.std()


def test_random_state_repeats_and_noise_trains_a_denoising_model():
    X = _plane(100)
    a = AutoencoderDetector(latent_dim=2, epochs=5, noise=0.2, random_state=3).fit(X)
    b = AutoencoderDetector(latent_dim=2, epochs=5, noise=0.2, random_state=3).fit(X)
    np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))
    assert type(a.model_.layers[0]).__name__ == "GaussianNoise" and a.model_.layers[0].stddev == 0.2
    # noise is active only in training: scoring is deterministic
    np.testing.assert_array_equal(a.score_samples(X), a.score_samples(X))


def test_images_choose_the_conv_architecture_and_per_channel_scaling():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(40, 7, 5, 2)).astype(np.float32) * np.array([1.0, 10.0], dtype=np.float32)
    detector = AutoencoderDetector(epochs=2, random_state=0).fit(images)
    assert detector.architecture_ == "conv" and detector.mean_.shape == (2,) and detector.scale_.shape == (2,)
    np.testing.assert_allclose(detector.scale_, images.reshape(-1, 2).std(axis=0), rtol=1e-4)
    assert detector.reconstruct(images[:3]).shape == (3, 7, 5, 2)  # the odd 7x5 size is cropped back
    dense = AutoencoderDetector(architecture="dense", epochs=2, random_state=0).fit(images)
    assert dense.architecture_ == "dense" and dense.reconstruct(images[:3]).shape == (3, 7, 5, 2)
    with pytest.raises(ValueError, match=r"X has samples of shape \(7, 5, 1\), but AutoencoderDetector was fitted "
                                         r"on samples of shape \(7, 5, 2\)"):
        detector.score_samples(images[:3, :, :, :1])


def test_architecture_builders_count_parameters():
    dense = dense_autoencoder((6,), units=(4,), latent_dim=2)
    assert dense.count_params() == (6 * 4 + 4) + (4 * 2 + 2) + (2 * 4 + 4) + (4 * 6 + 6)
    conv = conv_autoencoder((8, 8, 1), filters=(2,), latent_dim=3)
    # conv 3x3x1x2+2, code 32x3+3, dense 3x32+32, transpose 3x3x2x2+2, output conv 3x3x2x1+1
    assert conv.count_params() == 20 + 99 + 128 + 38 + 19


def test_plot_reconstructions_figure():
    (x_train, y_train), _ = ks.datasets.load_digits()
    detector = AutoencoderDetector(epochs=2, random_state=0).fit(x_train[:60])
    figure = plot_reconstructions(detector, x_train[:60], y_train[:60], n=4)
    assert len(figure.axes) == 16
    errors = detector.reconstruction_error(x_train[:60])
    assert figure.axes[0].get_title() == f"label {y_train[np.argmin(errors)]}\nerror {errors.min():.3f}"
    with pytest.raises(ValueError, match=r"`images` must have shape \(n, height, width, channels\)"):
        plot_reconstructions(detector, x_train[:5, :, :, 0])


def test_one_class_digits_protocol_beats_isolation_forest():
    """Each digit in turn is normal: train on half of its images, score the other half plus the other digits'
    held-out halves (normal = positive class). Measured: autoencoder mean 0.9955, IsolationForest 0.9743."""
    X, y = all_digits()
    ae_auc = one_class_roc_auc(lambda: AutoencoderDetector(architecture="dense", random_state=0), X, y)
    forest_auc = one_class_roc_auc(flat_isolation_forest, X, y)
    assert np.mean(ae_auc) >= 0.98
    assert np.mean(ae_auc) > np.mean(forest_auc)


def all_digits():
    (x_a, y_a), (x_b, y_b) = ks.datasets.load_digits()
    return np.concatenate([x_a, x_b]), np.concatenate([y_a, y_b])


def flat_isolation_forest():
    return make_pipeline(FunctionTransformer(lambda a: a.reshape(len(a), -1)), IsolationForest(random_state=0))


def test_one_class_split_takes_half_of_each_class_and_matches_a_direct_auc():
    X, y = all_digits()
    first_half = one_class_split(y)
    for digit in range(10):
        assert np.sum(first_half & (y == digit)) == np.sum(y == digit) // 2
    forest = IsolationForest(random_state=0).fit(X[first_half & (y == 3)].reshape(-1, 64))
    direct = roc_auc_score(y[~first_half] == 3, forest.score_samples(X[~first_half].reshape(-1, 64)))
    assert one_class_roc_auc(flat_isolation_forest, X, y)[3] == pytest.approx(direct, abs=1e-12)


# ------------------------------------------------------------------- errors


@pytest.mark.parametrize("params, match", [
    ({"architecture": "cnn"}, r"`architecture` must be one of \('auto', 'dense', 'conv'\). Received: architecture="),
    ({"encoder_units": ()}, r"`encoder_units` must be None or a non-empty tuple of positive integers"),
    ({"latent_dim": 0}, r"`latent_dim` must be a positive integer. Received: latent_dim=0"),
    ({"learning_rate": -1.0}, r"`learning_rate` must be a positive number. Received: learning_rate=-1.0"),
    ({"noise": 2.0}, r"`noise` must be a number in \[0, 1\]"),
    ({"contamination": 0.6}, r"`contamination` must be 'auto' or a float in \(0, 0.5\]. Received: contamination=0.6"),
])
def test_parameter_errors(params, match):
    with pytest.raises(ValueError, match=match):
        AutoencoderDetector(epochs=1, **params).fit(_plane(20))


def test_data_errors():
    with pytest.raises(ValueError, match=r"architecture='conv' needs images of shape \(n_samples, height, width, "
                                         r"channels\). Received: X of shape \(20, 4\)"):
        AutoencoderDetector(architecture="conv", epochs=1).fit(_plane(20))
    with pytest.raises(ValueError, match=r"X must be rows of shape \(n_samples, n_features\) or images of shape "
                                         r"\(n_samples, height, width, channels\). Received: shape=\(20, 4, 3\)"):
        AutoencoderDetector(epochs=1).fit(np.ones((20, 4, 3)))


@pytest.mark.parametrize("images", [False, True])
def test_a_samples_score_does_not_depend_on_its_batch(images):
    # float32 GEMM rows can change by ~1e-7 with the rows around them (OpenBLAS's Haswell kernels do), which made
    # scikit-learn's sample-order/subset invariance checks fail there; scores are computed in float64, where any
    # such difference is ~1e-16, far below the 1e-12 asked here.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6, 6, 1)) if images else rng.normal(size=(300, 7))
    detector = AutoencoderDetector(epochs=2, random_state=0).fit(X)
    assert detector.scoring_model_.predict(X[:2], verbose=0).dtype == np.float64
    whole = detector.score_samples(X)
    alone = np.array([detector.score_samples(X[i:i + 1])[0] for i in range(0, 300, 37)])
    np.testing.assert_allclose(alone, whole[::37], rtol=1e-12, atol=0)
    order = rng.permutation(300)
    np.testing.assert_allclose(detector.score_samples(X[order]), whole[order], rtol=1e-12, atol=0)
