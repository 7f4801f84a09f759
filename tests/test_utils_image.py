"""ks.utils image I/O (load_img, img_to_array, array_to_img, save_img) and the one image reader behind it."""

import os
import sys
import warnings

import numpy as np
import pytest

import kernelscope as ks
from kernelscope.utils import image_utils

PIL = pytest.importorskip("PIL")


@pytest.fixture
def rgb():
    return np.random.default_rng(0).integers(0, 256, (8, 12, 3)).astype(np.uint8)


def test_save_and_load_round_trip_exact(tmp_path, rgb):
    path = tmp_path / "x.png"
    ks.utils.save_img(path, rgb, scale=False)
    image = ks.utils.load_img(path)
    assert image.size == (12, 8) and image.mode == "RGB"
    array = ks.utils.img_to_array(image)
    assert array.dtype == np.float32 and array.shape == (8, 12, 3)
    np.testing.assert_array_equal(array, rgb)


def test_grayscale_and_rgba_modes(tmp_path, rgb):
    path = tmp_path / "x.png"
    ks.utils.save_img(path, rgb, scale=False)
    assert ks.utils.img_to_array(ks.utils.load_img(path, color_mode="grayscale")).shape == (8, 12, 1)
    rgba = ks.utils.img_to_array(ks.utils.load_img(path, color_mode="rgba"))
    assert rgba.shape == (8, 12, 4)
    np.testing.assert_array_equal(rgba[..., 3], 255)


def test_target_size_nearest_picks_the_pixel_centres(tmp_path, rgb):
    path = tmp_path / "x.png"
    ks.utils.save_img(path, rgb, scale=False)
    small = ks.utils.img_to_array(ks.utils.load_img(path, target_size=(4, 6)))
    # halving with "nearest": output pixel i samples input pixel floor((i + 0.5) * 2) = 2i + 1
    np.testing.assert_array_equal(small, rgb[1::2, 1::2])


def test_keep_aspect_ratio_crops_the_centre(tmp_path, rgb):
    path = tmp_path / "x.png"
    ks.utils.save_img(path, rgb, scale=False)
    square = ks.utils.img_to_array(ks.utils.load_img(path, target_size=(8, 8), keep_aspect_ratio=True))
    np.testing.assert_array_equal(square, rgb[:, 2:10])


def test_array_to_img_scales_to_0_255():
    x = np.linspace(-1.0, 1.0, 2 * 3 * 3).reshape(2, 3, 3)
    array = np.asarray(ks.utils.array_to_img(x), dtype=np.float64)
    assert array.min() == 0 and array.max() == 255
    unscaled = ks.utils.array_to_img(np.full((2, 2, 1), 7.0), scale=False)
    assert unscaled.mode == "L" and np.asarray(unscaled).max() == 7


def test_save_img_jpeg_from_rgba_warns_and_converts(tmp_path):
    with pytest.warns(UserWarning, match="JPEG format does not support RGBA"):
        ks.utils.save_img(tmp_path / "x.jpg", np.zeros((4, 4, 4)))
    assert ks.utils.load_img(tmp_path / "x.jpg").size == (4, 4)


def test_bytesio_is_accepted(tmp_path, rgb):
    import io

    buffer = io.BytesIO()
    ks.utils.array_to_img(rgb, scale=False).save(buffer, format="PNG")
    buffer.seek(0)
    np.testing.assert_array_equal(ks.utils.img_to_array(ks.utils.load_img(buffer)), rgb)


def test_argument_errors(tmp_path, rgb):
    path = tmp_path / "x.png"
    ks.utils.save_img(path, rgb, scale=False)
    with pytest.raises(ValueError, match=r"`color_mode` must be one of .* Received: color_mode='cmyk'"):
        ks.utils.load_img(path, color_mode="cmyk")
    with pytest.raises(ValueError, match=r"`target_size` must be a pair .* Received: target_size=5"):
        ks.utils.load_img(path, target_size=5)
    with pytest.raises(ValueError, match=r"`interpolation` must be one of .* Received: interpolation='cubic'"):
        ks.utils.load_img(path, target_size=(4, 4), interpolation="cubic")
    with pytest.raises(TypeError, match="`path` must be path-like or io.BytesIO. Received: path of type int"):
        ks.utils.load_img(3)
    with pytest.raises(ValueError, match=r"channels-last only.*Received: data_format='channels_first'"):
        ks.utils.img_to_array(np.zeros((2, 2, 3)), data_format="channels_first")
    with pytest.raises(ValueError, match=r"`x` must be a single image of rank 3.*shape \(2, 2\)"):
        ks.utils.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"`x` must have 1, 3 or 4 channels.*shape \(2, 2, 2\)"):
        ks.utils.array_to_img(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"`img` must be a 2-D or 3-D image.*shape \(2,\)"):
        ks.utils.img_to_array(np.zeros(2))


def test_corrupt_file_is_one_clear_error(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"Cannot read image .*broken\.png"):
        ks.utils.load_img(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_fifo_and_devices_are_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"pipe\.png' is not a regular file \(a FIFO, device or socket\); an image file must be a regular"):
        ks.utils.load_img(fifo)
    with pytest.raises(ValueError, match=r"'/dev/zero' is not a regular file \(a FIFO, device or socket\); an image file must be"):
        ks.utils.load_img("/dev/zero")
    with pytest.raises(ValueError, match="is a directory; an image file must be a regular file"):
        ks.utils.load_img(tmp_path)


def test_pixel_cap_refuses_before_decoding_and_no_pillow_warning_leaks(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    ks.utils.save_img(path, np.zeros((40, 50, 3)), scale=False)
    monkeypatch.setattr(image_utils, "MAX_IMAGE_PIXELS", 1999)
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 1500)  # Pillow alone would warn here
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"big\.png is too large \(50x40 = 2000 pixels\): the cap is 1999"):
            ks.utils.load_img(path)
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 900)  # Pillow's own error (above 2x its limit)
    with pytest.raises(ValueError, match=r"big\.png is too large .*the cap is 1999"):
        ks.utils.load_img(path)


def test_missing_pillow_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r'pip install "kernelscope\[image\]"'):
        ks.utils.array_to_img(np.zeros((2, 2, 3)))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_the_same_reader_serves_image_folder_and_the_cli(tmp_path):
    from kernelscope.cli.catalog import CommandError
    from kernelscope.cli.common import read_image

    (tmp_path / "a").mkdir()
    ks.utils.save_img(tmp_path / "a" / "good.png", np.zeros((4, 4, 3)), scale=False)
    os.mkfifo(tmp_path / "a" / "pipe.png")
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable.*pipe\.png .*is not a regular file"):
        data = ks.datasets.image_folder(tmp_path, image_size=(4, 4), shuffle=False)
    assert data.images.shape == (1, 4, 4, 3)
    with pytest.raises(CommandError, match=r"pipe\.png"):  # refused, not waited on
        read_image(str(tmp_path / "a" / "pipe.png"))


def test_save_img_is_atomic_and_needs_a_format(tmp_path):
    with pytest.raises(ValueError, match=r"Cannot tell the image format: .* path='.*noext', file_format=None"):
        ks.utils.save_img(str(tmp_path / "noext"), np.zeros((2, 2, 3)))
    with pytest.raises((KeyError, ValueError)):  # Pillow knows no such format
        ks.utils.save_img(tmp_path / "x.nosuchformat", np.zeros((2, 2, 3)))
    assert os.listdir(tmp_path) == []  # nothing half-written, no temporary left
    ks.utils.save_img(tmp_path / "x.bmp", np.zeros((2, 2, 3)), file_format="png")
    assert (tmp_path / "x.bmp").read_bytes().startswith(b"\x89PNG")
