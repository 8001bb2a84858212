"""Whole-collection query evaluation with numpy over Whoosh's posting lists.

Whoosh scores one posting at a time in Python (1-3 µs each), and the common words of a news
corpus have 10-40k postings per field, so a two-word query over 49k articles spent hundreds of
milliseconds in its matchers, and every query was scored in full anyway, because totals,
collapsing and facets need every match. Here each term's whole posting list is read at once
(see codec.read_postings), scored with the same BM25F formula and field weights as Whoosh's
``BM25F`` model, and combined with the same operator semantics as Whoosh's matchers (Or sums
the scores of the parts that match, And needs all, AndMaybe adds the optional part, AndNot
removes), as arrays as long as the collection. Decoded posting lists are kept in a small
least-recently-used cache: the words people search for repeat.

Exact phrases (``phrase.Adjacent``) are checked on the documents that hold every word, by
intersecting (document, position - offset) keys of the words' positions, rarest word first.
Query types this module does not know (wildcards) fall back to Whoosh's own matchers.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from .codec import RawPostings, read_postings
from .phrase import Adjacent
from .schema import NGRAM_SOURCES
from .weights import BM25_B as B
from .weights import BM25_K1 as K1

_LENGTH_TABLE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


@dataclass
class TermPostings:
    """One term's postings over every segment, in global document numbers, held as small as
    the cache can use them: 32-bit document numbers and frequencies (exact: integers), positions
    in 16 bits where they fit, and a segment's encoded bytes only until its positions are
    decoded. Measured on the query mix of the 49k corpus, the 64-bit arrays and the bytes kept
    beside the positions decoded from them made the cache's entries 2.3 times this size, so a
    64 MB cache that cycled through the mix missed three lookups in four."""

    ids: np.ndarray                     # int32, ascending
    weights: np.ndarray                 # float32 term frequencies
    segments: list[RawPostings] = field(default_factory=list)    # for positions, decoded on demand
    _positions: np.ndarray | None = None
    _cache: PostingCache | None = field(default=None, repr=False, compare=False)
    _cache_key: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def nbytes(self) -> int:
        size = self.ids.nbytes + self.weights.nbytes + sum(p.raw_size for p in self.segments)
        if self._positions is not None:
            size += self._positions.nbytes
        return size + 200

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """(positions per posting, every position in posting order), decoded on first use."""
        segments = self.segments      # read first: another thread sets _positions before it clears these
        places = self._positions
        if places is None:
            flat = [raw.positions()[1] for raw in segments]
            places = np.concatenate(flat) if flat else np.zeros(0, np.int32)
            narrow = np.uint16 if not len(places) or int(places.max()) <= np.iinfo(np.uint16).max else np.int32
            places = self._positions = places.astype(narrow)
            self.segments = []            # their bytes were only kept for this
            if self._cache is not None:
                self._cache.resized(self)     # decoded positions count against the budget too
        return self.weights.astype(np.int32), places


_EMPTY = TermPostings(np.zeros(0, np.int32), np.zeros(0, np.float32))


class PostingCache:
    """Decoded posting lists of one index generation, least recently used dropped first.

    Every entry is charged the size it has now: positions decoded after an entry was cached
    (phrase queries) are added to its charge, and eviction gives back exactly what was charged,
    so ``used`` is what the cache holds and never grows past ``budget``."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self.used = 0
        self._items: OrderedDict[tuple[str, str], TermPostings] = OrderedDict()
        self._charged: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> TermPostings | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: tuple[str, str], item: TermPostings) -> None:
        if item.nbytes > self.budget // 4:
            return
        with self._lock:
            self._drop(key)
            item._cache, item._cache_key = self, key
            self._items[key] = item
            self._charge(key, item.nbytes)

    def resized(self, item: TermPostings) -> None:
        """An entry grew (its positions were decoded): charge the difference, evict if over."""
        key = item._cache_key
        with self._lock:
            if key is None or self._items.get(key) is not item:
                return
            if item.nbytes > self.budget // 4:
                self._drop(key)
            else:
                self._charge(key, item.nbytes)

    def _charge(self, key: tuple[str, str], size: int) -> None:
        self.used += size - self._charged.get(key, 0)
        self._charged[key] = size
        while self.used > self.budget and self._items:
            oldest = next(iter(self._items))
            self._drop(oldest)

    def _drop(self, key: tuple[str, str]) -> None:
        if self._items.pop(key, None) is not None:
            self.used -= self._charged.pop(key)


@dataclass
class Matches:
    """Which documents a query matches, and their scores (0 where they do not match)."""

    mask: np.ndarray        # bool[N]
    score: np.ndarray       # float64[N]


class Collection:
    """What evaluation needs about one index version: segment readers, live documents, dates,
    per-field length arrays (from the doc table), statistics and the posting cache."""

    def __init__(self, searcher, live: np.ndarray, date_seconds: np.ndarray, cache_bytes: int,
                 field_lengths: dict[str, np.ndarray] | None = None) -> None:
        self.searcher = searcher
        self.schema = searcher.schema
        self.n = len(live)
        self.live = live
        self.date_seconds = date_seconds
        self.leaves = [(sub.reader(), offset) for sub, offset in searcher.leaf_searchers()]
        self.doc_count_all = searcher.doc_count_all()
        self.cache = PostingCache(cache_bytes)
        self._lengths: dict[str, np.ndarray] = dict(field_lengths or {})
        self._avg: dict[str, float] = {}
        self._lock = threading.Lock()

    def lengths(self, fieldname: str) -> np.ndarray:
        """Each document's length of ``fieldname``, as Whoosh stores it (one lossy byte)."""
        with self._lock:
            cached = self._lengths.get(fieldname)
            if cached is None:
                cached = self._lengths[fieldname] = field_lengths(self.leaves, self.n, fieldname, default=1.0)
            return cached

    def average_length(self, fieldname: str) -> float:
        avg = self._avg.get(fieldname)
        if avg is None:
            avg = self._avg[fieldname] = self.searcher.avg_field_length(fieldname) or 1.0
        return avg

    def postings(self, fieldname: str, text: str) -> TermPostings:
        key = (fieldname, text)
        item = self.cache.get(key)
        if item is not None:
            return item
        fieldobj = self.schema[fieldname] if fieldname in self.schema else None
        if fieldobj is None:
            return _EMPTY
        try:
            btext = fieldobj.to_bytes(text)
        except ValueError:
            return _EMPTY
        positional = bool(fieldobj.format and fieldobj.format.supports("positions"))
        ids, weights, segments = [], [], []
        for reader, offset in self.leaves:
            terms = reader._terms
            try:
                info = terms.term_info(fieldname, btext)
            except (KeyError, TermNotFound):
                continue
            postings = read_postings(terms._postfile, info, positional)
            ids.append(postings.ids + offset)
            weights.append(postings.weights)
            segments.append(postings)
        if not ids:
            item = _EMPTY
        else:
            item = TermPostings(np.concatenate(ids).astype(np.int32), np.concatenate(weights).astype(np.float32), [])
            if positional:     # each segment keeps its encoded bytes, its arrays become views
                item.segments = _views_of(segments, item.weights)
        self.cache.put(key, item)
        return item


def _views_of(segments: list[RawPostings], weights: np.ndarray) -> list[RawPostings]:
    """The segments' postings reduced to what decoding their positions needs, their frequencies
    slices of the concatenated ones: measured, a third of the posting cache's real size was
    these decoded arrays held a second (and for blocked lists a third) time, uncharged."""
    out, at = [], 0
    for seg in segments:
        n = len(seg.weights)
        out.append(seg.positional_view(weights[at:at + n]))
        at += n
    return out


def field_lengths(leaves, n: int, fieldname: str, default: float) -> np.ndarray:
    """Each document's length of ``fieldname`` over all segments, as Whoosh stores it (one lossy
    byte); ``default`` where a segment has no lengths for the field."""
    out = np.full(n, default, dtype=np.float64)
    for reader, offset in leaves:
        count = reader.doc_count_all()
        codes = _length_bytes(reader, fieldname, count)
        if codes is not None:
            out[offset:offset + count] = _LENGTH_TABLE[codes]
    return out


def _length_bytes(reader, fieldname: str, count: int) -> np.ndarray | None:
    """One segment's stored field lengths (Whoosh's one-byte codes), read once per generation
    instead of one ``doc_field_length`` call per scored posting."""
    perdoc = getattr(reader, "_perdoc", None)
    if perdoc is None or not perdoc.has_column(f"_{fieldname}_len"):
        return None
    column = perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
    if column is None:
        return None
    return np.fromiter((column[d] for d in range(count)), dtype=np.uint8, count=count)


class Evaluator:
    """Evaluates a Whoosh query tree (as built by query.Compiler) over a Collection."""

    def __init__(self, collection: Collection) -> None:
        self.c = collection
        # One search asks for the same words several times (strict and relaxed passes, a
        # regional alternative that shares a word, coverage counts): BM25 once per field and word.
        self._scored: dict[tuple[str, str], tuple[TermPostings, np.ndarray]] = {}

    def run(self, q: wq.Query | None) -> Matches:
        if q is None:
            return self._none()
        m = self._eval(q)
        mask = m.mask & self.c.live
        return Matches(mask, np.where(mask, m.score, 0.0))

    def mask(self, q: wq.Query | None) -> np.ndarray:
        return self.run(q).mask if q is not None else self.c.live.copy()

    # -- nodes --------------------------------------------------------------------------------
    def _none(self) -> Matches:
        return Matches(np.zeros(self.c.n, dtype=bool), np.zeros(self.c.n, dtype=np.float64))

    def _eval(self, q) -> Matches:
        if isinstance(q, Adjacent):
            return self._adjacent(q)
        if isinstance(q, wq.Term):
            return self._term(q.fieldname, q.text, q.boost)
        if isinstance(q, wq.AndNot):
            a, b = self._eval(q.a), self._eval(q.b)
            mask = a.mask & ~b.mask
            return Matches(mask, np.where(mask, a.score, 0.0))
        if isinstance(q, wq.AndMaybe):
            a, b = self._eval(q.a), self._eval(q.b)
            return Matches(a.mask, np.where(a.mask, a.score + b.score, 0.0))
        if isinstance(q, wq.And):
            return self._and(q)
        if isinstance(q, wq.Or):
            return self._or(q)
        if isinstance(q, wq.Every):
            return Matches(self.c.live.copy(), np.where(self.c.live, q.boost, 0.0))
        if q is wq.NullQuery:
            return self._none()
        if isinstance(q, wq.DateRange):
            return self._dates(q)
        return self._fallback(q)

    def _and(self, q: wq.And) -> Matches:
        parts = q.subqueries
        if not parts:
            return self._none()
        first = self._eval(parts[0])
        mask, score = first.mask.copy(), first.score.copy()
        for sub in parts[1:]:
            if not mask.any():
                break
            m = self._eval(sub)
            mask &= m.mask
            score += m.score
        score = np.where(mask, score, 0.0)
        if q.boost != 1.0:
            score *= q.boost
        return Matches(mask, score)

    def _or(self, q: wq.Or) -> Matches:
        mask = np.zeros(self.c.n, dtype=bool)
        score = np.zeros(self.c.n, dtype=np.float64)
        for sub in q.subqueries:
            m = self._eval(sub)
            mask |= m.mask
            score += m.score
        if q.boost != 1.0:
            score *= q.boost
        return Matches(mask, score)

    def _term_scores(self, fieldname: str, text: str, boost: float) -> tuple[TermPostings, np.ndarray]:
        key = (fieldname, text)
        found = self._scored.get(key)
        if found is None:
            found = self._scored[key] = self._bm25(fieldname, text)
        postings, scores = found
        return postings, scores * boost if boost != 1.0 else scores

    def _bm25(self, fieldname: str, text: str) -> tuple[TermPostings, np.ndarray]:
        postings = self.c.postings(fieldname, text)
        if len(postings.ids) == 0:
            return postings, postings.weights
        fieldobj = self.c.schema[fieldname]
        if not fieldobj.scorable:
            return postings, postings.weights
        # Each segment's list holds exactly its term info's document frequency (deleted
        # documents too), so this is Whoosh's doc_frequency without a second look-up per segment.
        df = len(postings.ids)
        idf = math.log(self.c.doc_count_all / (df + 1)) + 1
        lengths = self.c.lengths(fieldname)[postings.ids]
        avg = self.c.average_length(fieldname)
        tf = postings.weights.astype(np.float64)      # the same arithmetic as Whoosh's, in 64 bits
        return postings, idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * lengths / avg)))

    def _term(self, fieldname: str, text: str, boost: float) -> Matches:
        postings, scores = self._term_scores(fieldname, text, boost)
        m = self._none()
        if len(postings.ids):
            m.mask[postings.ids] = True
            m.score[postings.ids] = scores
        return m

    def _adjacent(self, q: Adjacent) -> Matches:
        words = list(q.words)
        scored = [self._term_scores(q.fieldname, w, q.boost) for w in words]
        if any(len(p.ids) == 0 for p, _ in scored):
            return self._none()
        mask = np.ones(self.c.n, dtype=bool)
        score = np.zeros(self.c.n, dtype=np.float64)
        for postings, scores in scored:
            here = np.zeros(self.c.n, dtype=bool)
            here[postings.ids] = True
            mask &= here
            score[postings.ids] += scores
        if len(words) > 1 and mask.any():
            whole = self._whole_word(q.fieldname, words) if q.in_a_row else None
            if whole is not None:
                # Where the characters were indexed as one word, they are in a row: only the
                # other documents need their positions checked.
                sure = mask & whole
                rest = mask & ~whole
                mask = sure | (self._in_a_row(rest, [p for p, _ in scored]) if rest.any() else rest)
            else:
                mask = self._in_a_row(mask, [p for p, _ in scored], q.offsets)
        return Matches(mask, np.where(mask, score, 0.0))

    def _whole_word(self, fieldname: str, grams: list[str]) -> np.ndarray | None:
        """Documents whose word field (body for ngram, title for title_ngram) holds the
        characters as one word, or None when the field has no such source."""
        source = NGRAM_SOURCES.get(fieldname)
        if source is None or not all(len(g) == 1 for g in grams):
            return None
        postings = self.c.postings(source, "".join(grams))
        whole = np.zeros(self.c.n, dtype=bool)
        whole[postings.ids] = True
        return whole

    def _in_a_row(self, mask: np.ndarray, postings: list[TermPostings],
                  offsets: tuple[int, ...] | None = None) -> np.ndarray:
        """Documents of ``mask`` where word i sits at position p + i for some p: the keys
        (document << 32 | position - i) of every word must meet. Each word's keys come out in
        order (documents ascend, and so do positions within one), so membership is one
        ``searchsorted``; the rarest word goes first and each word narrows the documents."""
        order = sorted(range(len(postings)), key=lambda i: len(postings[i].ids))
        keys: np.ndarray | None = None
        candidates = mask
        for i in order:
            p = postings[i]
            counts, flat = p.positions()
            chosen = candidates[p.ids]
            if chosen.all():
                docs, places = np.repeat(p.ids.astype(np.int64), counts), flat
            else:
                docs = np.repeat(p.ids[chosen].astype(np.int64), counts[chosen])
                places = flat[np.repeat(chosen, counts)]
            here = (docs << 32) | (places.astype(np.int64) + (1024 - (offsets[i] if offsets else i)))
            if len(here) > 1 and not (here[1:] >= here[:-1]).all():
                here.sort()
            if keys is None:
                keys = here
            elif len(here) == 0:
                return np.zeros(self.c.n, dtype=bool)
            else:
                at = np.minimum(np.searchsorted(here, keys), len(here) - 1)
                keys = keys[here[at] == keys]
            if len(keys) == 0:
                return np.zeros(self.c.n, dtype=bool)
            candidates = np.zeros(self.c.n, dtype=bool)
            candidates[keys >> 32] = True
        return candidates

    def _dates(self, q: wq.DateRange) -> Matches:
        seconds = self.c.date_seconds
        mask = ~np.isnan(seconds)
        if q.startdate is not None:
            start = _epoch(q.startdate)
            mask &= (seconds > start) if q.startexcl else (seconds >= start)
        if q.enddate is not None:
            end = _epoch(q.enddate)
            mask &= (seconds < end) if q.endexcl else (seconds <= end)
        return Matches(mask, np.zeros(self.c.n, dtype=np.float64))

    def _fallback(self, q) -> Matches:
        """Whoosh's matcher for query types this module does not evaluate itself."""
        m = self._none()
        matcher = q.matcher(self.c.searcher)
        while matcher.is_active():
            docnum = matcher.id()
            m.mask[docnum] = True
            m.score[docnum] = matcher.score()
            matcher.next()
        return m


def _epoch(value) -> float:
    from datetime import UTC

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
