"""ks.utils.image_dataset_from_directory on folders the tests write (Keras 3 semantics)."""

import os

import numpy as np
import pytest

import kernelscope as ks

pytest.importorskip("PIL")


def _write(folder, name, value, size=(6, 8)):
    folder.mkdir(parents=True, exist_ok=True)
    ks.utils.save_img(folder / name, np.full((*size, 3), value, np.uint8), scale=False)


@pytest.fixture
def pets(tmp_path):
    """cat: 4 images, dog: 2 images (each a solid grey whose value tells which file it is); a hidden folder."""
    values = {}
    for i, name in enumerate(["c0.png", "c1.png", "c2.jpg", "c3.png"]):
        _write(tmp_path / "cat", name, 10 + i)
        values[str(tmp_path / "cat" / name)] = 10 + i
    for i, name in enumerate(["d0.png", "d1.png"]):
        _write(tmp_path / "dog", name, 50 + i)
        values[str(tmp_path / "dog" / name)] = 50 + i
    _write(tmp_path / ".thumbs", "x.png", 99)
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    return tmp_path, values


def _values(ds):
    return [int(x[0, 0, 0]) for images, *_ in ds for x in images]


def test_counts_classes_order_and_batches(pets, capsys):
    folder, values = pets
    ds = ks.utils.image_dataset_from_directory(folder, image_size=(4, 4), batch_size=4, shuffle=False)
    assert capsys.readouterr().out == "Found 6 files belonging to 2 classes.\n"
    assert ds.class_names == ["cat", "dog"] and len(ds) == 2
    assert ds.file_paths == sorted(values)  # alphanumeric order without shuffling
    images, labels = next(iter(ds))
    assert images.shape == (4, 4, 4, 3) and images.dtype == np.float32
    assert labels.dtype == np.int32
    all_labels = np.concatenate([y for _, y in ds])
    np.testing.assert_array_equal(all_labels, [0, 0, 0, 0, 1, 1])
    # jpg decoding is lossy; the PNGs keep their exact value
    assert _values(ds)[:2] == [10, 11] and _values(ds)[4:] == [50, 51]


def test_seeded_shuffle_is_keras_file_order_and_split_is_disjoint(pets, capsys):
    folder, values = pets
    train, val = ks.utils.image_dataset_from_directory(folder, image_size=(4, 4), batch_size=2, seed=7,
                                                       validation_split=0.34, subset="both")
    out = capsys.readouterr().out
    assert "Using 4 files for training." in out and "Using 2 files for validation." in out
    keras_order = sorted(values)
    np.random.RandomState(7).shuffle(keras_order)  # keras.utils.dataset_utils.index_directory
    assert train.file_paths == keras_order[:4] and val.file_paths == keras_order[4:]
    assert train.class_names == val.class_names == ["cat", "dog"]
    # labels follow their files (cats are below 50, dogs 50 and up)
    for images, labels in val:
        for image, label in zip(images, labels):
            assert (image[0, 0, 0] >= 50) == (label == 1)
    only_val = ks.utils.image_dataset_from_directory(folder, image_size=(4, 4), seed=7, validation_split=0.34,
                                                     subset="validation", verbose=False)
    assert only_val.file_paths == val.file_paths


def test_training_part_reshuffles_each_epoch(tmp_path):
    for i in range(12):
        _write(tmp_path / "a", f"{i:02d}.png", i * 5)
    ds = ks.utils.image_dataset_from_directory(tmp_path, image_size=(2, 2), batch_size=3, seed=1, verbose=False)
    first, second = _values(ds), _values(ds)
    assert sorted(first) == sorted(second) == [i * 5 for i in range(12)]
    assert first != second


def test_label_modes(pets):
    folder, _ = pets
    kw = dict(image_size=(4, 4), shuffle=False, verbose=False)
    _, y = next(iter(ks.utils.image_dataset_from_directory(folder, label_mode="categorical", batch_size=6, **kw)))
    np.testing.assert_array_equal(y, np.eye(2, dtype=np.float32)[[0, 0, 0, 0, 1, 1]])
    _, y = next(iter(ks.utils.image_dataset_from_directory(folder, label_mode="binary", batch_size=6, **kw)))
    assert y.shape == (6, 1) and y.dtype == np.float32
    ds = ks.utils.image_dataset_from_directory(folder, labels=None, batch_size=7, **kw)
    assert ds.class_names is None and next(iter(ds)).shape == (7, 4, 4, 3)  # the hidden folder's image too
    ds = ks.utils.image_dataset_from_directory(folder, label_mode=None, batch_size=7, **kw)
    assert ds.class_names is None and len(ds.file_paths) == 7  # label_mode=None means labels=None (Keras)
    # explicit labels: every image under the folder (hidden subfolders too, as Keras's os.walk), sorted
    ds = ks.utils.image_dataset_from_directory(folder, labels=[1, 0, 1, 1, 0, 3, 1], batch_size=None, **kw)
    assert ds.class_names == ["0", "1", "3"] and [int(y) for _, y in ds] == [1, 0, 1, 1, 0, 3, 1]
    assert ds.file_paths[0].endswith(os.path.join(".thumbs", "x.png"))
    ds = ks.utils.image_dataset_from_directory(folder, class_names=["dog"], batch_size=6, **kw)
    assert ds.class_names == ["dog"] and len(ds.file_paths) == 2


def test_grayscale_sizes_and_aspect_ratio(tmp_path):
    wide = np.zeros((4, 8, 3), np.uint8)
    wide[:, 2:6] = 200  # the centre square is bright, the sides dark
    (tmp_path / "a").mkdir()
    ks.utils.save_img(tmp_path / "a" / "wide.png", wide, scale=False)
    kw = dict(shuffle=False, verbose=False, batch_size=1)
    x, _ = next(iter(ks.utils.image_dataset_from_directory(tmp_path, image_size=2, color_mode="grayscale", **kw)))
    assert x.shape == (1, 2, 2, 1)
    x, _ = next(iter(ks.utils.image_dataset_from_directory(tmp_path, image_size=(4, 4), interpolation="nearest",
                                                           crop_to_aspect_ratio=True, **kw)))
    np.testing.assert_array_equal(x[0], 200.0)
    x, _ = next(iter(ks.utils.image_dataset_from_directory(tmp_path, image_size=(8, 8), interpolation="nearest",
                                                           pad_to_aspect_ratio=True, **kw)))
    np.testing.assert_array_equal(x[0, :2], 0.0)  # zero padding above and below
    np.testing.assert_array_equal(x[0, 2:6], wide)


def test_unreadable_file_fails_naming_it(tmp_path):
    _write(tmp_path / "a", "good.png", 1)
    (tmp_path / "a" / "zbroken.png").write_bytes(b"nope")
    ds = ks.utils.image_dataset_from_directory(tmp_path, shuffle=False, batch_size=2, verbose=False)
    with pytest.raises(ValueError, match=r"Cannot read image .*zbroken\.png"):
        list(ds)


@pytest.mark.parametrize("kwargs, message", [
    (dict(labels="folders"), r"`labels` must be 'inferred', None or a list/tuple.*Received: labels='folders'"),
    (dict(labels=[0] * 6, class_names=["a"]), r"`class_names` can only be given with labels='inferred'"),
    (dict(label_mode="sparse"), r"`label_mode` must be one of .* Received: label_mode='sparse'"),
    (dict(color_mode="hsv"), r"`color_mode` must be one of .* Received: color_mode='hsv'"),
    (dict(interpolation="gaussian"), r"no Pillow filter\). Received: interpolation='gaussian'"),
    (dict(data_format="channels_first"), r"channels-last only.*Received: data_format='channels_first'"),
    (dict(crop_to_aspect_ratio=True, pad_to_aspect_ratio=True), r"Only one of `crop_to_aspect_ratio`"),
    (dict(batch_size=0), r"`batch_size` must be a positive integer or None. Received: batch_size=0"),
    (dict(image_size=(4, 4, 3)), r"`image_size` must be a tuple of 2 .* Received: image_size=\(4, 4, 3\)"),
    (dict(validation_split=1.5, subset="training", seed=1), r"between 0 and 1. Received: validation_split=1.5"),
    (dict(validation_split=0.2), r"must be given together. Received: subset=None, validation_split=0.2"),
    (dict(validation_split=0.2, subset="test", seed=1), r"`subset` must be .* Received: subset='test'"),
    (dict(validation_split=0.2, subset="training"), r"pass a `seed` .* Received: seed=None"),
    (dict(label_mode="binary", class_names=["cat"]), r"needs exactly 2 classes. Received: class_names=\['cat'\]"),
    (dict(labels=[0, 1]), r"one label per image file: found 7 files .* Received: len\(labels\)=2"),
    (dict(class_names=["cow"]), r"`class_names` must name subfolders .* Received: class_names=\['cow'\]"),
])
def test_argument_errors(pets, kwargs, message):
    folder, _ = pets
    with pytest.raises(ValueError, match=message):
        ks.utils.image_dataset_from_directory(folder, verbose=False, **kwargs)


def test_missing_or_empty_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"`directory` must be an existing folder. Received: .*nowhere"):
        ks.utils.image_dataset_from_directory(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"No images found in directory .*empty"):
        ks.utils.image_dataset_from_directory(tmp_path / "empty", verbose=False)
    _write(tmp_path / "one" / "a", "x.png", 1)
    with pytest.raises(ValueError, match=r"No validation images found"):
        ks.utils.image_dataset_from_directory(tmp_path / "one", validation_split=0.5, subset="both", seed=1,
                                              verbose=False)
    assert os.path.isdir(tmp_path / "one")
