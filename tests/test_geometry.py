"""kernelscope.geometry against Keras 3's own shape rules (keras==3.15.1, torch backend) and the ops' outputs."""

import itertools
import os

import numpy as np
import pytest

import kernelscope as ks
from kernelscope import geometry as G

os.environ.setdefault("KERAS_BACKEND", "torch")
from keras.src.backend.common.backend_utils import compute_conv_transpose_output_shape  # noqa: E402
from keras.src.backend.torch.nn import _compute_padding_length  # noqa: E402
from keras.src.ops.operation_utils import compute_conv_output_shape  # noqa: E402

GRID = list(itertools.product(range(1, 10), range(1, 5), range(1, 4), (1, 2), ("valid", "same")))


@pytest.mark.parametrize("n, k, s, d, padding", GRID)
def test_output_length_is_keras_compute_conv_output_shape(n, k, s, d, padding):
    if padding == "valid" and n < G.span(k, d):
        with pytest.raises(ValueError):  # Keras refuses an empty output too
            compute_conv_output_shape((1, n, n, 1), 1, (k, k), s, padding, dilation_rate=d)
        assert G.output_length(n, k, s, padding, d) < 1
        return
    keras_shape = compute_conv_output_shape((1, n, n, 1), 1, (k, k), s, padding, dilation_rate=d)
    assert G.output_hw((n, n), (k, k), (s, s), padding, (d, d)) == tuple(keras_shape[1:3])


@pytest.mark.parametrize("n, k, s, d", [(n, k, s, d) for n, k, s, d, _ in GRID[::2]])
def test_same_padding_is_tensorflows_split_and_gives_ceil_n_over_s(n, k, s, d):
    pads = G.same_padding(n, k, s, d)
    assert pads == _compute_padding_length(n, k, s, d)
    assert G.output_length(n, k, s, pads, d) == -(-n // s) == G.output_length(n, k, s, "same", d)


@pytest.mark.parametrize("n, k, s, d, padding", GRID[::3])
def test_transpose_output_length_is_keras(n, k, s, d, padding):
    for output_padding in (None, *range(s)):
        keras_shape = compute_conv_transpose_output_shape((1, n, n, 1), (k, k), 1, s, padding, output_padding,
                                                          dilation_rate=d)
        assert G.transpose_output_length(n, k, s, padding, output_padding, d) == keras_shape[1]


@pytest.mark.parametrize("padding", ["valid", "same", 1, (0, 2), ((1, 0), (2, 1))])
def test_the_ops_output_shapes_follow_geometry(padding):
    x, kernel = np.zeros((1, 9, 7, 2)), np.zeros((3, 2, 2, 4))
    mode = G.normalize_padding(padding)
    expected = G.output_hw((9, 7), (3, 2), (2, 1), mode, (1, 2))
    assert ks.ops.conv2d(x, kernel, strides=(2, 1), padding=padding, dilation_rate=(1, 2)).shape[1:3] == expected
    layer = ks.layers.Conv2D(4, (3, 2), strides=(2, 1), padding=padding)
    assert layer.compute_output_shape((None, 9, 7, 2))[1:3] == G.output_hw((9, 7), (3, 2), (2, 1), mode)
    if isinstance(padding, str):
        pooled = ks.ops.max_pool2d(x, (3, 2), strides=2, padding=padding).shape[1:3]
        assert pooled == G.output_hw((9, 7), (3, 2), (2, 2), padding)
        up = ks.ops.conv2d_transpose(x, np.zeros((3, 2, 4, 2)), strides=2, padding=padding).shape[1:3]
        assert up == tuple(G.transpose_output_length(n, k, 2, padding) for n, k in zip((9, 7), (3, 2)))


def test_unknown_lengths_stay_unknown():
    assert G.output_hw((None, 5), (3, 3), (1, 1), "valid") == (None, 3)
    assert G.transpose_output_length(None, 3, 2, "same") is None


def test_resolve_padding_and_transpose_crops():
    assert G.resolve_padding("valid", (5, 5), (3, 3), (1, 1)) == ((0, 0), (0, 0))
    assert G.resolve_padding("same", (5, 6), (3, 3), (1, 2)) == ((1, 1), (0, 1))
    assert G.resolve_padding(((1, 2), (3, 4)), (5, 5), (3, 3), (1, 1)) == ((1, 2), (3, 4))
    # "same", stride 2, k 3: the full output (n-1)*2 + 3 loses K - s = 1 row; Keras's implicit padding
    # puts ceil(pad/2) = 2 = K - 1 rows first, so nothing is cropped at the top and one row at the bottom
    assert G.transpose_crops(3, 2, "same") == (0, 1)
    assert G.transpose_crops(3, 2, (1, 1), output_padding=1) == (1, 0)


def test_integer_checks_refuse_bools_and_name_the_argument():
    assert G.is_int(np.int64(3)) and not G.is_int(True) and not G.is_int(2.0)
    assert G.check_int(np.int32(4), "n") == 4 and type(G.check_int(np.int32(4), "n")) is int
    with pytest.raises(ValueError, match=r"`n` must be an integer >= 1\. Received: n=True\."):
        G.check_int(True, "n")
    with pytest.raises(ValueError, match=r"`workers` must be a positive integer\. Received: workers=0\."):
        G.check_int(0, "workers", expected="a positive integer")
    with pytest.raises(ValueError, match=r'`padding` must be "valid" or "same" for Conv3D\. Received: padding=2\.'):
        G.padding_mode(2, "Conv3D")
    assert G.padding_mode("SAME") == "same"
    assert G.standardize_tuple(3, 2, "strides") == (3, 3)
