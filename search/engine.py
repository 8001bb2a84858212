"""Engine: the one search function, and the searcher lifecycle behind it.

Whoosh objects never leave this module: every hit is turned into plain dataclasses while the
query holds its snapshot of the index. Per-document facts that ranking, collapsing and facets
need for every match (group keys, dates, facet values, body lengths) are read once per index
version (see doctable.py), so a query never reads stored fields except for the hits it shows.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import math
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.index import EmptyIndexError

from . import filters, highlight, permalink, ranking, requests
from .articles import excerpt_of
from .config import Settings
from .coverage import coverage
from .doctable import DocTable
from .errors import IndexMissing, IndexOutdated, NotFound, QueryError
from .gate import FairGate
from .models import FACET_LABELS, ArticleDetail, FacetValue, Hit, Marked, SearchRequest, SearchResults
from .pinyin import PinyinVocabulary, VocabularyLoader
from .query import (
    AllOf,
    AnyOf,
    Compiled,
    Compiler,
    DateRange,
    Phrase,
    Words,
    keyword_query,
    load_stopwords,
    parse,
    parse_date_range,
)
from .ranking import Ranking
from .regional import RegionalWords
from .scoring import Collection, Evaluator
from .snapshot import Snapshot, SnapshotManager
from .spelling import did_you_mean
from .store import META_FILE, IndexStore, analyzer_config, index_analyzer
from .synonyms import SynonymsFile
from .weights import COVERAGE_MIN_SHARE, COVERAGE_POWER, KNOWN_ITEM_MIN_CLAUSES, RELAX_BELOW

RELATED_CHARS = 20_000    # related articles are found from the key terms of this much of the body


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Opening a version makes a million objects that hold no cycles (the document table, the
    pinyin vocabulary's 350k lists and strings), and each batch of new objects set off Python's
    cyclic collector over everything already alive: in a process holding an open index, parsing
    the vocabulary of 130k posts took 0.9-1.2 s with it and 0.3 s without."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Engine:
    """Opened once per process (the web app keeps one); thread-safe: queries run concurrently,
    each on the snapshot of the index it started with (see snapshot.py), at most
    ``Settings.concurrent_searches`` at once, the others in arrival order (see gate.py)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = IndexStore(settings)
        self.analyzer = index_analyzer(settings)
        self.stopwords = load_stopwords(settings.stopwords, self.analyzer.fold)
        self.synonyms = SynonymsFile(settings.synonyms_file if settings.synonyms else "", self.analyzer.fold)
        self.regional = RegionalWords(self.analyzer) if settings.regional else None
        self._pinyin = VocabularyLoader(self.store.dir)     # reused across snapshots
        self.snapshots = SnapshotManager(self._open_snapshot, self._stamp)
        self.gate = FairGate(settings.concurrent_searches)    # searches at once (see gate.py)

    @classmethod
    def open(cls, settings: Settings | None = None) -> Engine:
        engine = cls(settings or Settings.load())
        analyzer_config(engine.settings).check()
        engine.analyzer.load()          # load the dictionary now, not on the first query
        if engine.regional is not None:
            engine.regional.load()
        engine.snapshots.start()
        return engine

    # -- lifecycle -------------------------------------------------------------------------
    def _stamp(self) -> tuple:
        """Changes whenever the index may have a new version: sou.json rewritten (a swap, an
        incremental update's metadata) or files added to the folder (a Whoosh commit)."""
        out = []
        for path in (self.store.dir / META_FILE, self.store.dir):
            try:
                st = os.stat(path)
                out.append((st.st_mtime_ns, st.st_size, st.st_ino))
            except OSError:
                out.append(None)
        return tuple(out)

    def _open_snapshot(self) -> Snapshot:
        """The index version ``sou.json`` names now. A full rebuild deletes the version it
        replaced right after naming the new one: an open that started on the old one can find
        its files gone half-way (a 503 under load, one request in ~600). Then it opens the one
        now named instead; a file missing from the version still named is a real error."""
        retries = 4
        while True:
            meta, ix = self.store.open()
            try:
                return self._open_version(meta, ix)
            except (IndexOutdated, FileNotFoundError, EmptyIndexError):
                now = self.store.read_meta()
                if not retries or now is None or now.index_name == meta.index_name:
                    raise
                retries -= 1

    def _open_version(self, meta, ix) -> Snapshot:
        with _collector_paused():
            return self._open_parts(meta, ix)

    def _open_parts(self, meta, ix) -> Snapshot:
        searcher = ix.searcher()
        try:
            table = DocTable.load(searcher, self.analyzer)
            collection = Collection(searcher, table.live, table.date_seconds,
                                    self.settings.posting_cache_mb * 1024 * 1024, table.field_lengths)
            pinyin = self._pinyin.load(meta.index_name) if self.settings.pinyin else None
            site = permalink.load_site(self.settings, meta.root or self.settings.articles_dir)   # how hits link
        except BaseException:
            searcher.close()
            raise
        key = (meta.index_name, searcher.reader().generation(), meta.updated_at)
        return Snapshot(key, searcher, {"meta": meta, "table": table, "collection": collection, "pinyin": pinyin,
                                        "site": site})

    def refresh(self, wait: bool = True) -> bool:
        """Pick up a reindex made by any process (a swapped index or a new generation); True
        when a new version is now served. Queries already running keep their snapshot."""
        if self.store.read_meta() is None:
            raise IndexMissing(f"no index in {self.settings.index_dir}: run `sou reindex PATH` first")
        return self.snapshots.refresh(wait=wait)

    @property
    def pinyin(self) -> PinyinVocabulary | None:
        snap = self.snapshots.current
        return snap.pinyin if snap is not None else None

    def close(self) -> None:
        self.snapshots.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        # Segment files are real open files: an engine dropped without close() must not leak them.
        snapshots = getattr(self, "snapshots", None)
        if snapshots is not None:
            try:
                snapshots.close()
            except Exception:  # noqa: BLE001, S110 - interpreter shutdown; nothing left to do
                pass

    def health(self) -> dict[str, Any]:
        with self.snapshots.use() as snap:
            meta = snap.meta
            return {
                "status": "ok",
                "documents": len(snap.table.by_id),
                "built_at": meta.built_at,
                "updated_at": meta.updated_at,
                "analyzer_version": meta.analyzer_version,
                "schema_version": meta.schema_version,
                "index_dir": str(self.store.dir),
                "root": meta.root,
            }

    # -- search ----------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchResults:
        started = time.perf_counter()
        per_page, page, sort = self._check(request)
        warnings: list[str] = []
        q = request.q or ""
        if len(q) > self.settings.max_query_length:
            q = q[: self.settings.max_query_length]
            warnings.append(f"the query was cut to its first {self.settings.max_query_length} characters")
        parsed = parse(q)
        warnings.extend(parsed.warnings)
        synonym_notes: list[str] = []
        parsed.node = self.synonyms.get().expand(parsed.node, synonym_notes)
        with self.gate, self.snapshots.use() as snap:
            table = snap.table
            evaluator = Evaluator(snap.collection)
            compiled = self.compiler(snap).compile(parsed)
            filter_q = self._filter(request, parsed.dates, warnings)
            allowed = evaluator.mask(filter_q)
            if request.filter is not None:
                allowed &= filters.mask(request.filter, table)
            reading = self._pinyin_reading(snap, evaluator, q, parsed, allowed, compiled)
            ranked, expanded = self._rank(evaluator, table, compiled, allowed, sort, reading,
                                          relax=request.matching != "all")
            expanded = synonym_notes + compiled.notes + expanded
            reps = ranking.collapse(table, ranked) if self.settings.collapse else ranked
            facets = self._facets(table, reps, request) if request.facets else {}
            start = request.offset if request.offset is not None else (page - 1) * per_page
            hits = tuple(self._hit(snap, docnum, score, compiled, request.highlight, request.bodies)
                         for docnum, score in reps.head(start, start + per_page))
            suggestion = self._did_you_mean(snap, evaluator, compiled, len(reps), allowed) if q.strip() else None
        if parsed.empty and q.strip() and not parsed.dates:
            warnings.append("nothing to search for in the query; showing all articles")
        took = (time.perf_counter() - started) * 1000
        return SearchResults(
            query=request.q, total=len(reps), page=page, per_page=per_page, took_ms=took, hits=hits,
            facets=facets, suggestion=suggestion, warnings=tuple(dict.fromkeys(warnings)), expanded=tuple(expanded),
            sort=sort, filters=_echo_filters(request),
            explain=(compiled.explain | {"strict": str(compiled.strict), "relaxed": str(compiled.relaxed)})
            if request.explain else None,
            top_score=float(reps.scores.max()) if len(reps) else 0.0,
        )

    def _check(self, request: SearchRequest) -> tuple[int, int, str]:
        request = requests.validate(request, self.settings)
        assert request.per_page is not None
        return request.per_page, request.page, request.sort

    def _filter(self, request: SearchRequest, dates: list[DateRange], warnings: list[str]) -> wq.Query | None:
        parts: list[wq.Query] = []
        for name, values in request.filters.items():
            values = [v for v in values if v]
            if not values:
                continue
            if name == "year":
                parts.append(wq.Or([_date_query(requests.year_range(v)) for v in values]))
            else:
                alternatives = []
                for v in values:
                    alternatives.append(keyword_query(name, self.analyzer.fold(v).strip()))
                parts.append(wq.Or(alternatives))
        for label, value in (("from", request.date_from), ("to", request.date_to)):
            if value:
                rng = parse_date_range(value)
                if rng is None:
                    raise QueryError(f"`{label}` must be a date such as 2021, 2021-03 or 2021-03-05, not {value!r}")
                parts.append(_date_query(DateRange(rng.start, None, value) if label == "from" else DateRange(None, rng.end, value)))
        parts.extend(_date_query(d) for d in dates)
        if not parts:
            return None
        return wq.And(parts) if len(parts) > 1 else parts[0]

    def _rank(self, evaluator: Evaluator, table: DocTable, compiled: Compiled, allowed: np.ndarray,
              sort: str, reading: Callable[[list[str]], Ranking | None] | None = None,
              relax: bool = True) -> tuple[Ranking, list[str]]:
        """Articles with every clause first; then, when they are few, the query's pinyin reading
        (``reading``) and (unless ``relax`` is off: Meilisearch's matchingStrategy "all") articles
        with some of the clauses, each tier below the one before."""
        expanded: list[str] = []
        if compiled.strict is None:
            docs = np.flatnonzero(allowed & table.live)
            everything = Ranking(docs, np.zeros(len(docs)))
            return ranking.sort(table, everything, "newest" if sort == "relevance" else sort), expanded
        if relax and len(compiled.clauses) >= KNOWN_ITEM_MIN_CLAUSES and compiled.relaxed is not None:
            return ranking.sort(table, self._rank_by_coverage(evaluator, table, compiled, allowed, expanded), sort), expanded
        strict = evaluator.run(compiled.strict)
        matched = strict.mask & allowed
        boost = self.settings.recency_boost
        tiered = False
        pairs = evaluator.run(compiled.held) if compiled.held is not None else None
        held = pairs.mask & matched if pairs is not None else None
        if held is not None and held.any() and (matched & ~held).any():
            # A number typed after a word belongs to it (iPhone 15): the articles that keep them
            # together come first, each tier with its own prior.
            ranked = ranking.prior(table, ranking.by_score(held, strict.score + pairs.score), boost)
            ranked = ranked.then(ranking.below(ranked, ranking.prior(
                table, ranking.by_score(matched & ~held, strict.score), boost)))
            tiered = True
        else:
            ranked = ranking.by_score(matched, strict.score)
        if reading is not None and ranking.distinct_groups(table, ranked, RELAX_BELOW) < RELAX_BELOW:
            # Decided before relaxing: a weak literal match of some of the words (`dou` in an
            # English text) must not beat the pinyin reading of the whole query (抖音). Each tier
            # then gets its prior on its own, so none climbs above the one before.
            extra = reading(expanded)
            if extra is not None and len(extra := extra.without(ranked.docs)):
                if not tiered:
                    ranked = ranking.prior(table, ranked, boost)
                ranked = ranked.then(ranking.below(ranked, extra))
                tiered = True
        if relax and compiled.relaxed is not None and ranking.distinct_groups(table, ranked, RELAX_BELOW) < RELAX_BELOW \
                and str(compiled.relaxed) != str(compiled.strict):
            relaxed = evaluator.run(compiled.relaxed)
            extra = ranking.by_score(relaxed.mask & allowed & ~matched, relaxed.score)
            if tiered:
                extra = ranking.prior(table, extra.without(ranked.docs), boost)
            if len(extra):
                if not len(ranked):
                    expanded.append("no article has all the words; showing articles with some of them")
                ranked = ranked.then(ranking.below(ranked, extra))
        if not tiered:
            ranked = ranking.prior(table, ranked, boost)
        return ranking.sort(table, ranked, sort), expanded

    def _rank_by_coverage(self, evaluator: Evaluator, table: DocTable, compiled: Compiled, allowed: np.ndarray,
                          expanded: list[str]) -> Ranking:
        """A long description: the articles with most of its clauses (titles counting more)
        first, among those with at least half of them; the others below when they are few."""
        relaxed = evaluator.run(compiled.relaxed)
        share, matched = coverage(evaluator, compiled.clauses)
        found = relaxed.mask & allowed
        enough = found & (matched >= math.ceil(COVERAGE_MIN_SHARE * len(compiled.clauses)))
        score = relaxed.score * share ** COVERAGE_POWER
        boost = self.settings.recency_boost
        ranked = ranking.prior(table, ranking.by_score(enough, score), boost)
        if ranking.distinct_groups(table, ranked, RELAX_BELOW) < RELAX_BELOW:
            rest = ranking.prior(table, ranking.by_score(found & ~enough, score), boost)
            ranked = ranked.then(ranking.below(ranked, rest))
        if len(ranked) and not (found & (matched == len(compiled.clauses))).any():
            expanded.append("no article has all the words; showing articles with some of them")
        return ranked

    def _pinyin_reading(self, snap: Snapshot, evaluator: Evaluator, q: str, parsed, allowed: np.ndarray,
                        compiled: Compiled) -> Callable[[list[str]], Ranking | None] | None:
        """For a Latin query that may be pinyin of the index's words (douyin, shuju xielou, dy,
        sjxl fangfan): a function ranking that reading, for ``_rank`` to call when the literal
        matches of the whole query are few."""
        if snap.pinyin is None or not isinstance(parsed.node, (Words, AllOf)):
            return None
        nodes = parsed.node.nodes if isinstance(parsed.node, AllOf) else (parsed.node,)
        if not all(isinstance(n, Words) and n.field is None for n in nodes):
            return None
        text = " ".join(n.text for n in nodes)
        masks: dict[str, np.ndarray] = {}
        reader = snap.searcher.reader()

        def together(words: list[str]) -> int:
            """Articles holding every one of ``words``: index words, or runs of characters."""
            mask = allowed.copy()
            for word in words:
                if word not in masks:
                    if ("body", word) in reader or ("title", word) in reader:
                        q = wq.Or([wq.Term(f, word) for f in ("title", "meta", "body")])
                    else:
                        q = self.compiler().phrase_query(Phrase(word))
                    masks[word] = evaluator.run(q).mask
                mask &= masks[word]
                if not mask.any():
                    return 0
            return int(np.count_nonzero(mask))

        def reading(expanded: list[str]) -> Ranking | None:
            words = snap.pinyin.expand(text, together, lambda ch: reader.doc_frequency("ngram", ch))
            if not words:
                return None
            alt = AllOf(tuple(AnyOf(tuple(Words(w) for w in options)) if len(options) > 1 else Words(options[0])
                              for options in words))
            alt_compiled = self.compiler(snap).compile(type(parsed)(alt))
            found, _ = self._rank(evaluator, snap.table, alt_compiled, allowed, "relevance")
            if not len(found):
                return None
            compiled.terms["title"].update(alt_compiled.terms["title"])
            compiled.terms["body"].update(alt_compiled.terms["body"])
            compiled.phrases.extend(alt_compiled.phrases)
            shown = " ".join(options[0] for options in words)
            compiled.explain["pinyin"] = shown
            expanded.append(f"searched {shown} for {q.strip()}")
            return found

        return reading

    def _facets(self, table: DocTable, reps: Ranking, request: SearchRequest) -> dict[str, tuple[FacetValue, ...]]:
        out: dict[str, tuple[FacetValue, ...]] = {}
        chosen = np.zeros(len(table.ids), dtype=bool)
        chosen[reps.docs] = True
        for name, label in FACET_LABELS.items():
            index = table.facet_index[name]
            counts = index.counts(chosen)
            present = np.flatnonzero(counts)
            if name == "year":
                order = present[::-1]          # values are sorted: newest year first
            else:   # most frequent first; equal counts in value order
                order = present[np.lexsort((present, -counts[present]))][: request.facet_size or self.settings.facet_size]
            fold = self.analyzer.fold
            selected = {fold(v): v for v in request.filters.get(name, [])}
            values = [FacetValue(index.values[i], int(counts[i]), fold(index.values[i]) in selected)
                      for i in order.tolist()]
            shown = {fold(v.value) for v in values}
            values += [FacetValue(v, index.count_of(counts, v, fold, partial=name == "author"), True)
                       for key, v in selected.items() if key not in shown]
            out[label] = tuple(values)
        return out

    def _hit(self, snap: Snapshot, docnum: int, score: float, compiled: Compiled, marks: bool,
             whole: bool = False) -> Hit:
        table = snap.table
        stored = snap.searcher.stored_fields(docnum)
        title = stored.get("title", "")
        body = stored.get("body", "")
        if marks:
            title_marked = Marked(title, self._ranges(title, "title", compiled))
            body_ranges = self._ranges(body, "body", compiled)
            snippets = highlight.snippets(body, body_ranges, self.settings.snippets, self.settings.snippet_chars)
        else:
            title_marked = Marked(title)
            body_ranges = ()
            snippets = highlight.snippets(body, (), 1, self.settings.snippet_chars)
        versions = table.versions(docnum) if self.settings.collapse else [docnum]
        return Hit(
            id=table.ids[docnum], title=title_marked, url=self._link(snap, docnum, stored), date=table.date(docnum),
            author=stored.get("author", ""), categories=tuple(stored.get("categories") or ()),
            tags=tuple(stored.get("tags") or ()), score=score, snippets=snippets, versions=len(versions),
            version_ids=tuple(table.ids[d] for d in versions if d != docnum),
            body=Marked(body, body_ranges) if whole else None,
            excerpt=(stored.get("excerpt") or excerpt_of(body)) if whole else "",
        )

    @staticmethod
    def _link(snap: Snapshot, docnum: int, stored: dict) -> str:
        """The hit's link: on the user's own site when sou can tell it, else sou's page."""
        return permalink.link(snap.site, {**stored, "id": snap.table.ids[docnum], "date": snap.table.date(docnum)})

    def _did_you_mean(self, snap: Snapshot, evaluator: Evaluator, compiled: Compiled, total: int,
                      allowed: np.ndarray) -> str | None:
        """Latin typos and input-method homophones, offered only when the corrected query finds
        clearly more under the same filters; never for a query understood as pinyin."""
        if "pinyin" in compiled.explain:
            return None

        def count(q: wq.Query) -> int:
            return int(np.count_nonzero(evaluator.run(q).mask & allowed))

        def compile_query(text: str) -> wq.Query | None:
            return self.compiler(snap).compile(parse(text)).strict

        return did_you_mean(compiled.words, total, searcher=snap.searcher, analyzer=self.analyzer,
                            pinyin=snap.pinyin, compile_query=compile_query, count=count)

    def _ranges(self, text: str, field_name: str, compiled: Compiled) -> tuple[tuple[int, int], ...]:
        """Where the query's words and phrases occur in ``text``, found by a search of the folded
        text (Latin words only as whole words): it also lights up a word where jieba cut the
        text differently, and needs no character offsets in the index."""
        needles = list(compiled.phrases) + sorted(compiled.terms.get(field_name, set()))
        return highlight.merge(highlight.exact_ranges(text, needles, self.analyzer))

    # -- articles ---------------------------------------------------------------------------
    @staticmethod
    def _lookup(snap: Snapshot, doc_id: str) -> int:
        """The docnum of an indexed article; ids are never file paths."""
        docnum = snap.table.by_id.get(doc_id)
        if docnum is None:
            raise NotFound(f"no article {doc_id!r} in the index")
        return docnum

    def compiler(self, snap: Snapshot | None = None) -> Compiler:
        """A query compiler; with a snapshot, it also weighs words by their rarity in that index."""
        idf = None
        if snap is not None:
            searcher = snap.searcher
            count = max(1, searcher.doc_count_all())

            def idf(word: str) -> float:
                return math.log(count / (searcher.doc_frequency("body", word) + 1)) + 1

        return Compiler(self.analyzer, self.stopwords, self.regional, idf)

    def article(self, doc_id: str, q: str = "", offset: int = 0, limit: int | None = None) -> ArticleDetail:
        """The article, its body from ``offset`` for at most ``limit`` characters (default
        Settings.article_chars, cut at a paragraph break), highlighted for ``q``."""
        with self.gate, self.snapshots.use() as snap:
            table = snap.table
            docnum = self._lookup(snap, doc_id)
            stored = snap.searcher.stored_fields(docnum)
            title, body = stored.get("title", ""), stored.get("body", "")
            start, end = highlight.part_bounds(body, offset, limit or self.settings.article_chars)
            part = body[start:end]
            title_ranges: tuple[tuple[int, int], ...] = ()
            body_ranges: tuple[tuple[int, int], ...] = ()
            if q.strip():
                compiled = self.compiler().compile(parse(q[: self.settings.max_query_length]))
                title_ranges = self._ranges(title, "title", compiled)
                body_ranges = self._ranges(part, "body", compiled)
            updated = stored.get("updated")
            return ArticleDetail(
                id=doc_id, title=Marked(title, title_ranges), body=Marked(part, body_ranges),
                body_offset=start, body_chars=len(body), next_offset=end if end < len(body) else None,
                url=self._link(snap, docnum, stored),
                date=table.date(docnum), updated=datetime.fromisoformat(updated) if updated else None,
                author=stored.get("author", ""), categories=tuple(stored.get("categories") or ()),
                tags=tuple(stored.get("tags") or ()),
                versions=tuple(table.ids[d] for d in table.versions(docnum) if d != docnum),
            )

    def related(self, doc_id: str, n: int = 5) -> list[Hit]:
        """More like this, on the body's key terms; never the article itself or its revisions."""
        n = max(1, min(int(n), 50))
        with self.gate, self.snapshots.use() as snap:
            searcher, table = snap.searcher, snap.table
            docnum = self._lookup(snap, doc_id)
            own = set(table.versions(docnum)) | {docnum}
            stored = searcher.stored_fields(docnum)
            try:   # from the body's first RELATED_CHARS: re-segmenting a whole 5 MB body took seconds
                terms = [t for t, _ in searcher.key_terms_from_text("body", stored.get("body", "")[:RELATED_CHARS],
                                                                     numterms=12)]
            except (KeyError, ValueError):
                terms = []
            title = stored.get("title", "")
            title_terms = [t.text for t in self.analyzer.tokenize(title, "query")]
            words = list(dict.fromkeys([t for t in title_terms if len(t) > 1 and t not in self.stopwords] + terms))
            if not words:
                return []
            q = wq.Or([wq.Term("body", w) for w in words] + [wq.Term("title", w, boost=2.0) for w in words])
            found = Evaluator(snap.collection).run(q)
            found.mask[list(own)] = False
            ranked = ranking.prior(table, ranking.by_score(found.mask, found.score), self.settings.recency_boost)
            reps = ranking.collapse(table, ranked) if self.settings.collapse else ranked
            empty = Compiled(None, None, {"title": set(), "body": set()}, [], [], {})
            return [self._hit(snap, d, s, empty, False) for d, s in reps.head(0, n)]

    def complete(self, prefix: str, n: int = 8) -> list[str]:
        """Completions for search-as-you-type: tags, categories, authors, frequent title words."""
        key = self.analyzer.fold(prefix.strip())[:100]
        n = max(1, min(int(n), 20))
        if not key:
            return []
        with self.snapshots.use() as snap:
            vocab = snap.table.vocabulary
            i = bisect.bisect_left(vocab, (key, "", -1))
            matches = []
            while i < len(vocab) and vocab[i][0].startswith(key):
                matches.append(vocab[i])
                i += 1
                if len(matches) > 2000:
                    break
        matches.sort(key=lambda item: (-item[2], len(item[0])))
        out: list[str] = []
        for _, display, _ in matches:
            if display not in out and self.analyzer.fold(display) != key:
                out.append(display)
            if len(out) >= n:
                break
        return out

    def document_count(self) -> int:
        with self.snapshots.use() as snap:
            return len(snap.table.by_id)


def _echo_filters(request: SearchRequest) -> dict[str, list[str]]:
    """The filters the results were restricted by, under the names of the request's parameters
    (``from``/``to`` included), so a client can tell what it is looking at."""
    out = {k: list(v) for k, v in request.filters.items() if v}
    out.update({k: [v] for k, v in (("from", request.date_from), ("to", request.date_to)) if v})
    return out


def _date_query(rng: DateRange) -> wq.Query:
    start = rng.start.replace(tzinfo=None) if rng.start else None
    end = rng.end.replace(tzinfo=None) if rng.end else None
    return wq.DateRange("date", start, end, endexcl=True)
