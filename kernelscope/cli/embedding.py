"""``kernelscope train --task embedding``: a triplet-loss embedding of digits 0-4 that recognises 5-9 once seen.

    kernelscope train --task embedding --epochs 10 --seed 0 --out runs/embedding

Trains ``ks.similarity.embedding_network`` with semi-hard triplets on the training
digits 0-4 (``ks.similarity.fit_embedding``: balanced batches of ``--batch-size``
images, 8 of each class; quarter turns as extra classes; shifted batches). The
``--validation-split`` of those digits is held out to choose the verification
threshold (equal error rate). Then, on test digits: verification ROC AUC of pairs
of 0-4 and of the never-seen 5-9, and one-shot accuracy on 5-9 (one training
example per class, 20 draws). Writes ``model.keras`` (reads raw pixels 0..255, as
every model of the command line), ``history.csv`` and ``report.html`` (the 2-D
embedding plot, the ROC curves, verification pairs, the summary).
"""

from __future__ import annotations

import html
import pathlib
import time

import numpy as np

from .catalog import CommandError, UsageError
from .common import prepare_out

SEEN, UNSEEN = tuple(range(5)), tuple(range(5, 10))
SAMPLES_PER_CLASS = 8  # per class in a batch: the semi-hard rule needs positives
DRAWS = 20


def _check(args) -> None:
    if args.data != "digits":
        raise UsageError(f"--task embedding trains on the bundled digits: --data must be digits, got {args.data}")
    if args.batch_size % SAMPLES_PER_CLASS or args.batch_size < 2 * SAMPLES_PER_CLASS:
        raise UsageError(f"--task embedding draws {SAMPLES_PER_CLASS} images of each class per batch: --batch-size "
                         f"must be a multiple of {SAMPLES_PER_CLASS}, at least {2 * SAMPLES_PER_CLASS}, "
                         f"got {args.batch_size}")
    if not args.validation_split > 0:
        raise UsageError("--task embedding chooses its verification threshold on held-out training pairs: "
                         f"--validation-split must be > 0, got {args.validation_split}")


def run_train_embedding(args) -> int:
    """Train, measure verification and one-shot recognition, save the model, history and report."""
    import kernelscope as ks
    from ..similarity import embedding_network, fit_embedding

    _check(args)
    (x_train, y_train), (x_test, y_test) = ks.datasets.load_digits()
    x_train, x_test = x_train * 255, x_test * 255  # the command line's models read pixels 0..255
    seen = np.flatnonzero(np.isin(y_train, SEEN))
    order = np.random.default_rng(args.seed).permutation(seen)
    cut = int(round(len(order) * args.validation_split))
    fit_rows, val_rows = np.sort(order[cut:]), np.sort(order[:cut])
    ks.utils.set_random_seed(args.seed)
    model = embedding_network(x_train.shape[1:], embedding_size=128, scale=1 / 255)
    rate = args.learning_rate or {"adam": 1e-3, "rmsprop": 1e-3, "sgd": 1e-2}[args.optimizer]
    optimizer = {"adam": ks.optimizers.Adam, "sgd": ks.optimizers.SGD,
                 "rmsprop": ks.optimizers.RMSprop}[args.optimizer](learning_rate=rate)
    out = prepare_out(args.out, "embedding")
    print(f"Training a {model.layers[-2].units}-d embedding with semi-hard triplets on digits 0-4: "
          f"{len(fit_rows)} training images (x4 quarter turns as classes), {len(val_rows)} held out for the "
          f"threshold, {model.count_params():,} parameters")
    started = time.perf_counter()
    history = fit_embedding(model, x_train[fit_rows], y_train[fit_rows], epochs=args.epochs,
                            batch_size=args.batch_size, classes_per_batch=args.batch_size // SAMPLES_PER_CLASS,
                            optimizer=optimizer, seed=args.seed, verbose=0 if args.quiet else 1)
    elapsed = time.perf_counter() - started
    losses = history.history.get("loss", [])
    if not losses or not np.all(np.isfinite(losses)):
        raise CommandError("the triplet loss was not finite (training diverged: try a lower --learning-rate)")
    results = _measure(model, (x_train, y_train), (x_test, y_test), val_rows, args.seed)
    _print_results(results)
    model.save(out / "model.keras")
    from .commands import _write_history  # the same history.csv as the classification task

    _write_history(out / "history.csv", [{"epoch": i + 1, "loss": float(v)} for i, v in enumerate(losses)])
    info = {"data": args.data, "trained on": "digits 0-4", "recognised once": "digits 5-9", "epochs": args.epochs,
            "optimizer": f"{args.optimizer} (learning rate {rate:g})", "batch size": args.batch_size,
            "seed": args.seed, "training time": f"{elapsed:.1f} s"}
    print(f"Model:   {out / 'model.keras'}\nHistory: {out / 'history.csv'}")
    _report(out / "report.html", model, history.history, (x_test, y_test), results, info)
    return 0


def _pairs_of(x, y, classes, seed):
    from ..similarity import make_pairs

    rows = np.isin(y, classes)
    a, b, different = make_pairs(x[rows], y[rows], seed=seed)
    return a, b, different == 0


def _measure(model, train: tuple, test: tuple, val_rows, seed: int) -> dict:
    """Threshold on the held-out training pairs; AUC and accuracy on test pairs; one-shot accuracy on 5-9."""
    from ..similarity import choose_threshold, one_shot_accuracy, pair_distances

    (x_train, y_train), (x_test, y_test) = train, test
    a, b, same = _pairs_of(x_train[val_rows], y_train[val_rows], SEEN, seed)
    chosen = choose_threshold(pair_distances(model, a, b), same)
    results = {"threshold": chosen["threshold"], "validation_eer": chosen["eer"]}
    for key, classes in (("seen", SEEN), ("unseen", UNSEEN)):
        a, b, same = _pairs_of(x_test, y_test, classes, seed)
        distances = pair_distances(model, a, b)
        results[key] = {"pairs": (a, b, distances, same), "auc": choose_threshold(distances, same)["auc"],
                        "accuracy": float(np.mean((distances <= chosen["threshold"]) == same))}
    unseen = np.isin(y_test, UNSEEN)
    results["one_shot"] = one_shot_accuracy(model, x_train, y_train, x_test[unseen], y_test[unseen], shots=1,
                                            draws=DRAWS, seed=seed)
    return results


def _print_results(results: dict) -> None:
    print(f"Verification threshold {results['threshold']:.3f} (equal error rate on held-out training pairs "
          f"of 0-4: {results['validation_eer']:.3f})")
    for key, name in (("seen", "0-4"), ("unseen", "5-9 (never trained on)")):
        print(f"  test pairs of {name}: ROC AUC {results[key]['auc']:.4f}, accuracy at the threshold "
              f"{results[key]['accuracy']:.3f}")
    shots = results["one_shot"]
    print(f"One-shot accuracy on test digits 5-9 (one example per class, {len(shots)} draws): "
          f"{shots.mean():.3f} +- {shots.std():.3f} (chance 0.2)")


def _report(path: pathlib.Path, model, history: dict, test: tuple, results: dict, info: dict) -> None:
    from .. import report
    from ..similarity import plot_embeddings, plot_pairs, plot_roc

    try:
        report.require_matplotlib()
    except ImportError:
        print('Report:  skipped (matplotlib is missing): pip install "kernelscope[plot]"')
        return
    x_test, y_test = test
    a, b, distances, same = results["unseen"]["pairs"]
    curves = {"test pairs 0-4": results["seen"]["pairs"][2:], "test pairs 5-9 (unseen)": (distances, same)}
    shots = results["one_shot"]
    table = "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in (
        ("ROC AUC, test pairs 0-4", f"{results['seen']['auc']:.4f}"),
        ("ROC AUC, test pairs 5-9 (unseen)", f"{results['unseen']['auc']:.4f}"),
        ("threshold (equal error rate, held-out training pairs)", f"{results['threshold']:.3f}"),
        ("accuracy at the threshold, test pairs 0-4", f"{results['seen']['accuracy']:.3f}"),
        ("accuracy at the threshold, test pairs 5-9", f"{results['unseen']['accuracy']:.3f}"),
        (f"one-shot accuracy on 5-9 ({len(shots)} draws; chance 0.2)", f"{shots.mean():.3f} ± {shots.std():.3f}")))
    sections = [
        ("Verification and one-shot recognition", f"<table><tr><th>measure</th><th>value</th></tr>{table}</table>"),
        ("Triplet loss", report.figure_html(_loss_curve(history), "triplet loss") if history else ""),
        ("Embeddings of the test digits in 2-D (PCA)",
         report.figure_html(plot_embeddings(model, x_test, y_test, method="pca"), "embeddings in 2-D")),
        ("Verification ROC", report.figure_html(plot_roc(curves), "verification ROC")),
        ("Verification pairs of unseen digits", report.figure_html(
            plot_pairs(a, b, distances, results["threshold"], same=same, n=10), "verification pairs")),
        ("Model summary", f"<pre>{html.escape(report.summary_text(model))}</pre>"),
    ]
    report.write_page(path, "kernelscope embedding report", sections, info)
    print(f"Report:  {path}")


def _loss_curve(history: dict):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 3.2))
    ax = figure.subplots()
    losses = history["loss"]
    ax.plot(np.arange(1, len(losses) + 1), losses, marker="o", markersize=3)
    ax.set_xlabel("epoch")
    ax.set_title("semi-hard triplet loss (training)", fontsize=10)
    ax.grid(alpha=0.3)
    return figure
