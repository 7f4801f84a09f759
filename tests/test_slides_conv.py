"""The lecture slides' worked convolution examples, reproduced exactly.

Expected values are the slides' (or, where a slide cell is wrong or only sketched, worked
out by hand in the comments), never produced by kernelscope.
"""

import numpy as np
import pytest

import kernelscope as ks

SLIDE_IMAGE = [[1, 3, 1, 2], [6, 1, 5, 4], [5, 4, 2, 5], [3, 3, 1, 2]]
SLIDE_KERNEL = [[1, 2], [2, 1]]
VERTICAL = [[1, 0, -1]] * 3


def conv(image, kernel, **kwargs) -> np.ndarray:
    """Single-channel convolution of the slides: 2-D image, 2-D kernel, 2-D result."""
    image, kernel = np.asarray(image), np.asarray(kernel)
    y = ks.ops.conv2d(image[None, :, :, None], kernel[:, :, None, None], **kwargs)
    return y.numpy()[0, :, :, 0]


def test_slide_convolution_valid():
    np.testing.assert_array_equal(conv(SLIDE_IMAGE, SLIDE_KERNEL), [[20, 12, 19], [22, 21, 22], [22, 15, 16]])


def test_slide_convolution_padding_1():
    # The slide prints 4 in the second cell of the first row; by hand the window is
    # [[0, 0], [1, 3]] (zero row above, image row 1 below), so 0*1 + 0*2 + 1*2 + 3*1 = 5.
    expected = [[1, 5, 7, 4, 4],
                [8, 20, 12, 19, 10],
                [17, 22, 21, 22, 14],
                [13, 22, 15, 16, 9],
                [6, 9, 5, 5, 2]]
    np.testing.assert_array_equal(conv(SLIDE_IMAGE, SLIDE_KERNEL, padding=1), expected)
    np.testing.assert_array_equal(conv(SLIDE_IMAGE, SLIDE_KERNEL, padding=((1, 1), (1, 1))), expected)


def test_slide_convolution_padding_1_stride_2():
    expected = [[1, 7, 4], [17, 21, 14], [6, 5, 2]]
    np.testing.assert_array_equal(conv(SLIDE_IMAGE, SLIDE_KERNEL, padding=1, strides=2), expected)


def test_vertical_edge_detection_5x6():
    image = [[10, 10, 10, 0, 0, 0]] * 5
    np.testing.assert_array_equal(conv(image, VERTICAL), [[0, 30, 30, 0]] * 3)


def test_vertical_edge_detection_6x6_with_shifted_edge():
    # Rows 1-3 are A = [10,10,10,0,0,0], rows 4-6 are B = [10,10,10,10,0,0].
    # Per row, x[c] - x[c+2] is [0,10,10,0] for A and [0,0,10,10] for B; each output row
    # sums three image rows: AAA, AAB, ABB, BBB.
    image = [[10, 10, 10, 0, 0, 0]] * 3 + [[10, 10, 10, 10, 0, 0]] * 3
    expected = [[0, 30, 30, 0],
                [0, 20, 30, 10],
                [0, 10, 30, 20],
                [0, 0, 30, 30]]
    np.testing.assert_array_equal(conv(image, VERTICAL), expected)


def test_horizontal_edge_detection():
    # Each output row is 3 * (row r - row r+2): 255 - 10 = 245 -> 735 where the window straddles the edge.
    image = [[255] * 6] * 4 + [[10] * 6] * 4
    kernel = [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]
    expected = [[0] * 4, [0] * 4, [735] * 4, [735] * 4, [0] * 4, [0] * 4]
    np.testing.assert_array_equal(conv(image, kernel), expected)


def test_six_by_six_vertical_filter():
    image = [[3, 0, 1, 2, 7, 4],
             [1, 5, 8, 9, 3, 1],
             [2, 7, 2, 5, 1, 3],
             [0, 1, 3, 1, 7, 8],
             [4, 2, 1, 6, 2, 8],
             [2, 4, 5, 2, 3, 9]]
    # Row differences x[c] - x[c+2]:  r0 [2,-2,-6,-2]  r1 [-7,-4,5,8]  r2 [0,2,1,2]
    #                                 r3 [-3,0,-4,-7]  r4 [3,-4,-1,-2] r5 [-3,2,2,-7]
    # Output row i = r_i + r_{i+1} + r_{i+2}.
    expected = [[-5, -4, 0, 8],
                [-10, -2, 2, 3],
                [0, -2, -4, -7],
                [-3, -2, -3, -16]]
    result = conv(image, VERTICAL)
    assert result[0, 0] == -5
    np.testing.assert_array_equal(result, expected)


def test_box_filter_averages_a_ramp():
    # The mean of any 3x3 window of the ramp 5*row + col is its centre value.
    image = np.add.outer(5 * np.arange(5), np.arange(5)).astype(np.float64)
    np.testing.assert_allclose(conv(image, np.ones((3, 3)) / 9), image[1:-1, 1:-1], rtol=1e-12)


def test_multi_channel_multi_filter():
    image = np.stack([np.array(SLIDE_IMAGE), np.ones((4, 4), int), np.eye(4, dtype=int)], axis=-1)  # 4x4x3
    kernel = np.zeros((2, 2, 3, 2), int)
    kernel[:, :, 0, 0] = SLIDE_KERNEL
    kernel[:, :, 1, 0] = [[1, 0], [0, 0]]
    kernel[:, :, 2, 0] = [[0, 0], [0, -1]]
    kernel[:, :, 1, 1] = 1
    kernel[:, :, 2, 1] = 1
    y = ks.ops.conv2d(image[None], kernel).numpy()[0]
    assert y.shape == (3, 3, 2)
    # Cell (1, 2), filter 0: channel 0 window [[5,4],[2,5]] -> 5+8+4+5 = 22; channel 1 -> 1;
    # channel 2 window of eye(4) is [[0,0],[1,0]] -> -1 * 0 = 0.  Total 23.
    assert y[1, 2, 0] == 22 + 1 + 0
    # Filter 1 sums channels 1 and 2 over the window: 4 ones + one diagonal 1.
    assert y[1, 2, 1] == 4 + 1


@pytest.mark.parametrize("n,f,p,s,expected", [
    (4, 2, 0, 1, 3), (4, 2, 1, 1, 5), (4, 2, 1, 2, 3), (6, 3, 0, 1, 4), (5, 3, 0, 1, 3),
    (7, 3, 1, 2, 4), (32, 5, 2, 1, 32), (28, 5, 0, 1, 24), (5, 3, 0, 2, 2), (8, 3, 0, 1, 6),
])
def test_output_size_formula(n, f, p, s, expected):
    # floor((n + 2p - f) / s) + 1, with the expected sizes worked out by hand.
    assert (n + 2 * p - f) // s + 1 == expected
    y = ks.ops.conv2d(np.zeros((1, n, n, 1)), np.zeros((f, f, 1, 1)), strides=s, padding=p)
    assert y.shape == (1, expected, expected, 1)
