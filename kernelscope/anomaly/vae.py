"""A variational autoencoder (Kingma & Welling, 2014), trained on the ELBO through ``train_step``.

The encoder maps ``x`` to the mean and log-variance of a Gaussian posterior
``q(z | x) = N(z_mean, exp(z_log_var))``; :class:`Sampling` draws
``z = z_mean + exp(z_log_var / 2) * epsilon`` (the reparameterisation trick, so
gradients flow through the draw); the decoder maps ``z`` back to ``x``. Training
minimises minus the evidence lower bound, per sample averaged over the batch:

    loss = reconstruction_loss + beta * kl_loss
    reconstruction_loss = -log p(x | z)   (up to a constant)
    kl_loss = KL(q(z | x) || N(0, I)) = -1/2 sum(1 + z_log_var - z_mean**2 - exp(z_log_var))

``likelihood="gaussian"`` (unit variance) gives ``1/2 * sum((x - x_hat)**2)``
for real-valued data; ``"bernoulli"`` gives the summed binary cross-entropy
for data in [0, 1] with a sigmoid decoder (keras-io's VAE example).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd import Tensor, as_tensor
from ..layers.base import Layer
from ..models.model import Model

__all__ = ["VAE", "Sampling", "build_vae", "gaussian_kl_divergence", "LIKELIHOODS"]

LIKELIHOODS = ("gaussian", "bernoulli")


def gaussian_kl_divergence(z_mean, z_log_var) -> Tensor:
    """KL divergence of ``N(z_mean, exp(z_log_var))`` from ``N(0, I)``, one value per sample (differentiable).

    Parameters
    ----------
    z_mean, z_log_var : Tensor or array of shape (batch, latent_dim)

    Returns
    -------
    Tensor of shape (batch,): ``-1/2 * sum(1 + z_log_var - z_mean**2 - exp(z_log_var), axis=-1)``.
    """
    z_mean, z_log_var = as_tensor(z_mean), as_tensor(z_log_var)
    if z_mean.shape != z_log_var.shape:
        raise ValueError("`z_mean` and `z_log_var` must have the same shape. "
                         f"Received: z_mean.shape={z_mean.shape}, z_log_var.shape={z_log_var.shape}.")
    return -0.5 * (1.0 + z_log_var - z_mean * z_mean - z_log_var.exp()).sum(axis=-1)


class Sampling(Layer):
    """Draw ``z = z_mean + exp(z_log_var / 2) * epsilon`` with ``epsilon ~ N(0, I)`` from a seeded generator.

    Called on ``[z_mean, z_log_var]``; it samples in training and inference
    alike (as keras-io's ``Sampling``). ``seed`` (int or None) starts its
    ``ks.random.SeedGenerator``, which advances at every call.
    """

    def __init__(self, seed=None, **kwargs):
        from ..random import SeedGenerator

        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = SeedGenerator(seed)

    def call(self, inputs):
        from ..random import normal

        z_mean, z_log_var = inputs
        epsilon = normal(tuple(z_mean.shape), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + (0.5 * z_log_var).exp() * epsilon

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


class VAE(Model):
    """A variational autoencoder from an ``encoder`` (``x -> [z_mean, z_log_var]``) and a ``decoder`` (``z -> x``).

    ``fit(x)`` minimises ``reconstruction_loss + beta * kl_loss`` (see the module
    docstring); the logs hold ``loss``, ``reconstruction_loss`` and ``kl_loss``,
    and ``evaluate`` reports the same three. Calling the model returns the
    reconstruction of a sampled ``z`` in training and of ``z_mean`` otherwise, so
    ``predict`` is deterministic.

    Parameters
    ----------
    encoder : ks.Model with two outputs of shape (batch, latent_dim)
    decoder : ks.Model
        Outputs the reconstruction (its mean for "gaussian", probabilities for "bernoulli").
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
    beta : float >= 0, default=1.0
        Weight of the KL term (1 is the ELBO; beta-VAE otherwise).
    seed : int or None
        Seed of the reparameterisation's generator.
    """

    def __init__(self, encoder, decoder, likelihood: str = "gaussian", beta: float = 1.0, seed=None, **kwargs):
        from ..metrics import Mean

        super().__init__(**kwargs)
        for name, part in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(part, Layer):
                raise TypeError(f"`{name}` must be a ks.Model or layer. Received: {name} of type "
                                f"{type(part).__name__}.")
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"`likelihood` must be one of {LIKELIHOODS}. Received: likelihood={likelihood!r}.")
        if not isinstance(beta, numbers.Real) or isinstance(beta, bool) or not beta >= 0:
            raise ValueError(f"`beta` must be a non-negative number. Received: beta={beta!r}.")
        self.encoder, self.decoder = encoder, decoder
        self.likelihood, self.beta, self.seed = likelihood, float(beta), seed
        self.sampling = Sampling(seed, name="sampling")
        self.total_loss_tracker = Mean(name="loss")
        self.reconstruction_loss_tracker = Mean(name="reconstruction_loss")
        self.kl_loss_tracker = Mean(name="kl_loss")
        self.built = bool(encoder.built and decoder.built)  # all weights exist: summary() and saving work at once

    @property
    def metrics(self) -> list:
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def encode(self, x, training: bool = False) -> tuple:
        """``(z_mean, z_log_var)`` of the posterior of each sample of ``x``."""
        outputs = self.encoder(x, training=training)
        if not isinstance(outputs, (list, tuple)) or len(outputs) != 2 or outputs[0].shape != outputs[1].shape:
            shapes = [tuple(o.shape) for o in outputs] if isinstance(outputs, (list, tuple)) else tuple(outputs.shape)
            raise ValueError("The encoder must return two tensors of the same shape, [z_mean, z_log_var]. "
                             f"Received: outputs of shape {shapes}.")
        return outputs[0], outputs[1]

    def call(self, inputs, training=None):
        z_mean, z_log_var = self.encode(inputs, training=bool(training))
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        return self.decoder(z, training=bool(training))

    def compute_vae_losses(self, x, training: bool = True) -> tuple:
        """``(loss, reconstruction_loss, kl_loss)`` on one batch, each a batch mean of per-sample values."""
        x = as_tensor(x)
        z_mean, z_log_var = self.encode(x, training=training)
        reconstruction = self.decoder(self.sampling([z_mean, z_log_var]), training=training)
        if tuple(reconstruction.shape) != tuple(x.shape):
            raise ValueError(f"The decoder's output shape {tuple(reconstruction.shape)} differs from the input "
                             f"shape {tuple(x.shape)}; a VAE reconstructs its input.")
        reconstruction_loss = self.reconstruction_log_loss(x, reconstruction).mean()
        kl_loss = gaussian_kl_divergence(z_mean, z_log_var).mean()
        total = reconstruction_loss + self.beta * kl_loss
        for penalty in self.losses:  # weight regularizers of the encoder or decoder
            total = total + penalty.sum()
        return total, reconstruction_loss, kl_loss

    def reconstruction_log_loss(self, x, reconstruction) -> Tensor:
        """``-log p(x | reconstruction)`` per sample, without the constant: see ``likelihood``."""
        from ..losses import binary_crossentropy

        flat_x, flat_r = as_tensor(x).reshape(len(x), -1), as_tensor(reconstruction).reshape(len(x), -1)
        if self.likelihood == "bernoulli":
            return binary_crossentropy(flat_x, flat_r) * flat_x.shape[1]  # the mean over features, as a sum
        difference = flat_x - flat_r
        return 0.5 * (difference * difference).sum(axis=-1)

    def train_step(self, data) -> dict:
        """One Adam (or other) step on minus the ELBO of the batch ``x``; any ``y`` is ignored."""
        from ..gradient_tape import GradientTape
        from ..models.epoch_iterator import unpack_x_y_sample_weight

        x, _, _ = unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            total, reconstruction_loss, kl_loss = self.compute_vae_losses(x, training=True)
        variables = self.trainable_weights
        self.optimizer.apply(tape.gradient(total, variables), variables)
        return self._track(len(x), total, reconstruction_loss, kl_loss)

    def test_step(self, data) -> dict:
        """The three losses on one batch, without training (the reparameterised draw still samples)."""
        from ..models.epoch_iterator import unpack_x_y_sample_weight

        x, _, _ = unpack_x_y_sample_weight(data)
        return self._track(len(x), *self.compute_vae_losses(x, training=False))

    def _track(self, batch_size: int, total, reconstruction_loss, kl_loss) -> dict:
        # weighted by the batch size, as Keras's own loss tracker: an epoch's logs are means over samples
        self.total_loss_tracker.update_state(total, sample_weight=batch_size)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss, sample_weight=batch_size)
        self.kl_loss_tracker.update_state(kl_loss, sample_weight=batch_size)
        return {m.name: m.result() for m in self.metrics}

    def sample(self, n: int, seed=None) -> np.ndarray:
        """Decode ``n`` draws from the prior ``N(0, I)``: new samples shaped like the training data.

        ``seed`` is an int, a ``ks.random.SeedGenerator`` or None (kernelscope's root generator).
        """
        from ..random import normal

        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise ValueError(f"`n` must be a positive integer. Received: n={n!r}.")
        latent_dim = int(self.decoder.input.shape[-1])
        z = normal((int(n), latent_dim), dtype=self.decoder.dtype, seed=seed)
        return self.decoder.predict(z.numpy(), verbose=0)

    def get_config(self) -> dict:
        from ..saving.serialization import serialize_layer

        return {"name": self.name, "encoder": serialize_layer(self.encoder), "decoder": serialize_layer(self.decoder),
                "likelihood": self.likelihood, "beta": self.beta, "seed": self.seed}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> "VAE":
        from ..saving.serialization import deserialize_layer

        config = dict(config)
        for part in ("encoder", "decoder"):
            config[part] = deserialize_layer(config[part], custom_objects)
        return cls(**config)


def build_vae(input_shape: tuple, latent_dim: int = 2, architecture: str = "auto", units=None,
              likelihood: str = "gaussian", beta: float = 1.0, noise: float = 0.0, seed=None) -> VAE:
    """A dense or convolutional VAE for rows ``(features,)`` or images ``(H, W, C)``.

    The encoder is :func:`~kernelscope.anomaly.architectures.encoder_layers`'
    stack followed by two linear heads ``z_mean`` and ``z_log_var``; the decoder
    mirrors it, ending linear ("gaussian") or with a sigmoid ("bernoulli").

    Parameters
    ----------
    input_shape : tuple
    latent_dim : int, default=2
    architecture : {"auto", "dense", "conv"}
        "auto" is "conv" for images and "dense" for rows.
    units : tuple of int, optional
        Dense units (default ``(64, 32)``) or conv filters (default ``(8, 16)``).
    likelihood, beta, seed : see :class:`VAE`
    noise : float, default=0.0
        Gaussian noise on the encoder's input in training (a denoising VAE).

    Examples
    --------
    >>> import kernelscope as ks
    >>> vae = ks.anomaly.build_vae((8, 8, 1), latent_dim=2, seed=0)
    >>> vae.sample(3, seed=0).shape
    (3, 8, 8, 1)
    """
    from .. import layers, models

    shape = tuple(int(d) for d in input_shape)
    if not isinstance(latent_dim, numbers.Integral) or isinstance(latent_dim, bool) or latent_dim < 1:
        raise ValueError(f"`latent_dim` must be a positive integer. Received: latent_dim={latent_dim!r}.")
    if architecture not in ("auto", "dense", "conv"):
        raise ValueError(f"`architecture` must be one of ('auto', 'dense', 'conv'). "
                         f"Received: architecture={architecture!r}.")
    if architecture == "auto":
        architecture = "conv" if len(shape) == 3 else "dense"
    if architecture == "conv" and len(shape) != 3:
        raise ValueError(f"architecture='conv' needs an image shape (height, width, channels). "
                         f"Received: input_shape={tuple(input_shape)}.")
    units = tuple(units or ((8, 16) if architecture == "conv" else (64, 32)))
    from .architectures import decoder_layers, encoder_layers

    inputs = layers.Input(shape)
    hidden = inputs
    for layer in encoder_layers(shape, architecture, units, noise):
        hidden = layer(hidden)
    encoder = models.Model(inputs, [layers.Dense(latent_dim, name="z_mean")(hidden),
                                    layers.Dense(latent_dim, name="z_log_var")(hidden)], name="encoder")
    activation = "sigmoid" if likelihood == "bernoulli" else None
    decoder = models.Sequential([layers.Input((latent_dim,)),
                                 *decoder_layers(shape, architecture, units, activation)], name="decoder")
    return VAE(encoder, decoder, likelihood=likelihood, beta=beta, seed=seed, name="vae")
