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


# ---------------------------------------------------------------- Ctrl-C while the command starts

# Loaded through PYTHONPATH before the command runs: raises a real SIGINT the moment `TARGET` is first
# imported, so the interruption lands at that exact point of the start-up every time.
SITECUSTOMIZE = textwrap.dedent("""
    import os, signal, sys

    class InterruptAt:
        def find_spec(self, name, path=None, target=None):
            if name == os.environ["KS_TEST_INTERRUPT_AT"]:
                sys.meta_path.remove(self)
                os.kill(os.getpid(), signal.SIGINT)
            return None

    sys.meta_path.insert(0, InterruptAt())
""")
CONSOLE_SCRIPT = "import sys\nfrom kernelscope.cli import main\nsys.exit(main())\n"  # as pip writes it


@pytest.mark.parametrize("module, how", [
    ("numpy", "-m"),                      # imported by kernelscope/__init__.py, before any command code
    ("numpy", "script"),                  # the same through the `kernelscope` console script
    ("argparse", "-m"),                   # importing kernelscope.cli
    ("kernelscope.cli.explain", "-m"),    # building the parser
    ("kernelscope.cli.commands", "script"),
    ("kernelscope.models", "-m"),         # inside `train`, before the first epoch
])
def test_ctrl_c_while_the_command_starts_exits_130_in_one_line(tmp_path, module, how):
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "kernelscope").write_text(CONSOLE_SCRIPT)
    command = ["-m", "kernelscope"] if how == "-m" else [str(tmp_path / "bin" / "kernelscope")]
    env = {**ENV, "KS_TEST_INTERRUPT_AT": module,
           "PYTHONPATH": os.pathsep.join([str(tmp_path / "hook"), ENV["PYTHONPATH"]])}
    result = subprocess.run([sys.executable, *command, "train", "--epochs", "1", "--quiet", "--out",
                             str(tmp_path / "run")], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 130, result.stderr
    _one_line_error(result.stderr, r"^kernelscope( train)?: interrupted")


@pytest.mark.parametrize("argv, expected", [
    (["python", "-m", "kernelscope", "train"], True),
    (["python", "-X", "utf8", "-u", "-mkernelscope"], True),
    (["/usr/bin/python3", "/venv/bin/kernelscope", "train"], True),
    (["python", "-m", "pytest", "tests"], False),
    (["python", "-c", "import kernelscope"], False),
    (["python", "train_my_model.py"], False),
    (["python"], False),
])
def test_the_start_up_guard_acts_only_for_the_command(argv, expected):
    from kernelscope._interrupt_guard import is_the_command

    assert is_the_command(argv) is expected
