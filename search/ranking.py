"""Whole result lists as arrays: order, priors, sorting by date, revision collapse, facet counts.

Each step used to be a Python loop over every match (40k tuples for a common word); here each
is a handful of numpy operations, with the same rules as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from .arrays import sorted_unique
from .doctable import DocTable
from .weights import FALLBACK_SCALE


@dataclass(frozen=True)
class Ranking:
    """Documents in rank order and their scores."""

    docs: np.ndarray          # int64
    scores: np.ndarray        # float64

    def __len__(self) -> int:
        return len(self.docs)

    @classmethod
    def empty(cls) -> Ranking:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.float64))

    def then(self, other: Ranking) -> Ranking:
        return Ranking(np.concatenate((self.docs, other.docs)), np.concatenate((self.scores, other.scores)))

    def without(self, docs: np.ndarray) -> Ranking:
        keep = ~np.isin(self.docs, docs)
        return Ranking(self.docs[keep], self.scores[keep])

    def head(self, start: int, stop: int) -> list[tuple[int, float]]:
        return list(zip(self.docs[start:stop].tolist(), self.scores[start:stop].tolist(), strict=True))


def by_score(mask: np.ndarray, score: np.ndarray) -> Ranking:
    """Matching documents, best first; equal scores in document order (as Whoosh ranks them)."""
    docs = np.flatnonzero(mask)
    scores = score[docs]
    order = np.argsort(-scores, kind="stable")
    return Ranking(docs[order], scores[order])


def below(ranked: Ranking, extra: Ranking) -> Ranking:
    """Scale fallback results (relaxed matches, pinyin expansions; best first) so that they keep
    their order but all rank below the weakest of ``ranked``."""
    if not len(ranked) or not len(extra):
        return extra
    floor = float(ranked.scores.min())
    if not floor:
        return extra
    scale = floor * FALLBACK_SCALE / (float(extra.scores[0]) or 1.0)
    return Ranking(extra.docs, extra.scores * scale)


def distinct_groups(table: DocTable, ranked: Ranking, limit: int) -> int:
    """How many articles (revision groups) the ranking holds, counted up to ``limit``."""
    if not len(ranked):
        return 0
    head = ranked.docs[: limit * 50]
    found = len(sorted_unique(table.group_codes[head]))
    if found >= limit or len(head) == len(ranked):
        return min(found, limit)
    return min(len(sorted_unique(table.group_codes[ranked.docs])), limit)


def prior(table: DocTable, ranked: Ranking, recency_boost: float) -> Ranking:
    """Stubs and placeholder pages (almost no body) rarely answer a need; newer articles get
    an optional nudge (Settings.recency_boost)."""
    if not len(ranked):
        return ranked
    factor = table.length_prior[ranked.docs]
    if recency_boost:
        seconds = table.date_seconds[ranked.docs]
        days = np.floor((datetime.now(UTC).timestamp() - seconds) / 86400.0)
        age_years = np.maximum(0.0, days / 365.0)
        bonus = np.where(np.isnan(seconds), 1.0, 1.0 + recency_boost * np.exp(-np.nan_to_num(age_years)))
        factor = factor * bonus
    scores = ranked.scores * factor
    order = np.argsort(-scores, kind="stable")
    return Ranking(ranked.docs[order], scores[order])


def sort(table: DocTable, ranked: Ranking, how: str) -> Ranking:
    """relevance keeps the order; newest/oldest order by date, undated last, ties by rank."""
    if how == "relevance" or not len(ranked):
        return ranked
    seconds = table.date_seconds[ranked.docs]
    missing = np.isnan(seconds)
    key = np.where(missing, 0.0, seconds)
    if how == "newest":
        key = -key
    order = np.lexsort((np.arange(len(ranked)), key, missing))
    return Ranking(ranked.docs[order], ranked.scores[order])


def collapse(table: DocTable, ranked: Ranking) -> Ranking:
    """Keep a document only when no better-ranked one shares its group or body key: the first
    revision of each article stands for all of them."""
    if not len(ranked):
        return ranked
    groups = table.group_codes[ranked.docs]
    bodies = table.body_codes[ranked.docs]
    places = np.arange(len(ranked))
    first = np.full(table.key_count, len(ranked), dtype=np.int64)
    np.minimum.at(first, groups, places)
    np.minimum.at(first, bodies, places)
    keep = (first[groups] == places) & (first[bodies] == places)
    return Ranking(ranked.docs[keep], ranked.scores[keep])
