"""Engine: the one search function, and the searcher lifecycle behind it.

Whoosh objects never leave this module: every hit is turned into plain dataclasses while the
searcher is held. Per-document facts that ranking, collapsing and facets need for every match
(group keys, dates, facet values, body lengths) are read once per index generation into plain
lists, so a query never reads stored fields except for the hits it shows.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import query as wq

from . import analysis, highlight, ranking
from .config import Settings
from .doctable import DocTable
from .errors import IndexMissing, NotFound, QueryError
from .models import SORTS, ArticleDetail, FacetValue, Hit, Marked, SearchRequest, SearchResults
from .pinyin import PinyinVocabulary, load_vocabulary
from .query import AllOf, AnyOf, Compiled, Compiler, DateRange, Words, load_stopwords, parse, parse_date_range
from .ranking import Ranking
from .schema import FACET_FIELDS, FOLDED_FIELDS
from .scoring import Collection, Evaluator
from .store import META_FILE, IndexStore, configure_analysis
from .synonyms import SynonymsFile

RELAX_BELOW = 20          # strict results (articles) under this are topped up by relaxed ones
FACET_NAMES = {"category": "categories", "tag": "tags", "author": "authors", "year": "years"}


class Engine:
    """Opened once per process (the web app keeps one); thread-safe."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = IndexStore(settings)
        self._lock = threading.RLock()
        self._ix = None
        self._searcher = None
        self._table: DocTable | None = None
        self._collection: Collection | None = None
        self._meta = None
        self._meta_stamp: tuple[float, int] | None = None
        self.stopwords = load_stopwords(settings.stopwords)
        self.pinyin: PinyinVocabulary | None = None
        self.synonyms = SynonymsFile(settings.synonyms_file if settings.synonyms else "")

    @classmethod
    def open(cls, settings: Settings | None = None) -> Engine:
        engine = cls(settings or Settings.load())
        configure_analysis(engine.settings)
        analysis.RUNTIME.jieba()          # load the dictionary now, not on the first query
        engine._reopen()
        return engine

    # -- lifecycle -------------------------------------------------------------------------
    def _meta_file_stamp(self) -> tuple[float, int] | None:
        try:
            st = os.stat(Path(self.settings.index_dir) / META_FILE)
        except OSError:
            return None
        return (st.st_mtime, st.st_size)

    def _reopen(self) -> None:
        with self._lock:
            meta, ix = self.store.open()
            searcher = ix.searcher()
            table = DocTable.load(searcher)
            old = self._searcher
            self._meta, self._ix, self._searcher, self._table = meta, ix, searcher, table
            self._collection = self._new_collection(searcher, table)
            self._load_pinyin()
            self._meta_stamp = self._meta_file_stamp()
            if old is not None:
                old.close()

    def refresh(self) -> None:
        """Pick up a reindex made by any process: a swapped index or a new generation."""
        with self._lock:
            stamp = self._meta_file_stamp()
            if stamp is None:
                raise IndexMissing(f"no index in {self.settings.index_dir}: run `sou reindex PATH` first")
            if stamp != self._meta_stamp:
                self._reopen()
                return
            assert self._searcher is not None
            if not self._searcher.up_to_date():
                # A new searcher, not Searcher.refresh(): whoosh-reloaded 2.7.5's refresh keeps the
                # readers of segments a merging commit removed (an updated article then shows twice).
                old, searcher = self._searcher, self._ix.searcher()
                self._table = DocTable.load(searcher)
                self._searcher = searcher
                self._collection = self._new_collection(searcher, self._table)
                self._load_pinyin()
                old.close()

    def _new_collection(self, searcher, table: DocTable) -> Collection:
        return Collection(searcher, table.live, table.date_seconds, self.settings.posting_cache_mb * 1024 * 1024)

    def _load_pinyin(self) -> None:
        self.pinyin = None
        if self.settings.pinyin and self._meta is not None:
            self.pinyin = load_vocabulary(self.store.dir, self._meta.index_name)

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        # Segment files are real open files: an engine dropped without close() must not leak them.
        searcher = getattr(self, "_searcher", None)
        if searcher is not None:
            try:
                searcher.close()
            except Exception:  # noqa: BLE001, S110 - interpreter shutdown; nothing left to do
                pass

    def health(self) -> dict[str, Any]:
        with self._lock:
            meta = self._meta
            assert meta is not None and self._table is not None
            return {
                "status": "ok",
                "documents": len(self._table.by_id),
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
        with self._lock:
            searcher, table, collection = self._searcher, self._table, self._collection
            assert searcher is not None and table is not None and collection is not None
            evaluator = Evaluator(collection)
            compiled = self.compiler().compile(parsed)
            filter_q = self._filter(request, parsed.dates, warnings)
            allowed = evaluator.mask(filter_q)
            ranked, expanded = self._rank(evaluator, table, compiled, allowed, sort)
            ranked = self._pinyin_fallback(evaluator, table, q, parsed, ranked, allowed, sort, expanded, compiled)
            expanded = synonym_notes + expanded
            reps = ranking.collapse(table, ranked) if self.settings.collapse else ranked
            facets = self._facets(table, reps, request) if request.facets else {}
            start = (page - 1) * per_page
            hits = tuple(self._hit(searcher, table, docnum, score, compiled, request.highlight)
                         for docnum, score in reps.head(start, start + per_page))
            suggestion = self._did_you_mean(searcher, evaluator, compiled, len(reps), allowed) if q.strip() else None
        if parsed.empty and q.strip():
            warnings.append("nothing to search for in the query; showing all articles")
        took = (time.perf_counter() - started) * 1000
        return SearchResults(
            query=request.q, total=len(reps), page=page, per_page=per_page, took_ms=took, hits=hits,
            facets=facets, suggestion=suggestion, warnings=tuple(dict.fromkeys(warnings)), expanded=tuple(expanded),
            sort=sort, filters={k: list(v) for k, v in request.filters.items() if v},
            explain=(compiled.explain | {"strict": str(compiled.strict), "relaxed": str(compiled.relaxed)})
            if request.explain else None,
        )

    def _check(self, request: SearchRequest) -> tuple[int, int, str]:
        per_page = request.per_page if request.per_page is not None else self.settings.per_page
        if not isinstance(per_page, int) or per_page < 1 or per_page > self.settings.max_per_page:
            raise QueryError(f"per_page must be between 1 and {self.settings.max_per_page}")
        if not isinstance(request.page, int) or request.page < 1:
            raise QueryError("page must be 1 or more")
        if request.page * per_page > self.settings.max_results:
            raise QueryError(f"results are limited to the first {self.settings.max_results}; "
                             "narrow the query or add filters instead of paging deeper")
        if request.sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}")
        unknown = set(request.filters) - set(FACET_NAMES)
        if unknown:
            raise QueryError(f"unknown filter {', '.join(sorted(unknown))} (use {', '.join(FACET_NAMES)})")
        return per_page, request.page, request.sort

    def _filter(self, request: SearchRequest, dates: list[DateRange], warnings: list[str]) -> wq.Query | None:
        parts: list[wq.Query] = []
        for name, values in request.filters.items():
            values = [v for v in values if v]
            if not values:
                continue
            if name == "year":
                ranges = [parse_date_range(v) for v in values]
                bad = [v for v, r in zip(values, ranges, strict=True) if r is None]
                if bad:
                    raise QueryError(f"year filter must be a year such as 2021, not {bad[0]!r}")
                parts.append(wq.Or([_date_query(r) for r in ranges if r]))
            else:
                alternatives = []
                for v in values:
                    alternatives += [wq.Term(FACET_FIELDS[name], v), wq.Term(FOLDED_FIELDS[name], analysis.fold(v))]
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
              sort: str) -> tuple[Ranking, list[str]]:
        expanded: list[str] = []
        if compiled.strict is None:
            docs = np.flatnonzero(allowed & table.live)
            everything = Ranking(docs, np.zeros(len(docs)))
            return ranking.sort(table, everything, "newest" if sort == "relevance" else sort), expanded
        strict = evaluator.run(compiled.strict)
        matched = strict.mask & allowed
        ranked = ranking.by_score(matched, strict.score)
        if compiled.relaxed is not None and ranking.distinct_groups(table, ranked, RELAX_BELOW) < RELAX_BELOW \
                and str(compiled.relaxed) != str(compiled.strict):
            relaxed = evaluator.run(compiled.relaxed)
            extra = ranking.by_score(relaxed.mask & allowed & ~matched, relaxed.score)
            if len(extra):
                ranked = ranked.then(ranking.below(ranked, extra))
                if not matched.any():
                    expanded.append("no article has all the words; showing articles with some of them")
        ranked = ranking.prior(table, ranked, self.settings.recency_boost)
        return ranking.sort(table, ranked, sort), expanded

    def _pinyin_fallback(self, evaluator: Evaluator, table: DocTable, q: str, parsed, ranked: Ranking,
                         allowed: np.ndarray, sort: str, expanded: list[str], compiled: Compiled) -> Ranking:
        """A Latin query that reads as pinyin of the index's words (douyin, shuju xielou, dy)
        also searches those words; literal matches keep the first places."""
        if self.pinyin is None or not isinstance(parsed.node, (Words, AllOf)):
            return ranked
        nodes = parsed.node.nodes if isinstance(parsed.node, AllOf) else (parsed.node,)
        if not all(isinstance(n, Words) and n.field is None for n in nodes):
            return ranked
        if ranking.distinct_groups(table, ranked, RELAX_BELOW) >= RELAX_BELOW:
            return ranked
        words = self.pinyin.expand(" ".join(n.text for n in nodes))
        if not words:
            return ranked
        alt = AllOf(tuple(AnyOf(tuple(Words(w) for w in options)) if len(options) > 1 else Words(options[0])
                          for options in words))
        alt_compiled = self.compiler().compile(type(parsed)(alt))
        extra, _ = self._rank(evaluator, table, alt_compiled, allowed, "relevance")
        extra = extra.without(ranked.docs)
        if not len(extra):
            return ranked
        compiled.terms["title"].update(alt_compiled.terms["title"])
        compiled.terms["body"].update(alt_compiled.terms["body"])
        compiled.phrases.extend(alt_compiled.phrases)
        shown = " ".join(options[0] for options in words)
        expanded.append(f"searched {shown} for {q.strip()}")
        return ranking.sort(table, ranked.then(ranking.below(ranked, extra)), sort)

    def _facets(self, table: DocTable, reps: Ranking, request: SearchRequest) -> dict[str, tuple[FacetValue, ...]]:
        out: dict[str, tuple[FacetValue, ...]] = {}
        chosen = np.zeros(len(table.ids), dtype=bool)
        chosen[reps.docs] = True
        for name, label in FACET_NAMES.items():
            index = table.facet_index[name]
            counts = index.counts(chosen)
            present = np.flatnonzero(counts)
            if name == "year":
                order = present[::-1]          # values are sorted: newest year first
            else:   # most frequent first; equal counts in value order
                order = present[np.lexsort((present, -counts[present]))][: self.settings.facet_size]
            selected = set(request.filters.get(name, []))
            values = [FacetValue(index.values[i], int(counts[i]), index.values[i] in selected) for i in order.tolist()]
            shown = {v.value for v in values}
            by_value = {v: i for i, v in enumerate(index.values)} if selected - shown else {}
            values += [FacetValue(v, int(counts[by_value[v]]) if v in by_value else 0, True)
                       for v in selected if v not in shown]
            out[label] = tuple(values)
        return out

    def _hit(self, searcher, table: DocTable, docnum: int, score: float, compiled: Compiled, marks: bool) -> Hit:
        stored = searcher.stored_fields(docnum)
        title = stored.get("title", "")
        body = stored.get("body", "")
        if marks:
            assert self._collection is not None
            title_marked = Marked(title, _ranges(self._collection, docnum, "title", title, compiled))
            body_ranges = _ranges(self._collection, docnum, "body", body, compiled)
            snippets = highlight.snippets(body, body_ranges, self.settings.snippets, self.settings.snippet_chars)
        else:
            title_marked = Marked(title)
            snippets = highlight.snippets(body, (), 1, self.settings.snippet_chars)
        versions = table.versions(docnum) if self.settings.collapse else [docnum]
        return Hit(
            id=stored["id"], title=title_marked, url=stored.get("url", ""), date=table.dates[docnum],
            author=stored.get("author", ""), categories=tuple(stored.get("categories") or ()),
            tags=tuple(stored.get("tags") or ()), score=score, snippets=snippets, versions=len(versions),
            version_ids=tuple(table.ids[d] for d in versions if d != docnum),
        )

    def _did_you_mean(self, searcher, evaluator: Evaluator, compiled: Compiled, total: int,
                      allowed: np.ndarray) -> str | None:
        """Latin typos via Whoosh's corrector over the body vocabulary; offered only when the
        corrected query finds clearly more."""
        if total >= 5 or not compiled.words:
            return None
        from .suggest import correct_words

        def count(q: wq.Query) -> int:
            return int(np.count_nonzero(evaluator.run(q).mask & allowed))

        return correct_words(self, searcher, compiled.words, total, count)

    # -- articles ---------------------------------------------------------------------------
    def _lookup(self, doc_id: str):
        """(searcher, doc table, docnum) of an indexed article; ids are never file paths."""
        searcher, table = self._searcher, self._table
        assert searcher is not None and table is not None
        docnum = table.by_id.get(doc_id)
        if docnum is None:
            raise NotFound(f"no article {doc_id!r} in the index")
        return searcher, table, docnum

    def compiler(self) -> Compiler:
        return Compiler(self.stopwords, analysis.RUNTIME.jieba().FREQ)

    def article(self, doc_id: str, q: str = "") -> ArticleDetail:
        with self._lock:
            searcher, table, docnum = self._lookup(doc_id)
            stored = searcher.stored_fields(docnum)
            title, body = stored.get("title", ""), stored.get("body", "")
            title_ranges: tuple[tuple[int, int], ...] = ()
            body_ranges: tuple[tuple[int, int], ...] = ()
            if q.strip():
                compiled = self.compiler().compile(parse(q[: self.settings.max_query_length]))
                assert self._collection is not None
                title_ranges = _ranges(self._collection, docnum, "title", title, compiled)
                body_ranges = _ranges(self._collection, docnum, "body", body, compiled)
            updated = stored.get("updated")
            return ArticleDetail(
                id=doc_id, title=Marked(title, title_ranges), body=Marked(body, body_ranges), url=stored.get("url", ""),
                date=table.dates[docnum], updated=datetime.fromisoformat(updated) if updated else None,
                author=stored.get("author", ""), categories=tuple(stored.get("categories") or ()),
                tags=tuple(stored.get("tags") or ()),
                versions=tuple(table.ids[d] for d in table.versions(docnum) if d != docnum),
            )

    def related(self, doc_id: str, n: int = 5) -> list[Hit]:
        """More like this, on the body's key terms; never the article itself or its revisions."""
        n = max(1, min(int(n), 50))
        with self._lock:
            searcher, table, docnum = self._lookup(doc_id)
            own = set(table.versions(docnum)) | {docnum}
            try:
                terms = [t for t, _ in searcher.key_terms([docnum], "body", numterms=12)]
            except (KeyError, ValueError):
                terms = []
            title_terms = [t.text for t in analysis.tokenize(searcher.stored_fields(docnum).get("title", ""), "query")]
            words = list(dict.fromkeys([t for t in title_terms if len(t) > 1 and t not in self.stopwords] + terms))
            if not words:
                return []
            q = wq.Or([wq.Term("body", w) for w in words] + [wq.Term("title", w, boost=2.0) for w in words])
            assert self._collection is not None
            found = Evaluator(self._collection).run(q)
            found.mask[list(own)] = False
            ranked = ranking.prior(table, ranking.by_score(found.mask, found.score), self.settings.recency_boost)
            reps = ranking.collapse(table, ranked) if self.settings.collapse else ranked
            empty = Compiled(None, None, {"title": set(), "body": set()}, [], [], {})
            return [self._hit(searcher, table, d, s, empty, False) for d, s in reps.head(0, n)]

    def suggest(self, prefix: str, n: int = 8) -> list[str]:
        """Completions for search-as-you-type: tags, categories, authors, frequent title words."""
        key = analysis.fold(prefix.strip())[:100]
        n = max(1, min(int(n), 20))
        if not key:
            return []
        with self._lock:
            table = self._table
            assert table is not None
            vocab = table.vocabulary
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
            if display not in out and analysis.fold(display) != key:
                out.append(display)
            if len(out) >= n:
                break
        return out

    def document_count(self) -> int:
        with self._lock:
            assert self._table is not None
            return len(self._table.by_id)


def _date_query(rng: DateRange) -> wq.Query:
    start = rng.start.replace(tzinfo=None) if rng.start else None
    end = rng.end.replace(tzinfo=None) if rng.end else None
    return wq.DateRange("date", start, end, endexcl=True)


def _ranges(collection: Collection, docnum: int, field_name: str, text: str,
            compiled: Compiled) -> tuple[tuple[int, int], ...]:
    """Latin words from the character offsets stored in their postings (the query just read
    those lists); Chinese words, phrases and n-gram matches by a search of the folded text,
    which also lights up a word where jieba cut the text differently."""
    terms = compiled.terms.get(field_name, set())
    ranges: list[tuple[int, int]] = []
    for term in terms:
        if analysis._HAN_RE.search(term):
            continue
        value = collection.postings(field_name, term).value(docnum)
        if value:
            flat = analysis.unpack_ints(value)
            ranges += zip(flat[1::3], flat[2::3], strict=True)
    needles = list(compiled.phrases) + [t for t in terms if analysis._HAN_RE.search(t)]
    ranges += highlight.exact_ranges(text, needles)
    return highlight.merge(ranges)
