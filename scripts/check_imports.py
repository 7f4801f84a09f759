"""Check that kernelscope's packages import each other in one direction only: the order of ARCHITECTURE.md.

Reads every module's AST (nothing is imported or run), maps each ``import`` of a
kernelscope module to the top-level unit it lives in (``kernelscope/layers/conv.py``
-> ``layers``, ``kernelscope/geometry.py`` -> ``geometry``), then reports cycles
between units and any import of a unit that comes later in ``LAYERS``. Imports at
module level count; imports inside a function are deferred on purpose (they run
after every module is loaded) and count only with ``--all``.

    python scripts/check_imports.py          # exit 1 and list the problems, if any
    python scripts/check_imports.py --graph  # print each unit's dependencies
"""

from __future__ import annotations

import argparse
import ast
import pathlib
import sys

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "kernelscope"

# ARCHITECTURE.md's dependency direction: a unit imports only units listed before it.
LAYERS = (
    ("geometry", "rng", "_tree", "_io", "_safe_load", "_keras2", "_interrupt_guard", "_keras_object", "_checks"),
    ("_runtime", "config"),
    ("kernels",),
    ("autograd", "variables", "backend", "gradient_tape", "random"),
    ("ops", "filters"),
    ("initializers", "regularizers", "losses", "metrics", "optimizers", "callbacks"),
    ("layers",),
    ("interop", "saving", "models"),
    ("data", "report", "explain", "datasets", "utils", "export", "applications", "detection", "similarity",
     "sklearn", "anomaly", "generative", "adversarial", "dask"),
    ("cli", "__main__"),
)


def _unit(parts: tuple) -> str | None:
    """The top-level unit of a module path such as ("kernelscope", "layers", "conv")."""
    if len(parts) < 2 or parts[0] != "kernelscope":
        return None
    return parts[1]


def _module_parts(path: pathlib.Path) -> tuple:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(tree: ast.Module, parts: tuple, is_package: bool, deferred: bool):
    """Yield the kernelscope module paths imported by a module (top level only unless ``deferred``)."""
    nodes = ast.walk(tree) if deferred else _top_level(tree)
    base = parts if is_package else parts[:-1]
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield tuple(alias.name.split("."))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                target = anchor + tuple(node.module.split(".")) if node.module else anchor
            else:
                target = tuple(node.module.split("."))
            if node.module is None or len(target) == 1:  # `from . import x`: x is a module of that package
                for alias in node.names:
                    yield target + (alias.name,)
            else:
                yield target


def _top_level(tree: ast.Module):
    """Import statements that run when the module is imported: not inside a def (inside if/try, yes)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def dependency_graph(deferred: bool = False) -> dict:
    """{unit: set of units it imports}."""
    graph: dict = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = _module_parts(path)
        unit = _unit(parts) if len(parts) > 1 else None
        if unit is None:  # kernelscope/__init__.py gathers everything; it is the top, not a unit
            continue
        graph.setdefault(unit, set())
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target in _imports(tree, parts, path.name == "__init__.py", deferred):
            other = _unit(target)
            if other not in (None, unit) and ((PACKAGE / other).is_dir() or (PACKAGE / f"{other}.py").is_file()):
                graph[unit].add(other)
    return graph


def cycles(graph: dict) -> list:
    """The strongly connected components with more than one unit (Tarjan's algorithm)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def order_violations(graph: dict, layers=LAYERS) -> list:
    """Messages for units missing from ``layers`` and for imports of a unit listed later."""
    rank = {unit: i for i, unit in enumerate(u for layer in layers for u in layer)}
    problems = [f"{unit} is not placed in LAYERS (scripts/check_imports.py, ARCHITECTURE.md)"
                for unit in sorted(graph) if unit not in rank]
    for unit in sorted(u for u in graph if u in rank):
        later = sorted(d for d in graph[unit] if rank.get(d, -1) > rank[unit])
        problems += [f"{unit} imports {d}, which ARCHITECTURE.md puts after it" for d in later]
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="count imports inside functions too")
    parser.add_argument("--graph", action="store_true", help="print each unit's dependencies")
    args = parser.parse_args(argv)
    graph = dependency_graph(deferred=args.all)
    if args.graph:
        for unit in sorted(graph):
            print(f"{unit}: {', '.join(sorted(graph[unit])) or '-'}")
    found = cycles(graph)
    problems = [f"import cycle between: {', '.join(c)}" for c in found] + order_violations(graph)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"no import cycle between the {len(graph)} units of kernelscope, and every import follows LAYERS")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
