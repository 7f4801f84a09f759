"""ks.filters: the slides' kernels, hand-computed responses, and PyTorch as the reference on real photos."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_sample_images

import kernelscope as ks
from kernelscope import filters


def torch_filter(image: np.ndarray, kernel: np.ndarray, padding: int) -> np.ndarray:
    """Per-channel cross-correlation with PyTorch (groups = channels), (H, W, C) in and out."""
    x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float64))
    c = x.shape[1]
    w = torch.from_numpy(np.repeat(kernel.astype(np.float64)[None, None], c, axis=0))
    return torch.nn.functional.conv2d(x, w, padding=padding, groups=c)[0].numpy().transpose(1, 2, 0)


def test_kernels_are_the_slides():
    np.testing.assert_array_equal(filters.vertical_edge(), [[1, 0, -1], [1, 0, -1], [1, 0, -1]])
    np.testing.assert_array_equal(filters.horizontal_edge(), [[1, 1, 1], [0, 0, 0], [-1, -1, -1]])
    np.testing.assert_array_equal(filters.laplacian(), [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    np.testing.assert_array_equal(filters.sharpen(), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_array_equal(filters.emboss(), [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
    np.testing.assert_array_equal(filters.sobel_y(), filters.sobel_x().T)
    np.testing.assert_array_equal(filters.scharr_y(), filters.scharr_x().T)
    np.testing.assert_array_equal(filters.identity(), [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    np.testing.assert_allclose(filters.box_blur(3), np.full((3, 3), 1 / 9), rtol=1e-7)
    for name in filters.NAMES:
        kernel = filters.get(name)
        assert kernel.dtype == np.float32 and kernel.ndim == 2


def test_gaussian_blur_kernel():
    g = filters.gaussian_blur(1.0)
    assert g.shape == (7, 7)  # 2*ceil(3*sigma) + 1
    np.testing.assert_allclose(g.sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(g, g.T)
    # exp(-(x^2 + y^2) / (2 sigma^2)): one step off the centre is exp(-1/2) of the peak.
    np.testing.assert_allclose(g[3, 4] / g[3, 3], np.exp(-0.5), rtol=1e-6)
    np.testing.assert_allclose(g[4, 4] / g[3, 3], np.exp(-1.0), rtol=1e-6)
    assert filters.gaussian_blur(0.5, size=5).shape == (5, 5)


def test_slides_edge_examples():
    out = filters.apply([[10, 10, 10, 0, 0, 0]] * 6, filters.vertical_edge(), padding="valid")
    np.testing.assert_array_equal(out, [[0, 30, 30, 0]] * 4)
    image = np.array([[255] * 6] * 4 + [[10] * 6] * 4)
    out = filters.apply(image, "horizontal_edge", padding="valid")
    np.testing.assert_array_equal(out, [[0] * 4, [0] * 4, [735] * 4, [735] * 4, [0] * 4, [0] * 4])


def test_slides_box_filter_example():
    # The slide's input table came through the notes garbled (11 rows of 12); it is the
    # classic 10x10 example (Seitz): a 90-valued block with one 0 hole and one stray 90.
    image = np.zeros((10, 10))
    image[2:7, 3:8] = 90
    image[5, 4] = 0
    image[8, 2] = 90
    expected = [[0, 10, 20, 30, 30, 30, 20, 10], [0, 20, 40, 60, 60, 60, 40, 20], [0, 30, 60, 90, 90, 90, 60, 30],
                [0, 30, 50, 80, 80, 90, 60, 30], [0, 30, 50, 80, 80, 90, 60, 30], [0, 20, 30, 50, 50, 60, 40, 20],
                [10, 20, 30, 30, 30, 30, 20, 10], [10, 10, 10, 0, 0, 0, 0, 0]]
    np.testing.assert_allclose(filters.apply(image, filters.box_blur(3), padding="valid"), expected, atol=1e-12)


def test_sobel_on_a_step_edge():
    step = np.zeros((8, 8), dtype=np.uint8)
    step[:, 4:] = 100  # dark left half, bright right half: one vertical edge between columns 3 and 4
    # By hand, a 3x3 window straddling the edge: (1 + 2 + 1) * 100 = 400, positive (brighter to the right).
    out = filters.apply(step, "sobel_x", padding="valid")
    np.testing.assert_array_equal(out, np.tile([0, 0, 400, 400, 0, 0], (6, 1)))
    out = filters.apply(step, "sobel_x", padding="edge")
    np.testing.assert_array_equal(out, np.tile([0, 0, 0, 400, 400, 0, 0, 0], (8, 1)))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(filters.apply(step, "sobel_y", padding="edge"), np.zeros((8, 8)))
    # Zero padding ("same") makes the bright right border an edge too: -(1 + 2 + 1) * 100 inside.
    same = filters.apply(step, "sobel_x")
    np.testing.assert_array_equal(same[1:-1, -1], -400)
    np.testing.assert_array_equal(same[0, -1], -300)  # corner: the kernel's top row falls into the padding
    # The slides' vertical edge detector has the opposite sign (bright to dark -> positive).
    np.testing.assert_array_equal(filters.apply(step, "vertical_edge", padding="valid"),
                                  np.tile([0, 0, -300, -300, 0, 0], (6, 1)))
    down = step.T  # bright bottom half
    np.testing.assert_array_equal(filters.apply(down, "sobel_y", padding="valid"), np.tile([0, 0, 400, 400, 0, 0],
                                                                                           (6, 1)).T)
    np.testing.assert_array_equal(filters.apply(down, "scharr_y", padding="valid")[2], [1600] * 6)  # 3 + 10 + 3


def test_laplacian_and_identity():
    dot = np.zeros((5, 5))
    dot[2, 2] = 1
    out = filters.apply(dot, "laplacian")
    np.testing.assert_array_equal(out, [[0, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 1, -4, 1, 0], [0, 0, 1, 0, 0],
                                        [0, 0, 0, 0, 0]])
    assert out.dtype == np.float64  # float64 in, float64 out
    np.testing.assert_array_equal(filters.apply(np.full((6, 6), 7.0), "laplacian", padding="reflect"),
                                  np.zeros((6, 6)))
    rgb = np.random.default_rng(0).integers(0, 256, size=(6, 7, 3)).astype(np.uint8)
    np.testing.assert_array_equal(filters.apply(rgb, "identity"), rgb)
    assert filters.apply(rgb[:, :, :1], "identity").shape == (6, 7, 1)


@pytest.mark.parametrize("name", ["sobel_x", "scharr_y", "laplacian", "sharpen", "emboss", "box_blur"])
def test_sample_photos_against_torch(name):
    china = load_sample_images().images[0][:160, :200]  # (160, 200, 3) uint8
    kernel = filters.get(name)
    got = filters.apply(china, name)
    assert got.shape == china.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, torch_filter(china.astype(np.float64), kernel, padding=1), rtol=1e-5, atol=1e-3)
    grey = china.mean(axis=-1)
    np.testing.assert_allclose(filters.apply(grey, name), torch_filter(grey[:, :, None], kernel, 1)[:, :, 0],
                               rtol=1e-5, atol=1e-3)


def test_sample_photo_responses():
    flower = load_sample_images().images[1].astype(np.float64)[100:260, 150:350]
    # Mirroring the photo left-right mirrors the x-derivative and flips its sign.
    gx = filters.apply(flower, "sobel_x", padding="reflect")
    np.testing.assert_allclose(filters.apply(flower[:, ::-1], "sobel_x", padding="reflect"), -gx[:, ::-1], atol=1e-9)
    # Blurring removes fine detail: the Laplacian's energy drops, the mean brightness stays.
    blurred = filters.apply(flower, filters.gaussian_blur(2.0), padding="reflect")
    assert np.abs(filters.apply(blurred, "laplacian")[5:-5, 5:-5]).mean() < \
        0.5 * np.abs(filters.apply(flower, "laplacian")[5:-5, 5:-5]).mean()
    np.testing.assert_allclose(blurred.mean(), flower.mean(), rtol=0.01)


def test_filter_errors():
    with pytest.raises(ValueError, match=r"Unknown filter 'blurry'. Valid names: box_blur, emboss, gaussian_blur"):
        filters.get("blurry")
    with pytest.raises(ValueError, match=r"`image` must be greyscale \(H, W\) or \(H, W, 1\)"):
        filters.apply(np.zeros((1, 4, 4, 1)), "identity")
    with pytest.raises(TypeError, match="`image` must hold numbers"):
        filters.apply(np.array([["a"]]), "identity")
    with pytest.raises(ValueError, match="`kernel` must be a 2-D array of numbers or a filter name"):
        filters.apply(np.zeros((4, 4)), np.ones((3, 3, 1)))
    with pytest.raises(ValueError, match="`n` must be a positive integer. Received: n=0"):
        filters.box_blur(0)
    with pytest.raises(ValueError, match="`size` must be a positive integer. Received: size=0"):
        filters.gaussian_blur(1.0, size=0)
    with pytest.raises(ValueError, match="`sigma` must be a positive number. Received: sigma=0"):
        filters.gaussian_blur(0)
    with pytest.raises(ValueError, match="The convolution window is larger than the padded input"):
        filters.apply(np.zeros((2, 2)), "sobel_x", padding="valid")
    assert ks.filters is filters
