"""Nested structures (lists, tuples, dicts) of leaves, walked one way everywhere (as ``keras.tree``).

Dicts are walked in insertion order, lists and tuples in order; anything else is a leaf.
"""

from __future__ import annotations

from typing import Callable, Iterator

__all__ = ["flatten", "map_structure", "pack_sequence_as"]


def flatten(structure, is_leaf: Callable | None = None) -> list:
    """The leaves of ``structure`` in order; ``is_leaf`` may stop the walk at a list/tuple/dict."""
    if is_leaf is not None and is_leaf(structure):
        return [structure]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item, is_leaf)]
    if isinstance(structure, dict):
        return [leaf for key in structure for leaf in flatten(structure[key], is_leaf)]
    return [structure]


def map_structure(fn: Callable, structure):
    """``structure`` with ``fn`` applied to every leaf (lists stay lists, tuples tuples)."""
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, s) for s in structure)
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


def pack_sequence_as(structure, leaves: Iterator):
    """``structure`` with its leaves replaced, in order, by the next items of ``leaves``."""
    leaves = iter(leaves)
    return map_structure(lambda _: next(leaves), structure)
