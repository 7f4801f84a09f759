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
outliers; ``predict`` gives +1 (inlier) or -1 (outlier). ``kind="variational"``
trains a :class:`VAE` (:func:`build_vae`: encoder to ``z_mean``/``z_log_var``,
seeded :class:`Sampling`, decoder, ELBO ``train_step``) instead of a plain
autoencoder. :func:`one_class_roc_auc` runs the one-class protocol (each
class normal in turn) the tests and ``benchmarks/anomaly.py`` report.

>>> import numpy as np
>>> from kernelscope.anomaly import AutoencoderDetector
>>> rng = np.random.default_rng(0)
>>> normal = rng.normal(size=(200, 2)) @ np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]])
>>> detector = AutoencoderDetector(latent_dim=2, epochs=30, contamination=0.05, random_state=0).fit(normal)
>>> detector.predict([[3.0, -3.0, 3.0, -3.0]])  # breaks the x0 == x1, x2 == x3 pattern
array([-1])
"""

from .architectures import conv_autoencoder, dense_autoencoder
from .detector import AutoencoderDetector
from .plots import plot_reconstructions, plot_vae_samples
from .protocol import one_class_roc_auc, one_class_split
from .vae import VAE, Sampling, build_vae, gaussian_kl_divergence

__all__ = ["AutoencoderDetector", "dense_autoencoder", "conv_autoencoder", "plot_reconstructions", "plot_vae_samples",
           "VAE", "Sampling", "build_vae", "gaussian_kl_divergence", "one_class_split", "one_class_roc_auc"]
