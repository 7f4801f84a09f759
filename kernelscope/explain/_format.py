"""Number formatting shared by the walkthroughs and the arithmetic helpers."""

from __future__ import annotations

import math


def number(value, decimals: int = 4) -> str:
    """A number as the slides write it: ``3`` not ``3.0``, ``2.75``, ``-5``, at most ``decimals`` places."""
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    rounded = round(value, decimals)
    if rounded == 0:
        return "0"  # also turns -0.0 into 0
    if rounded.is_integer():
        return str(int(rounded))
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")


def count(value: int) -> str:
    """An integer with thousands separators from 10,000 on (``1600``, ``18,496``, ``4,500,100``)."""
    value = int(value)
    return f"{value:,}" if abs(value) >= 10_000 else str(value)


def millions(value: int) -> str:
    """Two significant digits in millions: ``4.5 million``, ``0.013 million``."""
    return f"{value / 1e6:.2g} million"


def shape(dims) -> str:
    """``(150, 100, 3)`` as the slides write it: ``150x100x3``."""
    return "x".join(str(int(d)) for d in dims)
