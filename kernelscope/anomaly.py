"""Semi-supervised anomaly detection with an autoencoder (needs the ``sklearn`` extra).

The course's three settings: *supervised* detection is classification (see
:mod:`kernelscope.sklearn`); *semi-supervised* detection learns a compact
representation of normal data only and flags what it cannot reconstruct (this
module); *unsupervised* detection isolates points far from the rest
(``sklearn.ensemble.IsolationForest``).

:class:`AutoencoderDetector` follows scikit-learn's outlier-detector
conventions (as ``IsolationForest``): ``fit(X)`` on normal data;
``score_samples`` is higher for more normal samples (minus the reconstruction
error); ``decision_function = score_samples - offset_`` is negative for
outliers; ``predict`` gives +1 (inlier) or -1 (outlier).

>>> import numpy as np
>>> from kernelscope.anomaly import AutoencoderDetector
>>> rng = np.random.default_rng(0)
>>> normal = rng.normal(size=(200, 2)) @ np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
>>> detector = AutoencoderDetector(latent_dim=2, epochs=30, contamination=0.05, random_state=0).fit(normal)
>>> detector.predict([[3.0, -3.0, 3.0, -3.0]])  # breaks the x0 == x1, x2 == x3 pattern
array([-1])
"""

from __future__ import annotations

import numbers

import numpy as np

try:
    from sklearn.base import BaseEstimator, OutlierMixin
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError('kernelscope.anomaly needs scikit-learn >= 1.6: pip install "kernelscope[sklearn]"') from error

from .sklearn._builders import seeded

__all__ = ["AutoencoderDetector", "dense_autoencoder", "conv_autoencoder", "plot_reconstructions"]

ARCHITECTURES = ("auto", "dense", "conv")
_MAD_TO_STD = 1.4826  # MAD * 1.4826 estimates the standard deviation of normally distributed values
_AUTO_K = 3.0
_MIN_ERROR = 1e-12  # floor before taking logs: a perfect reconstruction has error 0


class AutoencoderDetector(OutlierMixin, BaseEstimator):
    """Flag samples an autoencoder trained on normal data reconstructs badly.

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

    Attributes
    ----------
    model_ : ks.Model, the autoencoder (standardised inputs in and out)
    scoring_model_ : ks.Model, a float64 copy of ``model_`` that computes every score, so a sample's
        score does not depend on the other samples scored with it (float32 GEMMs can differ by ~1e-7
        with the batch around a row)
    mean_, scale_ : ndarray, per feature (rows) or per channel (images)
    offset_ : float
    history_ : dict of lists
    n_features_in_ : int, input_shape_ : tuple, architecture_ : str
    """

    def __init__(self, architecture="auto", encoder_units=None, latent_dim=8, epochs=100, batch_size=32,
                 learning_rate=1e-3, noise=0.0, contamination="auto", random_state=None, verbose=0):
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

    # ---------------------------------------------------------------- fit
    def fit(self, X, y=None):
        """Train the autoencoder on ``X`` (normal samples) and set the threshold; ``y`` is ignored."""
        from . import optimizers

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
            self.model_.compile(optimizer=optimizers.Adam(self.learning_rate), loss="mean_squared_error")
            history = self.model_.fit(Z, Z, epochs=self.epochs, batch_size=self.batch_size, verbose=self.verbose)
        self.history_ = dict(history.history)
        self.scoring_model_ = _float64_copy(self.model_)
        self.offset_ = self._offset(-self._errors(Z))
        return self

    def _build(self, shape: tuple):
        units = self.encoder_units
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
    from .saving.serialization import deserialize_layer, serialize_layer

    def widen(config):
        if isinstance(config, dict):
            return {k: ("float64" if k == "dtype" and v == "float32" else widen(v)) for k, v in config.items()}
        return [widen(v) for v in config] if isinstance(config, list) else config

    with seeded(0):  # the initial weights are overwritten below; keep the caller's root generator untouched
        twin = deserialize_layer(widen(serialize_layer(model)))
    twin.set_weights([w.astype(np.float64) for w in model.get_weights()])
    return twin


# ------------------------------------------------------------- architectures


def dense_autoencoder(input_shape: tuple, units=(64, 32), latent_dim: int = 8, noise: float = 0.0):
    """A dense autoencoder: ``Dense(u, relu)`` per unit count, a linear code of ``latent_dim``, the mirror.

    Images are flattened on the way in and reshaped on the way out.
    """
    from . import layers, models

    size = int(np.prod(input_shape))
    stack = [layers.Input(tuple(input_shape))]
    if noise:
        stack.append(layers.GaussianNoise(noise, name="noise"))
    if len(input_shape) > 1:
        stack.append(layers.Flatten())
    stack += [layers.Dense(u, activation="relu", name=f"encoder_{i}") for i, u in enumerate(units, 1)]
    stack.append(layers.Dense(latent_dim, name="code"))
    stack += [layers.Dense(u, activation="relu", name=f"decoder_{i}") for i, u in enumerate(units[::-1], 1)]
    stack.append(layers.Dense(size, name="reconstruction"))
    if len(input_shape) > 1:
        stack.append(layers.Reshape(tuple(input_shape)))
    return models.Sequential(stack, name="dense_autoencoder")


def conv_autoencoder(input_shape: tuple, filters=(8, 16), latent_dim: int = 8, noise: float = 0.0):
    """A convolutional autoencoder for ``(H, W, C)`` images.

    Encoder: per entry of ``filters`` a ``Conv2D(f, 3, strides=2, padding="same", relu)``
    (halving the feature map), then a dense code of ``latent_dim``. Decoder: a
    Dense back to the smallest feature map, ``Conv2DTranspose(f, 3, strides=2)``
    per entry in reverse, a crop to ``H x W`` and a linear ``Conv2D(C, 3)``.
    """
    from . import layers, models

    height, width, channels = (int(d) for d in input_shape)
    stack = [layers.Input((height, width, channels))]
    if noise:
        stack.append(layers.GaussianNoise(noise, name="noise"))
    h, w = height, width
    for i, f in enumerate(filters, 1):
        stack.append(layers.Conv2D(f, 3, strides=2, padding="same", activation="relu", name=f"encoder_conv{i}"))
        h, w = -(-h // 2), -(-w // 2)
    stack += [layers.Flatten(), layers.Dense(latent_dim, name="code"),
              layers.Dense(h * w * filters[-1], activation="relu", name="decoder_dense"),
              layers.Reshape((h, w, filters[-1]))]
    for i, f in enumerate(filters[::-1], 1):
        stack.append(layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu",
                                            name=f"decoder_conv{i}"))
    extra_h, extra_w = h * 2 ** len(filters) - height, w * 2 ** len(filters) - width
    if extra_h or extra_w:
        stack.append(layers.Cropping2D(((0, extra_h), (0, extra_w))))
    stack.append(layers.Conv2D(channels, 3, padding="same", name="reconstruction"))
    return models.Sequential(stack, name="conv_autoencoder")


# ------------------------------------------------------------------- figure


def plot_reconstructions(detector: AutoencoderDetector, images, labels=None, n: int = 6):
    """A matplotlib Figure of the ``n`` best and ``n`` worst reconstructed images (needs the ``plot`` extra).

    Rows: the best images, their reconstructions, the worst images, their
    reconstructions; each title gives the label (if any) and the reconstruction error.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError('plot_reconstructions needs matplotlib: pip install "kernelscope[plot]"') from error
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"`images` must have shape (n, height, width, channels). Received: shape={images.shape}.")
    errors = detector.reconstruction_error(images)
    order = np.argsort(errors, kind="stable")
    n = max(1, min(int(n), len(images)))
    picks = {"best": order[:n], "worst": order[::-1][:n]}
    rebuilt = {name: detector.reconstruct(images[index]) for name, index in picks.items()}
    low, high = float(images.min()), float(images.max())  # one grey scale for inputs and reconstructions
    figure = Figure(figsize=(1.6 * n, 7.2))
    axes = np.asarray(figure.subplots(4, n, squeeze=False))
    for row, (name, kind) in enumerate([("best", "input"), ("best", "reconstruction"),
                                        ("worst", "input"), ("worst", "reconstruction")]):
        for col, index in enumerate(picks[name]):
            picture = images[index] if kind == "input" else rebuilt[name][col]
            ax = axes[row, col]
            ax.imshow(_displayable(picture, low, high), cmap="gray" if picture.shape[-1] == 1 else None,
                      vmin=0.0, vmax=1.0)
            ax.set_xticks([]), ax.set_yticks([])
            if kind == "input":
                label = "" if labels is None else f"label {labels[index]}\n"
                ax.set_title(f"{label}error {errors[index]:.3f}", fontsize=8)
        axes[row, 0].set_ylabel(f"{name}\n{kind}", fontsize=9)
    figure.suptitle("Best and worst reconstructions (error = mean squared, standardised units)", fontsize=10)
    return figure


def _displayable(picture: np.ndarray, low: float, high: float) -> np.ndarray:
    scaled = np.clip((picture - low) / (high - low), 0.0, 1.0) if high > low else np.zeros_like(picture)
    return scaled[..., 0] if picture.shape[-1] == 1 else scaled
