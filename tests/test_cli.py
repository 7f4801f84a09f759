"""The ``kernelscope`` command: help, exit codes, one-line errors, and one default training run shared
by the end-to-end tests (digits, small-cnn, >= 97% test accuracy, loadable model.keras, report.html)."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

import kernelscope as ks
from kernelscope.cli import main

# One BLAS thread: this library's matrices are small, and on a loaded 2-core CI machine OpenBLAS's thread
# pool made the default run about 8x slower (same results).
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1",
       "PYTHONPATH": os.pathsep.join([os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                      os.environ.get("PYTHONPATH", "")])}


def _run(*args, cwd=None, env=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "kernelscope", *args], capture_output=True, text=True,
                          cwd=cwd, env=env or ENV, timeout=timeout)


def _one_line_error(stderr: str, pattern: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert re.search(pattern, lines[0]), lines[0]


# ---------------------------------------------------------------- help and usage


@pytest.mark.parametrize("command, expected", [
    ([], ["train", "evaluate", "predict", "summary", "--debug"]),
    (["train"], ["--data", "--download", "--model", "--epochs", "--batch-size", "--optimizer", "--learning-rate",
                 "--validation-split", "--seed", "--out"]),
    (["evaluate"], ["MODEL", "--data"]),
    (["predict"], ["MODEL", "IMAGE", "--top-k"]),
    (["summary"], ["MODEL|ARCHITECTURE", "--input-shape"]),
])
def test_help_on_every_command(capsys, command, expected):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for word in expected:
        assert word in out


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: kernelscope" in capsys.readouterr().out


@pytest.mark.parametrize("argv, pattern", [
    (["train", "--epochs", "0"], r"^kernelscope train: error: argument --epochs: must be a positive integer, got 0"),
    (["train", "--optimizer", "adagrad"], r"argument --optimizer: invalid choice: 'adagrad'"),
    (["train", "--validation-split", "1"], r"argument --validation-split: must be in \[0, 1\), got 1"),
    (["train", "--learning-rate", "-1"], r"argument --learning-rate: must be a positive number"),
    (["predict", "model.keras"], r"the following arguments are required: IMAGE"),
    (["summary", "small-cnn", "--input-shape", "8,8"], r"must be three positive integers H,W,C, got 8,8"),
    (["frobnicate"], r"^kernelscope: error: argument COMMAND: invalid choice: 'frobnicate'"),
])
def test_argument_errors_exit_2_in_one_line(capsys, argv, pattern):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    _one_line_error(capsys.readouterr().err, pattern)


@pytest.mark.parametrize("argv, pattern", [
    (["train", "--data", "cifar-1000"], r"unknown dataset 'cifar-1000': expected one of digits, mnist, "
                                        r"fashion-mnist or an image folder"),
    (["train", "--model", "resnet-9000"], r"unknown model 'resnet-9000': expected one of small-cnn, lenet5, "
                                          r"mlp or a FILE.json config"),
    (["summary", "vgg99"], r"'vgg99' is neither a model file nor a builtin architecture \(small-cnn, lenet5, mlp\)"),
])
def test_unknown_names_exit_2_listing_valid_ones(capsys, tmp_path, argv, pattern):
    assert main([*argv, *(["--out", str(tmp_path / "out")] if argv[0] == "train" else [])]) == 2
    _one_line_error(capsys.readouterr().err, pattern)


def test_runtime_errors_exit_1_in_one_line(capsys, tmp_path):
    not_a_model = tmp_path / "notes.keras"
    not_a_model.write_text("hello")
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder")
    cases = [
        (["evaluate", str(tmp_path / "missing.keras")], r"^kernelscope evaluate: error: model file not found: "),
        (["summary", str(not_a_model)], r"notes\.keras is not a kernelscope model file"),
        (["train", "--out", str(blocker / "run")], r"cannot write to output folder .*file\.txt/run"),
        (["train", "--model", str(not_a_model) + ".json", "--out", str(tmp_path / "o")], r"cannot read model config"),
    ]
    for argv, pattern in cases:
        assert main(argv) == 1, argv
        _one_line_error(capsys.readouterr().err, pattern)


def test_mnist_without_files_says_where_to_put_them(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("KERNELSCOPE_HOME", str(tmp_path))
    assert main(["train", "--data", "mnist", "--out", str(tmp_path / "out")]) == 1
    _one_line_error(capsys.readouterr().err, r"mnist files not found in .*mnist: missing train-images-idx3-ubyte"
                                             r".*download=True to fetch them\. On the command line: add --download\.$")


def test_debug_shows_the_exception(tmp_path):
    from kernelscope.cli.catalog import CommandError

    with pytest.raises(CommandError, match="model file not found"):
        main(["evaluate", str(tmp_path / "missing.keras"), "--debug"])


def test_bad_model_config_json(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["train", "--model", str(bad), "--out", str(tmp_path / "o")]) == 1
    _one_line_error(capsys.readouterr().err, r"bad\.json is not a JSON model config")


# ---------------------------------------------------------------- summary of builtin architectures


@pytest.mark.parametrize("name, shape, total", [
    # Hand counts. small-cnn 8x8x1: conv1 9*32+32, conv2 9*32*64+64, dense (2*2*64)*10+10.
    ("small-cnn", "8,8,1", 320 + 18496 + 2570),
    # LeNet-5 on 28x28x1 (Keras's classic count): 156 + 2416 + 48120 + 10164 + 850.
    ("lenet5", "28,28,1", 61706),
    # mlp 8x8x1: 64*128+128, 128*64+64, 64*10+10.
    ("mlp", "8,8,1", 8320 + 8256 + 650),
])
def test_summary_of_builtin_architectures(capsys, name, shape, total):
    assert main(["summary", name, "--input-shape", shape]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"Total params: {total:,}\b", out), out


# ---------------------------------------------------------------- the default training run


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """``kernelscope train`` with no arguments (run from a temporary folder: output under runs/)."""
    cwd = tmp_path_factory.mktemp("default-run")
    started = time.perf_counter()
    result = _run("train", cwd=cwd)
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    runs = list((cwd / "runs").iterdir())
    assert len(runs) == 1 and re.fullmatch(r"digits-\d{8}-\d{6}", runs[0].name)
    accuracy = float(re.search(r"Test accuracy: ([0-9.]+)", result.stdout).group(1))
    print(f"\ndefault `kernelscope train`: {seconds:.1f} s wall, test accuracy {accuracy:.4f}")
    return {"dir": runs[0], "stdout": result.stdout, "accuracy": accuracy, "seconds": seconds}


def test_default_train_reaches_97_percent_and_saves_everything(default_run):
    out = default_run["dir"]
    assert default_run["accuracy"] >= 0.97
    assert sorted(p.name for p in out.iterdir()) == ["classes.json", "history.csv", "model.keras", "report.html"]
    stdout = default_run["stdout"]
    assert "Epoch 1/30" in stdout and "Epoch 30/30" in stdout  # progress display
    for name in ("model.keras", "history.csv", "report.html"):
        assert f"runs/{out.name}/{name}" in stdout
    with open(out / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 30 and {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 6 and "Total params" in html


def test_saved_model_loads_and_reproduces_test_accuracy(default_run):
    model = ks.models.load_model(default_run["dir"] / "model.keras")
    (_, _), (x_test, y_test) = ks.datasets.load_digits()
    predicted = model.predict(x_test * 255, verbose=0).argmax(axis=-1)
    assert np.mean(predicted == y_test) == pytest.approx(default_run["accuracy"], abs=1e-4)


def test_evaluate_prints_accuracy_metrics_and_confusion(default_run, capsys):
    assert main(["evaluate", str(default_run["dir"] / "model.keras")]) == 0
    out = capsys.readouterr().out
    assert f"Test accuracy: {default_run['accuracy']:.4f} (360 images of digits)" in out
    rows = [line.split() for line in out.splitlines() if re.match(r"^\s*\d \| ", line)]
    confusion = np.array([[int(v) for v in row[2:]] for row in rows])
    assert confusion.shape == (10, 10) and confusion.sum() == 360
    assert np.trace(confusion) / 360 == pytest.approx(default_run["accuracy"], abs=1e-4)
    assert "precision  recall" in out


def test_predict_png_files(default_run, tmp_path, capsys):
    model = ks.models.load_model(default_run["dir"] / "model.keras")
    (_, _), (x_test, y_test) = ks.datasets.load_digits()
    pixels = np.round(x_test[..., 0] * 255).astype(np.uint8)
    probabilities = model.predict(pixels[..., None].astype(np.float32), verbose=0)
    confident = np.flatnonzero((probabilities.argmax(-1) == y_test) & (probabilities.max(-1) > 0.95))[:2]
    paths = []
    for i in confident:
        paths.append(tmp_path / f"digit{i}.png")
        Image.fromarray(pixels[i], mode="L").save(paths[-1])
    big = tmp_path / "big_rgb.png"  # resized to 8x8 and converted to one channel
    Image.fromarray(np.repeat(np.kron(pixels[confident[0]], np.ones((4, 4), np.uint8))[..., None], 3, -1)).save(big)
    assert main(["predict", str(default_run["dir"] / "model.keras"), *map(str, paths), str(big), "--top-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 9 and lines[0] == str(paths[0])
    for block, i in zip((lines[0:3], lines[3:6]), confident):
        first, second = block[1].split(), block[2].split()
        assert first[:2] == ["1.", str(y_test[i])] and second[0] == "2."
        assert 1.0 >= float(first[2]) >= float(second[2]) >= 0.0


def test_predict_missing_and_unreadable_images(default_run, tmp_path, capsys):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnope")
    model = str(default_run["dir"] / "model.keras")
    assert main(["predict", model, str(tmp_path / "none.png")]) == 1
    _one_line_error(capsys.readouterr().err, r"image file not found: .*none\.png")
    assert main(["predict", model, str(broken)]) == 1
    _one_line_error(capsys.readouterr().err, r"cannot read image .*broken\.png")


def test_summary_of_saved_model(default_run, capsys):
    assert main(["summary", str(default_run["dir"] / "model.keras")]) == 0
    assert re.search(r"Total params: 21,386\b", capsys.readouterr().out)


# ---------------------------------------------------------------- other training paths


def test_train_from_model_config_json_and_image_folder(tmp_path, capsys):
    folder = tmp_path / "shapes"
    rng = np.random.default_rng(0)
    for name, channel in (("blue", 2), ("red", 0)):
        (folder / name).mkdir(parents=True)
        for i in range(12):
            pixels = rng.integers(0, 60, (10, 10, 3), dtype=np.uint8)
            pixels[..., channel] = 200
            Image.fromarray(pixels).save(folder / name / f"{i}.png")
    config = tmp_path / "tiny.json"
    tiny = ks.Sequential([ks.Input((8, 8, 3)), ks.layers.Rescaling(1 / 255), ks.layers.Conv2D(4, 3),
                          ks.layers.Flatten(), ks.layers.Dense(2, activation="softmax")])
    config.write_text(tiny.to_json())
    out = tmp_path / "run"
    assert main(["train", "--data", str(folder), "--image-size", "8", "--model", str(config), "--epochs", "3",
                 "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "classes.json").read_text()) == ["blue", "red"]
    capsys.readouterr()
    assert main(["predict", str(out / "model.keras"), str(folder / "red" / "0.png"), "--top-k", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[1] in ("blue", "red")
    assert main(["evaluate", str(out / "model.keras"), "--data", str(folder)]) == 0
    assert "(4 images of" in capsys.readouterr().out  # int(0.2 * 24) = 4 test images, as Keras rounds down


def test_model_config_formats(tmp_path):
    from kernelscope.cli.catalog import build_model

    inputs = ks.Input((8, 8, 1))
    outputs = ks.layers.Dense(10, activation="softmax")(ks.layers.Flatten()(inputs))
    functional = ks.Model(inputs, outputs)
    sequential = ks.Sequential([ks.Input((8, 8, 1)), ks.layers.Flatten(), ks.layers.Dense(10)])
    cases = {"to_json.json": functional.to_json(), "get_config.json": json.dumps(functional.get_config()),
             "sequential_get_config.json": json.dumps(sequential.get_config())}
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        model = build_model(str(tmp_path / name), (8, 8, 1), 10)
        assert model.count_params() == 650, name  # 64 * 10 + 10


def test_train_on_mnist_files_from_the_cache(tmp_path, capsys, monkeypatch):
    import gzip
    import struct

    rng = np.random.default_rng(0)
    folder = tmp_path / "fashion_mnist"
    folder.mkdir()
    for prefix, n in (("train", 40), ("t10k", 10)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
            (folder / f"{prefix}-{kind}-ubyte.gz").write_bytes(gzip.compress(header + array.tobytes()))
    monkeypatch.setenv("KERNELSCOPE_HOME", str(tmp_path))
    out = tmp_path / "run"
    assert main(["train", "--data", "fashion-mnist", "--model", "mlp", "--epochs", "1", "--out", str(out),
                 "--quiet"]) == 0
    assert json.loads((out / "classes.json").read_text())[9] == "Ankle boot"
    assert ks.models.load_model(out / "model.keras").inputs[0].shape == (None, 28, 28, 1)


def test_train_without_matplotlib_still_saves_the_model(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "run"
    assert main(["train", "--model", "mlp", "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    assert 'pip install "kernelscope[plot]"' in capsys.readouterr().out
    assert (out / "model.keras").exists() and not (out / "report.html").exists()


def test_ctrl_c_keeps_the_best_model_so_far(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "kernelscope", "train", "--epochs", "500", "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    deadline = time.monotonic() + 120
    while not (out / "model.keras").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    _one_line_error(stderr, r"^kernelscope train: interrupted after \d+ epoch\(s\); best model \(epoch \d+, "
                            r"val_loss [0-9.]+\) saved to .*model\.keras")
    assert ks.models.load_model(out / "model.keras").count_params() == 21386
    assert (out / "history.csv").exists() and not (out / "report.html").exists()
