"""Balanced metric-learning batches (TripletSampler, PairSampler), rotated classes, one-shot accuracy,
UnitNormalization."""

import numpy as np
import pytest

import kernelscope as ks
from kernelscope import similarity as sim
from kernelscope.autograd import gradcheck


def _data(n_per_class=(6, 5, 7, 4)):
    y = np.concatenate([np.full(n, c) for c, n in enumerate(n_per_class)])
    x = np.arange(len(y), dtype=np.float32).reshape(-1, 1)  # the row number: batches show which samples they took
    return x, y


def test_triplet_batches_are_balanced_and_match_their_labels():
    x, y = _data()
    sampler = sim.TripletSampler(x, y, batch_size=6, classes_per_batch=3, steps_per_epoch=5, seed=0)
    assert len(sampler) == 5 and sampler.samples_per_class == 2
    for xb, labels in sampler:
        assert xb.shape == (6, 1)
        np.testing.assert_array_equal(y[xb[:, 0].astype(int)], labels)  # each label is its sample's
        counts = np.unique(labels, return_counts=True)[1]
        assert len(counts) == 3 and set(counts) == {2}
        for c in np.unique(labels):  # two different samples of the class (every class has more than two)
            assert len(set(xb[labels == c, 0])) == 2
    assert sim.TripletSampler(x, y, batch_size=8, seed=0).classes_per_batch == 2  # about 4 samples per class
    assert sim.TripletSampler(x, y, batch_size=64, seed=0).classes_per_batch == 4  # at most every class
    _, labels = sim.TripletSampler(x, y, batch_size=7, classes_per_batch=3, seed=0)[0]  # 7 = 3 + 2 + 2
    assert sorted(np.unique(labels, return_counts=True)[1]) == [2, 2, 3]
    assert len(sim.TripletSampler(x, y, batch_size=8, seed=0)) == len(x) // 8


def test_sampler_is_seeded_per_epoch_and_index_whatever_the_order():
    x, y = _data()
    a = sim.TripletSampler(x, y, batch_size=4, classes_per_batch=2, steps_per_epoch=4, seed=3)
    b = sim.TripletSampler(x, y, batch_size=4, classes_per_batch=2, steps_per_epoch=4, seed=3)
    first = [a[i][0] for i in range(4)]
    assert all(np.array_equal(first[i], b[i][0]) for i in (3, 1, 0, 2))  # any order, same batches
    a.on_epoch_end()
    assert not all(np.array_equal(first[i], a[i][0]) for i in range(4))  # a new epoch draws new batches
    other = sim.TripletSampler(x, y, batch_size=4, classes_per_batch=2, steps_per_epoch=4, seed=4)
    assert not all(np.array_equal(first[i], other[i][0]) for i in range(4))
    threaded = sim.TripletSampler(x, y, batch_size=4, classes_per_batch=2, steps_per_epoch=4, seed=3, workers=2)
    assert all(np.array_equal(p, q[0]) for p, q in zip(first, threaded))
    ks.utils.set_random_seed(5)
    unseeded = sim.TripletSampler(x, y, batch_size=8, steps_per_epoch=4)[0][0]
    ks.utils.set_random_seed(5)
    np.testing.assert_array_equal(unseeded, sim.TripletSampler(x, y, batch_size=8, steps_per_epoch=4)[0][0])


def test_small_classes_are_drawn_with_replacement_and_augment_sees_the_batch_generator():
    x, y = _data((3, 2))
    seen = []

    def augment(batch, rng):
        seen.append(isinstance(rng, np.random.Generator))
        return batch + 100

    xb, labels = sim.TripletSampler(x, y, batch_size=8, augment=augment, seed=0)[0]
    assert np.all(xb >= 100) and seen == [True]
    assert np.all(np.bincount(labels) == 4)  # 4 of each although class 1 has 2 samples
    with pytest.raises(IndexError, match="out of range"):
        sim.TripletSampler(x, y, batch_size=4, steps_per_epoch=2)[2]


def test_pair_sampler_gives_half_matching_half_different_pairs():
    x, y = _data()
    sampler = sim.PairSampler(x, y, batch_size=8, classes_per_batch=2, steps_per_epoch=3, seed=0)
    for (a, b), different in sampler:
        assert a.shape == b.shape == (8, 1)
        np.testing.assert_array_equal(different, [0] * 4 + [1] * 4)
        np.testing.assert_array_equal(y[a[:, 0].astype(int)] != y[b[:, 0].astype(int)], different.astype(bool))
        assert np.all(a[:4, 0] != b[:4, 0])  # a matching pair is two samples, not one twice


@pytest.mark.parametrize("kwargs, match", [
    ({"y": np.zeros(3)}, r"same length. Received: 22 samples and 3 labels"),
    ({"y": np.zeros(22)}, r"at least two classes .* Received: labels of 1 class"),
    ({"batch_size": 3}, r"`batch_size` must be an integer >= 4. Received: batch_size=3"),
    ({"classes_per_batch": 1}, r"`classes_per_batch` must be an integer >= 2. Received: classes_per_batch=1"),
    ({"classes_per_batch": 5}, r"at most the number of classes, 4. Received: classes_per_batch=5"),
    ({"batch_size": 7, "classes_per_batch": 4}, r"at least two samples of each .* batch_size=7, classes_per_batch=4"),
    ({"steps_per_epoch": 0}, r"`steps_per_epoch` must be an integer >= 1"),
])
def test_sampler_errors(kwargs, match):
    x, y = _data()
    with pytest.raises(ValueError, match=match):
        sim.TripletSampler(x, kwargs.pop("y", y), **kwargs)


def test_sampler_refuses_a_non_callable_augment():
    x, y = _data()
    with pytest.raises(TypeError, match=r"`augment` must be a callable"):
        sim.TripletSampler(x, y, augment="flip")


def test_rotated_classes_turn_each_class_into_four():
    x = np.random.default_rng(0).random((4, 3, 3, 1)).astype(np.float32)
    y = np.array([0, 1, 1, 0])
    images, labels = sim.rotated_classes(x, y)
    assert images.shape == (16, 3, 3, 1)
    np.testing.assert_array_equal(labels, [0, 1, 1, 0, 2, 3, 3, 2, 4, 5, 5, 4, 6, 7, 7, 6])
    np.testing.assert_array_equal(images[:4], x)
    for i in range(4):  # a quarter turn counter-clockwise: pixel (r, c) comes from (c, n - 1 - r)
        expected = [[x[i, c, 2 - r, 0] for c in range(3)] for r in range(3)]
        np.testing.assert_array_equal(images[4 + i, ..., 0], expected)
    np.testing.assert_array_equal(images[8:12], x[:, ::-1, ::-1])  # two turns: upside down
    with pytest.raises(ValueError, match=r"square images. Received: images of 2x3"):
        sim.rotated_classes(np.zeros((2, 2, 3, 1)), [0, 1])
    with pytest.raises(ValueError, match=r"non-negative integer labels"):
        sim.rotated_classes(x, [0.5, 1, 1, 0])
    with pytest.raises(ValueError, match=r"shape \(n, height, width, channels\)"):
        sim.rotated_classes(np.zeros((2, 3)), [0, 1])


def test_shift_batch_moves_every_image_by_the_same_pixels():
    x = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4, 1)
    for seed in range(6):
        out = sim.shift_batch(x, np.random.default_rng(seed), max_shift=1)
        dy, dx = np.random.default_rng(seed).integers(-1, 2, size=2)
        expected = np.zeros_like(x)  # brute force: pixel (r, c) goes to (r + dy, c + dx)
        for r in range(4):
            for c in range(4):
                if 0 <= r + dy < 4 and 0 <= c + dx < 4:
                    expected[:, r + dy, c + dx] = x[:, r, c]
        np.testing.assert_array_equal(out, expected)


def test_one_shot_accuracy_is_nearest_prototype_over_draws():
    from kernelscope.sklearn import OneShotClassifier

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 4)) * 2
    y = np.repeat([5, 6, 7], 10)
    x = (centres[y - 5] + rng.normal(size=(30, 4))).astype(np.float32)
    identity = ks.Sequential([ks.Input((4,)), ks.layers.Dense(4, use_bias=False, kernel_initializer="identity")])
    accuracies = sim.one_shot_accuracy(identity, x, y, x, y, shots=2, draws=5, seed=1)
    draw, expected = np.random.default_rng(1), []  # the same draws, recognised by the scikit-learn classifier
    for _ in range(5):
        chosen = np.concatenate([draw.choice(np.flatnonzero(y == c), 2, replace=False) for c in (5, 6, 7)])
        expected.append(np.mean(OneShotClassifier(identity).fit(x[chosen], y[chosen]).predict(x) == y))
    np.testing.assert_allclose(accuracies, expected)
    with pytest.raises(ValueError, match=r"at least shots=11 support examples. Classes short of them: 5, 6, 7"):
        sim.one_shot_accuracy(identity, x, y, x, y, shots=11)
    with pytest.raises(ValueError, match=r"same length. Received: 30 and 29 support"):
        sim.one_shot_accuracy(identity, x, y[:29], x, y)


def test_unit_normalization_is_keras_and_torch_normalize():
    import torch

    x = np.random.default_rng(0).normal(size=(3, 2, 4))
    layer = ks.layers.UnitNormalization(dtype="float64")
    np.testing.assert_allclose(layer(x).numpy(), torch.nn.functional.normalize(torch.tensor(x), dim=-1).numpy(),
                               rtol=1e-12)
    both = ks.layers.UnitNormalization(axis=[1, 2], dtype="float64")(x).numpy()
    np.testing.assert_allclose(np.sqrt((both ** 2).sum(axis=(1, 2))), 1.0, rtol=1e-12)
    assert gradcheck(lambda t: ks.layers.UnitNormalization(dtype="float64")(t), [x])
    assert gradcheck(lambda t: ks.layers.UnitNormalization(axis=[1, 2], dtype="float64")(t), [x])
    assert np.all(ks.layers.UnitNormalization()(np.zeros((1, 3))).numpy() == 0)  # the zero vector stays 0
    config = ks.layers.UnitNormalization(axis=(1, 2), name="unit").get_config()
    assert config["axis"] == [1, 2] and ks.layers.UnitNormalization.from_config(config).axis == [1, 2]
    with pytest.raises(TypeError, match=r"expected an int or a list/tuple of ints. Received: axis='x'"):
        ks.layers.UnitNormalization(axis="x")
    with pytest.raises(ValueError, match=r"Axis 3 is out of bounds for an input of rank 3"):
        ks.layers.UnitNormalization(axis=3)(x)


def test_unit_normalization_saves_and_loads(tmp_path):
    model = ks.Sequential([ks.Input((3,)), ks.layers.UnitNormalization(name="unit")])
    model.save(tmp_path / "unit.keras")
    x = np.array([[3.0, 4.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(ks.models.load_model(tmp_path / "unit.keras").predict(x, verbose=0), [[0.6, 0.8, 0.0]],
                               rtol=1e-6)
