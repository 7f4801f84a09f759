"""Run the keras-io yardstick examples against kernelscope (issue 13, "The yardstick").

Usage::

    python scripts/run_keras_examples.py SOURCE_DIR [--only NAME ...] [--timeout S]
        [--kernelscope PATH] [--dry-run] [--keep] [--json FILE]

For each example, the original file ``SOURCE_DIR/NAME.py`` is read and only the
substitutions listed for it in ``keras_examples_subs.py`` are applied (import lines,
``tf.GradientTape`` -> ``keras.GradientTape``, ``tf.<math>`` -> ``keras.ops.<math>``, local
stand-in data, fewer epochs and smaller sizes, skipped 1-D parts). Each substitution must
match exactly as often as listed, so a drifting source fails loudly instead of running
something else. Substitutions keep the line count, so an error's line number is the
line of the original file. Nothing of the examples is stored in this repository.

Each example runs in its own subprocess, in a fresh temporary folder (also its HOME),
with ``PYTHONPATH`` set to the kernelscope tree under test and ``MPLBACKEND=Agg``. A
launcher runs the file and prints a sentinel after its last line; an example passes only
if the process exits 0 *and* printed the sentinel. One line per example is printed
(``PASS name (seconds)`` or ``FAIL name: ExceptionType: message [line N: code]``) and a
final ``N passed, M failed``; the exit status is 1 if anything failed. Where the example's
published page ``SOURCE_DIR/md/NAME.md`` shows ``summary()`` tables, an indented line
under the result says whether the summaries printed have the published (trainable,
non-trainable) parameter counts; it informs and does not change PASS/FAIL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS))

from keras_examples_subs import EXAMPLES, leftover_tensorflow  # noqa: E402
import keras_examples_standin  # noqa: E402

SENTINEL = "<<<kernelscope-example-finished>>>"

# Runs inside the subprocess: checks which kernelscope is imported, runs the example file
# with the stand-in loaders as `_standin`, and reports the first error as JSON.
LAUNCHER = r'''
import json, linecache, os, runpy, sys, traceback
example, expected_root, scripts, report = sys.argv[1:5]
sys.path.insert(0, scripts)
import kernelscope
root = os.path.realpath(os.path.dirname(os.path.dirname(kernelscope.__file__)))
if root != os.path.realpath(expected_root):
    raise SystemExit(f"kernelscope imported from {root}, expected {expected_root}")
import keras_examples_standin as _standin
sys.argv = [example]
try:
    runpy.run_path(example, init_globals={"_standin": _standin}, run_name="__main__")
except BaseException as exc:
    traceback.print_exc()
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == example]
    where = frames[-1] if frames else None
    message = (str(exc).strip().splitlines() or [""])[0]
    with open(report, "w") as fh:
        json.dump({"type": type(exc).__name__, "message": message,
                   "line": where.lineno if where else None,
                   "code": (where.line or "").strip() if where else None}, fh)
    sys.exit(1)
sys.stdout.flush()
print(%r, flush=True)
''' % SENTINEL


def transform(name: str, source_dir: Path) -> str:
    """Return example ``name``'s source with its listed substitutions applied."""
    example = EXAMPLES[name]
    path = source_dir / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"{name}: no file {path}")
    source = path.read_text(encoding="utf-8")
    for sub in example.subs:
        source = sub.apply(source, name)
    left = leftover_tensorflow(source)
    if left:
        raise ValueError(f"{name}: TensorFlow or a `keras` import left after the substitutions, "
                         f"at line(s) {left}; list a substitution for each.")
    return source


def _first_error(workdir: Path, stderr: str) -> str:
    """``ExceptionType: message [line N: code]`` from the launcher's report, or stderr's tail."""
    report = workdir / "error.json"
    if report.is_file():
        err = json.loads(report.read_text())
        where = f" [line {err['line']}: {err['code']}]" if err["line"] else ""
        return f"{err['type']}: {err['message']}{where}"
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no error output"


def summary_params(text: str) -> list[tuple[int, int]]:
    """(trainable, non-trainable) counts of every ``summary()`` in ``text`` (console or keras-io HTML)."""
    text = re.sub(r"<[^>]+>", "", text)  # the published pages colour the numbers with <span>s
    found = re.findall(r"(Trainable|Non-trainable) params: ([\d,]+)", text)
    counts = [int(number.replace(",", "")) for _, number in found]
    return list(zip(counts[0::2], counts[1::2]))


def compare_params(printed: str, published: str) -> str:
    """One line saying whether the summaries printed so far have the published parameter counts."""
    ours, theirs = summary_params(printed), summary_params(published)
    if not theirs:
        return ""
    differ = [f"summary {i + 1}: {o} vs published {t}" for i, (o, t) in enumerate(zip(ours, theirs)) if o != t]
    if differ:
        return "params (trainable, non-trainable) DIFFER: " + "; ".join(differ)
    return f"params as published in {min(len(ours), len(theirs))} of {len(theirs)} summaries"


def _environment(kernelscope: Path, home: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(kernelscope), str(SCRIPTS)])
    env["MPLBACKEND"] = "Agg"
    env["HOME"] = str(home)  # ~/.keras etc. land in the sandbox, not the user's home
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_example(name: str, code: str, kernelscope: Path, timeout: float,
                workdir: Path) -> tuple[bool, float, str]:
    """Run one transformed example in ``workdir``; return (passed, seconds, message).

    Its output stays in ``workdir/stdout.txt`` and ``workdir/stderr.txt``.
    """
    home = workdir / "home"
    keras_examples_standin.prepare(name, workdir, home)
    example = workdir / f"{name}.py"
    example.write_text(code, encoding="utf-8")
    launcher = workdir / "_launcher.py"
    launcher.write_text(LAUNCHER, encoding="utf-8")
    argv = [sys.executable, str(launcher), str(example), str(kernelscope), str(SCRIPTS),
            str(workdir / "error.json")]
    start = time.perf_counter()
    with open(workdir / "stdout.txt", "w") as out, open(workdir / "stderr.txt", "w") as err:
        # A session of its own, so a timeout also stops the example's worker processes.
        proc = subprocess.Popen(argv, cwd=workdir, env=_environment(kernelscope, home),
                                stdout=out, stderr=err, start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return False, time.perf_counter() - start, f"timeout after {timeout:.0f} s"
    seconds = time.perf_counter() - start
    stdout = (workdir / "stdout.txt").read_text(errors="replace")
    stderr = (workdir / "stderr.txt").read_text(errors="replace")
    if proc.returncode < 0:  # e.g. the kernel's out-of-memory killer
        return False, seconds, f"killed by signal {-proc.returncode} ({signal.Signals(-proc.returncode).name})"
    if proc.returncode != 0:
        return False, seconds, _first_error(workdir, stderr)
    if SENTINEL not in stdout.splitlines():
        return False, seconds, "exited 0 without reaching its last line (no sentinel)"
    return True, seconds, ""


def _params_note(name: str, source_dir: Path, workdir: Path) -> str:
    """Compare the example's printed summaries with its published page ``SOURCE_DIR/md/NAME.md``."""
    published, printed = source_dir / "md" / f"{name}.md", workdir / "stdout.txt"
    if not (published.is_file() and printed.is_file()):
        return ""
    return compare_params(printed.read_text(errors="replace"), published.read_text(errors="replace"))


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source_dir", type=Path, help="folder with the keras-io NAME.py files")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=sorted(EXAMPLES),
                        help="run only these examples")
    parser.add_argument("--timeout", type=float, default=900.0, metavar="S",
                        help="seconds allowed per example (default: 900)")
    parser.add_argument("--kernelscope", type=Path, default=SCRIPTS.parent, metavar="PATH",
                        help="kernelscope tree to test (default: this repository)")
    parser.add_argument("--dry-run", action="store_true",
                        help="apply the substitutions and check them, run nothing")
    parser.add_argument("--keep", action="store_true",
                        help="keep each example's folder (source, stdout.txt, stderr.txt)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write results as JSON")
    return parser.parse_args(argv)


def _run_one(name: str, args: argparse.Namespace, kernelscope: Path) -> dict:
    """Transform, run and report one example; print its result line(s)."""
    try:
        code = transform(name, args.source_dir)
    except (OSError, ValueError) as exc:
        # The example cannot run as listed: a failure of its own, said as such.
        print(f"FAIL {name}: runner: {exc}", flush=True)
        return {"name": name, "passed": False, "seconds": 0.0, "error": f"runner: {exc}", "params": ""}
    workdir = Path(tempfile.mkdtemp(prefix=f"ks-example-{name}-"))
    try:
        passed, seconds, message = run_example(name, code, kernelscope, args.timeout, workdir)
        params = _params_note(name, args.source_dir, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    line = f"PASS {name} ({seconds:.1f} s)" if passed else f"FAIL {name}: {message}"
    if args.keep:
        line += f"  [{workdir}]"
    notes = [params] if params else []
    notes += [f"skipped: {why}" for why in EXAMPLES[name].skipped]
    print("\n    ".join([line, *notes]), flush=True)
    return {"name": name, "passed": passed, "seconds": round(seconds, 1), "error": message, "params": params}


def main(argv: list[str] | None = None) -> int:
    """Run the selected examples and print one PASS/FAIL line each; return the exit status."""
    args = _parse(argv)
    kernelscope = args.kernelscope.resolve()
    if not (kernelscope / "kernelscope" / "__init__.py").is_file():
        raise SystemExit(f"--kernelscope {kernelscope}: no kernelscope package there")
    names = args.only or list(EXAMPLES)
    if args.dry_run:
        for name in names:  # raises on the first substitution that does not match
            transform(name, args.source_dir)
            print(f"OK   {name}: {len(EXAMPLES[name].subs)} substitutions applied")
        return 0
    results = [_run_one(name, args, kernelscope) for name in names]
    n_pass = sum(r["passed"] for r in results)
    print(f"{n_pass} passed, {len(results) - n_pass} failed", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if n_pass == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
