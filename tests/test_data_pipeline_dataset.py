"""kernelscope.data.Dataset: the tf.data subset, checked against plain NumPy slicing."""

import numpy as np
import pytest

import kernelscope as ks
from kernelscope import data as tf_data

X = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
Y = np.arange(10) % 3


def _rows(ds):
    return [np.asarray(e) for e in ds]


def test_from_tensor_slices_structures():
    pairs = list(tf_data.Dataset.from_tensor_slices((X, Y)))
    assert len(pairs) == 10
    np.testing.assert_array_equal(pairs[4][0], X[4])
    assert pairs[4][1] == Y[4]
    named = next(iter(tf_data.Dataset.from_tensor_slices({"image": X, "label": Y})))
    assert set(named) == {"image", "label"}
    # a list is one array (as tf.data), so a list of paths slices into strings
    paths = list(tf_data.Dataset.from_tensor_slices(["a.png", "b.png"]))
    assert [str(p) for p in paths] == ["a.png", "b.png"]


def test_batch_values_and_cardinality():
    ds = tf_data.Dataset.from_tensor_slices((X, Y)).batch(4)
    assert len(ds) == 3 and ds.cardinality() == 3
    batches = list(ds)
    np.testing.assert_array_equal(batches[1][0], X[4:8])
    np.testing.assert_array_equal(batches[2][1], Y[8:])
    dropped = tf_data.Dataset.from_tensor_slices(X).batch(4, drop_remainder=True)
    assert len(dropped) == 2 and [b.shape for b in dropped] == [(4, 3), (4, 3)]


def test_unbatch_inverts_batch():
    ds = tf_data.Dataset.from_tensor_slices((X, Y)).batch(3).unbatch()
    assert ds.cardinality() == tf_data.UNKNOWN_CARDINALITY
    xs, ys = zip(*ds)
    np.testing.assert_array_equal(np.stack(xs), X)
    np.testing.assert_array_equal(np.array(ys), Y)


def test_each_iteration_is_a_new_pass():
    ds = tf_data.Dataset.from_tensor_slices(X).batch(5)
    assert len(list(ds)) == 2 and len(list(ds)) == 2


def test_shuffle_is_a_permutation_reshuffled_each_pass():
    ds = tf_data.Dataset.from_tensor_slices(np.arange(50)).shuffle(50, seed=1)
    first, second = _rows(ds), _rows(ds)
    assert sorted(first) == list(range(50)) and sorted(second) == list(range(50))
    assert first != second
    fixed = tf_data.Dataset.from_tensor_slices(np.arange(50)).shuffle(50, seed=1, reshuffle_each_iteration=False)
    assert _rows(fixed) == _rows(fixed)
    again = tf_data.Dataset.from_tensor_slices(np.arange(50)).shuffle(50, seed=1)
    assert _rows(again) == first  # the same seed gives the same sequence of passes


def test_shuffle_buffer_bounds_how_far_an_element_moves_forward():
    order = _rows(tf_data.Dataset.from_tensor_slices(np.arange(100)).shuffle(5, seed=0))
    assert sorted(order) == list(range(100))
    # the k-th output is drawn from a buffer holding inputs up to index k + 4
    assert all(value <= k + 4 for k, value in enumerate(order))
    assert _rows(tf_data.Dataset.from_tensor_slices(np.arange(9)).shuffle(1)) == list(range(9))


def test_unseeded_shuffle_repeats_after_set_random_seed():
    def orders():
        ks.utils.set_random_seed(3)
        ds = tf_data.Dataset.from_tensor_slices(np.arange(30)).shuffle(30)
        return _rows(ds) + _rows(ds)
    assert orders() == orders()


def test_take_skip_repeat_concatenate_range():
    ds = tf_data.Dataset.range(10)
    assert _rows(ds.take(3)) == [0, 1, 2] and ds.take(3).cardinality() == 3
    assert _rows(ds.skip(8)) == [8, 9] and len(ds.skip(8)) == 2
    assert _rows(ds.skip(20)) == [] and len(ds.skip(-1)) == 0 and len(ds.take(-1)) == 10
    assert _rows(ds.take(2).repeat(3)) == [0, 1] * 3 and len(ds.take(2).repeat(3)) == 6
    forever = ds.repeat()
    assert forever.cardinality() == tf_data.INFINITE_CARDINALITY
    assert _rows(forever.take(25)) == (list(range(10)) * 3)[:25] and len(forever.take(25)) == 25
    assert _rows(ds.take(2).concatenate(ds.skip(8))) == [0, 1, 8, 9]
    assert _rows(ds.take(0).repeat()) == []  # empty forever is empty, not a hang


def test_zip_forms_and_shortest_length():
    a, b = tf_data.Dataset.range(5), tf_data.Dataset.from_tensor_slices(X)
    for zipped in (tf_data.Dataset.zip((a, b)), tf_data.Dataset.zip(a, b)):
        assert len(zipped) == 5
        i, row = list(zipped)[3]
        assert i == 3
        np.testing.assert_array_equal(row, X[3])
    named = tf_data.Dataset.zip({"a": a, "b": b.repeat()})
    assert len(named) == 5 and set(next(iter(named))) == {"a", "b"}


def test_map_passes_tuple_elements_as_arguments_and_returns_arrays():
    ds = tf_data.Dataset.from_tensor_slices((X, Y)).map(lambda x, y: (ks.ops.relu(x - 10.0), y * 2),
                                                        num_parallel_calls=tf_data.AUTOTUNE)
    x, y = list(ds)[2]
    assert isinstance(x, np.ndarray)
    np.testing.assert_allclose(x, np.maximum(X[2] - 10.0, 0.0))
    assert y == Y[2] * 2 and len(ds) == 10


def test_map_with_a_layer_on_batches():
    images = np.ones((6, 4, 4, 3), np.float32) * 255
    scale = ks.layers.Rescaling(1.0 / 255)
    ds = tf_data.Dataset.from_tensor_slices((images, Y[:6])).batch(4).map(lambda x, y: (scale(x), y))
    batches = list(ds.prefetch(tf_data.AUTOTUNE))
    assert batches[0][0].shape == (4, 4, 4, 3)
    np.testing.assert_allclose(batches[1][0], 1.0, rtol=1e-6)


def test_filter():
    ds = tf_data.Dataset.range(10).filter(lambda v: v % 3 == 0)
    assert _rows(ds) == [0, 3, 6, 9] and ds.cardinality() == tf_data.UNKNOWN_CARDINALITY


def test_cache_replays_the_first_pass():
    calls = []
    ds = tf_data.Dataset.range(4).map(lambda v: calls.append(int(v)) or v * 10).cache()
    assert _rows(ds) == [0, 10, 20, 30] and _rows(ds) == [0, 10, 20, 30]
    assert calls == [0, 1, 2, 3]


def test_len_of_infinite_and_unknown_and_bool():
    forever = tf_data.Dataset.range(3).repeat()
    with pytest.raises(TypeError, match="The dataset is infinite."):
        len(forever)
    with pytest.raises(TypeError, match="The dataset length is unknown."):
        len(tf_data.Dataset.range(3).filter(lambda v: True))
    assert bool(forever) and bool(tf_data.Dataset.range(0))


def test_argument_errors():
    with pytest.raises(ValueError, match=r"same size along their first axis. Received shapes: \[\(10, 3\), \(4,\)\]"):
        tf_data.Dataset.from_tensor_slices((X, Y[:4]))
    with pytest.raises(ValueError, match=r"rank >= 1 .* Received shapes: \[\(\)\]"):
        tf_data.Dataset.from_tensor_slices(3.0)
    with pytest.raises(ValueError, match=r"`batch_size` must be a positive integer. Received: batch_size=0"):
        tf_data.Dataset.range(3).batch(0)
    with pytest.raises(ValueError, match=r"`buffer_size` must be a positive integer. Received: buffer_size=-1"):
        tf_data.Dataset.range(3).shuffle(-1)
    with pytest.raises(ValueError, match=r"`count` must be an integer >= -1. Received: count=-2"):
        tf_data.Dataset.range(3).take(-2)
    with pytest.raises(ValueError, match=r"`num_parallel_calls` must be an integer >= -1. Received: num_parallel"):
        tf_data.Dataset.range(3).map(abs, num_parallel_calls="many")
    with pytest.raises(ValueError, match=r"in memory only: `filename` must be ''. Received: filename='c.tmp'"):
        tf_data.Dataset.range(3).cache("c.tmp")
    with pytest.raises(TypeError, match=r"takes Datasets .* Received: \['ndarray'\]"):
        tf_data.Dataset.zip(X)
    with pytest.raises(TypeError, match="`dataset` must be a Dataset. Received: list"):
        tf_data.Dataset.range(3).concatenate([1])
    with pytest.raises(ValueError, match=r"`batch` needs elements of one shape.*Received shapes: \[\(1,\), \(2,\)\]"):
        list(tf_data.Dataset.range(1, 3).map(lambda v: np.ones(int(v))).batch(2))
    with pytest.raises(ValueError, match="`unbatch` needs elements whose arrays share a first axis"):
        list(tf_data.Dataset.range(3).unbatch())


def test_unimplemented_tf_data_names_are_clear_attribute_errors():
    with pytest.raises(AttributeError, match=r"Dataset has no `padded_batch`: it implements a small part"):
        tf_data.Dataset.range(3).padded_batch(2)
    with pytest.raises(AttributeError, match=r"kernelscope.data has no `TFRecordDataset`"):
        tf_data.TFRecordDataset
