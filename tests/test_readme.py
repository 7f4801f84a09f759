"""Every snippet in README.md runs as written.

- ```python blocks run in order, in one namespace, inside a temporary folder. Where a
  line prints, the comment lines after it (or its inline comment) state what it prints,
  and the test checks that text appears in the output, in order.
- A ```text block right after a ```python block is that block's exact output.
- In ```bash blocks, every `kernelscope ...` command runs (as `python -m kernelscope`), in
  order, in one temporary folder per block, and must exit 0. Install commands and
  `bash scripts/test.sh` (this very test run) are not run again here; ```text blocks that
  follow prose (a download that needs the network) are documentation only.

The README uses files a reader would have: an image (`digit.png`, `photo.png`) and the
Keras ImageNet weight file for VGG16 without its top. The machines here have no
internet, so the test writes stand-ins first: PNGs drawn with Pillow, and a weight file
in the legacy Keras HDF5 layout of the real download, holding random values.
"""

import contextlib
import io
import os
import pathlib
import re
import shlex
import subprocess
import sys

import numpy as np
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


def _write_user_files(folder: pathlib.Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    digit = np.zeros((8, 8), np.uint8)
    digit[1:7, 3:5] = 255                                   # a "1"
    Image.fromarray(digit).save(folder / "digit.png")
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(folder / "photo.png")


def _write_vgg16_notop_stand_in(folder: pathlib.Path) -> None:
    """Legacy Keras layout: root attribute layer_names; per layer, weight_names and datasets."""
    import h5py

    import kernelscope as ks

    base = ks.applications.VGG16(weights=None, include_top=False, input_shape=(64, 64, 3))
    with h5py.File(folder / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "w") as f:
        f.attrs["layer_names"] = np.array([layer.name.encode() for layer in base.layers], dtype="S")
        for layer in base.layers:
            group = f.create_group(layer.name)
            names = [f"{layer.name}/{w.name}:0" for w in layer.weights]
            group.attrs["weight_names"] = np.array([n.encode() for n in names], dtype="S")
            for name, w in zip(names, layer.weights):
                group[name] = w.numpy()
    ks.utils.clear_session()


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

    _write_user_files(tmp_path)
    _write_vgg16_notop_stand_in(tmp_path)

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
    assert ran == README.read_text(encoding="utf-8").count("```python"), "a python fence was not parsed"


def _command_blocks() -> list:
    blocks = []
    for lang, code, _ in _blocks():
        if lang != "bash":
            continue
        commands = [part.strip() for line in code.splitlines() for part in line.split("&&")
                    if part.strip().startswith("kernelscope ")]
        if commands:
            blocks.append(commands)
    return blocks


@pytest.mark.parametrize("commands", _command_blocks(), ids=lambda c: c[0])
def test_cli_snippets_exit_zero(commands, tmp_path):
    _write_user_files(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(README.parent)}
    for command in commands:
        result = subprocess.run([sys.executable, "-m", "kernelscope", *shlex.split(command, comments=True)[1:]], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{command}: {result.stderr}"
