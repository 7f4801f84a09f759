"""A grid search of 8 candidates, locally and on a 2-worker Dask cluster, in one run.

Both searches fit ``ks.sklearn.NeuralNetClassifier`` on the bundled digits with 3-fold
cross-validation (24 fits). The local search is ``n_jobs=1`` (one process; NumPy's BLAS may
use every core inside it); the distributed one is ``n_jobs=-1`` under
``joblib.parallel_backend("dask")`` on a ``distributed.LocalCluster`` of two single-threaded
worker processes, started before the clock runs. Both must find the same best parameters.

    python benchmarks/dask_grid.py [--epochs 15] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def _search(n_jobs: int, epochs: int):
    from sklearn.model_selection import GridSearchCV

    import kernelscope as ks
    from kernelscope.sklearn import NeuralNetClassifier

    (x, y), _ = ks.datasets.load_digits()
    grid = {"hidden_layer_sizes": [(64,), (128,)], "learning_rate": [0.001, 0.003],
            "batch_size": [16, 32]}
    search = GridSearchCV(NeuralNetClassifier(epochs=epochs, random_state=0), grid, cv=3, n_jobs=n_jobs)
    start = time.perf_counter()
    search.fit(x.reshape(len(x), -1), y)
    return time.perf_counter() - start, search.best_params_, search.best_score_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    import joblib
    from distributed import Client, LocalCluster

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=40) as cluster, Client(cluster):
        local_times, remote_times = [], []
        for _ in range(args.rounds):  # alternate, so both see the same machine load
            seconds, local_best, local_score = _search(1, args.epochs)
            local_times.append(seconds)
            with joblib.parallel_backend("dask"):
                seconds, remote_best, remote_score = _search(-1, args.epochs)
            remote_times.append(seconds)
            assert remote_best == local_best and remote_score == local_score, (local_best, remote_best)
    local, remote = float(np.median(local_times)), float(np.median(remote_times))
    print(f"grid search, 8 candidates x 3 folds: local n_jobs=1 {local:.1f} s, Dask 2 workers {remote:.1f} s, "
          f"speed-up {local / remote:.2f}x (best {local_best}, score {local_score:.4f})")


if __name__ == "__main__":
    main()
