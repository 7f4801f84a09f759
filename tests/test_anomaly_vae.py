"""ks.anomaly.VAE / build_vae / gaussian_kl_divergence / Sampling and AutoencoderDetector(kind="variational")."""

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

import kernelscope as ks
from kernelscope.anomaly import (VAE, AutoencoderDetector, Sampling, build_vae, gaussian_kl_divergence,
                                 one_class_roc_auc, plot_vae_samples)
from kernelscope.autograd import gradcheck

from test_anomaly import all_digits


@parametrize_with_checks([AutoencoderDetector(kind="variational", epochs=20, contamination=0.1)])
def test_sklearn_outlier_detector_checks(estimator, check):
    check(estimator)


@pytest.fixture
def float64():
    ks.backend.set_floatx("float64")
    yield
    ks.backend.set_floatx("float32")


# ------------------------------------------------------------------- the KL term


def test_gaussian_kl_divergence_equals_the_closed_form_on_known_means_and_variances():
    # N(0, 1): 0. N(1, 1): 1/2 per dimension. N(0, e): (e - 1 - 1) / 2. N(2, e^-2): (4 + e^-2 - 1 + 2) / 2.
    z_mean = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    z_log_var = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, -2.0]])
    expected = [0.0, 1.0, (np.e - 2.0) / 2 + (4.0 + np.exp(-2.0) + 1.0) / 2]
    np.testing.assert_allclose(gaussian_kl_divergence(z_mean, z_log_var).numpy(), expected, rtol=1e-12, atol=1e-15)


def test_gaussian_kl_divergence_equals_torch_and_central_differences():
    rng = np.random.default_rng(0)
    z_mean, z_log_var = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    posterior = torch.distributions.Normal(torch.tensor(z_mean), torch.tensor(np.exp(0.5 * z_log_var)))
    prior = torch.distributions.Normal(torch.zeros(5, 3, dtype=torch.float64), torch.ones(5, 3, dtype=torch.float64))
    expected = torch.distributions.kl_divergence(posterior, prior).sum(-1).numpy()
    np.testing.assert_allclose(gaussian_kl_divergence(z_mean, z_log_var).numpy(), expected, rtol=1e-12)
    assert gradcheck(gaussian_kl_divergence, [z_mean, z_log_var], atol=1e-6, rtol=1e-6)


def test_the_tracked_kl_loss_is_the_closed_form_of_the_encoders_posterior():
    x = np.random.default_rng(1).normal(size=(40, 6)).astype("float32")
    vae = build_vae((6,), latent_dim=3, units=(8,), seed=0)
    vae.compile(optimizer=ks.optimizers.Adam(1e-2))
    history = vae.fit(x, epochs=3, batch_size=40, verbose=0)
    assert list(history.history) == ["loss", "reconstruction_loss", "kl_loss"]
    logs = vae.evaluate(x, batch_size=16, verbose=0, return_dict=True)  # batches of 16, 16, 8: means over samples
    z_mean, z_log_var = (np.float64(v) for v in vae.encoder.predict(x, verbose=0))
    closed_form = np.mean(-0.5 * np.sum(1 + z_log_var - z_mean ** 2 - np.exp(z_log_var), axis=1))
    assert logs["kl_loss"] == pytest.approx(closed_form, rel=1e-5)
    assert logs["loss"] == pytest.approx(logs["reconstruction_loss"] + logs["kl_loss"], rel=1e-6)
    # one batch per epoch: each epoch's loss is its reconstruction term plus its KL term
    np.testing.assert_allclose(history.history["loss"], np.add(history.history["reconstruction_loss"],
                                                               history.history["kl_loss"]), rtol=1e-6)


# ----------------------------------------------------- reparameterisation, ELBO


def test_sampling_is_the_reparameterisation_with_a_seeded_generator(float64):
    rng = np.random.default_rng(0)
    z_mean, z_log_var = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    epsilon = ks.random.normal((4, 3), dtype="float64", seed=ks.random.SeedGenerator(7)).numpy()
    layer = Sampling(seed=7)
    first = layer([z_mean, z_log_var]).numpy()
    np.testing.assert_allclose(first, z_mean + np.exp(0.5 * z_log_var) * epsilon, rtol=1e-12)
    assert not np.allclose(layer([z_mean, z_log_var]).numpy(), first)  # the generator moves on
    np.testing.assert_array_equal(Sampling(seed=7)([z_mean, z_log_var]).numpy(), first)
    # gradients reach both inputs through the draw (a fresh layer per call: the same epsilon)
    assert gradcheck(lambda m, v: Sampling(seed=7)([m, v]), [z_mean, z_log_var])
    big = Sampling(seed=1)([np.full((20000, 1), 3.0), np.full((20000, 1), np.log(4.0))]).numpy()
    assert abs(big.mean() - 3.0) < 0.05 and abs(big.std() - 2.0) < 0.05


def _torch_elbo(weights, x, epsilon, likelihood):
    """The dense VAE's loss in torch: relu encoder, two linear heads, relu decoder, linear or sigmoid output."""
    w = [torch.tensor(a, requires_grad=True) for a in weights]
    h = torch.relu(x @ w[0] + w[1])
    z_mean, z_log_var = h @ w[2] + w[3], h @ w[4] + w[5]
    z = z_mean + torch.exp(0.5 * z_log_var) * epsilon
    out = torch.relu(z @ w[6] + w[7]) @ w[8] + w[9]
    if likelihood == "bernoulli":
        out = torch.sigmoid(out)
        reconstruction = torch.nn.functional.binary_cross_entropy(out, x, reduction="none").sum(1).mean()
    else:
        reconstruction = (0.5 * (x - out) ** 2).sum(1).mean()
    kl = (-0.5 * (1 + z_log_var - z_mean ** 2 - torch.exp(z_log_var))).sum(1).mean()
    total = reconstruction + 0.5 * kl
    total.backward()
    return [v.item() for v in (total, reconstruction, kl)], [t.grad.numpy() for t in w]


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_the_elbo_and_its_gradients_equal_torch(float64, likelihood):
    x = np.random.default_rng(2).uniform(size=(6, 5))
    vae = build_vae((5,), latent_dim=2, units=(4,), likelihood=likelihood, beta=0.5, seed=11)
    epsilon = ks.random.normal((6, 2), dtype="float64", seed=ks.random.SeedGenerator(11)).numpy()
    with ks.GradientTape() as tape:
        losses = vae.compute_vae_losses(x)
    grads = tape.gradient(losses[0], vae.trainable_weights)
    expected, torch_grads = _torch_elbo(vae.get_weights(), torch.tensor(x), torch.tensor(epsilon), likelihood)
    np.testing.assert_allclose([float(v.numpy()) for v in losses], expected, rtol=1e-10)
    for ours, theirs in zip(grads, torch_grads):
        np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-8, atol=1e-12)


# --------------------------------------------------------------- the prior


@pytest.mark.parametrize("shape, architecture", [((8, 8, 1), "conv"), ((7, 5, 2), "conv"), ((8, 8, 1), "dense"),
                                                 ((6,), "dense")])
def test_prior_samples_decode_to_the_training_shape(shape, architecture):
    x = np.random.default_rng(0).uniform(size=(32, *shape)).astype("float32")
    vae = build_vae(shape, latent_dim=2, architecture=architecture, likelihood="bernoulli", seed=0)
    vae.compile(optimizer="adam")
    vae.fit(x, epochs=1, batch_size=16, verbose=0)
    samples = vae.sample(5, seed=3)
    assert samples.shape == (5, *shape) and samples.dtype == np.float32
    assert samples.min() >= 0.0 and samples.max() <= 1.0  # a Bernoulli decoder's probabilities
    np.testing.assert_array_equal(vae.sample(5, seed=3), samples)
    z = ks.random.normal((5, 2), seed=3).numpy()
    np.testing.assert_allclose(samples, vae.decoder.predict(z, verbose=0), rtol=1e-6)
    assert vae.predict(x[:3], verbose=0).shape == (3, *shape)


def test_a_subclass_naming_its_two_arguments_stays_a_subclassed_model():
    vae = build_vae((6,), latent_dim=2, seed=0)
    assert type(vae) is VAE and vae.encoder.name == "encoder" and vae.decoder.name == "decoder"
    twin = VAE.from_config(vae.get_config())
    assert type(twin) is VAE and twin.count_params() == vae.count_params() and twin.likelihood == "gaussian"


def test_save_and_load_round_trip(tmp_path):
    x = np.random.default_rng(0).normal(size=(32, 6)).astype("float32")
    vae = build_vae((6,), latent_dim=2, likelihood="gaussian", beta=0.5, seed=4)
    vae.compile(optimizer="adam")
    vae.fit(x, epochs=1, verbose=0)
    vae.save(tmp_path / "vae.keras")
    loaded = ks.models.load_model(tmp_path / "vae.keras")
    assert type(loaded) is VAE and (loaded.likelihood, loaded.beta, loaded.seed) == ("gaussian", 0.5, 4)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), vae.predict(x, verbose=0))


def test_weight_penalties_join_the_loss(float64):
    inputs = ks.Input((4,))
    hidden = ks.layers.Dense(3, kernel_regularizer=ks.regularizers.L2(0.1))(inputs)
    encoder = ks.Model(inputs, [ks.layers.Dense(2)(hidden), ks.layers.Dense(2)(hidden)])
    decoder = ks.Sequential([ks.Input((2,)), ks.layers.Dense(4)])
    vae = VAE(encoder, decoder, beta=2.0, seed=0)
    total, reconstruction, kl = vae.compute_vae_losses(np.random.default_rng(0).normal(size=(5, 4)))
    penalty = 0.1 * np.sum(encoder.layers[1].kernel.numpy() ** 2)
    assert float(total.numpy()) == pytest.approx(float(reconstruction.numpy()) + 2.0 * float(kl.numpy()) + penalty,
                                                 rel=1e-12)


def test_fit_repeats_with_a_seed_and_predict_is_the_posterior_mean():
    x = np.random.default_rng(0).normal(size=(64, 6)).astype("float32")

    def trained():
        ks.utils.set_random_seed(0)
        vae = build_vae((6,), latent_dim=2, seed=0)
        vae.compile(optimizer=ks.optimizers.Adam(1e-2))
        return vae, vae.fit(x, epochs=5, batch_size=16, verbose=0).history

    (a, history_a), (b, history_b) = trained(), trained()
    assert history_a == history_b and history_a["loss"][-1] < history_a["loss"][0]
    for weight_a, weight_b in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(weight_a, weight_b)
    z_mean, _ = a.encoder.predict(x, verbose=0)
    # float32 through two different graphs: the project's 1e-5 (BLAS kernels round GEMMs differently)
    np.testing.assert_allclose(a.predict(x, verbose=0), a.decoder.predict(z_mean, verbose=0), rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------ the detector


def test_the_seeded_vae_passes_the_one_class_digits_protocol():
    """Same protocol, split and dense architecture as the plain autoencoder's test. Measured
    (benchmarks/anomaly.py): mean 0.9733 (the convolutional VAE: 0.9821), against 0.9955 for the plain
    autoencoder and 0.9743 for IsolationForest."""
    X, y = all_digits()
    auc = one_class_roc_auc(lambda: AutoencoderDetector(kind="variational", architecture="dense", random_state=0),
                            X, y)
    assert np.mean(auc) >= 0.95


def test_the_variational_detector_scores_by_the_reconstruction_error_at_the_posterior_mean():
    images = all_digits()[0][:120]
    detector = AutoencoderDetector(kind="variational", latent_dim=2, epochs=3, random_state=0).fit(images)
    assert isinstance(detector.model_, VAE) and detector.architecture_ == "conv"
    assert set(detector.history_) == {"loss", "reconstruction_loss", "kl_loss"}
    Z = (images - detector.mean_) / detector.scale_
    z_mean, _ = detector.model_.encoder.predict(Z, verbose=0)
    rebuilt = detector.model_.decoder.predict(z_mean, verbose=0)
    np.testing.assert_allclose(detector.score_samples(images), -np.mean((rebuilt - Z) ** 2, axis=(1, 2, 3)),
                               rtol=1e-4)
    assert detector.reconstruct(images[:4]).shape == (4, 8, 8, 1)
    again = AutoencoderDetector(kind="variational", latent_dim=2, epochs=3, random_state=0).fit(images)
    np.testing.assert_array_equal(again.score_samples(images), detector.score_samples(images))


def test_a_samples_variational_score_does_not_depend_on_its_batch():
    X = np.random.default_rng(0).normal(size=(200, 7))
    detector = AutoencoderDetector(kind="variational", epochs=2, random_state=0).fit(X)
    assert detector.scoring_model_.predict(X[:2], verbose=0).dtype == np.float64
    whole = detector.score_samples(X)
    alone = np.array([detector.score_samples(X[i:i + 1])[0] for i in range(0, 200, 23)])
    np.testing.assert_allclose(alone, whole[::23], rtol=1e-12, atol=0)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("params, match", [
    ({"kind": "vae"}, r"`kind` must be one of \('plain', 'variational'\). Received: kind='vae'"),
    ({"kind": "variational", "beta": -1.0}, r"`beta` must be a non-negative number. Received: beta=-1.0"),
    ({"beta": 0.5}, r"`beta` weighs a variational autoencoder's KL term; use it with kind='variational'. "
                    r"Received: beta=0.5, kind='plain'"),
])
def test_detector_parameter_errors(params, match):
    with pytest.raises(ValueError, match=match):
        AutoencoderDetector(epochs=1, **params).fit(np.ones((10, 3)))


def test_vae_errors():
    vae = build_vae((6,), latent_dim=2, seed=0)
    with pytest.raises(TypeError, match="`encoder` must be a ks.Model or layer. Received: encoder of type str"):
        VAE("encoder", vae.decoder)
    with pytest.raises(ValueError, match=r"`likelihood` must be one of \('gaussian', 'bernoulli'\). "
                                         r"Received: likelihood='poisson'"):
        VAE(vae.encoder, vae.decoder, likelihood="poisson")
    with pytest.raises(ValueError, match=r"`beta` must be a non-negative number. Received: beta=-0.1"):
        VAE(vae.encoder, vae.decoder, beta=-0.1)
    with pytest.raises(ValueError, match=r"`n` must be a positive integer. Received: n=0"):
        vae.sample(0)
    with pytest.raises(ValueError, match=r"`z_mean` and `z_log_var` must have the same shape. "
                                         r"Received: z_mean.shape=\(2, 3\), z_log_var.shape=\(2, 2\)"):
        gaussian_kl_divergence(np.zeros((2, 3)), np.zeros((2, 2)))
    one_output = ks.Sequential([ks.Input((6,)), ks.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"The encoder must return two tensors of the same shape, "
                                         r"\[z_mean, z_log_var\]. Received: outputs of shape \(3, 2\)"):
        VAE(one_output, vae.decoder)(np.zeros((3, 6), "float32"))
    wrong_size = ks.Sequential([ks.Input((2,)), ks.layers.Dense(5)])
    with pytest.raises(ValueError, match=r"The decoder's output shape \(3, 5\) differs from the input shape \(3, 6\)"):
        VAE(vae.encoder, wrong_size).compute_vae_losses(np.zeros((3, 6), "float32"))


def test_build_vae_errors():
    with pytest.raises(ValueError, match=r"architecture='conv' needs an image shape \(height, width, channels\). "
                                         r"Received: input_shape=\(6,\)"):
        build_vae((6,), architecture="conv")
    with pytest.raises(ValueError, match=r"`architecture` must be one of \('auto', 'dense', 'conv'\). "
                                         r"Received: architecture='rnn'"):
        build_vae((6,), architecture="rnn")
    with pytest.raises(ValueError, match=r"`latent_dim` must be a positive integer. Received: latent_dim=0"):
        build_vae((6,), latent_dim=0)


def test_plot_vae_samples_figure():
    vae = build_vae((8, 8, 1), latent_dim=2, likelihood="bernoulli", seed=0)
    figure = plot_vae_samples(vae, n=10, seed=1, columns=4)
    assert len(figure.axes) == 12  # 3 rows of 4, the last two empty
    shown = figure.axes[0].get_images()[0].get_array()
    samples = vae.sample(10, seed=1)
    scaled = (samples[0, ..., 0] - samples.min()) / (samples.max() - samples.min())
    np.testing.assert_allclose(np.asarray(shown), scaled, rtol=1e-6)
    with pytest.raises(ValueError, match=r"plot_vae_samples needs a VAE of images \(height, width, channels\). "
                                         r"Received: samples of shape \(6,\)"):
        plot_vae_samples(build_vae((6,), seed=0))


def test_doctests():
    import doctest

    import kernelscope.anomaly
    import kernelscope.anomaly.vae

    for module in (kernelscope.anomaly, kernelscope.anomaly.vae):
        assert doctest.testmod(module).failed == 0
