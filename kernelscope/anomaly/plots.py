"""Pictures of what an autoencoder detector reconstructs (needs the ``plot`` extra)."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_reconstructions", "plot_vae_samples"]


def plot_reconstructions(detector, images, labels=None, n: int = 6):
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


def plot_vae_samples(vae, n: int = 16, seed=0, columns: int = 8, scale=None):
    """A matplotlib Figure of ``n`` images decoded from the prior of a :class:`~kernelscope.anomaly.VAE`.

    ``scale`` is an optional ``(mean, scale)`` pair undoing a standardisation
    (an :class:`AutoencoderDetector`'s ``mean_`` and ``scale_``); each picture
    is then shown on the grey scale of all of them. Needs the ``plot`` extra.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError('plot_vae_samples needs matplotlib: pip install "kernelscope[plot]"') from error
    samples = vae.sample(n, seed=seed)
    if samples.ndim != 4:
        raise ValueError(f"plot_vae_samples needs a VAE of images (height, width, channels). "
                         f"Received: samples of shape {samples.shape[1:]}.")
    if scale is not None:
        samples = samples * scale[1] + scale[0]
    columns = max(1, min(int(columns), n))
    rows = -(-n // columns)
    figure = Figure(figsize=(1.2 * columns, 1.2 * rows + 0.4))
    axes = np.asarray(figure.subplots(rows, columns, squeeze=False)).ravel()
    low, high = float(samples.min()), float(samples.max())
    for ax in axes:
        ax.set_axis_off()
    for ax, picture in zip(axes, samples):
        ax.imshow(_displayable(picture, low, high), cmap="gray" if picture.shape[-1] == 1 else None,
                  vmin=0.0, vmax=1.0)
    figure.suptitle(f"{n} samples of the VAE's prior N(0, I), decoded", fontsize=10)
    return figure
