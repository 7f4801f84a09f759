"""The README's first command keeps its promise on a fresh machine.

"From a clone of this repository" the README's first ```bash block installs kernelscope
and runs ``kernelscope train``; the prose under it promises ``model.keras``, ``history.csv``
and a self-contained ``report.html`` with figures. This test runs that command in a virtual
environment that starts empty (no system site-packages, so nothing the test suite itself
installed can help), which is what a new user's machine looks like. It needs the package
registry, as the README command does, and takes a minute or two: it is marked ``slow``
(``pytest -m "not slow"`` leaves it out while iterating; ``.ci/run`` runs it).
"""

import os
import pathlib
import re
import subprocess
import sys
import venv

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _first_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^```bash\n(.*?)^```", text, re.S | re.M)
    assert block, "README.md has no ```bash block"
    return block.group(1).strip()


def test_the_first_command_is_an_install_followed_by_the_main_job():
    install, _, train = _first_command().partition(" && ")
    assert install.startswith("python -m pip install -e ")
    assert train == "kernelscope train"


def test_the_first_command_gives_the_promised_run_folder_in_an_empty_environment(tmp_path):
    install, _, train = _first_command().partition(" && ")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"

    # The install half runs where the README says: in the clone.
    subprocess.run(install, shell=True, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    probe = subprocess.run([str(bin_dir / "python"), "-c", "import importlib.util as u; "
                            "print(u.find_spec('torch') is None, u.find_spec('sklearn') is None)"],
                           env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.split() == ["True", "True"], "the environment is not bare: " + probe.stdout

    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(train, shell=True, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped" not in done.stdout, done.stdout
    (run,) = (work / "runs").iterdir()
    assert run.name.startswith("digits-")
    for name in ("model.keras", "history.csv", "report.html"):
        assert (run / name).is_file(), f"{name} missing from {sorted(p.name for p in run.iterdir())}"
    html = (run / "report.html").read_text(encoding="utf-8")
    assert f"Report:  {(run / 'report.html').relative_to(work)}" in done.stdout
    # Self-contained: the figures are embedded, nothing is fetched.
    assert html.count("data:image/png;base64,") >= 4
    assert not re.search(r"""(src|href)=["']https?://""", html)
    accuracy = re.search(r"test accuracy[^0-9]*([0-9.]+)", done.stdout, re.I)
    assert accuracy and float(accuracy.group(1).rstrip(".")) > 0.9, done.stdout


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))
