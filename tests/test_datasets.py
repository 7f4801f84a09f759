"""ks.datasets: bundled digits, IDX parsing, the checksum-verified downloader, image folders."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import struct
import threading
import warnings

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits as sklearn_load_digits

import kernelscope as ks
from kernelscope.datasets import _download, mnist

# ---------------------------------------------------------------- digits


def test_digits_shapes_dtypes_and_split_sizes():
    (x_train, y_train), (x_test, y_test) = ks.datasets.load_digits()
    assert x_train.shape == (1437, 8, 8, 1) and x_test.shape == (360, 8, 8, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.uint8
    assert y_test.shape == (360,)
    assert x_train.min() == 0.0 and x_train.max() == 1.0


def test_digits_are_sklearns_digits_split_stratified():
    reference = sklearn_load_digits()
    (x_train, y_train), (x_test, y_test) = ks.datasets.load_digits()
    ours = np.concatenate([x_train, x_test]).reshape(-1, 64) * 16
    labels = np.concatenate([y_train, y_test])
    # Same multiset of (image, label) rows as scikit-learn's copy.
    key = lambda rows, y: sorted(map(tuple, np.column_stack([rows, y]).astype(int).tolist()))
    assert key(ours, labels) == key(reference.data, reference.target)
    counts = np.bincount(y_test, minlength=10)
    expected = np.bincount(reference.target) * 360 / 1797
    assert np.all(np.abs(counts - expected) <= 1)


# ---------------------------------------------------------------- IDX files


def _idx_bytes(array: np.ndarray, type_byte: int = 0x08) -> bytes:
    dtype = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[type_byte]
    header = struct.pack(">BBBB", 0, 0, type_byte, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(dtype).tobytes()


def _write(path, data: bytes, gz: bool = False):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_uint8_images(tmp_path, gz):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = _write(tmp_path / "x-idx3-ubyte", _idx_bytes(images), gz)
    out = ks.datasets.read_idx(path)
    assert out.dtype == np.uint8 and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, images)
    out[0, 0, 0] = 9  # a writable copy, not a view on the file buffer


def test_read_idx_big_endian_int32_and_float32(tmp_path):
    ints = np.array([[1, -2, 70000]], dtype=np.int32)
    out = ks.datasets.read_idx(_write(tmp_path / "i", _idx_bytes(ints, 0x0C)))
    np.testing.assert_array_equal(out, ints)
    floats = np.array([0.5, -1.25], dtype=np.float32)
    np.testing.assert_array_equal(ks.datasets.read_idx(_write(tmp_path / "f", _idx_bytes(floats, 0x0D))), floats)


def test_read_idx_truncated_file_names_file(tmp_path):
    data = _idx_bytes(np.zeros((5, 28, 28), np.uint8))
    path = _write(tmp_path / "train-images-idx3-ubyte", data[:-10])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte has 3910 data bytes .* announces 3920"):
        ks.datasets.read_idx(path)


def test_read_idx_truncated_header(tmp_path):
    path = _write(tmp_path / "short", bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(ValueError, match="short is truncated: its header announces 3 dimensions"):
        ks.datasets.read_idx(path)


def test_read_idx_trailing_bytes_rejected(tmp_path):
    path = _write(tmp_path / "long", _idx_bytes(np.zeros(4, np.uint8)) + b"\x00")
    with pytest.raises(ValueError, match="long has 5 data bytes"):
        ks.datasets.read_idx(path)


@pytest.mark.parametrize("first", [b"\x08\x00\x08\x03", b"\x00\x00\x07\x03", b"PK\x03\x04"])
def test_read_idx_wrong_magic_names_file(tmp_path, first):
    path = _write(tmp_path / "labels.bin", first + bytes(16))
    with pytest.raises(ValueError, match=r"labels\.bin is not an IDX file: wrong magic number"):
        ks.datasets.read_idx(path)


def test_read_idx_damaged_gzip_names_file(tmp_path):
    packed = gzip.compress(_idx_bytes(np.zeros((10, 10), np.uint8)))
    path = _write(tmp_path / "t10k-labels-idx1-ubyte.gz", packed[: len(packed) // 2])
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz is a damaged gzip file"):
        ks.datasets.read_idx(path)


# ---------------------------------------------------------------- load_mnist


def _mnist_folder(folder, n_train=6, n_test=4, gz=(True, False, True, False)):
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for (name, array), packed in zip(arrays.items(), gz):
        _write(folder / (name + (".gz" if packed else "")), _idx_bytes(array), packed)
    return arrays


def test_load_mnist_from_path_keras_shapes_and_dtypes(tmp_path):
    arrays = _mnist_folder(tmp_path)
    (x_train, y_train), (x_test, y_test) = ks.datasets.load_mnist(path=tmp_path)
    assert x_train.shape == (6, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (6,) and y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_test, arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])


def test_load_fashion_mnist_reads_the_cache_under_kernelscope_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERNELSCOPE_HOME", str(tmp_path))
    arrays = _mnist_folder(tmp_path / "fashion_mnist")
    (x_train, y_train), _ = ks.datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte"])
    assert ks.datasets.cache_dir("mnist") == tmp_path / "mnist"


def test_load_mnist_missing_files_message(tmp_path):
    _mnist_folder(tmp_path)
    os.remove(tmp_path / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(FileNotFoundError, match=r"mnist files not found in .*missing t10k-images-idx3-ubyte\[\.gz\]"
                                                r"\. Place the four IDX files .*download=True"):
        ks.datasets.load_mnist(path=tmp_path)


def test_load_mnist_label_count_mismatch(tmp_path):
    _mnist_folder(tmp_path)
    _write(tmp_path / "train-labels-idx1-ubyte", _idx_bytes(np.zeros(5, np.uint8)))
    os.remove(tmp_path / "train-labels-idx1-ubyte.gz") if (tmp_path / "train-labels-idx1-ubyte.gz").exists() else None
    with pytest.raises(ValueError, match="holds 6 images but .*train-labels-idx1-ubyte holds 5 labels"):
        ks.datasets.load_mnist(path=tmp_path)


def test_load_mnist_wrong_kind_of_file(tmp_path):
    _mnist_folder(tmp_path, gz=(False,) * 4)
    _write(tmp_path / "t10k-labels-idx1-ubyte", _idx_bytes(np.zeros((4, 2), np.uint8)))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte must hold uint8 labels of shape \(n,\)"):
        ks.datasets.load_mnist(path=tmp_path)


# ---------------------------------------------------------------- downloader


class _Server:
    """A local http.server on 127.0.0.1 serving a folder and counting requests."""

    def __init__(self, folder):
        self.requests = []
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append(self.path)
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=folder))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    srv = _Server(str(served))
    srv.folder = served
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def test_download_file_success_writes_verified_file(server, tmp_path):
    (server.folder / "a.bin").write_bytes(b"kernel" * 100)
    digest = hashlib.sha256(b"kernel" * 100).hexdigest()
    dest = _download.download_file([server.url + "a.bin"], tmp_path / "cache" / "a.bin", digest)
    assert dest.read_bytes() == b"kernel" * 100
    assert os.listdir(tmp_path / "cache") == ["a.bin"]


def test_download_file_checksum_mismatch_leaves_nothing(server, tmp_path):
    (server.folder / "a.bin").write_bytes(b"tampered")
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match=r"Could not download a\.bin .*checksum mismatch: expected SHA-256 0{64}"):
        _download.download_file([server.url + "a.bin"], cache / "a.bin", "0" * 64)
    assert os.listdir(cache) == []


def test_download_file_falls_back_to_next_mirror(server, tmp_path):
    (server.folder / "b.bin").write_bytes(b"payload")
    urls = [server.url + "missing/b.bin", (server.folder / "b.bin").as_uri()]
    dest = _download.download_file(urls, tmp_path / "b.bin", hashlib.sha256(b"payload").hexdigest())
    assert dest.read_bytes() == b"payload"
    assert server.requests == ["/missing/b.bin"]


def test_download_file_all_mirrors_fail_lists_them(tmp_path):
    missing = (tmp_path / "nowhere.bin").as_uri()
    with pytest.raises(OSError, match=r"Tried: file://.*nowhere\.bin"):
        _download.download_file([missing], tmp_path / "out" / "x.bin", "0" * 64)
    assert os.listdir(tmp_path / "out") == []


def test_load_mnist_download_then_cache(server, tmp_path, monkeypatch):
    arrays = _mnist_folder(server.folder, gz=(True,) * 4)
    sums = {name: _download.sha256_of(server.folder / (name + ".gz")) for name in arrays}
    monkeypatch.setitem(mnist.MIRRORS, "mnist", ["http://127.0.0.1:9/unreachable/", server.url])
    monkeypatch.setitem(mnist.SHA256, "mnist", sums)
    monkeypatch.setenv("KERNELSCOPE_HOME", str(tmp_path / "home"))
    (x_train, _), (_, y_test) = ks.datasets.load_mnist(download=True)
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])
    assert sorted(os.listdir(tmp_path / "home" / "mnist")) == sorted(name + ".gz" for name in arrays)
    assert len(server.requests) == 4
    ks.datasets.load_mnist(download=True)  # second call: served from the cache
    assert len(server.requests) == 4


def test_load_mnist_download_checksum_mismatch(server, tmp_path, monkeypatch):
    arrays = _mnist_folder(server.folder, gz=(True,) * 4)
    monkeypatch.setitem(mnist.MIRRORS, "mnist", [server.url])
    monkeypatch.setitem(mnist.SHA256, "mnist", {name: "f" * 64 for name in arrays})
    with pytest.raises(OSError, match="checksum mismatch"):
        ks.datasets.load_mnist(path=tmp_path / "dl", download=True)
    assert os.listdir(tmp_path / "dl") == []


# ---------------------------------------------------------------- image_folder


@pytest.fixture
def image_dir(tmp_path):
    colors = {"cats": [(255, 0, 0), (200, 10, 10), (250, 5, 0)], "dogs": [(0, 0, 255), (10, 10, 200)],
              "birds": [(0, 255, 0)]}
    for name, fills in colors.items():
        (tmp_path / name).mkdir()
        for i, fill in enumerate(fills):
            Image.new("RGB", (12, 8), fill).save(tmp_path / name / f"{i}.png")
    (tmp_path / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (tmp_path / "dogs" / "notes.txt").write_text("ignored: not an image extension")
    Image.new("L", (5, 5), 77).save(tmp_path / "birds" / "gray.bmp")
    return tmp_path


def test_image_folder_arrays_labels_and_broken_file_warning(image_dir):
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable image file\(s\): .*dogs/broken\.png"):
        x, y, class_names = ks.datasets.image_folder(image_dir, image_size=(4, 6), shuffle=False)
    assert class_names == ["birds", "cats", "dogs"]
    assert x.shape == (7, 4, 6, 3) and x.dtype == np.float32
    assert y.dtype == np.int32 and y.tolist() == [0, 0, 1, 1, 1, 2, 2]
    # Solid colours survive resizing exactly: values are raw 0..255, not rescaled.
    np.testing.assert_array_equal(x[0], np.broadcast_to(np.float32([0, 255, 0]), (4, 6, 3)))
    np.testing.assert_array_equal(x[1], np.full((4, 6, 3), 77, np.float32))
    np.testing.assert_array_equal(x[6, 0, 0], [10, 10, 200])


@pytest.mark.parametrize("color_mode, channels", [("grayscale", 1), ("rgb", 3), ("rgba", 4)])
def test_image_folder_color_modes(image_dir, color_mode, channels):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, _, _ = ks.datasets.image_folder(image_dir, image_size=(3, 3), color_mode=color_mode, shuffle=False)
    assert x.shape == (7, 3, 3, channels)
    if color_mode == "grayscale":  # ITU-R 601-2 luma of pure green: 255 * 587/1000
        assert x[0, 0, 0, 0] == 150


def test_image_folder_validation_split_is_disjoint_and_seeded(image_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train, val = ks.datasets.image_folder(image_dir, image_size=(2, 2), validation_split=0.25, subset="both",
                                              seed=3)
        again = ks.datasets.image_folder(image_dir, image_size=(2, 2), validation_split=0.25, subset="validation",
                                         seed=3)
    # int(0.25 * 8 files) = 2 validation files; the broken file falls in one of the two subsets.
    assert (len(train.images), len(val.images)) in ((6, 1), (5, 2))
    np.testing.assert_array_equal(again.images, val.images)
    assert sorted(train.labels.tolist() + val.labels.tolist()) == [0, 0, 1, 1, 1, 2, 2]


def test_image_folder_categorical_and_no_labels(image_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = ks.datasets.image_folder(image_dir, image_size=(2, 2), label_mode="categorical", shuffle=False)
        unlabeled = ks.datasets.image_folder(image_dir, labels=None, image_size=(2, 2))
    np.testing.assert_array_equal(data.labels[0], [1, 0, 0])
    assert unlabeled.labels is None and len(unlabeled.images) == 7


@pytest.mark.parametrize("kwargs, match", [
    ({"color_mode": "cmyk"}, r"`color_mode` must be one of .*Received: color_mode='cmyk'"),
    ({"validation_split": 0.2}, r"`subset` and `validation_split` must be given together"),
    ({"validation_split": 0.2, "subset": "training"}, r"pass a `seed`"),
    ({"validation_split": 1.5, "subset": "training", "seed": 1}, r"`validation_split` must be between 0 and 1"),
    ({"subset": "test", "validation_split": 0.2, "seed": 1}, r"`subset` must be None, 'training'"),
    ({"label_mode": "sparse"}, r"`label_mode` must be one of"),
    ({"labels": "folders"}, r"`labels` must be 'inferred', None or a list"),
    ({"labels": [0, 1]}, r"`labels` must have one label per image file: found 8 files"),
    ({"class_names": ["cats", "dogs"]}, r"`class_names` must match the subfolders"),
    ({"interpolation": "cubic"}, r"`interpolation` must be one of"),
    ({"image_size": (0, 4)}, r"`image_size` must be >= 1"),
    ({"label_mode": "binary"}, r"`label_mode='binary'` needs exactly 2 classes"),
])
def test_image_folder_argument_errors(image_dir, kwargs, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=match):
            ks.datasets.image_folder(image_dir, **kwargs)


def test_image_folder_missing_or_empty_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="`directory` must be an existing folder"):
        ks.datasets.image_folder(tmp_path / "nope")
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(ValueError, match="No images found in"):
        ks.datasets.image_folder(tmp_path)
