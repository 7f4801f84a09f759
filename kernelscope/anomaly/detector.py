"""AutoencoderDetector: flag what an autoencoder trained on normal data reconstructs badly."""

from __future__ import annotations

import numbers

import numpy as np

try:
    from sklearn.base import BaseEstimator, OutlierMixin
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError('kernelscope.anomaly needs scikit-learn >= 1.6: pip install "kernelscope[sklearn]"') from error

from ..sklearn._builders import seeded
from .architectures import conv_autoencoder, dense_autoencoder
from .vae import build_vae

__all__ = ["AutoencoderDetector"]

ARCHITECTURES = ("auto", "dense", "conv")
KINDS = ("plain", "variational")
_MAD_TO_STD = 1.4826  # MAD * 1.4826 estimates the standard deviation of normally distributed values
_AUTO_K = 3.0
_MIN_ERROR = 1e-12  # floor before taking logs: a perfect reconstruction has error 0


class AutoencoderDetector(OutlierMixin, BaseEstimator):
    """Flag samples an autoencoder (plain or variational) trained on normal data reconstructs badly.

    Both kinds score a sample by its reconstruction error (mean squared, in
    standardised units); the variational autoencoder reconstructs from the
    posterior mean ``z_mean``, so scores are deterministic.

    Parameters
    ----------
    architecture : {"auto", "dense", "conv"}, default="auto"
        "auto" builds a convolutional autoencoder for images ``(n, H, W, C)``
        and a dense one for rows ``(n, features)``; "dense" also works on
        images (flattened inside the model); "conv" needs images.
    encoder_units : tuple of int, optional
        Units of the dense encoder layers (default ``(64, 32)``) or filters of
        the convolutional ones (default ``(8, 16)``, each a 3x3 convolution of
        stride 2); the decoder mirrors them.
    latent_dim : int, default=8
        Size of the bottleneck (the code of each sample).
    epochs, batch_size : int, default=100, 32
    learning_rate : float, default=1e-3
        Adam's learning rate.
    noise : float in [0, 1], default=0.0
        Standard deviation of Gaussian noise added to the (standardised)
        inputs during training only: a denoising autoencoder.
    contamination : "auto" or float in (0, 0.5], default="auto"
        A float sets ``offset_`` at that percentile of the training scores, so
        that fraction of the training samples is flagged. "auto" uses a robust
        three-sigma rule on the logarithms of the training errors (positive,
        right-skewed values): a sample is an outlier when its reconstruction
        error exceeds ``exp(median + 3 * 1.4826 * MAD)`` of the log errors,
        whatever fraction of the training data that flags. It aims at few
        false alarms: an autoencoder reconstructs its training samples better
        than new normal ones, so a threshold set at a training percentile flags
        more new normal samples than that percentile (on the 8x8 digits, one
        digit normal: about 5% of held-out normal digits and 97% of other
        digits flagged with the dense autoencoder).
    random_state : int, RandomState or None
        An integer makes the weights, the noise and the shuffling repeat exactly.
    verbose : int, default=0
    kind : {"plain", "variational"}, default="plain"
        "plain" trains an autoencoder on the mean squared error; "variational"
        a VAE (:func:`~kernelscope.anomaly.build_vae`, Gaussian likelihood of
        unit variance) on minus the ELBO, with a latent space of ``latent_dim``.
    beta : float >= 0, default=1.0
        Weight of the VAE's KL term (1 is the ELBO); only with kind="variational".

    Attributes
    ----------
    model_ : ks.Model, the autoencoder (standardised inputs in and out), a :class:`~kernelscope.anomaly.VAE`
        for kind="variational"
    scoring_model_ : ks.Model, a float64 copy of ``model_`` (of its ``z_mean`` path for a VAE) that
        computes every score, so a sample's
        score does not depend on the other samples scored with it (float32 GEMMs can differ by ~1e-7
        with the batch around a row)
    mean_, scale_ : ndarray, per feature (rows) or per channel (images)
    offset_ : float
    history_ : dict of lists
    n_features_in_ : int, input_shape_ : tuple, architecture_ : str
    """

    def __init__(self, architecture="auto", encoder_units=None, latent_dim=8, epochs=100, batch_size=32,
                 learning_rate=1e-3, noise=0.0, contamination="auto", random_state=None, verbose=0,
                 kind="plain", beta=1.0):
        self.architecture = architecture
        self.encoder_units = encoder_units
        self.latent_dim = latent_dim
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.noise = noise
        self.contamination = contamination
        self.random_state = random_state
        self.verbose = verbose
        self.kind = kind
        self.beta = beta

    # ---------------------------------------------------------------- fit
    def fit(self, X, y=None):
        """Train the autoencoder on ``X`` (normal samples) and set the threshold; ``y`` is ignored."""
        from .. import optimizers

        self._check_params()
        X = self._validate(X, reset=True)
        self.architecture_ = self._resolve_architecture(X)
        axes = (0,) if X.ndim == 2 else (0, 1, 2)  # per feature for rows, per channel for images
        self.mean_ = X.mean(axis=axes).astype(np.float32)
        scale = X.std(axis=axes)
        self.scale_ = np.where(scale > np.finfo(np.float32).eps, scale, 1.0).astype(np.float32)
        Z = self._standardize(X)
        with seeded(self.random_state):
            self.model_ = self._build(Z.shape[1:])
            variational = self.kind == "variational"  # a VAE brings its own loss (train_step) and needs no y
            self.model_.compile(optimizer=optimizers.Adam(self.learning_rate),
                                loss=None if variational else "mean_squared_error")
            history = self.model_.fit(Z, None if variational else Z, epochs=self.epochs,
                                      batch_size=self.batch_size, verbose=self.verbose)
        self.history_ = dict(history.history)
        self.scoring_model_ = _vae_mean_path(self.model_) if variational else _float64_copy(self.model_)
        self.offset_ = self._offset(-self._errors(Z))
        return self

    def _build(self, shape: tuple):
        units = self.encoder_units
        if self.kind == "variational":
            return build_vae(shape, self.latent_dim, self.architecture_, units, beta=self.beta, noise=self.noise)
        if self.architecture_ == "conv":
            return conv_autoencoder(shape, units or (8, 16), self.latent_dim, self.noise)
        return dense_autoencoder(shape, units or (64, 32), self.latent_dim, self.noise)

    def _offset(self, scores: np.ndarray) -> float:
        if self.contamination == "auto":
            # errors are positive and right-skewed (roughly log-normal): a robust 3-sigma rule on their logs
            logs = np.log(np.maximum(-scores, _MIN_ERROR))
            median = np.median(logs)
            mad = np.median(np.abs(logs - median))
            return float(-np.exp(median + _AUTO_K * _MAD_TO_STD * mad))
        return float(np.percentile(scores, 100.0 * self.contamination))

    # ------------------------------------------------------------- scoring
    def reconstruction_error(self, X) -> np.ndarray:
        """Mean squared error between each standardised sample and its reconstruction (the raw anomaly score)."""
        check_is_fitted(self)
        return self._errors(self._standardize(self._validate(X, reset=False)))

    def reconstruct(self, X) -> np.ndarray:
        """The autoencoder's reconstruction of ``X``, in the units and shape of ``X``."""
        check_is_fitted(self)
        Z = self._standardize(self._validate(X, reset=False))
        return self._reconstruct_standardized(Z).astype(np.float32) * self.scale_ + self.mean_

    def score_samples(self, X) -> np.ndarray:
        """Minus the reconstruction error: the higher, the more normal."""
        return -self.reconstruction_error(X)

    def decision_function(self, X) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X) -> np.ndarray:
        """+1 for inliers, -1 for outliers (``decision_function < 0``)."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    # ------------------------------------------------------------- helpers
    def _reconstruct_standardized(self, Z: np.ndarray) -> np.ndarray:
        # Scored by a float64 copy of the trained model: in float32, a row's GEMM result can depend on the
        # rows sharing its batch (OpenBLAS's Haswell kernels differ by ~1e-7), so a sample's score would
        # depend on which other samples were scored with it. In float64 those differences are ~1e-16.
        return self.scoring_model_.predict(Z.astype(np.float64), batch_size=256, verbose=0)

    def _errors(self, Z: np.ndarray) -> np.ndarray:
        output = self._reconstruct_standardized(Z)
        return np.square(output - Z).reshape(len(Z), -1).mean(axis=1)

    def _standardize(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean_) / self.scale_).astype(np.float32)

    def _validate(self, X, reset: bool) -> np.ndarray:
        X = validate_data(self, X, reset=reset, dtype=np.float32, allow_nd=True)
        if X.ndim not in (2, 4):
            raise ValueError("X must be rows of shape (n_samples, n_features) or images of shape "
                             f"(n_samples, height, width, channels). Received: shape={X.shape}.")
        if reset:
            self.input_shape_ = tuple(X.shape[1:])
        elif tuple(X.shape[1:]) != self.input_shape_:
            raise ValueError(f"X has samples of shape {tuple(X.shape[1:])}, but AutoencoderDetector was fitted "
                             f"on samples of shape {self.input_shape_}.")
        return X

    def _resolve_architecture(self, X: np.ndarray) -> str:
        if self.architecture == "auto":
            return "conv" if X.ndim == 4 else "dense"
        if self.architecture == "conv" and X.ndim != 4:
            raise ValueError("architecture='conv' needs images of shape (n_samples, height, width, channels). "
                             f"Received: X of shape {X.shape}; use architecture='dense' for rows.")
        return self.architecture

    def _check_params(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"`kind` must be one of {KINDS}. Received: kind={self.kind!r}.")
        if not _is_real(self.beta) or not self.beta >= 0:
            raise ValueError(f"`beta` must be a non-negative number. Received: beta={self.beta!r}.")
        if self.kind == "plain" and self.beta != 1.0:
            raise ValueError("`beta` weighs a variational autoencoder's KL term; use it with kind='variational'. "
                             f"Received: beta={self.beta!r}, kind='plain'.")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"`architecture` must be one of {ARCHITECTURES}. "
                             f"Received: architecture={self.architecture!r}.")
        units = self.encoder_units
        if units is not None and (not isinstance(units, (tuple, list)) or not units or not all(
                _is_positive_int(u) for u in units)):
            raise ValueError("`encoder_units` must be None or a non-empty tuple of positive integers. "
                             f"Received: encoder_units={units!r}.")
        for name in ("latent_dim", "epochs", "batch_size"):
            if not _is_positive_int(getattr(self, name)):
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={getattr(self, name)!r}.")
        if not _is_real(self.learning_rate) or not self.learning_rate > 0:
            raise ValueError("`learning_rate` must be a positive number. "
                             f"Received: learning_rate={self.learning_rate!r}.")
        if not _is_real(self.noise) or not 0 <= self.noise <= 1:
            raise ValueError(f"`noise` must be a number in [0, 1] (a standard deviation in standardised units). "
                             f"Received: noise={self.noise!r}.")
        c = self.contamination
        if not (isinstance(c, str) and c == "auto") and not (_is_real(c) and 0 < c <= 0.5):
            raise ValueError(f"`contamination` must be 'auto' or a float in (0, 0.5]. Received: contamination={c!r}.")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _is_positive_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _float64_copy(model):
    """The same architecture and weights, computing in float64 (built without drawing from any generator)."""
    from ..saving.serialization import deserialize_layer, serialize_layer

    def widen(config):
        if isinstance(config, dict):
            return {k: ("float64" if k == "dtype" and v == "float32" else widen(v)) for k, v in config.items()}
        return [widen(v) for v in config] if isinstance(config, list) else config

    with seeded(0):  # the initial weights are overwritten below; keep the caller's root generator untouched
        twin = deserialize_layer(widen(serialize_layer(model)))
    twin.set_weights([w.astype(np.float64) for w in model.get_weights()])
    return twin


def _vae_mean_path(vae):
    """A float64 model ``x -> decoder(z_mean(x))``: the VAE's deterministic reconstruction."""
    from .. import layers, models

    encoder, decoder = _float64_copy(vae.encoder), _float64_copy(vae.decoder)
    inputs = layers.Input(tuple(vae.encoder.input.shape[1:]), dtype="float64")
    z_mean, _ = encoder(inputs)
    return models.Model(inputs, decoder(z_mean), name="vae_mean_path")
