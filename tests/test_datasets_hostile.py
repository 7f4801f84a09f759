"""Hostile data files (issue 12 items 5, 8, 15): IDX headers checked with Python ints before inflating,
image folders whose links leave the class folder or loop, FIFOs and devices in place of files."""

import gzip
import os
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

import kernelscope as ks


def idx_header(dims, type_byte=0x08):
    return struct.pack(">BBBB", 0, 0, type_byte, len(dims)) + struct.pack(f">{len(dims)}I", *dims)


# ------------------------------------------------------------------ IDX (items 5 and 15)
def test_idx_dims_whose_product_overflows_int64_are_refused_naming_the_file(tmp_path):
    path = tmp_path / "wrap-idx4-ubyte"
    path.write_bytes(idx_header((65536,) * 4))  # 2**64 bytes announced: an int64 product wraps to 0
    with pytest.raises(ValueError, match=r"wrap-idx4-ubyte is refused: its header \(65536, 65536, 65536, 65536\) "
                                         r"announces 18,446,744,073,709,551,616 data bytes, more than the "
                                         r"1,073,741,824-byte cap"):
        ks.datasets.read_idx(path)


def test_gzip_announcing_more_than_the_cap_is_refused_unread(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_header((60000, 1000, 1000)) + bytes(1000)))  # 60 GB announced
    with pytest.raises(ValueError, match=r"idx3-ubyte\.gz is refused: its header \(60000, 1000, 1000\) announces "
                                         r"60,000,000,000 data bytes"):
        ks.datasets.read_idx(path)


def test_gzip_bomb_behind_a_small_header_is_not_inflated(tmp_path):
    # the header announces 10 bytes; the stream inflates to 64 MiB: only 11 bytes are ever inflated past it
    path = tmp_path / "bomb-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_header((10,)) + bytes(64 << 20), compresslevel=1))
    assert path.stat().st_size < (1 << 20)
    with pytest.raises(ValueError, match=r"bomb-idx1-ubyte\.gz has more than 10 data bytes but its header \(10,\) "
                                         r"announces 10: the file is truncated or corrupted"):
        ks.datasets.read_idx(path)


def test_plain_idx_size_is_checked_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "short-idx1-ubyte"
    path.write_bytes(idx_header((1000,)) + bytes(10))
    with pytest.raises(ValueError, match=r"short-idx1-ubyte has 10 data bytes but its header \(1000,\) announces "
                                         r"1000"):
        ks.datasets.read_idx(path)


# ------------------------------------------------------------------ image_folder (item 8)
def image_root(tmp_path):
    root = tmp_path / "data"
    for name, count in (("a", 2), ("b", 3)):
        (root / name).mkdir(parents=True)
        for i in range(count):
            Image.new("RGB", (4, 4), (i * 40, 0, 0)).save(root / name / f"{i}.png")
    return root


def test_link_leaving_the_class_folder_is_refused(tmp_path):
    root = image_root(tmp_path)
    (root / "a" / "up").symlink_to("..")
    with pytest.raises(ValueError, match=r"follow_links=True: the link .*a/up points to .*data, outside .*data/a; "
                                         r"its images would get this folder's label"):
        ks.datasets.image_folder(root, image_size=(4, 4), follow_links=True, shuffle=False)
    # without following links, the link is not walked: 5 images, as before
    assert len(ks.datasets.image_folder(root, image_size=(4, 4), shuffle=False).images) == 5


def test_links_inside_the_class_folder_still_work(tmp_path):
    root = image_root(tmp_path)
    (root / "a" / "sub").mkdir()
    Image.new("RGB", (4, 4)).save(root / "a" / "sub" / "s.png")
    (root / "a" / "alias").symlink_to("sub")
    (root / "b" / "copy.png").symlink_to(root / "b" / "0.png")
    data = ks.datasets.image_folder(root, image_size=(4, 4), follow_links=True, shuffle=False)
    assert data.labels.tolist() == [0] * 4 + [1] * 4  # a: 2 + alias/s + sub/s, b: 3 + copy


def test_self_links_and_fifos_fail_fast(tmp_path):
    root = image_root(tmp_path)
    (root / "a" / "loop1").symlink_to(".")
    (root / "a" / "loop2").symlink_to(".")
    os.mkfifo(root / "b" / "pipe.png")
    code = textwrap.dedent("""
        import sys, warnings, kernelscope as ks
        try:
            ks.datasets.image_folder(sys.argv[1], image_size=(4, 4), follow_links=True)
        except ValueError as error:
            print("loop:", error)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = ks.datasets.image_folder(sys.argv[1] + "/b", labels=None, image_size=(4, 4))
        print("images:", len(data.images), "|", caught[0].message)
    """)
    # a subprocess with a timeout: before the fix both calls hang (an exponential walk, a blocking open)
    done = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=120)
    assert "loop: follow_links=True: the link" in done.stdout and "so following it would loop forever" \
        in done.stdout, done.stderr
    assert "images: 3 |" in done.stdout and "pipe.png" in done.stdout \
        and "not a regular file" in done.stdout, done.stderr


def test_device_as_idx_file_fails_fast():
    code = ("import resource, kernelscope as ks\n"
            "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # before the fix: reads until MemoryError\n"
            "try:\n    ks.datasets.read_idx('/dev/zero')\nexcept ValueError as error:\n    print(error)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "'/dev/zero' is not a regular file (a FIFO, device or socket); an IDX file must be a regular file" \
        in done.stdout, done.stderr
