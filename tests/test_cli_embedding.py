"""``kernelscope train --task embedding``: triplet embedding of digits 0-4, verification and one-shot on 5-9."""

import re

import numpy as np
import pytest

import kernelscope as ks
from kernelscope import similarity as sim
from kernelscope.cli import main


def _number(text: str, pattern: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in:\n{text}"
    return float(match.group(1))


def test_train_task_embedding_measures_and_reports(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--task", "embedding", "--epochs", "2", "--seed", "0", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    auc_seen = _number(text, r"test pairs of 0-4: ROC AUC (\d\.\d{4})")
    one_shot = _number(text, r"one example per class, 20 draws\): (\d\.\d{3})")
    assert auc_seen > 0.9 and one_shot > 0.4  # two epochs only; chance is 0.5 and 0.2

    # the printed numbers, recomputed from the saved model on the split the command describes
    model = ks.models.load_model(out / "model.keras")
    (x_train, y_train), (x_test, y_test) = ks.datasets.load_digits()
    x_train, x_test = x_train * 255, x_test * 255
    embeddings = sim.embed(model, x_test)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, rtol=1e-5)  # on the unit sphere
    seen = y_test < 5
    a, b, different = sim.make_pairs(x_test[seen], y_test[seen], seed=0)
    assert sim.choose_threshold(sim.pair_distances(model, a, b), different == 0)["auc"] == pytest.approx(
        auc_seen, abs=1e-4)
    unseen = y_test >= 5
    accuracies = sim.one_shot_accuracy(model, x_train, y_train, x_test[unseen], y_test[unseen], draws=20, seed=0)
    assert accuracies.mean() == pytest.approx(one_shot, abs=1e-3)

    page = (out / "report.html").read_text(encoding="utf-8")
    for heading in ("Verification and one-shot recognition", "Embeddings of the test digits in 2-D",
                    "Verification ROC", "Verification pairs of unseen digits", "Model summary"):
        assert f"<h2>{heading}" in page
    assert page.count("data:image/png;base64,") == 4  # loss, embeddings, ROC, pairs
    assert f"{auc_seen:.4f}" in page
    history = (out / "history.csv").read_text().splitlines()
    assert history[0] == "epoch,loss" and len(history) == 3


@pytest.mark.parametrize("argv, message", [
    (["--data", "mnist"], r"--task embedding trains on the bundled digits: --data must be digits, got mnist"),
    (["--batch-size", "12"], r"--batch-size must be a multiple of 8, at least 16, got 12"),
    (["--validation-split", "0"], r"--validation-split must be > 0, got 0.0"),
    (["--model", "lenet5"], r"--model does not apply to --task embedding"),
])
def test_train_task_embedding_usage_errors(tmp_path, capsys, argv, message):
    assert main(["train", "--task", "embedding", "--out", str(tmp_path / "run"), *argv]) == 2
    assert re.search(message, capsys.readouterr().err)
