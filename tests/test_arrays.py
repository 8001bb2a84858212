"""The array helpers give NumPy's answers."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from search.arrays import sorted_unique


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-2**40, 2**40), max_size=300), st.sampled_from([np.int64, np.int32, np.uint32]))
def test_sorted_unique_is_numpys_unique(values, dtype) -> None:
    values = np.array([v % 2**31 for v in values] if dtype != np.int64 else values, dtype=dtype)
    got = sorted_unique(values)
    assert got.dtype == values.dtype and got.tolist() == np.unique(values).tolist()
