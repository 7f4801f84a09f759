"""Every snippet in README.md runs as written.

- ```python blocks run in order, in one namespace, inside a temporary folder. Where a
  line prints, the comment lines after it (or its inline comment) state what it prints,
  and the test checks that text appears in the output, in order.
- A ```text block right after a ```python block is that block's exact output.
- In ```bash blocks, every `kernelscope ...` command runs (as `python -m kernelscope`) and
  must exit 0. Install commands and `bash scripts/test.sh` (this very test run) are not
  run again here; ```text blocks that follow prose (commands that need the network) are
  documentation only.
"""

import contextlib
import io
import os
import pathlib
import re
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def _blocks():
    """(language, code, follows_previous_block_directly) for each fenced block."""
    text = README.read_text(encoding="utf-8")
    blocks, previous_end = [], None
    for m in FENCE.finditer(text):
        adjacent = previous_end is not None and not text[previous_end:m.start()].strip()
        blocks.append((m.group(1), m.group(2), adjacent))
        previous_end = m.end()
    return blocks


def _expected_prints(code: str) -> list:
    """The text each print is documented to produce (inline or following '# ' lines)."""
    expected, lines = [], code.splitlines()
    for i, line in enumerate(lines):
        if "print(" not in line:
            continue
        inline = re.search(r"\)\s+#\s(.+)$", line)
        if inline:
            expected.append(inline.group(1))
            continue
        following = []
        for nxt in lines[i + 1:]:
            if not nxt.startswith("# "):
                break
            following.append(nxt[2:])
        if following:
            expected.append(" ".join(following))
    return expected


def _normalize(text: str) -> str:
    return " ".join(text.split())


def test_python_snippets_run_and_print_what_they_say(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import kernelscope as ks

    ks.utils.clear_session()  # a reader starts a fresh interpreter: automatic names restart at conv2d
    namespace: dict = {"__name__": "__readme__"}
    blocks = _blocks()
    ran = 0
    for index, (lang, code, _) in enumerate(blocks):
        if lang != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"README.md python block {index}", "exec"), namespace)
        ran += 1
        printed = _normalize(out.getvalue())
        position = 0
        for expected in _expected_prints(code):
            found = printed.find(_normalize(expected), position)
            assert found >= 0, f"README block {index}: expected output {expected!r} not in {printed!r}"
            position = found
        if index + 1 < len(blocks) and blocks[index + 1][0] == "text" and blocks[index + 1][2]:
            shown = "\n".join(line.rstrip() for line in blocks[index + 1][1].strip("\n").splitlines())
            actual = "\n".join(line.rstrip() for line in out.getvalue().strip("\n").splitlines())
            assert actual == shown, f"README block {index + 1} does not show what block {index} prints"
    assert ran >= 4


def _commands():
    for lang, code, _ in _blocks():
        if lang != "bash":
            continue
        for line in code.splitlines():
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith("kernelscope "):
                    yield part


@pytest.mark.parametrize("command", sorted(set(_commands())))
def test_cli_snippets_exit_zero(command, tmp_path):
    args = command.split()[1:]
    env = {**os.environ, "PYTHONPATH": str(README.parent)}
    result = subprocess.run([sys.executable, "-m", "kernelscope", *args], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
