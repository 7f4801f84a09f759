"""Fine-tuning with Keras 3 semantics: a frozen nested base (BatchNormalization included) does not move in fit."""

import numpy as np

import kernelscope as ks


def _base():
    return ks.Sequential([ks.Input((8, 8, 1)), ks.layers.Conv2D(4, 3, name="conv"),
                          ks.layers.BatchNormalization(name="bn"), ks.layers.ReLU(),
                          ks.layers.GlobalAveragePooling2D()], name="base")


def test_frozen_base_and_its_batch_norm_stay_bitwise_unchanged_while_the_head_trains():
    ks.utils.set_random_seed(0)
    base = _base()
    inputs = ks.Input((8, 8, 1))
    model = ks.Model(inputs, ks.layers.Dense(3, activation="softmax", name="head")(base(inputs)))
    (x, y), _ = ks.datasets.load_digits()
    x, y = x[:200], y[:200] % 3
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)  # BN statistics move while the base is trainable
    base.trainable = False
    model.compile("adam", "sparse_categorical_crossentropy")  # recompile after (un)freezing, as Keras asks
    frozen = [w.copy() for w in base.get_weights()]
    head = [w.copy() for w in model.get_layer("head").get_weights()]
    model.fit(x, y, epochs=2, verbose=0)
    for before, after in zip(frozen, base.get_weights()):
        np.testing.assert_array_equal(before, after)  # kernel, bias, gamma, beta, moving mean and variance
    assert not np.array_equal(head[0], model.get_layer("head").get_weights()[0])
    params = base.count_params()
    assert sum(w.size for w in model.non_trainable_weights) == params
    assert sum(w.size for w in model.trainable_weights) == model.count_params() - params

    base.trainable = True  # unfreezing: everything but the moving statistics trains again
    model.compile(ks.optimizers.Adam(1e-4), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(frozen[0], base.get_weights()[0])
    assert sum(w.size for w in model.non_trainable_weights) == 2 * 4  # moving mean and variance of 4 channels
