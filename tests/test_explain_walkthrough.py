"""Walkthroughs and arithmetic of ks.explain, checked against the lecture slides and hand calculation.

Expected values are the slides' (lecture notes 001 and 004) or worked out by hand in
the comments; ``ks.ops`` serves as the reference only for the random-input checks that
the walkthrough's own products and sums add up to what the ops compute.
"""

import itertools

import numpy as np
import pytest

import kernelscope as ks

SLIDE_IMAGE = [[1, 3, 1, 2], [6, 1, 5, 4], [5, 4, 2, 5], [3, 3, 1, 2]]
SLIDE_KERNEL = [[1, 2], [2, 1]]
SIX_BY_SIX = [[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
              [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]]
VERTICAL = [[1, 0, -1]] * 3
HORIZONTAL = [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]


def assert_cells(walk, expected):
    """Every cell's own sum (window x kernel, added up) equals the slide's number."""
    expected = np.asarray(expected, dtype=float)
    assert walk.output.shape == expected.shape
    for i, j in itertools.product(*map(range, expected.shape)):
        cell = walk.cell(i, j)
        np.testing.assert_array_equal(cell.products, cell.window * cell.kernel)
        assert cell.total == expected[i, j], (i, j, cell.formula())
        assert cell.output == expected[i, j]


# ------------------------------------------------------------ the slides


def test_slide_convolution_cell_by_cell():
    walk = ks.explain.convolution(SLIDE_IMAGE, SLIDE_KERNEL)
    assert_cells(walk, [[20, 12, 19], [22, 21, 22], [22, 15, 16]])
    cell = walk.cell(0, 0)
    np.testing.assert_array_equal(cell.window[:, :, 0], [[1, 3], [6, 1]])
    np.testing.assert_array_equal(cell.products[:, :, 0], [[1, 6], [12, 1]])  # 1x1, 3x2, 6x2, 1x1
    assert walk.formula(0, 0, order="rows") == "1x1 + 3x2 + 6x2 + 1x1 = 20"
    assert walk.formula(2, 1, order="rows") == "4x1 + 2x2 + 3x2 + 1x1 = 15"
    assert walk.size_formulas() == ("n_H = floor((4 + 2*0 - 2)/1) + 1 = 3", "n_W = floor((4 + 2*0 - 2)/1) + 1 = 3")


def test_slide_convolution_with_padding():
    walk = ks.explain.convolution(SLIDE_IMAGE, SLIDE_KERNEL, padding=1)
    # The slide prints 4 in row 1, column 2; by hand the window is [[0, 0], [1, 3]]:
    # 0x1 + 0x2 + 1x2 + 3x1 = 5. Every other cell is the slide's.
    assert_cells(walk, [[1, 5, 7, 4, 4], [8, 20, 12, 19, 10], [17, 22, 21, 22, 14],
                        [13, 22, 15, 16, 9], [6, 9, 5, 5, 2]])
    assert walk.formula(0, 1, order="rows") == "0x1 + 0x2 + 1x2 + 3x1 = 5"
    np.testing.assert_array_equal(walk.cell(0, 0).padding, [[True, True], [True, False]])
    assert walk.padded.shape == (6, 6, 1) and walk.padding_mask.sum() == 36 - 16


def test_slide_convolution_with_padding_and_stride():
    walk = ks.explain.convolution(SLIDE_IMAGE, SLIDE_KERNEL, padding=1, strides=2)
    assert_cells(walk, [[1, 7, 4], [17, 21, 14], [6, 5, 2]])
    assert walk.size_formulas()[0] == "n_H = floor((4 + 2*1 - 2)/2) + 1 = 3"
    assert walk.formula(1, 0, order="rows") == "0x1 + 6x2 + 0x2 + 5x1 = 17"


def test_slide_six_by_six_first_cell_written_out():
    walk = ks.explain.convolution(SIX_BY_SIX, VERTICAL)
    assert walk.output.shape == (4, 4)
    assert walk.formula(0, 0) == "3x1 + 1x1 + 2x1 + 0x0 + 5x0 + 7x0 + 1x-1 + 8x-1 + 2x-1 = -5"
    # Second cell by hand: columns (0, 5, 7), (1, 8, 2), (2, 9, 5): 12 - 16 = -4.
    assert walk.formula(0, 1) == "0x1 + 5x1 + 7x1 + 1x0 + 8x0 + 2x0 + 2x-1 + 9x-1 + 5x-1 = -4"


def test_slide_vertical_edge():
    walk = ks.explain.convolution([[10, 10, 10, 0, 0, 0]] * 5, VERTICAL)
    assert_cells(walk, [[0, 30, 30, 0]] * 3)


def test_slide_horizontal_edge_735():
    image = [[255] * 6] * 4 + [[10] * 6] * 4  # 8x6
    walk = ks.explain.convolution(image, HORIZONTAL)
    assert_cells(walk, [[0] * 4, [0] * 4, [735] * 4, [735] * 4, [0] * 4, [0] * 4])
    assert walk.formula(2, 0, order="rows") == ("255x1 + 255x1 + 255x1 + 255x0 + 255x0 + 255x0 "
                                                "+ 10x-1 + 10x-1 + 10x-1 = 735")


def test_slide_max_pooling():
    walk = ks.explain.pooling(SLIDE_IMAGE, 2, strides=1, mode="max")
    expected = [[6, 5, 5], [6, 5, 5], [5, 4, 5]]
    np.testing.assert_array_equal(walk.output, expected)
    for i, j in itertools.product(range(3), range(3)):
        cell = walk.cell(i, j)
        assert cell.value == expected[i][j] == cell.window[cell.winner]
    assert walk.cell(0, 0).winner == (1, 0)  # the 6 below the 1
    assert walk.formula(0, 0) == "max(1, 3, 6, 1) = 6"


def test_slide_average_pooling():
    walk = ks.explain.pooling(SLIDE_IMAGE, 2, strides=1, mode="average")
    # The slide rounds to one decimal: 2.8 2.5 3 / 4 3 4 / 3.8 2.5 2.5.
    np.testing.assert_array_equal(np.round(walk.output, 1), [[2.8, 2.5, 3], [4, 3, 4], [3.8, 2.5, 2.5]])
    assert walk.formula(0, 0) == "(1 + 3 + 6 + 1)/4 = 2.75"
    assert all(walk.cell(i, j).divisor == 4 for i in range(3) for j in range(3))


def test_average_pooling_same_leaves_padding_out_of_divisor():
    x = np.arange(25.0).reshape(5, 5)
    walk = ks.explain.pooling(x, 2, padding="same", mode="average")
    # "same" on 5 with pool 2, stride 2: total padding (3-1)*2 + 2 - 5 = 1, at the bottom/right.
    assert walk.output.shape == (3, 3)
    corner = walk.cell(2, 2)
    assert corner.divisor == 1 and corner.value == 24.0 and corner.formula() == "(24)/1 = 24"
    edge = walk.cell(0, 2)
    assert edge.divisor == 2 and edge.formula() == "(4 + 9)/2 = 6.5"
    np.testing.assert_array_equal(corner.padding, [[False, True], [True, True]])


# ------------------------------------------------- against ks.ops, random


GRID = list(itertools.product(["valid", "same", 1, ((0, 2), (1, 0))], [1, 2, (2, 1)], [1, 2], [1, 3], [1, 4]))


@pytest.mark.parametrize("padding, strides, dilation, channels, filters", GRID)
def test_walkthrough_sums_equal_conv2d(padding, strides, dilation, channels, filters):
    rng = np.random.default_rng(len(str((padding, strides, dilation, channels, filters))))
    x = rng.normal(size=(7, 8, channels))
    kernel = rng.normal(size=(3, 2, channels, filters))
    bias = rng.normal(size=filters)
    walk = ks.explain.convolution(x, kernel, bias, padding=padding, strides=strides, dilation_rate=dilation)
    reference = ks.ops.conv2d(x[None], kernel, bias, strides, padding, dilation).numpy()[0]
    np.testing.assert_allclose(walk.totals, reference, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(walk.output, reference)
    cell = walk.cell(-1, -1, filters - 1)
    np.testing.assert_allclose(cell.total, reference[-1, -1, -1], rtol=1e-12)
    np.testing.assert_allclose(cell.channel_sums.sum() + bias[-1], cell.total, rtol=1e-12)


def test_walkthrough_float32_stays_float32():
    rng = np.random.default_rng(0)
    x, kernel = rng.normal(size=(5, 5, 2)).astype(np.float32), rng.normal(size=(3, 3, 2)).astype(np.float32)
    walk = ks.explain.convolution(x, kernel, padding="same")
    assert walk.output.dtype == np.float32 and walk.output.shape == (5, 5)
    np.testing.assert_allclose(walk.totals[:, :, 0], walk.output, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode, padding, pool, strides, channels",
                         list(itertools.product(["max", "average"], ["valid", "same"], [2, (3, 2)], [None, 1, 2],
                                                [1, 3])))
def test_pooling_walkthrough_equals_ops(mode, padding, pool, strides, channels):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(7, 6, channels))
    walk = ks.explain.pooling(x, pool, strides=strides, padding=padding, mode=mode)
    op = ks.ops.max_pool2d if mode == "max" else ks.ops.avg_pool2d
    reference = op(x[None], pool, strides, padding).numpy()[0]
    got = np.array([[[walk.cell(i, j, c).value for c in range(channels)] for j in range(reference.shape[1])]
                    for i in range(reference.shape[0])])
    np.testing.assert_allclose(got, reference, rtol=1e-12)


# ------------------------------------------------------------- renderers


def test_text_rendering_highlights_the_window():
    walk = ks.explain.convolution(SLIDE_IMAGE, SLIDE_KERNEL, padding=1, strides=2)
    text = walk.to_text(color=False)
    assert "n_H = floor((4 + 2*1 - 2)/2) + 1 = 3" in text
    assert "Step 9 of 9: output[2, 2]" in text
    assert "output[1, 1] = 1x1 + 4x2 + 5x2 + 2x1 = 21" in text  # column by column, as the slides write it
    first = walk.to_text(steps=0, color=False)
    assert "[.] [.]  .   .   .   ." in first and "[.] [1]  3   1   2   ." in first
    assert "\x1b[" not in first and "\x1b[" in walk.to_text(steps=0, color=True)
    with pytest.raises(ValueError, match=r"`steps` must be step numbers in \[0, 9\)"):
        walk.to_text(steps=9)


def test_markdown_and_html_rendering():
    walk = ks.explain.convolution(SIX_BY_SIX, VERTICAL)
    md = walk.to_markdown(steps=[0])
    assert "**3**" in md and "`output[0, 0] = 3x1 + 1x1 + 2x1" in md and "|---|" in md
    page = walk.to_html()
    assert page.startswith("<!DOCTYPE html>") and page.count("<section>") == 16 + 1
    assert 'class="win"' in page and "<style>" in page
    assert "src=" not in page and "http" not in page  # self-contained
    pool_md = ks.explain.pooling(SLIDE_IMAGE, 2, strides=1).to_markdown(steps=0)
    assert "**6 (max)**" in pool_md


def test_gif_one_frame_per_output_cell(tmp_path):
    from PIL import Image

    walk = ks.explain.convolution(SLIDE_IMAGE, SLIDE_KERNEL, padding=1, strides=2)
    path = tmp_path / "conv.gif"
    walk.to_gif(path, cell_size=36)
    with Image.open(path) as gif:
        # Panels 6x6, 2x2, 3x3 cells of 36 px, 36 px apart, margin 18, title band 18,
        # heading 18, caption 36: width 36*11 + 2*36 + 36, height 36 + 18 + 18 + 6*36 + 36.
        assert gif.n_frames == 9 and gif.size == (504, 324)
    multi = ks.explain.convolution(np.ones((3, 3, 2)), np.ones((2, 2, 2, 2)))
    multi.to_gif(path, cell_size=20)
    with Image.open(path) as gif:
        # 2x2 output x 2 filters; rows: [input 3x3, kernel 2x2, output 2x2] and [input, kernel]:
        # width 20*(3+2+2) + 2*20 + 20 = 200; height 20 + 10 + (10+60) + 10 + (10+60) + 20 = 200.
        assert gif.n_frames == 8 and gif.size == (200, 200)
    with pytest.raises(ValueError, match="`cell_size` must be an integer >= 12"):
        walk.to_gif(path, cell_size=4)


# ------------------------------------------------------------------ errors


def test_walkthrough_errors():
    with pytest.raises(ValueError, match=r"`x` must be one image of shape \(height, width\)"):
        ks.explain.convolution(np.zeros((1, 4, 4, 1)), SLIDE_KERNEL)
    with pytest.raises(ValueError, match=r"`kernel` must have shape \(kh, kw\) .* Received: kernel.shape=\(2, 2, 3\)"):
        ks.explain.convolution(np.zeros((4, 4, 2)), np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match=r"`bias` must be a number or have shape \(filters,\) = \(1,\)"):
        ks.explain.convolution(SLIDE_IMAGE, SLIDE_KERNEL, bias=[1, 2])
    with pytest.raises(ValueError, match="The convolution window is larger than the padded input"):
        ks.explain.convolution(SLIDE_IMAGE, np.ones((6, 6)), padding=0)
    with pytest.raises(TypeError, match="`x` must hold numbers"):
        ks.explain.convolution([["a"]], SLIDE_KERNEL)
    walk = ks.explain.convolution(SLIDE_IMAGE, SLIDE_KERNEL)
    with pytest.raises(ValueError, match='`order` must be "columns" or "rows"'):
        walk.formula(0, 0, order="diagonal")
    with pytest.raises(IndexError, match=r"Output cell \(3, 0\) of filter 0 is outside the output"):
        walk.cell(3, 0)
    with pytest.raises(IndexError, match=r"Output cell \(0, 0\) of channel 1 is outside the output"):
        ks.explain.pooling(SLIDE_IMAGE).cell(0, 0, 1)
    with pytest.raises(ValueError, match='`mode` must be "max" or "average"'):
        ks.explain.pooling(SLIDE_IMAGE, mode="median")
    with pytest.raises(ValueError, match='`padding` must be "valid" or "same". Received: padding=1'):
        ks.explain.pooling(SLIDE_IMAGE, padding=1)
    with pytest.raises(ValueError, match="The pooling window is larger than the input"):
        ks.explain.pooling(SLIDE_IMAGE, 5)


# -------------------------------------------------------------- arithmetic


def test_output_size_formulas():
    size = ks.explain.output_size(4, 2, p=1, s=2)
    assert size == 3 and size.value == 3 and isinstance(size, int) and size + 1 == 4
    assert size.formula == "floor((4 + 2*1 - 2)/2) + 1 = 3" and size.padding == (1, 1)
    assert ks.explain.output_size(6, 3).formula == "floor((6 + 2*0 - 3)/1) + 1 = 4"  # the slides' n - f + 1
    # Dilation 2 spreads a 3-tap kernel over 5 pixels: floor((7 - 4 - 1)/1) + 1 = 3.
    assert ks.explain.output_size(7, 3, d=2).formula == "floor((7 + 2*0 - 2*(3 - 1) - 1)/1) + 1 = 3"
    # TensorFlow "same", n=4, f=2, s=1: total padding 1, the odd pixel after.
    same = ks.explain.output_size(4, 2, "same")
    assert same == 4 and same.padding == (0, 1) and same.formula == "floor((4 + 0 + 1 - 2)/1) + 1 = 4"
    assert ks.explain.output_size(5, 3, "same", 2).formula == "floor((5 + 2*1 - 3)/2) + 1 = 3"
    assert "OutputSize(3" in repr(size) and str(size) == "3"


def test_output_size_errors():
    with pytest.raises(ValueError, match="The kernel is larger than the padded input"):
        ks.explain.output_size(2, 5)
    with pytest.raises(ValueError, match=r'`p` must be "valid", "same", a non-negative integer or a pair'):
        ks.explain.output_size(4, 2, p=-1)
    with pytest.raises(ValueError, match=r"`s` must be an integer >= 1. Received: s=0"):
        ks.explain.output_size(4, 2, s=0)


def test_dense_vs_conv_reproduces_the_slides():
    colour = ks.explain.dense_vs_conv()
    assert colour.dense_params == 4_500_100 and "100 x (45,000 + 1) = 4,500,100 ~ 4.5 million" in colour.dense_formula
    assert colour.kernel_size == (141, 91) and colour.conv_params == 141 * 91 * 3 + 1
    grey = ks.explain.dense_vs_conv((150, 100), 100)
    assert grey.dense_formula == "100 x (150x100 + 1) = 100 x (15,000 + 1) = 1,500,100 ~ 1.5 million"
    assert grey.conv_formula == "141x91 + 1 = 12,832 ~ 0.013 million"  # the slides' 91x141 + 1 = 0.013 mio
    assert "117 times" in str(grey)  # 1,500,100 / 12,832
    assert ks.explain.dense_vs_conv((150, 100), 100, filters=2).conv_formula.startswith("(141x91 + 1) x 2 = 25,664")
    with pytest.raises(ValueError, match="`units`=10 is not a square number"):
        ks.explain.dense_vs_conv(units=10)
    with pytest.raises(ValueError, match=r"`image_shape` must be \(height, width\)"):
        ks.explain.dense_vs_conv((150,))


def test_more_arithmetic_and_walkthrough_errors(monkeypatch, tmp_path):
    import sys

    with pytest.raises(ValueError, match=r"`output_shape`=\(200, 10\) is larger than the image \(150, 100\)"):
        ks.explain.dense_vs_conv(output_shape=(200, 10))
    with pytest.raises(ValueError, match=r"`x` must be one image of shape \(height, width\)"):
        ks.explain.pooling(np.zeros(4))
    walk = ks.explain.convolution(SLIDE_IMAGE, SLIDE_KERNEL)
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if Pillow were not installed
    with pytest.raises(ImportError, match=r'Writing GIFs needs Pillow: pip install "kernelscope\[image\]"'):
        walk.to_gif(tmp_path / "x.gif")
