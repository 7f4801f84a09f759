"""The command line refuses bad input in one clear line (issue 12, item 18): non-finite or non-positive
numbers, image files above the pixel cap, and model or image paths that are not regular files."""

from __future__ import annotations

import os
import struct
import zlib

import pytest

from kernelscope.cli import main
from kernelscope.cli.common import MAX_IMAGE_PIXELS
from test_cli import _one_line_error, _run


@pytest.mark.parametrize("argv, pattern", [
    (["train", "--learning-rate", "inf"], r"argument --learning-rate: must be a finite number, got inf"),
    (["train", "--learning-rate", "nan"], r"argument --learning-rate: must be a finite number, got nan"),
    (["train", "--learning-rate=-inf"], r"argument --learning-rate: must be a finite number, got -inf"),
    (["train", "--learning-rate", "0"], r"argument --learning-rate: must be a positive number, got 0"),
    (["train", "--learning-rate", "fast"], r"argument --learning-rate: must be a number, got fast"),
    (["train", "--validation-split", "nan"], r"argument --validation-split: must be a finite number, got nan"),
    (["anomaly", "--noise", "inf"], r"argument --noise: must be a finite number, got inf"),
    (["explain", "conv", "--input", "1 2; 3 4", "--kernel", "1", "--bias", "nan"],
     r"argument --bias: must be a finite number, got nan"),
])
def test_float_options_refuse_non_finite_and_non_positive_values(capsys, argv, pattern):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    _one_line_error(capsys.readouterr().err, rf"^kernelscope {argv[0]}.*: error: {pattern} \(see ")


def test_matrices_refuse_non_finite_numbers(capsys):
    assert main(["explain", "conv", "--input", "1 inf; 3 4", "--kernel", "1"]) == 2
    _one_line_error(capsys.readouterr().err, r"^kernelscope explain: error: --input: 'inf' is not a finite number$")


def _png_header_only(path, width: int, height: int) -> None:
    """A PNG that declares width x height 8-bit greyscale pixels and holds almost none (a few hundred bytes
    on disk): what a decompression bomb looks like until its pixels are decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


@pytest.mark.parametrize("width, height", [
    (13000, 13000),  # 169 Mpx: Pillow only warns (DecompressionBombWarning) and starts decoding
    (9000, 9000),    # 81 Mpx: above the cap, below Pillow's warning
    (20000, 20000),  # 400 Mpx: Pillow's own DecompressionBombError
])
def test_images_above_the_pixel_cap_are_refused_in_one_line(tmp_path, width, height):
    assert width * height > MAX_IMAGE_PIXELS == 8192 * 8192
    image = tmp_path / "bomb.png"
    _png_header_only(image, width, height)
    result = _run("filter", str(image), "--kernel", "sobel_x", "--out", str(tmp_path / "edges.png"))
    assert result.returncode == 1
    assert "DecompressionBomb" not in result.stderr
    _one_line_error(result.stderr, r"^kernelscope filter: error: image .*bomb\.png is too large to read: .*"
                                   r"the limit is 67,108,864 pixels")
    if width < 20000:
        assert f"{width}x{height} = {width * height:,} pixels" in result.stderr
    assert not (tmp_path / "edges.png").exists()


def test_model_and_image_paths_must_be_regular_files(tmp_path, capsys):
    folder = tmp_path / "dir.keras"
    folder.mkdir()
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)  # opening it would block until a writer comes
    cases = [
        (["evaluate", str(folder)], r"^kernelscope evaluate: error: model file .*dir\.keras is a directory, not a file$"),
        (["evaluate", "/dev/zero"], r"^kernelscope evaluate: error: model file /dev/zero is not a regular file$"),
        (["summary", "/dev/zero"], r"^kernelscope summary: error: model file /dev/zero is not a regular file$"),
        (["export", str(folder), "--onnx", str(tmp_path / "m.onnx")], r"model file .*dir\.keras is a directory"),
        (["filter", str(tmp_path), "--kernel", "sobel_x", "--out", str(tmp_path / "e.png")],
         r"^kernelscope filter: error: image file .* is a directory, not a file$"),
        (["filter", str(fifo), "--kernel", "sobel_x", "--out", str(tmp_path / "e.png")],
         r"^kernelscope filter: error: image file .*pipe\.png is not a regular file$"),
    ]
    for argv, pattern in cases:
        assert main(argv) == 1, argv
        _one_line_error(capsys.readouterr().err, pattern)


def test_a_run_that_never_has_a_finite_loss_saves_nothing_and_says_so(tmp_path):
    out = tmp_path / "run"
    result = _run("train", "--optimizer", "sgd", "--learning-rate", "1e30", "--epochs", "2", "--quiet",
                  "--out", str(out))
    assert result.returncode == 1
    _one_line_error(result.stderr, r"^kernelscope train: error: val_loss was not finite in any of the 2 epochs "
                                   r"\(training diverged: try a lower --learning-rate\); no model saved\.")
    assert sorted(p.name for p in out.iterdir()) == ["classes.json", "history.csv"]


def test_a_model_config_file_is_read_bounded_and_must_be_regular(tmp_path, capsys, monkeypatch):
    import kernelscope._safe_load as safe_load

    config = tmp_path / "net.json"
    config.write_text('{"class_name": "Sequential", "config": {"layers": []}}' + " " * 200)
    monkeypatch.setattr(safe_load, "MAX_CONFIG_BYTES", 100)  # the real cap is 64 MiB
    assert main(["train", "--model", str(config), "--epochs", "1", "--out", str(tmp_path / "run")]) == 1
    _one_line_error(capsys.readouterr().err, r"net\.json is larger than the cap for a model config \(100 bytes\)$")
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    assert main(["train", "--model", str(fifo), "--epochs", "1", "--out", str(tmp_path / "run")]) == 1
    _one_line_error(capsys.readouterr().err, r"pipe\.json' is not a regular file \(a FIFO, device or socket\)")
