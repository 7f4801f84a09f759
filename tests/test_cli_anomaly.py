"""``kernelscope anomaly``: autoencoder vs IsolationForest on one normal digit."""

import re

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

import kernelscope as ks
from kernelscope.cli import main


def _auc(text: str, name: str) -> float:
    match = re.search(rf"^\s+{re.escape(name)}.*?\s(\d\.\d{{4}})$", text, flags=re.MULTILINE)
    assert match, f"no AUC line for {name!r} in:\n{text}"
    return float(match.group(1))


def test_anomaly_prints_both_aucs_and_writes_the_figure(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["anomaly", "--data", "digits", "--normal", "1", "--epochs", "30", "--seed", "0",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    ae_auc, forest_auc = _auc(text, "autoencoder (conv, 30 epochs)"), _auc(text, "isolation forest")
    # the IsolationForest number, recomputed here on the split the command describes
    (x_train, y_train), (x_test, y_test) = ks.datasets.load_digits()
    normal = x_train[y_train == 1].reshape(-1, 64)
    forest = IsolationForest(random_state=0).fit(normal)
    expected = roc_auc_score(y_test == 1, forest.score_samples(x_test.reshape(-1, 64)))
    assert forest_auc == pytest.approx(expected, abs=5e-5)
    assert ae_auc > 0.95
    assert f"{int((y_train == 1).sum())} training images" in text and "36 normal, 324 anomalies" in text
    figure = out / "reconstructions.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob(".*.tmp"))


def test_dense_architecture_option(tmp_path, capsys):
    assert main(["anomaly", "--normal", "0", "--architecture", "dense", "--epochs", "20", "--noise", "0.1",
                 "--out", str(tmp_path)]) == 0
    assert _auc(capsys.readouterr().out, "autoencoder (dense, 20 epochs)") > 0.95


def test_unknown_normal_class_is_a_usage_error(tmp_path, capsys):
    assert main(["anomaly", "--normal", "12", "--out", str(tmp_path)]) == 2
    assert "error: --normal 12 is not a class of digits (classes 0-9)" in capsys.readouterr().err


def test_noise_out_of_range_is_a_usage_error(tmp_path, capsys):
    assert main(["anomaly", "--noise", "1.5", "--out", str(tmp_path)]) == 2
    assert "error: --noise must be in [0, 1], got 1.5" in capsys.readouterr().err


def test_unwritable_output_folder_is_a_command_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["anomaly", "--epochs", "1", "--out", str(blocker / "sub")]) == 1
    assert re.search(r"error: cannot write to output folder .*sub", capsys.readouterr().err)


def test_unknown_dataset_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["anomaly", "--data", "mnist"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'mnist'" in capsys.readouterr().err


def test_variational_kind_prints_its_auc_and_writes_prior_samples(tmp_path, capsys):
    assert main(["anomaly", "--kind", "variational", "--normal", "0", "--epochs", "20", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert _auc(text, "variational autoencoder (conv, 20 epochs)") > 0.95
    assert f"Samples of the prior: {tmp_path / 'samples.png'}" in text
    for name in ("reconstructions.png", "samples.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_kind_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["anomaly", "--kind", "vae"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'vae'" in capsys.readouterr().err
