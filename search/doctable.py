"""Per-document facts of one index generation, read once when a searcher opens.

Ranking, collapsing and facets need group keys, dates, lengths and facet values for every
match, not just the shown hits; reading stored fields per match would cost more than the
search itself. They are kept here as plain lists (for the hits shown) and as numpy arrays (for
whole result sets): group and body keys share one integer code space, facets are kept as
(document, value) pairs so a facet count is one ``bincount``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from whoosh.util.times import long_to_datetime

from .analysis import Analyzer
from .schema import FACET_FIELDS
from .scoring import field_lengths
from .weights import LENGTH_PRIOR_FLOOR, LENGTH_PRIOR_FULL


@dataclass
class FacetIndex:
    """(document, value) pairs of one facet."""

    docs: np.ndarray          # int64
    codes: np.ndarray         # int64 index into values
    values: list[str]

    def counts(self, selected: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes[selected[self.docs]], minlength=len(self.values))


@dataclass
class DocTable:
    """Per-document facts for one index generation, indexed by docnum."""

    ids: list[str]
    groups: list[str]
    body_keys: list[str]
    dates: list[datetime | None]
    members: dict[str, list[int]]                       # group or body key -> docnums
    by_id: dict[str, int]
    live: np.ndarray                  # bool
    date_seconds: np.ndarray          # float64, NaN: no date
    length_prior: np.ndarray          # float64
    group_codes: np.ndarray           # int64; group and body keys share one code space
    body_codes: np.ndarray
    key_count: int
    facet_index: dict[str, FacetIndex]
    vocabulary: list[tuple[str, str, int]] = field(default_factory=list)   # (folded, display, weight)

    @classmethod
    def load(cls, searcher, analyzer: Analyzer) -> DocTable:
        reader = searcher.reader()
        leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        n = reader.doc_count_all()
        ids = _strings(_column(leaves, "id"))
        groups = _strings(_column(leaves, "group"))
        body_keys = _strings(_column(leaves, "body_key"))
        live_mask = np.ones(n, dtype=bool)
        if reader.has_deletions():
            live_mask[[d for d in range(n) if reader.is_deleted(d)]] = False
        dates = [_long_date(v) for v in _column(leaves, "date", translate=False)]
        lengths = np.where(live_mask, field_lengths(leaves, n, "body", default=0.0), 0.0)
        facet_index = {name: _facet_postings(leaves, fieldname) for name, fieldname in FACET_FIELDS.items()}
        facet_index["year"] = _years(dates)
        members: dict[str, list[int]] = {}
        live = np.flatnonzero(live_mask).tolist()
        for docnum in live:
            members.setdefault(groups[docnum], []).append(docnum)
            if body_keys[docnum] != groups[docnum]:
                members.setdefault(body_keys[docnum], []).append(docnum)
        by_id = {ids[d]: d for d in live}
        codes: dict[str, int] = {}
        group_codes = np.array([codes.setdefault(g, len(codes)) for g in groups], dtype=np.int64)
        body_codes = np.array([codes.setdefault(b, len(codes)) for b in body_keys], dtype=np.int64)
        seconds = np.array([d.timestamp() if d else np.nan for d in dates], dtype=np.float64)
        prior = LENGTH_PRIOR_FLOOR + (1 - LENGTH_PRIOR_FLOOR) * np.minimum(1.0, lengths / LENGTH_PRIOR_FULL)
        table = cls(ids, groups, body_keys, dates, members, by_id, live_mask, seconds, prior,
                    group_codes, body_codes, len(codes), facet_index)
        table.vocabulary = _vocabulary(leaves, table, analyzer)
        return table

    def versions(self, docnum: int) -> list[int]:
        seen = dict.fromkeys(self.members.get(self.groups[docnum], [docnum]))
        for other in list(seen):
            for more in self.members.get(self.body_keys[other], []):
                seen.setdefault(more, None)
        return sorted(seen, key=lambda d: (self.dates[d] or datetime.min.replace(tzinfo=UTC), d), reverse=True)


def _facet_postings(leaves, fieldname: str) -> FacetIndex:
    """(document, value) pairs from each segment's postings of a keyword field."""
    from .codec import read_postings

    code_of: dict[str, int] = {}
    docs_parts, codes_parts = [], []
    for reader, offset in leaves:
        terms = reader._terms
        if fieldname not in reader.indexed_field_names():
            continue
        for term, info in reader.iter_field(fieldname):
            value = term.decode("utf-8") if isinstance(term, bytes) else term
            postings = read_postings(terms._postfile, info)
            docs_parts.append(postings.ids.astype(np.int64) + offset)
            codes_parts.append(np.full(len(postings.ids), code_of.setdefault(value, len(code_of)), dtype=np.int64))
    if not docs_parts:
        return FacetIndex(np.zeros(0, np.int64), np.zeros(0, np.int64), list(code_of))
    return FacetIndex(np.concatenate(docs_parts), np.concatenate(codes_parts), list(code_of))


def _years(dates: list[datetime | None]) -> FacetIndex:
    years = sorted({str(d.year) for d in dates if d})
    code_of = {y: i for i, y in enumerate(years)}
    with_year = [d for d, when in enumerate(dates) if when]
    return FacetIndex(np.array(with_year, dtype=np.int64),
                      np.array([code_of[str(dates[d].year)] for d in with_year], dtype=np.int64), years)


def _long_date(value) -> datetime | None:
    """Whoosh's raw date column value; documents without a date hold an out-of-range default."""
    try:
        parsed = long_to_datetime(value)
    except (OverflowError, ValueError, TypeError):
        return None
    return parsed.replace(tzinfo=UTC) if 1800 <= parsed.year <= 2200 else None


def _column(leaves, name: str, translate: bool = True) -> list:
    """One value per document, segment by segment (Whoosh's merged column iterator can come
    up short when a segment stored fewer values than it has documents)."""
    out: list = []
    for reader, _ in leaves:
        count = reader.doc_count_all()
        if not reader.has_column(name):
            out.extend([None] * count)
            continue
        col = reader.column_reader(name, translate=translate)
        values = list(col)
        if len(values) != count:
            values = [col[d] for d in range(count)]
        out.extend(values)
    return out


def _strings(values: list) -> list[str]:
    return [v.decode("utf-8") if isinstance(v, bytes) else (v or "") for v in values]


def _vocabulary(leaves, table: DocTable, analyzer: Analyzer) -> list[tuple[str, str, int]]:
    """What `Engine.complete()` completes: tags, categories, authors and frequent title words."""
    weights: Counter[str] = Counter()
    display: dict[str, str] = {}
    for name in ("tag", "category", "author"):
        index = table.facet_index[name]
        counts = np.bincount(index.codes, minlength=len(index.values))
        for value, count in zip(index.values, counts.tolist(), strict=True):
            key = analyzer.fold(value)
            weights[key] += 3 * count
            display.setdefault(key, value)
    title_df: Counter[str] = Counter()
    for reader, _ in leaves:       # segment by segment: the merged view looks each term up everywhere
        for term, df in _title_terms(reader):
            if len(term) >= 2:
                title_df[term] += df
    for term, df in title_df.items():
        if df >= 2:
            weights[term] += df
            display.setdefault(term, term)
    return sorted((key, display[key], w) for key, w in weights.items())


def _title_terms(reader):
    try:
        for term, info in reader.iter_field("title"):
            yield (term.decode("utf-8") if isinstance(term, bytes) else term), info.doc_frequency()
    except (KeyError, ValueError):
        return
