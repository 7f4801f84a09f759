"""The HTML training report: metrics against scikit-learn, feature maps against PyTorch, and the page
rendered in a real headless Chromium (every embedded image decodes, the screenshot is not blank)."""

from __future__ import annotations

import base64
import html.parser
import io
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

import kernelscope as ks
from kernelscope import report
from kernelscope.cli.catalog import small_cnn

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


# ---------------------------------------------------------------- metrics


def test_classification_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 6, 500)
    y_pred = np.where(rng.random(500) < 0.7, y_true, rng.integers(0, 6, 500))
    y_pred[y_pred == 5] = 4  # class 5 is never predicted: precision 0 by convention
    metrics = report.classification_metrics(y_true, y_pred, 6)
    np.testing.assert_array_equal(metrics.confusion, confusion_matrix(y_true, y_pred, labels=range(6)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=range(6), zero_division=0)
    np.testing.assert_allclose(metrics.precision, p, rtol=1e-12)
    np.testing.assert_allclose(metrics.recall, r, rtol=1e-12)
    np.testing.assert_allclose(metrics.f1, f, rtol=1e-12)
    np.testing.assert_array_equal(metrics.support, s)
    assert metrics.accuracy == pytest.approx(np.mean(y_true == y_pred))


def test_classification_metrics_length_mismatch():
    with pytest.raises(ValueError, match="`y_true` and `y_pred` must have the same length. Received: 3 and 2"):
        report.classification_metrics([0, 1, 1], [0, 1], 2)


def test_text_tables_by_hand():
    metrics = report.classification_metrics([0, 0, 1, 1], [0, 1, 1, 1], 2)
    table = report.format_metrics_table(metrics, ["cat", "dog"]).splitlines()
    assert table[1].split() == ["cat", "1.000", "0.500", "0.667", "2"]
    assert table[2].split() == ["dog", "0.667", "1.000", "0.800", "2"]
    confusion = report.format_confusion_table(metrics.confusion, ["cat", "dog"]).splitlines()
    assert confusion[3].split() == ["cat", "|", "1", "1"] and confusion[4].split() == ["dog", "|", "0", "2"]


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r'pip install "kernelscope\[plot\]"'):
        report.require_matplotlib()


# ---------------------------------------------------------------- feature maps


@pytest.fixture(scope="module")
def trained():
    """small-cnn fitted for two epochs on the digits (pixel values 0..255, as the CLI feeds them)."""
    ks.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = ks.datasets.load_digits()
    model = small_cnn(ks, (8, 8, 1), 10)
    model.compile(optimizer=ks.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train * 255, y_train, epochs=2, batch_size=32, validation_split=0.1, verbose=0)
    return model, history.history, x_test * 255, y_test


def _torch_conv_relu(x_nhwc, kernel, bias):
    out = torch.nn.functional.conv2d(torch.from_numpy(x_nhwc).permute(0, 3, 1, 2).double(),
                                     torch.from_numpy(kernel).permute(3, 2, 0, 1).double(),
                                     torch.from_numpy(bias).double(), padding="same")
    return torch.relu(out).permute(0, 2, 3, 1).numpy()


def test_feature_maps_match_torch_sequential_and_functional(trained):
    model, _, x_test, _ = trained
    image = x_test[:1]
    maps = report.conv_feature_maps(model, image)
    assert [name for name, _ in maps] == ["conv1", "conv2"]
    conv1 = model.get_layer("conv1")
    expected = _torch_conv_relu(image / 255.0, conv1.kernel.numpy(), conv1.bias.numpy())
    np.testing.assert_allclose(maps[0][1], expected, rtol=1e-4, atol=1e-5)
    pooled = expected.reshape(1, 4, 2, 4, 2, 32).max(axis=(2, 4))
    conv2 = model.get_layer("conv2")
    expected2 = _torch_conv_relu(pooled, conv2.kernel.numpy(), conv2.bias.numpy())
    np.testing.assert_allclose(maps[1][1], expected2, rtol=1e-4, atol=1e-4)
    # The same model written functionally goes through the sub-model path.
    inputs = ks.Input((8, 8, 1))
    x = inputs
    for layer in model.layers:
        x = layer(x)
    functional = ks.Model(inputs, x)
    functional_maps = report.conv_feature_maps(functional, image)
    np.testing.assert_allclose(functional_maps[1][1], maps[1][1], rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- the page in a browser


class _Images(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources, self.external = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.sources.append(attrs.get("src", ""))
        for key in ("src", "href"):
            if attrs.get(key, "").startswith(("http:", "https:", "//")):
                self.external.append(attrs[key])


def _chromium(tmp_path, *args) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        pytest.fail("chromium is required to test the report (CI installs it: apt-get install -y chromium)")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_report_renders_in_headless_chromium(trained, tmp_path):
    model, history, x_test, y_test = trained
    path = report.write_report(tmp_path / "report.html", model, history, x_test, y_test,
                               [str(i) for i in range(10)], info={"data": "digits"})
    assert path == tmp_path / "report.html"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left behind
    text = path.read_text(encoding="utf-8")
    for heading in ("Learning curves", "Confusion matrix", "Precision and recall per class",
                    "Misclassified test images", "First convolution layer", "Feature maps", "Model summary"):
        assert f"<h2>{heading}" in text
    assert "Total params" in text

    dom = _chromium(tmp_path, "--dump-dom", path.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    parser = _Images()
    parser.feed(dom.stdout)
    assert parser.external == []
    # curves, confusion, misclassified grid, kernels, input image, one map per conv layer (two epochs of
    # training leave some digits misclassified)
    assert len(parser.sources) == 7
    for source in parser.sources:
        assert source.startswith("data:image/png;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1])))
        image.load()
        assert image.width > 50 and image.height > 50

    shot = tmp_path / "shot.png"
    result = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,4000", "--hide-scrollbars",
                       path.as_uri())
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.float64)
    assert pixels.shape[:2] == (4000, 1280)
    non_white = np.mean(pixels.min(axis=-1) < 200)
    assert pixels.std() > 20 and non_white > 0.05  # plots drawn, not a blank page
