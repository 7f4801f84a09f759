"""``kernelscope anomaly``: one digit is normal, every other digit is an anomaly.

    kernelscope anomaly --data digits --normal 0 --epochs 100 --seed 0 --out runs/anomaly-0
    kernelscope anomaly --kind variational --normal 0 --out runs/anomaly-vae-0

Trains :class:`~kernelscope.anomaly.AutoencoderDetector` (a plain or a
variational autoencoder) on the training images of the normal digit only
(semi-supervised), scores every test image, and prints the ROC AUC beside
scikit-learn's IsolationForest (unsupervised) fitted on the same images; writes
``reconstructions.png`` (best and worst reconstructions) and, for a VAE,
``samples.png`` (images decoded from its prior). Needs the ``sklearn`` and
``plot`` extras.
"""

from __future__ import annotations

import pathlib

import numpy as np

from .._io import atomic_write
from .catalog import CommandError, UsageError
from .common import finite_float, non_negative_int, positive_int, prepare_out

DATASETS = ("digits",)
ARCHITECTURES = ("auto", "dense", "conv")
KINDS = ("plain", "variational")


def add_parsers(commands, common) -> None:
    """Register the ``anomaly`` subcommand."""
    parser = commands.add_parser(
        "anomaly", parents=[common], help="one-class anomaly detection: autoencoder vs isolation forest",
        description="Train an autoencoder on one class (the normal one), score the test images of every class "
                    "and compare its ROC AUC with scikit-learn's IsolationForest on the same split.")
    parser.add_argument("--data", choices=DATASETS, default="digits", help="dataset (default digits)")
    parser.add_argument("--normal", type=int, default=0, help="the normal class (default 0)")
    parser.add_argument("--architecture", choices=ARCHITECTURES, default="auto",
                        help="autoencoder type; auto is convolutional for images (default auto)")
    parser.add_argument("--kind", choices=KINDS, default="plain",
                        help="plain autoencoder, or variational (trained on the ELBO, scored by the reconstruction "
                             "error at the posterior mean) (default plain)")
    parser.add_argument("--epochs", type=positive_int, default=100, help="default 100")
    parser.add_argument("--noise", type=finite_float, default=0.0,
                        help="standard deviation of training noise in standardised units: a denoising "
                             "autoencoder (default 0)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", default=None, help="output folder (default runs/anomaly-<data>-<normal>-<time>)")
    parser.set_defaults(handler=run_anomaly)


def run_anomaly(args) -> int:
    """Fit both detectors on the normal class, print their ROC AUCs, write the figure."""
    from .. import datasets
    from ..anomaly import plot_reconstructions, plot_vae_samples

    (x_train, y_train), (x_test, y_test) = datasets.load_digits()
    classes = np.unique(y_train)
    if args.normal not in classes:
        raise UsageError(f"--normal {args.normal} is not a class of {args.data} "
                         f"(classes {classes.min()}-{classes.max()})")
    if not 0 <= args.noise <= 1:
        raise UsageError(f"--noise must be in [0, 1], got {args.noise}")
    _require_plotting()
    out = prepare_out(args.out, f"anomaly-{args.data}-{args.normal}")
    normal = x_train[y_train == args.normal]
    is_normal = y_test == args.normal
    print(f"Normal class: {args.data} {args.normal} ({len(normal)} training images). Test set: {len(x_test)} "
          f"images, {int(is_normal.sum())} normal, {int((~is_normal).sum())} anomalies.")
    detector, ae_auc, forest_auc = _compare(normal, x_test, is_normal, args)
    print("ROC AUC (normal = positive class, scored by how normal each image looks):")
    kind = "variational autoencoder" if args.kind == "variational" else "autoencoder"
    name = f"{kind} ({detector.architecture_}, {args.epochs} epochs)"
    width = max(len(name), len("isolation forest"))
    print(f"  {name:<{width}}  {ae_auc:.4f}")
    print(f"  {'isolation forest':<{width}}  {forest_auc:.4f}")
    flagged = detector.predict(x_test) == -1
    print(f"Autoencoder threshold (contamination='auto'): flags {int(flagged[~is_normal].sum())} of "
          f"{int((~is_normal).sum())} anomalies and {int(flagged[is_normal].sum())} of {int(is_normal.sum())} "
          "normal test images.")
    _save_figure(plot_reconstructions(detector, x_test, y_test, n=6), out / "reconstructions.png")
    print(f"Figure: {out / 'reconstructions.png'}")
    if args.kind == "variational":
        samples = plot_vae_samples(detector.model_, n=16, seed=args.seed, scale=(detector.mean_, detector.scale_))
        _save_figure(samples, out / "samples.png")
        print(f"Samples of the prior: {out / 'samples.png'}")
    return 0


def _compare(normal, x_test, is_normal, args) -> tuple:
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score

    from ..anomaly import AutoencoderDetector

    detector = AutoencoderDetector(architecture=args.architecture, epochs=args.epochs, noise=args.noise,
                                   random_state=args.seed, kind=args.kind).fit(normal)
    ae_auc = roc_auc_score(is_normal, detector.score_samples(x_test))
    rows = lambda x: x.reshape(len(x), -1)
    forest = IsolationForest(random_state=args.seed).fit(rows(normal))
    forest_auc = roc_auc_score(is_normal, forest.score_samples(rows(x_test)))
    return detector, float(ae_auc), float(forest_auc)


def _require_plotting() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CommandError('the reconstruction figure needs matplotlib: pip install "kernelscope[plot]"') from None


def _save_figure(figure, path: pathlib.Path) -> None:
    try:
        atomic_write(path, lambda handle: figure.savefig(handle, format="png", dpi=100))
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from None


