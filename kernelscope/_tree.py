"""Nested structures (lists, tuples, dicts) of leaves, walked one way everywhere (as ``keras.tree``),
and the one graph walk (:func:`postorder`) that autograd and functional models share.

Dicts are walked in insertion order, lists and tuples in order; anything else is a leaf.
"""

from __future__ import annotations

from typing import Callable, Iterator

__all__ = ["flatten", "map_structure", "pack_sequence_as", "postorder"]


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


def postorder(roots: list, parents: Callable, on_expand: Callable | None = None) -> list:
    """Every node reachable from ``roots``, each after all the nodes it depends on.

    ``parents(node)`` lists the nodes ``node`` depends on, in the order they are pushed (the last
    is walked first); ``on_expand(node)`` runs once per node when the walk first reaches it. An
    iterative depth-first walk: a node is marked when it is expanded, not when pushed, since
    marking on push can emit a shared parent before a child that reaches it by a longer path.
    """
    order, visited = [], set()
    stack = [(r, False) for r in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        if on_expand is not None:
            on_expand(node)
        stack.append((node, True))
        stack.extend((parent, False) for parent in parents(node) if id(parent) not in visited)
    return order
