"""Write tests/fixtures/keras/ops_signatures.json: the parameter names of every public keras.ops function.

Read from the Keras 3 source (3.16.0 here; not imported, so no backend is needed):

    python scripts/make_ops_signatures.py /path/to/keras/src/ops

tests/test_keras_ops_signatures.py checks ks.ops against this file.
"""

from __future__ import annotations

import ast
import json
import pathlib
import sys

FILES = ("numpy", "nn", "image", "core", "math", "linalg")


def signatures(ops_dir: pathlib.Path) -> dict:
    """{module: {function: [parameter names, "*name" for *args]}} for the public top-level functions."""
    out = {}
    for module in FILES:
        tree = ast.parse((ops_dir / f"{module}.py").read_text(encoding="utf-8"))
        table = {}
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                args = node.args
                names = [a.arg for a in args.posonlyargs + args.args]
                if args.vararg:
                    names.append("*" + args.vararg.arg)
                table[node.name] = names + [a.arg for a in args.kwonlyargs]
        out[module] = table
    return out


def main() -> None:
    ops_dir = pathlib.Path(sys.argv[1])
    target = pathlib.Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "keras" / "ops_signatures.json"
    target.write_text(json.dumps(signatures(ops_dir), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
