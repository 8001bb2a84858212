"""Per-document facts of one index version: what ranking, collapsing, facets and completion need
for every match, not just for the hits shown.

Each segment is written with a small file of its documents' facts (``SegmentFacts``: ids,
revision-group and body keys as 64-bit hashes, dates, field-length bytes, facet values, title
words), so opening an index reads a few arrays per segment instead of walking stored columns
and term lists (5 s for the 81k-post corpus before; the 130k-post target is 2 s). The facts of a
segment never change; deletions come from the segment itself, so a reindex that deletes
documents rewrites nothing here.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

import numpy as np
from whoosh.util.numeric import byte_to_length, length_to_byte

from .analysis import Analyzer
from .arrays import sorted_unique
from .errors import IndexOutdated
from .models import FACET_NAMES
from .weights import LENGTH_PRIOR_FLOOR, LENGTH_PRIOR_FULL

FACTS_EXT = ".sou"
LENGTH_FIELDS = ("title", "body", "meta", "title_ngram", "ngram")
_LENGTH_TABLE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_NO_DATE = np.nan


def key_hash(text: str) -> int:
    """A 64-bit fingerprint of a revision-group or body key (equal keys, equal hashes)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def _pack_strings(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [v.encode("utf-8") for v in values]
    ends = np.cumsum([len(e) for e in encoded], dtype=np.int64) if encoded else np.zeros(0, np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), ends


def _unpack_strings(blob: np.ndarray, ends: np.ndarray) -> list[str]:
    data = blob.tobytes()
    ends_list = ends.tolist()
    starts = [0, *ends_list[:-1]]
    return [data[a:b].decode("utf-8") for a, b in zip(starts, ends_list, strict=True)] if ends_list else []


@dataclass
class FactsWriter:
    """The facts of the documents of a segment being written, in document order."""

    ids: list[str] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    bodies: list[int] = field(default_factory=list)
    dates: list[float] = field(default_factory=list)
    lengths: dict[str, list[int]] = field(default_factory=lambda: {f: [] for f in LENGTH_FIELDS})
    facets: dict[str, list[list[str]]] = field(default_factory=lambda: {f: [] for f in FACET_NAMES})
    title_words: Counter = field(default_factory=Counter)

    def add(self, doc: dict, lengths: dict[str, int], title_words: list[str]) -> None:
        """One document, as indexer.to_document made it."""
        self.ids.append(doc["id"])
        self.groups.append(key_hash(doc["group"]))
        self.bodies.append(key_hash(doc["body_key"]))
        when = doc.get("_date")
        self.dates.append(when.replace(tzinfo=UTC).timestamp() if when is not None else _NO_DATE)
        for name in LENGTH_FIELDS:
            self.lengths[name].append(length_to_byte(lengths.get(name, 0)))
        for name in FACET_NAMES:
            self.facets[name].append(list(doc["_facets"].get(name, ())))
        self.title_words.update(set(title_words))

    def extend(self, facts: SegmentFacts, docs: list[int]) -> None:
        """Documents ``docs`` of another segment, copied (a merge)."""
        for d in docs:
            self.ids.append(facts.ids[d])
            self.groups.append(int(facts.groups[d]))
            self.bodies.append(int(facts.bodies[d]))
            self.dates.append(float(facts.dates[d]))
            for name in LENGTH_FIELDS:
                self.lengths[name].append(int(facts.lengths[name][d]))
            for name in FACET_NAMES:
                self.facets[name].append(facts.values_of(name, d))
        self.title_words.update(facts.title_words())

    def write(self, storage, segment) -> None:
        arrays: dict[str, np.ndarray] = {}
        arrays["id_blob"], arrays["id_ends"] = _pack_strings(self.ids)
        arrays["groups"] = np.array(self.groups, dtype=np.uint64)
        arrays["bodies"] = np.array(self.bodies, dtype=np.uint64)
        arrays["dates"] = np.array(self.dates, dtype=np.float64)
        for name in LENGTH_FIELDS:
            arrays[f"len_{name}"] = np.array(self.lengths[name], dtype=np.uint8)
        for name, per_doc in self.facets.items():
            codes: dict[str, int] = {}
            docs, values = [], []
            for d, vals in enumerate(per_doc):
                for v in dict.fromkeys(vals):
                    docs.append(d)
                    values.append(codes.setdefault(v, len(codes)))
            arrays[f"facet_{name}_docs"] = np.array(docs, dtype=np.int32)
            arrays[f"facet_{name}_codes"] = np.array(values, dtype=np.int32)
            arrays[f"facet_{name}_blob"], arrays[f"facet_{name}_ends"] = _pack_strings(list(codes))
        words = sorted(self.title_words)
        arrays["title_blob"], arrays["title_ends"] = _pack_strings(words)
        arrays["title_df"] = np.array([self.title_words[w] for w in words], dtype=np.int32)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        with segment.create_file(storage, FACTS_EXT) as fh:
            fh.write(buffer.getvalue())


class SegmentFacts:
    """The facts file of one segment, read whole."""

    def __init__(self, arrays) -> None:
        self._a = arrays
        self.ids = _unpack_strings(arrays["id_blob"], arrays["id_ends"])
        self.groups = arrays["groups"]
        self.bodies = arrays["bodies"]
        self.dates = arrays["dates"]
        self.lengths = {name: arrays[f"len_{name}"] for name in LENGTH_FIELDS}

    @classmethod
    def load(cls, storage, segment) -> SegmentFacts:
        name = segment.make_filename(FACTS_EXT)
        try:
            with storage.open_file(name) as fh:
                data = fh.read()
        except OSError:
            raise IndexOutdated(f"segment file {name} is missing: run `sou reindex --full`") from None
        with np.load(io.BytesIO(data)) as npz:
            return cls({k: npz[k] for k in npz.files})

    def facet(self, name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        a = self._a
        return (a[f"facet_{name}_docs"].astype(np.int64), a[f"facet_{name}_codes"].astype(np.int64),
                _unpack_strings(a[f"facet_{name}_blob"], a[f"facet_{name}_ends"]))

    def values_of(self, name: str, doc: int) -> list[str]:
        docs, codes, values = self.facet(name)
        return [values[c] for c in codes[docs == doc].tolist()]

    def title_words(self) -> Counter:
        words = _unpack_strings(self._a["title_blob"], self._a["title_ends"])
        return Counter(dict(zip(words, self._a["title_df"].tolist(), strict=True)))


@dataclass
class FacetIndex:
    """(document, value) pairs of one facet."""

    docs: np.ndarray          # int64
    codes: np.ndarray         # int64 index into values
    values: list[str]

    def counts(self, selected: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes[selected[self.docs]], minlength=len(self.values))

    def count_of(self, counts: np.ndarray, value: str, fold: Callable[[str], str], partial: bool = False) -> int:
        """The count (from ``counts``) of a selected filter value: its folded value's, or with
        ``partial`` the sum over every value that contains it (an author filter matches a part
        of the name: 林勵 counts 記者林勵)."""
        key = fold(value)
        return int(sum(int(counts[i]) for i, v in enumerate(self.values)
                       if (key in fold(v) if partial else key == fold(v))))


@dataclass
class DocTable:
    """Per-document facts for one index version, indexed by docnum."""

    ids: list[str]
    by_id: dict[str, int]
    live: np.ndarray                  # bool
    date_seconds: np.ndarray          # float64, NaN: no date
    length_prior: np.ndarray          # float64
    group_codes: np.ndarray           # int64; group and body keys share one code space
    body_codes: np.ndarray
    key_count: int
    facet_index: dict[str, FacetIndex]
    field_lengths: dict[str, np.ndarray]          # Whoosh's one-byte length codes, as lengths
    segments: list[SegmentFacts] = field(default_factory=list, repr=False)
    analyzer: Analyzer | None = field(default=None, repr=False)

    @classmethod
    def load(cls, searcher, analyzer: Analyzer) -> DocTable:
        parts: list[tuple[SegmentFacts, int, int]] = []
        deleted: list[int] = []
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            segment = reader.segment()
            facts = SegmentFacts.load(reader._storage, segment)
            parts.append((facts, offset, reader.doc_count_all()))
            if reader.has_deletions():
                deleted.extend(offset + d for d in segment.deleted_docs())
        n = sum(count for _, _, count in parts)
        ids = [doc_id for facts, _, _ in parts for doc_id in facts.ids]
        live = np.ones(n, dtype=bool)
        live[deleted] = False
        seconds = _concat([f.dates for f, _, _ in parts], np.float64)
        keys = np.concatenate([_concat([f.groups for f, _, _ in parts], np.uint64),
                               _concat([f.bodies for f, _, _ in parts], np.uint64)])
        unique, codes = np.unique(keys, return_inverse=True)
        lengths = {name: _LENGTH_TABLE[_concat([f.lengths[name] for f, _, _ in parts], np.uint8)]
                   for name in ("title", "body", "meta", "title_ngram", "ngram")}
        body = np.where(live, lengths["body"], 0.0)
        prior = LENGTH_PRIOR_FLOOR + (1 - LENGTH_PRIOR_FLOOR) * np.minimum(1.0, body / LENGTH_PRIOR_FULL)
        facets = {name: _merge_facets(parts, name, (analyzer or Analyzer.default()).fold) for name in FACET_NAMES}
        facets["year"] = _years(seconds)
        live_docs = np.flatnonzero(live).tolist()
        by_id = {ids[d]: d for d in live_docs}
        return cls(ids, by_id, live, seconds, prior, codes[:n].astype(np.int64), codes[n:].astype(np.int64),
                   len(unique), facets, lengths, [f for f, _, _ in parts], analyzer)

    def date(self, docnum: int) -> datetime | None:
        seconds = self.date_seconds[docnum]
        return None if np.isnan(seconds) else datetime.fromtimestamp(float(seconds), UTC)

    @cached_property
    def _by_key(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Live documents sorted by group code and by body code, for ``versions``."""
        live = np.flatnonzero(self.live)
        by_group = live[np.argsort(self.group_codes[live], kind="stable")]
        by_body = live[np.argsort(self.body_codes[live], kind="stable")]
        return by_group, self.group_codes[by_group], by_body, self.body_codes[by_body]

    def versions(self, docnum: int) -> list[int]:
        """Every revision of ``docnum``'s article (same group, or same body as one of those),
        newest first."""
        by_group, group_sorted, by_body, body_sorted = self._by_key
        g = self.group_codes[docnum]
        same = by_group[np.searchsorted(group_sorted, g):np.searchsorted(group_sorted, g, side="right")]
        if not len(same):
            same = np.array([docnum])
        found = dict.fromkeys(same.tolist())
        for other in list(found):
            b = self.body_codes[other]
            for more in by_body[np.searchsorted(body_sorted, b):np.searchsorted(body_sorted, b, side="right")].tolist():
                found.setdefault(more, None)
        oldest = -np.inf
        return sorted(found, key=lambda d: (oldest if np.isnan(self.date_seconds[d]) else self.date_seconds[d], d),
                      reverse=True)

    @cached_property
    def vocabulary(self) -> list[tuple[str, str, int]]:
        """What ``Engine.complete()`` completes: tags, categories, authors and frequent title
        words, as (folded, display, weight), sorted. Built on first use, not at open."""
        fold = (self.analyzer or Analyzer.default()).fold
        weights: Counter[str] = Counter()
        display: dict[str, str] = {}
        for name in ("tag", "category", "author"):
            index = self.facet_index[name]
            counts = np.bincount(index.codes, minlength=len(index.values))
            for value, count in zip(index.values, counts.tolist(), strict=True):
                key = fold(value)
                weights[key] += 3 * count
                display.setdefault(key, value)
        title_df: Counter[str] = Counter()
        for facts in self.segments:
            title_df.update(facts.title_words())
        for term, df in title_df.items():
            if len(term) >= 2 and df >= 2:
                weights[term] += df
                display.setdefault(term, term)
        return sorted((key, display[key], w) for key, w in weights.items())


def _concat(arrays: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)


def _merge_facets(parts: list[tuple[SegmentFacts, int, int]], name: str, fold: Callable[[str], str]) -> FacetIndex:
    """One facet over all segments: each segment's value codes mapped into one value list.
    Values that search folds together (香港独立 / 香港獨立, ＡＢＣ / abc) are one facet value,
    shown in its most common spelling, since a filter on either spelling finds both."""
    code_of: dict[str, int] = {}                  # folded value -> code
    spellings: list[Counter[str]] = []            # per code: original spelling -> documents
    docs_parts, codes_parts = [], []
    for facts, offset, _ in parts:
        docs, codes, values = facts.facet(name)
        remap = np.array([code_of.setdefault(fold(v), len(code_of)) for v in values], dtype=np.int64)
        spellings += [Counter() for _ in range(len(code_of) - len(spellings))]
        for value, code, count in zip(values, remap.tolist(), np.bincount(codes, minlength=len(values)).tolist(),
                                      strict=True):
            spellings[code][value] += count
        docs_parts.append(docs + offset)
        codes_parts.append(remap[codes] if len(codes) else codes)
    shown = [max(sorted(c), key=c.__getitem__) for c in spellings]
    if not docs_parts:
        return FacetIndex(np.zeros(0, np.int64), np.zeros(0, np.int64), shown)
    docs, codes = np.concatenate(docs_parts).astype(np.int64), np.concatenate(codes_parts).astype(np.int64)
    if len(code_of) < sum(len(c) for c in spellings):    # a document with two spellings counts once
        pairs = sorted_unique(docs * len(code_of) + codes)
        docs, codes = pairs // len(code_of), pairs % len(code_of)
    return FacetIndex(docs, codes, shown)


def _years(seconds: np.ndarray) -> FacetIndex:
    dated = np.flatnonzero(~np.isnan(seconds))
    years = seconds[dated].astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
    values, codes = np.unique(years, return_inverse=True)
    return FacetIndex(dated.astype(np.int64), codes.astype(np.int64), [str(y) for y in values.tolist()])
