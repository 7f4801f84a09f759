"""Make tests/fixtures/keras/: a small Keras model's weight files and its outputs.

Run once with real Keras (not a kernelscope dependency), e.g.::

    python -m venv /tmp/kerasenv
    /tmp/kerasenv/bin/pip install keras==3.15.1 jax==0.10.2 jaxlib==0.10.2 h5py
    KERAS_BACKEND=jax /tmp/kerasenv/bin/python scripts/make_keras_fixture.py

It writes ``small.weights.h5`` (Keras 3), ``small.keras`` (Keras 3 zip),
``small.h5`` (legacy HDF5 via ``model.save``) and ``small_io.npz`` (input
``x``, Keras's inference output ``y``, Keras version). tests/test_interop.py
builds the same architecture in kernelscope, loads each file and compares.
"""

import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "keras"


def build() -> keras.Model:
    """The architecture tests/test_interop.py mirrors (same layer order and names)."""
    inputs = keras.Input((10, 10, 3), name="image")
    x = layers.Conv2D(6, 3, strides=2, padding="same", name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(6.0)(x)
    x = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x)
    x = layers.BatchNormalization(center=False)(x)
    # The shortcut is created first but Keras lists the main branch first (Add's first input).
    shortcut = layers.Conv2D(8, 1, name="shortcut")(x)
    main = layers.Conv2D(8, 3, padding="same", activation="relu", name="main")(x)
    x = layers.Add()([main, shortcut])
    x = layers.SeparableConv2D(8, 3, padding="same", depth_multiplier=2, activation="swish")(x)
    block = keras.Sequential([keras.Input((5, 5, 8)), layers.Conv2D(4, 3, padding="same"),
                              layers.BatchNormalization(epsilon=0.01)], name="block")
    x = block(x)
    x = layers.Conv2DTranspose(3, 3, strides=2, padding="same")(x)
    x = layers.AveragePooling2D(3, strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(6, activation="gelu")(x)
    outputs = layers.Dense(4, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="small")


def main() -> None:
    rng = np.random.default_rng(2024)
    model = build()
    weights = []
    for w in model.weights:
        shape = tuple(w.shape)
        if w.name == "moving_variance":
            weights.append(rng.uniform(0.5, 1.5, shape))
        elif w.name == "gamma":
            weights.append(rng.uniform(0.5, 1.5, shape))
        else:
            weights.append(rng.normal(0.0, 0.4, shape))
    model.set_weights([w.astype("float32") for w in weights])
    x = rng.normal(size=(3, 10, 10, 3)).astype("float32")
    y = np.asarray(model.predict(x, verbose=0))
    OUT.mkdir(parents=True, exist_ok=True)
    model.save_weights(OUT / "small.weights.h5")
    model.save(OUT / "small.keras")
    model.save(OUT / "small.h5")  # Keras 3 writes the legacy HDF5 layout for .h5
    np.savez(OUT / "small_io.npz", x=x, y=y, keras_version=keras.__version__,
             backend=keras.backend.backend(), layer_names=np.array([l.name for l in model.layers]))
    print("wrote", sorted(p.name for p in OUT.iterdir()), "keras", keras.__version__)


if __name__ == "__main__":
    main()
