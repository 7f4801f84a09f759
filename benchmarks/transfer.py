"""The offline transfer-learning yardstick (no ImageNet weights here): digits 0-4 teach digits 5-9.

A CNN is trained on the bundled digits 0-4. Digits 5-9 are then learnt from
only ``--shots`` labelled examples per class, three ways:

- scratch: the same CNN, freshly initialised, trained on those few examples;
- features + logistic regression: the 0-4 network's penultimate layer as a
  fixed feature transformer (``ks.sklearn.FeatureExtractor``) feeding
  scikit-learn's ``LogisticRegression`` (the teachable machine);
- fine-tuned: the 0-4 network with a new 5-class head, trained on the few
  examples with the convolutions first frozen, then unfrozen at a lower rate.

Accuracy is measured on the test digits 5-9, averaged over seeds.

    python benchmarks/transfer.py [--shots 10] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse

import numpy as np

import kernelscope as ks
from kernelscope.sklearn import FeatureExtractor


def _cnn(classes: int, name: str):
    return ks.Sequential([
        ks.Input((8, 8, 1)),
        ks.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1"),
        ks.layers.MaxPooling2D(2, name="pool1"),
        ks.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2"),
        ks.layers.GlobalAveragePooling2D(name="features"),
        ks.layers.Dense(classes, activation="softmax", name="predictions"),
    ], name=name)


def _compiled(model, learning_rate: float):
    model.compile(optimizer=ks.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _accuracy(model, x, y) -> float:
    return float(np.mean(np.argmax(model.predict(x, verbose=0), axis=1) == y))


def run(seed: int, shots: int = 10) -> dict:
    """Test accuracy on digits 5-9 of the three ways, for one seed."""
    from sklearn.linear_model import LogisticRegression

    (x_train, y_train), (x_test, y_test) = ks.datasets.load_digits()
    ks.utils.set_random_seed(seed)
    source = _compiled(_cnn(5, "source"), 1e-3)
    seen = y_train < 5
    source.fit(x_train[seen], y_train[seen], epochs=20, batch_size=32, verbose=0)

    rng = np.random.default_rng(seed)
    few = np.concatenate([rng.choice(np.flatnonzero(y_train == c), shots, replace=False) for c in range(5, 10)])
    x_few, y_few = x_train[few], y_train[few] - 5
    target = y_test >= 5
    x_eval, y_eval = x_test[target], y_test[target] - 5

    scratch = _compiled(_cnn(5, "scratch"), 1e-3)
    scratch.fit(x_few, y_few, epochs=100, batch_size=10, verbose=0)

    features = FeatureExtractor(source, layer="features").fit(x_few)
    logistic = LogisticRegression(max_iter=2000).fit(features.transform(x_few), y_few)
    feature_accuracy = float(np.mean(logistic.predict(features.transform(x_eval)) == y_eval))

    tuned = _cnn(5, "tuned")
    tuned.build((None, 8, 8, 1))
    for layer, trained in zip(tuned.layers[:-1], source.layers[:-1]):
        layer.set_weights(trained.get_weights())
    for layer in tuned.layers[:-1]:
        layer.trainable = False  # first train the new head alone, then everything at a lower rate
    _compiled(tuned, 1e-2).fit(x_few, y_few, epochs=50, batch_size=10, verbose=0)
    for layer in tuned.layers:
        layer.trainable = True
    _compiled(tuned, 1e-4).fit(x_few, y_few, epochs=30, batch_size=10, verbose=0)

    return {"scratch": _accuracy(scratch, x_eval, y_eval), "features + logistic regression": feature_accuracy,
            "fine-tuned": _accuracy(tuned, x_eval, y_eval)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    results = [run(seed, args.shots) for seed in args.seeds]
    print(f"digits 5-9 from {args.shots} examples per class, test accuracy over seeds {args.seeds}:")
    print("| way | mean | per seed |\n|---|---:|---|")
    for key in results[0]:
        values = [r[key] for r in results]
        print(f"| {key} | {np.mean(values):.3f} | {', '.join(f'{v:.3f}' for v in values)} |")


if __name__ == "__main__":
    main()
