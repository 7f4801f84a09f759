"""``kernelscope explain`` and ``kernelscope filter`` through kernelscope.cli.main.

Expected numbers are the slides' or by hand; files are opened with Pillow.
"""

import numpy as np
import pytest
from PIL import Image

import kernelscope as ks
from kernelscope.cli import main
from kernelscope.cli.catalog import CommandError, UsageError

SLIDE = "1 3 1 2; 6 1 5 4; 5 4 2 5; 3 3 1 2"
L = ks.layers


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_conv_text(capsys):
    code, out, _ = run(capsys, "explain", "conv", "--input", SLIDE, "--kernel", "1 2; 2 1", "--padding", "1",
                       "--strides", "2")
    assert code == 0
    assert "n_H = floor((4 + 2*1 - 2)/2) + 1 = 3" in out
    assert "output[1, 1] = 1x1 + 4x2 + 5x2 + 2x1 = 21" in out  # window [[1, 5], [4, 2]], column by column
    assert "Step 9 of 9: output[2, 2]" in out and "\x1b[" not in out  # no colours when not a terminal
    code, out, _ = run(capsys, "explain", "conv", "--input", SLIDE, "--kernel", "1 2; 2 1", "--order", "rows")
    assert "output[0, 0] = 1x1 + 3x2 + 6x2 + 1x1 = 20" in out


def test_explain_conv_channels_filters_and_bias(capsys):
    code, out, _ = run(capsys, "explain", "conv", "--input", "1 2; 3 4 | 5 6; 7 8", "--kernel", "1 0; 0 1 | 1 1; 1 1",
                       "--kernel", "0 0; 0 0 | 0 0; 0 1", "--bias", "1", "--bias", "0")
    assert code == 0
    # Channel 0: 1x1 + 4x1 = 5; channel 1: 5 + 6 + 7 + 8 = 26; bias 1: 32. Filter 1 reads only the 8.
    assert "output[0, 0, 0] = (1x1 + 3x0 + 2x0 + 4x1) + (5x1 + 7x1 + 6x1 + 8x1) + 1 = 32" in out
    assert "output[0, 0, 1] = (1x0 + 3x0 + 2x0 + 4x0) + (5x0 + 7x0 + 6x0 + 8x1) + 0 = 8" in out


def test_explain_conv_files(capsys, tmp_path):
    md, page, gif = tmp_path / "conv.md", tmp_path / "conv.html", tmp_path / "conv.gif"
    base = ["explain", "conv", "--input", SLIDE, "--kernel", "1 2; 2 1", "--padding", "1", "--strides", "2"]
    assert run(capsys, *base, "--format", "md", "--out", str(md))[0] == 0
    assert "`output[0, 0] = 0x1 + 0x2 + 0x2 + 1x1 = 1`" in md.read_text()
    assert run(capsys, *base, "--out", str(page))[0] == 0  # format from the extension
    assert page.read_text().startswith("<!DOCTYPE html>")
    code, out, _ = run(capsys, *base, "--out", str(gif))
    assert code == 0 and "9 frames" in out
    with Image.open(gif) as image:
        assert image.format == "GIF" and image.n_frames == 9 and image.size == (504, 324)


def test_explain_pool_and_size(capsys):
    code, out, _ = run(capsys, "explain", "pool", "--input", SLIDE, "--pool-size", "2", "--strides", "1")
    assert code == 0 and "output[0, 0] = max(1, 3, 6, 1) = 6" in out and "output[2, 0] = max(5, 4, 3, 3) = 5" in out
    code, out, _ = run(capsys, "explain", "pool", "--input", SLIDE, "--pool-size", "2", "--strides", "1",
                       "--mode", "average")
    assert "output[0, 0] = (1 + 3 + 6 + 1)/4 = 2.75" in out and "output[2, 0] = (5 + 4 + 3 + 3)/4 = 3.75" in out
    code, out, _ = run(capsys, "explain", "pool", "--input", SLIDE, "--padding", "same", "--pool-size", "3")
    # "same", pool 3 = stride 3 on 4: total padding (2-1)*3 + 3 - 4 = 2, one each side; the
    # last window holds rows 2-3, columns 2-3 and padding.
    assert "n_H = floor((4 + 2*1 - 3)/3) + 1 = 2" in out and "output[1, 1] = max(2, 5, 1, 2) = 5" in out
    code, out, _ = run(capsys, "explain", "size", "4", "2", "--padding", "1", "--strides", "2")
    assert code == 0 and out == "n_out = floor((4 + 2*1 - 2)/2) + 1 = 3\n"
    assert run(capsys, "explain", "size", "5", "3", "--padding", "same", "--strides", "2")[1] == \
        "n_out = floor((5 + 2*1 - 3)/2) + 1 = 3\n"


def test_filter_command(capsys, tmp_path):
    step = np.zeros((8, 10), dtype=np.uint8)
    step[:, 5:] = 200
    source = tmp_path / "step.png"
    Image.fromarray(step).save(source)
    out = tmp_path / "edges.png"
    code, text, _ = run(capsys, "filter", str(source), "--kernel", "sobel_x", "--padding", "edge", "--out", str(out))
    assert code == 0 and "sobel_x" in text
    with Image.open(out) as image:
        edges = np.asarray(image)
    # By hand: 4 * 200 = 800 in columns 4 and 5, 0 elsewhere; |response| scaled so 800 -> 255.
    np.testing.assert_array_equal(edges, np.tile([0, 0, 0, 0, 255, 255, 0, 0, 0, 0], (8, 1)).astype(np.uint8))
    rgb = np.random.default_rng(0).integers(0, 256, size=(6, 7, 3)).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    code, _, _ = run(capsys, "filter", str(tmp_path / "rgb.png"), "--kernel", "0 0 0; 0 1 0; 0 0 0",
                     "--out", str(tmp_path / "same.png"))
    with Image.open(tmp_path / "same.png") as image:
        assert image.mode == "RGB" and np.array_equal(np.asarray(image), rgb)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    ks.utils.set_random_seed(0)
    model = ks.Sequential([ks.Input((12, 12, 1)), L.Rescaling(1 / 255, name="rescale"),
                           L.Conv2D(4, 3, padding="same", activation="relu", name="conv1"),
                           L.MaxPooling2D(2, name="pool1"),
                           L.Conv2D(6, 3, padding="same", activation="relu", name="conv2"),
                           L.Flatten(name="flatten"), L.Dense(3, activation="softmax", name="predictions")])
    model.save(folder / "model.keras")
    image = (np.random.default_rng(1).uniform(size=(20, 24)) * 255).astype(np.uint8)
    Image.fromarray(image).save(folder / "digit.png")
    return folder


def test_explain_model_writes_views(capsys, tmp_path, saved_model):
    out = tmp_path / "views"
    code, text, _ = run(capsys, "explain", "model", str(saved_model / "model.keras"), str(saved_model / "digit.png"),
                        "--out", str(out))
    assert code == 0 and "index.html" in text
    page = (out / "index.html").read_text()
    for name in ("input.png", "feature_maps_conv1.png", "feature_maps_conv2.png", "kernels_conv1.png",
                 "kernels_conv2.png", "saliency.png", "grad_cam.png"):
        assert f'src="{name}"' in page
        with Image.open(out / name) as image:
            image.load()
            assert image.format == "PNG" and min(image.size) >= 12
    with Image.open(out / "grad_cam.png") as image:
        assert image.mode == "RGB" and image.size == (12 * 16, 12 * 16)  # upscaled 16x to about 192 pixels
    assert "(3x3x4 + 1) x 6 = 222" in page  # the parameter table
    code, text, _ = run(capsys, "explain", "params", str(saved_model / "model.keras"))
    assert code == 0 and "Dense: (216 + 1) x 3 = 651" in text  # 6x6x6 = 216 flattened features


def test_cli_errors(capsys, tmp_path, saved_model):
    debug = ["--debug"]
    conv = ["explain", "conv", "--kernel", "1 2; 2 1"]
    with pytest.raises(UsageError, match=r"--input: row 2 has 1 number but row 1 has 2 numbers \(rows are separated"):
        main([*conv, "--input", "1 2; 3", *debug])
    with pytest.raises(UsageError, match=r"--input: 'x' is not a number"):
        main([*conv, "--input", "1 x; 3 4", *debug])
    with pytest.raises(UsageError, match=r"--input: empty row"):
        main([*conv, "--input", "1 2;; 3 4", *debug])
    with pytest.raises(UsageError, match=r"--input: channel 2 is 1x2 but channel 1 is 2x2"):
        main([*conv, "--input", "1 2; 3 4 | 5 6", *debug])
    with pytest.raises(UsageError, match="The convolution window is larger than the padded input"):
        main(["explain", "conv", "--input", "1 2; 3 4", "--kernel", "1 1 1; 1 1 1; 1 1 1", *debug])
    with pytest.raises(UsageError, match="--kernel: all kernels must have the same shape; got 2x2 and 1x1"):
        main([*conv, "--kernel", "1", "--input", SLIDE, *debug])
    with pytest.raises(UsageError, match=r"--bias: give one bias per kernel \(1\), got 2"):
        main([*conv, "--input", SLIDE, "--bias", "1", "--bias", "2", *debug])
    with pytest.raises(UsageError, match="--format gif needs --out FILE.gif"):
        main([*conv, "--input", SLIDE, "--format", "gif", *debug])
    with pytest.raises(UsageError, match="--padding: pooling takes valid or same, got 1"):
        main(["explain", "pool", "--input", SLIDE, "--padding", "1", *debug])
    with pytest.raises(UsageError, match="The kernel is larger than the padded input"):
        main(["explain", "size", "2", "5", *debug])
    with pytest.raises(UsageError, match="--padding: expected valid, same or an integer, got 'wide'"):
        main(["explain", "size", "4", "2", "--padding", "wide", *debug])
    with pytest.raises(UsageError, match="--input-shape: expected three positive integers H,W,C, got '8,8'"):
        main(["explain", "params", "small-cnn", "--input-shape", "8,8", *debug])
    with pytest.raises(UsageError, match=r"unknown filter 'blurry': expected one of box_blur, emboss, gaussian_blur"):
        main(["filter", "x.png", "--kernel", "blurry", *debug])
    with pytest.raises(UsageError, match=r"--kernel: a filter kernel is one 2-D matrix \(no '\|' channels\)"):
        main(["filter", "x.png", "--kernel", "1 | 1", *debug])
    with pytest.raises(CommandError, match="image file not found: .*missing.png"):
        main(["filter", str(tmp_path / "missing.png"), "--kernel", "sobel_x", *debug])
    with pytest.raises(CommandError, match="model file not found"):
        main(["explain", "model", str(tmp_path / "none.keras"), "x.png", "--out", str(tmp_path), *debug])
    with pytest.raises(UsageError, match=r"Layer 'nope' not found in model '.*'. Its layers are: rescale, conv1"):
        main(["explain", "model", str(saved_model / "model.keras"), str(saved_model / "digit.png"),
              "--out", str(tmp_path / "v"), "--layer", "nope", *debug])
    with pytest.raises(SystemExit) as exited:  # argparse: exit 2 with a one-line message
        main(["explain", "conv", "--input", SLIDE, "--kernel", "1", "--strides", "0"])
    assert exited.value.code == 2
    assert "must be a positive integer or two of them as 'H,W', got '0'" in capsys.readouterr().err
    code, out, err = run(capsys, *conv, "--input", "1 2; 3")
    assert code == 2 and out == "" and err.strip() == ("kernelscope explain: error: --input: row 2 has 1 number but "
                                                       "row 1 has 2 numbers (rows are separated by ';')")


def test_cli_file_errors(capsys, tmp_path, saved_model):
    debug = ["--debug"]
    missing = tmp_path / "no" / "such" / "folder"
    with pytest.raises(CommandError, match="cannot write .*conv.md"):
        main(["explain", "conv", "--input", SLIDE, "--kernel", "1", "--out", str(missing / "conv.md"), *debug])
    with pytest.raises(CommandError, match="cannot write .*conv.gif"):
        main(["explain", "conv", "--input", SLIDE, "--kernel", "1", "--out", str(missing / "conv.gif"), *debug])
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "dark.png")
    with pytest.raises(CommandError, match="cannot write .*edges.png"):
        main(["filter", str(tmp_path / "dark.png"), "--kernel", "sobel_x", "--out", str(missing / "edges.png"), *debug])
    (tmp_path / "taken").write_text("a file, not a folder")
    model, image = str(saved_model / "model.keras"), str(saved_model / "digit.png")
    with pytest.raises(CommandError, match="cannot create output folder .*taken"):
        main(["explain", "model", model, image, "--out", str(tmp_path / "taken"), *debug])
    with pytest.raises(UsageError, match=r"`class_index` must be in \[0, 3\). Received: class_index=7"):
        main(["explain", "model", model, image, "--out", str(tmp_path / "v"), "--class", "7", *debug])
    two = ks.Sequential([ks.Input((4, 4, 2)), L.Flatten(), L.Dense(2)])
    two.save(tmp_path / "two.keras")
    with pytest.raises(CommandError, match="the model takes 2-channel input; image files give 1, 3 or 4 channels"):
        main(["explain", "model", str(tmp_path / "two.keras"), image, "--out", str(tmp_path / "v"), *debug])
    assert main(["explain"]) == 2 and "conv" in capsys.readouterr().out  # help lists the sub-commands
