"""model.summary() and parameter counts, checked against Keras's formulas by hand."""

import numpy as np
import pytest

import kernelscope as ks
from kernelscope.models.summary import readable_memory_size

L = ks.layers


def slides_net():
    return ks.Sequential([
        ks.Input((28, 28, 1)),
        L.Conv2D(32, 5, activation="relu", name="conv1"),
        L.MaxPool2D(2, strides=2, name="pool1"),
        L.Conv2D(64, 3, activation="relu", name="conv2"),
        L.MaxPool2D(2, strides=2, name="pool2"),
        L.Flatten(name="flatten"),
        L.Dense(256, activation="relu", name="fc1"),
        L.Dense(10, activation="softmax", name="fc2"),
    ])


def capture(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


def test_slides_net_counts_by_hand():
    model = slides_net()
    # conv1: (5*5*1 + 1) * 32 = 832          -> (None, 24, 24, 32)
    # pool1: 0                               -> (None, 12, 12, 32)
    # conv2: (3*3*32 + 1) * 64 = 18,496      -> (None, 10, 10, 64)
    # pool2: 0                               -> (None, 5, 5, 64)
    # flatten: 5*5*64 = 1600 features, 0 params
    # fc1: (1600 + 1) * 256 = 409,856
    # fc2: (256 + 1) * 10 = 2,570
    # total = 832 + 18,496 + 409,856 + 2,570 = 431,754 (x 4 bytes = 1,727,016 B = 1.65 MB)
    assert [layer.count_params() for layer in model.layers] == [832, 0, 18496, 0, 0, 409856, 2570]
    assert model.count_params() == 431754
    text = "\n".join(capture(model))
    assert 'Model: "sequential' in text
    for row in ["conv1 (Conv2D)", "(None, 24, 24, 32)", "832", "(None, 12, 12, 32)", "18,496",
                "(None, 5, 5, 64)", "(None, 1600)", "409,856", "2,570"]:
        assert row in text
    assert " Total params: 431,754 (1.65 MB)" in text
    assert " Trainable params: 431,754 (1.65 MB)" in text
    assert " Non-trainable params: 0 (0.00 B)" in text
    assert "Connected to" not in text
    assert "InputLayer" not in text  # Sequential lists only the added layers, as Keras


def test_keras_doc_example_18496():
    model = ks.Sequential([ks.Input((28, 28, 32)), L.Conv2D(64, 3)])
    lines = capture(model, line_length=88)
    assert " Total params: 18,496 (72.25 KB)" in lines  # 18,496 * 4 B / 1024 = 72.25 KB
    header = next(line for line in lines if "Layer (type)" in line)
    assert len(header) == 88 and header.startswith("┃ Layer (type)") and header.rstrip().endswith("Param # ┃")
    assert all(len(line) == 88 for line in lines[1:-3])


def test_batchnorm_non_trainable_counts():
    model = ks.Sequential([ks.Input((8, 8, 3)), L.Conv2D(8, 3), L.BatchNormalization()])
    # conv: (3*3*3 + 1) * 8 = 224; BN: 4 * 8 = 32 of which gamma, beta (16) train,
    # moving mean and variance (16) do not
    text = "\n".join(capture(model))
    assert " Total params: 256 (1.00 KB)" in text
    assert " Trainable params: 240 (960.00 B)" in text
    assert " Non-trainable params: 16 (64.00 B)" in text


def test_frozen_layer_counts_as_non_trainable():
    model = ks.Sequential([ks.Input((4,)), L.Dense(3, name="a"), L.Dense(2, name="b")])
    model.get_layer("a").trainable = False
    text = "\n".join(capture(model))
    # a: (4+1)*3 = 15 frozen; b: (3+1)*2 = 8 trainable
    assert " Trainable params: 8 (32.00 B)" in text
    assert " Non-trainable params: 15 (60.00 B)" in text


def test_functional_summary_connected_to():
    ks.utils.clear_session()
    a = ks.Input((4,), name="left")
    b = ks.Input((4,), name="right")
    shared = L.Dense(8, name="shared")
    merged = L.Add(name="add")([shared(a), shared(b)])
    model = ks.Model([a, b], L.Dense(1, name="out")(merged))
    text = "\n".join(capture(model, line_length=108))
    assert "Connected to" in text
    assert "left (InputLayer)" in text and "(None, 4)" in text
    assert "left[0][0], right[0][0]" in text  # the shared layer's two calls
    assert "shared[0][0], shared[1][0]" in text
    # shared: (4+1)*8 = 40 (counted once); out: (8+1)*1 = 9
    assert " Total params: 49 (196.00 B)" in text


def test_functional_chain_has_no_connected_to_column():
    x = ks.Input((3,))
    model = ks.Model(x, L.Dense(2)(L.Dense(4)(x)))
    text = "\n".join(capture(model))
    assert "Connected to" not in text and "(InputLayer)" in text
    assert " Total params: 26 (104.00 B)" in text  # (3+1)*4 + (4+1)*2


def test_unbuilt_layer_and_model():
    model = ks.Sequential([L.Dense(3)])
    with pytest.raises(ValueError, match="has not yet been built"):
        model.summary()


def test_readable_memory_size():
    assert readable_memory_size(0) == "0.00 B"
    assert readable_memory_size(1023) == "1023.00 B"
    assert readable_memory_size(73984) == "72.25 KB"
    assert readable_memory_size(3 * 1024 ** 2) == "3.00 MB"


def test_line_length_too_small():
    model = ks.Sequential([ks.Input((3,)), L.Dense(2)])
    with pytest.raises(ValueError, match="too narrow"):
        model.summary(line_length=10, print_fn=lambda s: None)


def test_nested_model_counts():
    inner = ks.Sequential([ks.Input((4,)), L.Dense(5), L.Dense(3)], name="inner")
    x = ks.Input((4,))
    model = ks.Model(x, L.Dense(2)(inner(x)))
    # inner: (4+1)*5 + (5+1)*3 = 43; head: (3+1)*2 = 8
    assert model.count_params() == 51
    text = "\n".join(capture(model))
    assert "inner (Sequential)" in text and "43" in text
    inner.trainable = False
    assert " Non-trainable params: 43 (172.00 B)" in "\n".join(capture(model))
    assert np.sum([w.size for w in model.get_weights()]) == 51
