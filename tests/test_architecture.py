"""The package layout ARCHITECTURE.md describes: no import cycle, every import in its dependency direction."""

import pathlib
import runpy
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_imports.py"


def test_no_import_cycle_between_packages():
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no import cycle" in result.stdout and "every import follows LAYERS" in result.stdout


def test_the_checker_finds_a_cycle_and_the_layering():
    checker = runpy.run_path(str(SCRIPT))
    assert checker["cycles"]({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert checker["cycles"]({"a": {"b"}, "b": set()}) == []
    violations = checker["order_violations"]({"a": {"b"}, "b": set(), "c": set()}, (("a",), ("b",)))
    assert violations == ["c is not placed in LAYERS (scripts/check_imports.py, ARCHITECTURE.md)",
                          "a imports b, which ARCHITECTURE.md puts after it"]
    graph = checker["dependency_graph"]()
    # the bottom of the dependency direction: geometry imports nothing, kernels only geometry and the
    # runtime's buffer pools and thread pool (ARCHITECTURE.md)
    assert graph["geometry"] == set() and graph["kernels"] <= {"geometry", "_runtime"}
    assert graph["_runtime"] == set()
    assert "layers" in graph["models"] and "models" not in graph["layers"]
