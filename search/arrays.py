"""Array helpers shared by the build and the query side."""

from __future__ import annotations

import numpy as np


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``, by sorting. NumPy 2.4's plain ``np.unique`` hashes, which is
    slow when most values differ: 0.23 s for 400k distinct integers against 6 ms sorted (it
    made a quarter of opening an index of 130k posts, and ran for every query's revision count)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]
