"""Input checks and small fixes across the package: Normalization.adapt, filter sizes, autograd shape
errors, attribution class indices, layer dtype / augmentation arguments, the CLI's model-loading
message, image_folder's seeding, atomic file writes and to_onnx's path.

Reference values are computed by hand in the comments, never by the code under test.
"""

import os
import pathlib
import re

import numpy as np
import pytest
from PIL import Image

import kernelscope as ks
from kernelscope import _io, filters
from kernelscope.autograd import Tensor, maximum, where
from kernelscope.cli import main

L = ks.layers


# ------------------------------------------------------- Normalization.adapt
def test_adapt_plain_list_is_one_batch_and_count_is_updated():
    layer = L.Normalization()
    layer.adapt([[0, 7, 4], [2, 9, 6]])  # Keras's docstring data: two samples of three features
    # by hand: mean (0+2)/2, (7+9)/2, (4+6)/2 = 1, 8, 5; variance ((-1)^2 + 1^2)/2 = 1 per feature
    np.testing.assert_array_equal(layer.adapt_mean.numpy(), [1, 8, 5])
    np.testing.assert_array_equal(layer.adapt_variance.numpy(), [1, 1, 1])
    assert layer.count.numpy() == 2
    np.testing.assert_allclose(layer(np.array([[0.0, 7.0, 4.0]])).numpy(), [[-1, -1, -1]], rtol=1e-6)


def test_adapt_count_is_values_per_statistic_over_all_batches():
    layer = L.Normalization()  # statistics per channel of (N, H, W, C): N*H*W values each
    layer.adapt(iter([np.ones((2, 3, 4, 5)), np.ones((1, 3, 4, 5))]))
    assert layer.count.numpy() == 2 * 3 * 4 + 1 * 3 * 4


def test_adapt_list_of_arrays_stays_a_list_of_batches():
    layer = L.Normalization(axis=None)
    layer.adapt([np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])])  # batches of unequal size
    # by hand: all five values 1..5, mean 3, variance (4 + 1 + 0 + 1 + 4) / 5 = 2
    assert layer.adapt_mean.numpy() == pytest.approx(3.0)
    assert layer.adapt_variance.numpy() == pytest.approx(2.0)
    assert layer.count.numpy() == 5


def test_adapt_rejects_empty_data():
    layer = L.Normalization()
    with pytest.raises(ValueError, match=r"`data` must contain at least one sample. Received: data.shape=\(0, 3\)"):
        layer.adapt(np.zeros((0, 3)))
    assert layer.count.numpy() == 0  # nothing was assigned: still the initial statistics
    np.testing.assert_array_equal(layer.adapt_mean.numpy(), [0, 0, 0])


def test_adapt_rejects_nan_and_infinity():
    with pytest.raises(ValueError, match=r"`data` must hold finite numbers, with no NaN or infinity .*"
                                         r"Received: data with 2 NaN or infinite value\(s\)"):
        L.Normalization().adapt(np.array([[1.0, np.nan, 3.0], [np.inf, 5.0, 6.0]]))


def test_adapt_rejects_strings():
    with pytest.raises(TypeError, match=r"`data` must hold numbers \(an array of int or float values\). "
                                        r"Received: data with dtype=<U1"):
        L.Normalization().adapt(np.array(["a", "b"]))


def test_adapt_rejects_a_scalar():
    with pytest.raises(ValueError, match=r"`data` must be an array of rank >= 1, .*Received: a scalar, data=5.0"):
        L.Normalization().adapt(5.0)


def test_adapt_rejects_data_of_another_shape_than_built():
    layer = L.Normalization()
    layer.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"`data` must have shape \(None, 3\) \(None: any size\), as the layer was "
                                         r"built for. Received: data.shape=\(2, 4\)"):
        layer.adapt(np.ones((2, 4)))


# -------------------------------------------------------------------- filters
def test_identity_needs_an_odd_size():
    np.testing.assert_array_equal(filters.identity(5)[2], [0, 0, 1, 0, 0])
    with pytest.raises(ValueError, match=r"`n` must be an odd positive integer \(1, 3, 5, ...\) so that the "
                                         r"kernel has a centre pixel. Received: n=4"):
        filters.identity(4)


def test_gaussian_blur_needs_an_odd_size():
    with pytest.raises(ValueError, match=r"`size` must be an odd positive integer .*Received: size=4"):
        filters.gaussian_blur(1.0, size=4)


def test_even_box_blur_is_allowed_and_covers_down_right_with_same_padding():
    np.testing.assert_allclose(filters.box_blur(2), np.full((2, 2), 0.25), rtol=1e-7)
    image = np.array([[4.0, 8.0], [12.0, 16.0]])
    # TF "same" padding for k = 2: 0 rows/columns before, 1 after, so each output is the mean of
    # the pixel, its right and lower neighbours and the diagonal one, zeros beyond the border:
    # (4+8+12+16)/4 = 10, (8+16)/4 = 6, (12+16)/4 = 7, 16/4 = 4
    np.testing.assert_allclose(filters.apply(image, filters.box_blur(2)), [[10, 6], [7, 4]], rtol=1e-6)


# ------------------------------------------------------------------- autograd
def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"Operands of `@` \(matmul\) must have matching inner dimensions \(the last "
                                         r"axis of the first, 3, against the second-to-last of the second, 4\) .*"
                                         r"Received: shapes \(2, 3\) and \(4, 5\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


def test_elementwise_shape_errors_name_both_shapes():
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"Operands of `\+` must have broadcastable shapes \(equal, or 1, on each "
                                         r"axis counted from the last\). Received: shapes \(2, 3\) and \(4,\)"):
        a + np.ones(4)
    for op, call in (("*", lambda: a * np.ones((3, 2))), ("maximum", lambda: maximum(a, np.ones(2))),
                     ("where", lambda: where(np.ones(5, bool), a, 0.0))):
        with pytest.raises(ValueError, match=rf"Operands of `{re.escape(op)}` must have broadcastable shapes"):
            call()
    assert (a + np.ones(3)).shape == (2, 3)  # broadcasting still works


# ---------------------------------------------------------------- attribution
@pytest.fixture(scope="module")
def small_model():
    ks.utils.set_random_seed(0)
    return ks.Sequential([ks.Input((4, 4, 1)), L.Conv2D(2, 3, name="conv"), L.Flatten(), L.Dense(3)])


def test_class_index_list_must_have_one_per_image(small_model):
    batch = np.random.default_rng(0).normal(size=(2, 4, 4, 1))
    assert ks.explain.saliency(small_model, batch, class_index=[0, 2]).shape == (2, 4, 4)
    with pytest.raises(ValueError, match=r"`class_index` must be one integer or a list of one per image \(2 for "
                                         r"this batch\). Received: class_index=\[0, 1, 2\] \(shape \(3,\)\)"):
        ks.explain.saliency(small_model, batch, class_index=[0, 1, 2])
    with pytest.raises(ValueError, match=r"`class_index` must be one integer or a list of one per image"):
        ks.explain.grad_cam(small_model, batch, class_index=[1])


def test_negative_class_index_is_rejected(small_model):
    image = np.ones((4, 4, 1))
    with pytest.raises(ValueError, match=r"`class_index` must hold non-negative integers \(class numbers from 0\). "
                                         r"Received: class_index=-1"):
        ks.explain.saliency(small_model, image, class_index=-1)
    with pytest.raises(ValueError, match=r"`class_index` must hold non-negative integers"):
        ks.explain.occlusion(small_model, image, class_index=-1, patch=2)
    with pytest.raises(ValueError, match=r"`class_index` must be an integer in \[0, 3\). Received: class_index=3"):
        ks.explain.grad_cam(small_model, image, class_index=3)


# ------------------------------------------------------ layer argument checks
def test_unknown_layer_dtype_is_a_type_error_naming_dtype():
    with pytest.raises(TypeError, match=r"Layer `dtype` must be a floating-point type such as 'float32' or "
                                        r"'float64'. Received: dtype='floaty'"):
        L.Dense(2, dtype="floaty")


def test_fill_value_must_be_a_number():
    with pytest.raises(ValueError, match=r"`fill_value` must be a number \(the value of pixels outside the image "
                                         r"with fill_mode='constant'\). Received: fill_value='a'"):
        L.RandomRotation(0.1, fill_value="a")
    for layer in (L.RandomZoom, L.RandomTranslation):
        with pytest.raises(ValueError, match="`fill_value` must be a number"):
            layer(0.1, 0.1, fill_value=None)


def test_random_contrast_value_range_must_be_an_increasing_pair():
    assert L.RandomContrast(0.5, value_range=[0, 1]).value_range == (0, 1)
    with pytest.raises(ValueError, match=r"`value_range` must be a pair of numbers \(low, high\) with low < high. "
                                         r"Received: value_range=\(255, 0\)"):
        L.RandomContrast(0.5, value_range=(255, 0))


# ------------------------------------------------------------------------ CLI
def test_cli_not_a_model_message_names_the_file_once(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert main(["evaluate", str(notes)]) == 1
    err = capsys.readouterr().err
    assert err.count("is not a kernelscope model file") == 1
    assert err.count(str(notes)) == 1
    assert err.startswith(f"kernelscope evaluate: error: {notes} is not a kernelscope model file: it is not a "
                          "readable zip archive")


# --------------------------------------------------------------- image_folder
def test_image_folder_unseeded_shuffle_follows_set_random_seed(tmp_path):
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        for k in range(4):
            value = 10 * k + (100 if label == "b" else 0)  # every image has its own grey level
            Image.fromarray(np.full((2, 2), value, np.uint8)).save(tmp_path / label / f"{k}.png")

    def order():
        data = ks.datasets.image_folder(tmp_path, image_size=(2, 2), color_mode="grayscale", seed=None)
        return data.images[:, 0, 0, 0].tolist()

    ks.utils.set_random_seed(7)
    first = order()
    ks.utils.set_random_seed(7)
    assert order() == first  # np.random.default_rng(None) repeated it 1 time in 8! = 40,320
    assert sorted(first) == [0, 10, 20, 30, 100, 110, 120, 130]


# ------------------------------------------------------------- atomic writes
def test_atomic_write_text_bytes_and_permissions(tmp_path):
    target = _io.atomic_write_text(tmp_path / "a.txt", "héllo\n")
    assert target.read_text(encoding="utf-8") == "héllo\n"
    _io.atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would create it, not mkstemp's 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_atomic_write_failure_keeps_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")

    def fail(handle):
        handle.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        _io.atomic_write(target, fail)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_atomic_write_errors(tmp_path):
    with pytest.raises(ValueError, match=r'`mode` must be "wb" or "w". Received: mode=\'a\''):
        _io.atomic_write(tmp_path / "x", lambda h: None, mode="a")
    with pytest.raises(IsADirectoryError, match=r"Is a directory, not a file: '.*'"):
        _io.atomic_write_text(tmp_path, "x")
    with pytest.raises(FileNotFoundError, match=r"The folder to write into does not exist: '.*missing'"):
        _io.atomic_write_text(tmp_path / "missing" / "x.txt", "x")


def test_writers_clean_up_their_temporary_on_failure(tmp_path, monkeypatch):
    from kernelscope.cli.commands import _write_history, _write_json
    from kernelscope.cli.explain import _write_text
    from kernelscope.explain.report import save_png

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    for write in (lambda: save_png(np.zeros((2, 2), np.uint8), tmp_path / "a.png"),
                  lambda: _write_json(tmp_path / "a.json", [1]),
                  lambda: _write_history(tmp_path / "h.csv", [{"loss": 1.0}]),
                  lambda: _write_text(tmp_path / "a.txt", "x"),
                  lambda: ks.explain.convolution(np.ones((3, 3)), np.ones((2, 2))).to_gif(tmp_path / "a.gif")):
        with pytest.raises(Exception, match="Permission denied"):
            write()
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- to_onnx path
def test_to_onnx_rejects_a_folder_and_a_non_path(tmp_path):
    model = ks.Sequential([ks.Input((3,)), L.Dense(2)])
    with pytest.raises(ValueError, match=r"`path` must be a file path such as 'model.onnx', not a folder. "
                                         r"Received: path='.*' \(an existing folder\)"):
        ks.export.to_onnx(model, tmp_path)
    with pytest.raises(TypeError, match=r"`path` must be a file path \(str or PathLike\). Received: path=3"):
        ks.export.to_onnx(model, 3)
    assert list(pathlib.Path(tmp_path).iterdir()) == []
