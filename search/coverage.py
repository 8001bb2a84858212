"""How much of a long query an article covers: the share of its clauses it has, titles counting
more. A long description (5-8 words) is a known-item search: the user describes ONE article, in
words of their own, some of which it does not have. Requiring every word loses it whenever one
is missing, and summing BM25 scores lets an article that repeats two common words beat the one
that has six of the seven; counting the clauses each article has (Lucene's "coord" factor) puts
the article with most of them, especially in its title, first.
"""

from __future__ import annotations

import numpy as np
from whoosh import query as wq

from .scoring import Evaluator
from .weights import COVERAGE_TITLE_WEIGHT


def coverage(evaluator: Evaluator, clauses: list[tuple[wq.Query, wq.Query]]) -> tuple[np.ndarray, np.ndarray]:
    """Per document: the share of ``clauses`` (each a query anywhere, and one on titles) it
    matches, titles weighing COVERAGE_TITLE_WEIGHT more, in [0, 1]; and how many it matches."""
    n = evaluator.c.n
    points = np.zeros(n, dtype=np.float64)
    matched = np.zeros(n, dtype=np.int32)
    for anywhere, title in clauses:
        here = evaluator.run(anywhere).mask
        matched += here
        points += here
        if COVERAGE_TITLE_WEIGHT:
            points += COVERAGE_TITLE_WEIGHT * (evaluator.run(title).mask & here)
    return points / (len(clauses) * (1.0 + COVERAGE_TITLE_WEIGHT)), matched
