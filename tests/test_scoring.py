"""Whole-list evaluation (search/scoring.py, search/codec.py, search/ranking.py) must find and
score exactly what Whoosh's own matchers find and score over the same index: the numpy path
is a faster implementation of the same ranking, not a different ranking."""

from __future__ import annotations

import itertools
import random
import shutil

import numpy as np
import pytest
from helpers import EXAMPLES, make_synthetic_articles, write_article
from hypothesis import given, settings
from hypothesis import strategies as st

from search import SearchRequest, Settings, analysis
from search.codec import EncodedLists, SouTermInfo, decode_list, encode_lists, read_postings
from search.engine import Engine
from search.indexer import reindex
from search.query import parse
from search.ranking import Ranking, collapse
from search.scoring import Collection, Evaluator

QUERIES = [
    "香港", "國安法 記者", "国安法", "抖音", "iPhone 13 续航", "COVID-19 疫苗", "Carrie Lam 記者會",
    '"香港電台"', '"大嶼山"', "猫 OR 狗", "香港 -國安法", "title:香港", "category:科技", "貓",
    "人工智能 (芯片 OR 模型)", "新冠 疫苗 香港", "的", "台北", "里面", "B站 up主",
]


def _leaves(searcher):
    for sub, offset in searcher.leaf_searchers():
        yield sub.reader(), offset


@pytest.mark.parametrize("fieldname", ["title", "body", "ngram", "meta", "tags", "id", "author_key"])
def test_every_term_of_the_index_reads_back_through_whoosh_and_numpy_alike(engine, fieldname):
    """The terms file (written in batches by pool.BatchTermsWriter) answers Whoosh's own
    look-ups for every term, in order, and each list decodes to what Whoosh's matcher walks."""
    searcher = engine.snapshots.current.searcher
    checked = 0
    for reader, _ in _leaves(searcher):
        terms = list(reader.lexicon(fieldname))
        assert terms == sorted(terms) and len(set(terms)) == len(terms)
        for term in terms:
            info = reader._terms.term_info(fieldname, term)       # the hash look-up
            bulk = read_postings(reader._terms._postfile, info)
            m = reader.postings(fieldname, term)
            m = getattr(m, "child", m)      # a segment with deletions wraps its matcher
            ids, weights = [], []
            while m.is_active():
                ids.append(m.id())
                weights.append(m.weight())
                m.next()
            assert bulk.ids.tolist() == ids and len(ids) == info.doc_frequency()
            assert bulk.weights.tolist() == pytest.approx(weights)
            checked += 1
    assert checked > 0


list_of_postings = st.lists(
    st.tuples(st.integers(0, 3), st.lists(st.integers(0, 70_000), min_size=1, max_size=6)), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 80_000), list_of_postings), min_size=1, max_size=8), st.booleans())
def test_posting_lists_round_trip_through_the_encoder(terms, positional):
    """Whatever the gaps, frequencies and positions (every width: 1, 2 and 4 bytes), a batch of
    lists encodes and each list decodes back to its documents, frequencies and positions."""
    bounds, docs, tfs, flat, expected = [0], [], [], [], []
    for step, postings in terms:
        doc, rows = 0, []
        for gap, positions in postings:
            doc += gap * step + (1 if rows else 0)
            if rows and doc <= rows[-1][0]:
                doc = rows[-1][0] + 1
            places = sorted(positions)
            rows.append((doc, len(places) if positional else 1 + gap, places))
        for doc, tf, places in rows:
            docs.append(doc)
            tfs.append(tf)
            flat.extend(places)
        bounds.append(len(docs))
        expected.append(rows)
    encoded = encode_lists(np.array(bounds), np.array(docs), np.array(tfs), np.array(flat) if positional else None)
    for i, rows in enumerate(expected):
        raw = encoded.blob[encoded.offsets[i]:encoded.offsets[i] + encoded.lengths[i]]
        got = decode_list(raw, int(encoded.df[i]), int(encoded.minid[i]), positional)
        assert got.ids.tolist() == [r[0] for r in rows]
        assert got.weights.tolist() == [r[1] for r in rows]
        assert int(encoded.maxid[i]) == rows[-1][0]
        if positional:
            counts, places = got.positions()
            assert counts.tolist() == [len(r[2]) for r in rows]
            assert places.tolist() == [p for r in rows for p in r[2]]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 2**32), st.integers(0, 2**32 - 1), st.integers(1, 2**40),
                          st.integers(1, 2**31), st.integers(0, 2**50)), min_size=1, max_size=30))
def test_term_infos_round_trip_in_a_few_bytes(rows):
    """The terms file's entries (document frequency, first id, total frequency, list length and
    offset, as varints) read back exactly, one by one as Whoosh looks them up, whatever their
    size (offsets past 4 GB included); a rare word's entry takes a few bytes, not 24."""
    encoded = EncodedLists(b"", np.array([r[4] for r in rows]), np.array([r[3] for r in rows]),
                           np.array([r[0] for r in rows]), np.array([float(r[2]) for r in rows]),
                           np.zeros(len(rows)), np.array([r[1] for r in rows]), np.zeros(len(rows)))
    blob, ends = encoded.terminfo_bytes(base=0)
    starts = [0, *ends.tolist()[:-1]]
    for row, a, b in zip(rows, starts, ends.tolist(), strict=True):
        info = SouTermInfo.from_bytes(blob[a:b])
        assert (info.doc_frequency(), info.min_id(), info.weight(), info.extent()) == (row[0], row[1], row[2], (row[4], row[3]))
        assert SouTermInfo.from_bytes(info.to_bytes()).extent() == (row[4], row[3])
    rare = EncodedLists(b"", np.array([70_000_000]), np.array([3]), np.array([1]), np.array([1.0]),
                        np.ones(1), np.array([40_000]), np.array([40_000]))
    assert len(rare.terminfo_bytes(base=0)[0]) == 10      # 1 + 3 + 1 + 1 + 4 bytes


@pytest.fixture(scope="module")
def segmented(tmp_path_factory, jieba_cache):
    """An index of several segments with deletions: two build workers' segments, then an
    incremental reindex that adds one and deletes documents from the others."""
    root = tmp_path_factory.mktemp("segmented-articles")
    shutil.copytree(EXAMPLES, root / "demo")
    make_synthetic_articles(root / "synthetic", 160, paragraphs=1)
    settings = Settings(index_dir=str(tmp_path_factory.mktemp("segmented-index")), cache_dir=str(jieba_cache),
                        workers=2)
    reindex(settings, root)
    for path in sorted((root / "synthetic").rglob("*.md"))[::9]:
        path.unlink()
    write_article(root / "late", "added.md", "香港電台 新節目", "國安法 記者 抖音 iPhone 13 续航 貓")
    reindex(settings, root)
    engine = Engine.open(settings)
    assert len(list(engine.snapshots.current.searcher.leaf_searchers())) >= 3
    assert engine.snapshots.current.searcher.reader().has_deletions()
    yield engine
    engine.close()


@pytest.mark.parametrize("index", ["demo", "segmented"])
@pytest.mark.parametrize("text", QUERIES + ["数据 搜索引擎", "python", '"开源项目"'])
def test_numpy_evaluation_finds_and_scores_like_whoosh(request, index, text):
    engine = request.getfixturevalue("engine" if index == "demo" else "segmented")
    snap = engine.snapshots.current
    searcher, table = snap.searcher, snap.table
    compiled = engine.compiler().compile(parse(text))
    evaluator = Evaluator(Collection(searcher, table.live, table.date_seconds, 1 << 20))
    for q in (compiled.strict, compiled.relaxed):
        if q is None:
            continue
        expected = {docnum: score for score, docnum in searcher.search(q, limit=None).top_n}
        got = evaluator.run(q)
        found = {int(d): float(got.score[d]) for d in np.flatnonzero(got.mask)}
        assert set(found) == set(expected), q
        for docnum, score in expected.items():
            assert found[docnum] == pytest.approx(score, rel=1e-5), (q, table.ids[docnum])


def test_phrases_need_their_words_in_a_row(engine):
    snap = engine.snapshots.current
    searcher, table = snap.searcher, snap.table
    evaluator = Evaluator(Collection(searcher, table.live, table.date_seconds, 1 << 20))
    compiled = engine.compiler().compile(parse('"香港電台"'))
    hits = [table.ids[d] for d in np.flatnonzero(evaluator.run(compiled.strict).mask)]
    for doc_id in hits:
        body = searcher.stored_fields(table.by_id[doc_id])
        text = analysis.fold(body.get("title", "") + body.get("body", ""))
        assert "香港电台" in text.replace(" ", ""), doc_id


def _collapse_by_loop(groups, bodies):
    seen, kept = set(), []
    for i, keys in enumerate(zip(groups, bodies, strict=True)):
        if keys[0] in seen or keys[1] in seen:
            seen.update(keys)
            continue
        seen.update(keys)
        kept.append(i)
    return kept


def test_collapse_keeps_the_first_revision_of_each_article(engine):
    table = engine.snapshots.current.table
    rng = random.Random(7)
    for _ in range(50):
        n = rng.randint(1, 60)
        docs = np.array(rng.sample(range(len(table.ids)), min(n, len(table.ids))), dtype=np.int64)
        # Shuffle group and body codes among few values so that chains of revisions occur.
        table_groups = table.group_codes.copy()
        table_bodies = table.body_codes.copy()
        try:
            table.group_codes = np.array([rng.randint(0, 6) for _ in table_groups], dtype=np.int64)
            table.body_codes = np.array([rng.randint(3, 9) for _ in table_bodies], dtype=np.int64)
            ranked = Ranking(docs, np.arange(len(docs), 0, -1, dtype=np.float64))
            got = collapse(table, ranked).docs.tolist()
            expected = [int(docs[i]) for i in _collapse_by_loop(table.group_codes[docs].tolist(),
                                                                  table.body_codes[docs].tolist())]
            assert got == expected
        finally:
            table.group_codes, table.body_codes = table_groups, table_bodies


def test_long_lists_written_in_blocks_read_back_like_whole_ones(tmp_path, jieba_cache, monkeypatch):
    """A list too long to encode at once is written as blocks (codec.blocked_list); forcing
    tiny blocks and runs must give the same postings, positions and search results."""
    import search.pool
    import search.writer

    whole = Settings(index_dir=str(tmp_path / "whole"), cache_dir=str(jieba_cache), workers=1)
    reindex(whole, EXAMPLES)
    monkeypatch.setattr(search.pool, "BATCH_OCCURRENCES", 7)
    monkeypatch.setattr(search.writer, "POOL_BUDGET", 4096)
    blocked = whole.replace(index_dir=str(tmp_path / "blocked"))
    reindex(blocked, EXAMPLES)
    monkeypatch.undo()
    with Engine.open(whole) as a, Engine.open(blocked) as b:
        ra = a.snapshots.current.searcher.reader()
        rb = b.snapshots.current.searcher.reader()
        seen_blocked = 0
        for fieldname in ("body", "ngram", "title", "meta"):
            terms = list(ra.lexicon(fieldname))
            assert terms == list(rb.lexicon(fieldname))
            positional = fieldname != "body"
            for term in terms:
                pa = read_postings(ra._terms._postfile, ra._terms.term_info(fieldname, term), positional)
                ib = rb._terms.term_info(fieldname, term)
                pb = read_postings(rb._terms._postfile, ib, positional)
                seen_blocked += hasattr(pb, "blocks")
                for x, y in itertools.pairwise(getattr(pb, "blocks", [])):
                    # a block is closed only when the next posting does not fit, whichever run
                    # it comes from (one block per spilled run made lists of hundreds of blocks)
                    rows = int(x.weights.sum()) if positional else len(x.ids)
                    assert rows + (int(y.weights[0]) if positional else 1) > 7
                assert pb.ids.tolist() == pa.ids.tolist() and pb.weights.tolist() == pa.weights.tolist()
                if positional:
                    assert [x.tolist() for x in pb.positions()] == [x.tolist() for x in pa.positions()]
        assert seen_blocked > 0
        for q in ('"香港電台"', "國安法 記者", "貓", "iPhone 13"):
            assert [h.id for h in a.search(SearchRequest(q=q)).hits] == [h.id for h in b.search(SearchRequest(q=q)).hits]
