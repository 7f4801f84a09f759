"""The one-class digits protocol: variational autoencoder, plain autoencoder and IsolationForest.

Each digit in turn is normal: a detector is fitted on a random half of that
digit's images (the bundled 8x8 digits, both splits joined) and scores the
held-out halves of every digit; ROC AUC with the normal digit as positive
(``ks.anomaly.one_class_roc_auc``, the split of ``tests/test_anomaly.py``).
Every detector uses ``random_state=0`` and its defaults (100 epochs, latent
size 8); IsolationForest sees the flattened images.

    python benchmarks/anomaly.py            # prints a Markdown table (~2 min on one core)
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import kernelscope as ks
from kernelscope.anomaly import AutoencoderDetector, one_class_roc_auc


def _flatten(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1)


DETECTORS = {
    "variational autoencoder (dense)": lambda: AutoencoderDetector(kind="variational", architecture="dense",
                                                                   random_state=0),
    "variational autoencoder (conv)": lambda: AutoencoderDetector(kind="variational", architecture="conv",
                                                                  random_state=0),
    "variational autoencoder (dense, beta=0.1)": lambda: AutoencoderDetector(
        kind="variational", architecture="dense", beta=0.1, random_state=0),
    "plain autoencoder (dense)": lambda: AutoencoderDetector(architecture="dense", random_state=0),
    "plain autoencoder (conv)": lambda: AutoencoderDetector(architecture="conv", random_state=0),
    "IsolationForest": lambda: make_pipeline(FunctionTransformer(_flatten), IsolationForest(random_state=0)),
}


def main() -> None:
    (x_a, y_a), (x_b, y_b) = ks.datasets.load_digits()
    X, y = np.concatenate([x_a, x_b]), np.concatenate([y_a, y_b])
    print("| detector | " + " | ".join(str(d) for d in range(10)) + " | mean | time |")
    print("|---|" + "---:|" * 12)
    for name, make in DETECTORS.items():
        start = time.perf_counter()
        auc = one_class_roc_auc(make, X, y)
        seconds = time.perf_counter() - start
        cells = " | ".join(f"{a:.3f}" for a in auc)
        print(f"| {name} | {cells} | **{auc.mean():.4f}** | {seconds:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
