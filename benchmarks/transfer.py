"""The offline transfer-learning yardstick (no ImageNet weights here): digits 0-4 teach digits 5-9.

A CNN is trained on the bundled 8x8 training digits 0-4. Digits 5-9 are then
learnt from only ``--shots`` labelled training examples per class, three ways,
all with the same architecture:

- scratch: the CNN freshly initialised, trained on those few examples;
- features + logistic regression: the 0-4 network's convolutional features (its
  ``flatten`` layer, before the dense layers) as a fixed feature transformer
  (``ks.sklearn.FeatureExtractor``), standardised, feeding scikit-learn's
  ``LogisticRegression`` (the teachable machine). The 128-unit penultimate
  layer is the more specialised to 0-4: 0.86 instead of 0.93 at 10 shots;
- fine-tuned: the 0-4 network with a new 5-class head, trained on the few
  examples with the rest frozen, then everything at a lower rate.

Pretraining (``--pretrain rotated``, the default) makes the 0-4 network more
general: each quarter turn of a digit is a class of its own (20 classes) and
each balanced batch is shifted by up to a pixel (``ks.similarity.TripletSampler``,
``rotated_classes``, ``shift_batch``); ``--pretrain plain`` is a 5-class network
trained on shuffled batches. Accuracy is on the test digits 5-9, averaged over seeds.

    python benchmarks/transfer.py [--shots 10] [--seeds 0 1 2] [--pretrain rotated]
"""

from __future__ import annotations

import argparse

import numpy as np

import kernelscope as ks
from kernelscope import similarity as sim
from kernelscope.sklearn import FeatureExtractor

WAYS = ("scratch", "features + logistic regression", "fine-tuned")
FEW_SHOT_EPOCHS = 100  # every way trains on the few examples for this many epochs (fine-tuning: 50 + 50)


def cnn(classes: int, name: str):
    """The one architecture of the three ways: two convolutions, one pooling, a 128-unit penultimate layer."""
    L = ks.layers
    return ks.Sequential([
        ks.Input((8, 8, 1)),
        L.Conv2D(32, 3, padding="same", activation="relu", name="conv1"),
        L.AveragePooling2D(2, name="pool1"),
        L.Conv2D(64, 3, padding="same", activation="relu", name="conv2"),
        L.Flatten(name="flatten"),
        L.Dense(128, activation="relu", name="features"),
        L.Dense(classes, activation="softmax", name="predictions"),
    ], name=name)


def _compiled(model, learning_rate: float):
    model.compile(optimizer=ks.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def pretrain(x, y, seed: int, kind: str = "rotated", epochs: int = 10):
    """The source network on digits 0-4: ``"rotated"`` (20 rotated classes, shifted balanced batches) or
    ``"plain"`` (5 classes, shuffled batches)."""
    if kind == "plain":
        source = _compiled(cnn(5, "source"), 1e-3)
        source.fit(x, y, epochs=2 * epochs, batch_size=32, verbose=0)
        return source
    images, labels = sim.rotated_classes(x, y)
    source = _compiled(cnn(int(labels.max()) + 1, "source"), 1e-3)
    batches = sim.TripletSampler(images, labels, batch_size=80, classes_per_batch=20, seed=seed,
                                 augment=lambda batch, rng: sim.shift_batch(batch, rng, 1))
    source.fit(batches, epochs=epochs, verbose=0)
    return source


def _accuracy(model, x, y) -> float:
    return float(np.mean(np.argmax(model.predict(x, verbose=0), axis=1) == y))


def _features_and_logistic_regression(source, x_few, y_few, x_eval, y_eval) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    teachable = make_pipeline(FeatureExtractor(source, layer="flatten", pooling=None), StandardScaler(),
                              LogisticRegression(C=0.1, max_iter=5000))
    return float(np.mean(teachable.fit(x_few, y_few).predict(x_eval) == y_eval))


def _fine_tuned(source, x_few, y_few, x_eval, y_eval) -> float:
    tuned = cnn(5, "tuned")
    for layer, trained in zip(tuned.layers[:-1], source.layers[:-1]):
        layer.set_weights(trained.get_weights())
    for layer in tuned.layers[:-1]:
        layer.trainable = False  # first the new head alone, so its random start does not wreck the features
    _compiled(tuned, 1e-3).fit(x_few, y_few, epochs=FEW_SHOT_EPOCHS // 2, batch_size=10, verbose=0)
    for layer in tuned.layers:
        layer.trainable = True
    _compiled(tuned, 1e-4).fit(x_few, y_few, epochs=FEW_SHOT_EPOCHS // 2, batch_size=10, verbose=0)
    return _accuracy(tuned, x_eval, y_eval)


def run(seed: int, shots: int = 10, kind: str = "rotated") -> dict:
    """Test accuracy on digits 5-9 of the three ways, for one seed."""
    (x_train, y_train), (x_test, y_test) = ks.datasets.load_digits()
    ks.utils.set_random_seed(seed)
    seen = y_train < 5
    source = pretrain(x_train[seen], y_train[seen], seed, kind)

    rng = np.random.default_rng(seed)
    few = np.concatenate([rng.choice(np.flatnonzero(y_train == c), shots, replace=False) for c in range(5, 10)])
    x_few, y_few = x_train[few], y_train[few].astype(np.int64) - 5
    target = y_test >= 5
    x_eval, y_eval = x_test[target], y_test[target].astype(np.int64) - 5

    scratch = _compiled(cnn(5, "scratch"), 1e-3)
    scratch.fit(x_few, y_few, epochs=FEW_SHOT_EPOCHS, batch_size=10, verbose=0)
    return {WAYS[0]: _accuracy(scratch, x_eval, y_eval),
            WAYS[1]: _features_and_logistic_regression(source, x_few, y_few, x_eval, y_eval),
            WAYS[2]: _fine_tuned(source, x_few, y_few, x_eval, y_eval)}


def table(results: list) -> str:
    """The markdown table of :func:`run`'s results over seeds."""
    lines = ["| way | mean | per seed |", "|---|---:|---|"]
    for key in WAYS:
        values = [r[key] for r in results]
        lines.append(f"| {key} | {np.mean(values):.3f} | {', '.join(f'{v:.3f}' for v in values)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pretrain", choices=("rotated", "plain"), default="rotated")
    args = parser.parse_args()
    results = [run(seed, args.shots, args.pretrain) for seed in args.seeds]
    print(f"digits 5-9 from {args.shots} examples per class ({args.pretrain} pretraining on 0-4), "
          f"test accuracy over seeds {args.seeds}:")
    print(table(results))


if __name__ == "__main__":
    main()
