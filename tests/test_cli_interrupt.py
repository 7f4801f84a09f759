"""Ctrl-C during ``kernelscope train``: the final line describes the model file on disk (issue 12, item 1).

A real SIGINT is delivered while the best-model save is in progress. To hit that moment every time,
the child process (this test's script, not the library) wraps ``os.replace``, the rename that puts a
finished save into place: at the chosen save it waits for the signal just before the rename (the save
is rolled back) or just after it (the save is complete), and it keeps a copy of every attempted file so
the test can tell which epoch's model ended up on disk (the running epoch comes from the History that
``fit`` always adds).
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from test_cli import ENV, _one_line_error

CHILD = textwrap.dedent("""
    import os, pathlib, shutil, sys, time
    import kernelscope as ks
    from kernelscope.cli import main

    spy = pathlib.Path(os.environ["KS_TEST_SPY"])
    nth, phase = int(os.environ["KS_TEST_SAVE"]), os.environ["KS_TEST_PHASE"]
    real_replace = os.replace
    state = {"epoch": None, "saves": 0}

    def on_epoch_begin(self, epoch, logs=None):  # fit always adds a History: it tells the running epoch
        state["epoch"] = epoch + 1

    def wait_for_sigint():
        (spy / "ready").write_text(str(state["epoch"]))
        time.sleep(120)

    def replace(src, dst, *args, **kwargs):
        if os.path.basename(dst) != "model.keras":
            return real_replace(src, dst, *args, **kwargs)
        state["saves"] += 1
        shutil.copyfile(src, spy / f"attempt-{state['epoch']}.keras")
        if state["saves"] == nth and phase == "before":
            wait_for_sigint()
        real_replace(src, dst, *args, **kwargs)
        if state["saves"] == nth and phase == "after":
            wait_for_sigint()

    ks.callbacks.History.on_epoch_begin = on_epoch_begin
    os.replace = replace
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("nth, phase", [(1, "before"), (1, "after"), (3, "before"), (3, "after")])
def test_ctrl_c_during_a_best_model_save_reports_the_file_on_disk(tmp_path, nth, phase):
    script, spy, out = tmp_path / "child.py", tmp_path / "spy", tmp_path / "run"
    script.write_text(CHILD)
    spy.mkdir()
    env = {**ENV, "KS_TEST_SPY": str(spy), "KS_TEST_SAVE": str(nth), "KS_TEST_PHASE": phase}
    process = subprocess.Popen([sys.executable, str(script), "train", "--epochs", "60", "--quiet", "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 150
    while not (spy / "ready").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (spy / "ready").exists(), f"the save never reached os.replace: {process.communicate(timeout=60)}"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr

    attempts = sorted(int(p.stem.split("-")[1]) for p in spy.glob("attempt-*.keras"))
    assert len(attempts) == nth
    on_disk = attempts[-1] if phase == "after" else (attempts[-2] if nth > 1 else None)
    target = out / "model.keras"
    if on_disk is None:
        _one_line_error(stderr, r"^kernelscope train: interrupted (after \d+ epoch\(s\)|before the first epoch "
                                r"ended); no model saved$")
        assert not target.exists()
        return
    _one_line_error(stderr, r"^kernelscope train: interrupted after \d+ epoch\(s\); best model \(epoch \d+, "
                            r"val_loss [0-9.]+\) saved to .*model\.keras$")
    epoch, value, path = re.search(r"epoch (\d+), val_loss ([0-9.]+)\) saved to (.*)$", stderr).groups()
    assert int(epoch) == on_disk and os.path.samefile(path, target)
    assert target.read_bytes() == (spy / f"attempt-{on_disk}.keras").read_bytes()
    with open(out / "history.csv", newline="") as handle:
        rows = {int(row["epoch"]): row for row in csv.DictReader(handle)}
    assert f"{float(rows[on_disk]['val_loss']):.4f}" == value
