"""Whole-list evaluation (search/scoring.py, search/codec.py, search/ranking.py) must find and
score exactly what Whoosh's own matchers find and score over the same index: the numpy path
is a faster implementation of the same ranking, not a different ranking."""

from __future__ import annotations

import random
import shutil

import numpy as np
import pytest
from helpers import EXAMPLES, make_synthetic_articles, write_article

from search import Settings, analysis
from search.codec import decode_positions, pack_ints, read_postings
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


@pytest.mark.parametrize("fieldname", ["title", "body", "ngram", "meta", "tags"])
def test_bulk_posting_reads_match_the_whoosh_matcher(engine, fieldname):
    searcher = engine.snapshots.current.searcher
    checked = 0
    for reader, _ in _leaves(searcher):
        for term in list(reader.lexicon(fieldname))[:400]:
            info = reader._terms.term_info(fieldname, term)
            bulk = read_postings(reader._terms._postfile, info)
            m = reader.postings(fieldname, term)
            m = getattr(m, "child", m)      # a segment with deletions wraps its matcher
            ids, weights, values = [], [], []
            while m.is_active():
                ids.append(m.id())
                weights.append(m.weight())
                values.append(m.value())
                m.next()
            assert bulk.ids.tolist() == ids
            assert bulk.weights.tolist() == pytest.approx(weights)
            if bulk.values is not None:
                assert bulk.values == b"".join(values)
                assert bulk.value_lengths.tolist() == [len(v) for v in values]
            checked += 1
    assert checked > 0


def test_positions_decode_from_both_array_widths():
    small = pack_ints([1, 5, 9])
    large = pack_ints([3, 70000])
    lengths = np.array([len(small), len(large), len(small)], dtype=np.uint32)
    counts, flat = decode_positions(lengths, small + large + small, 1)
    assert counts.tolist() == [3, 2, 3]
    assert flat.tolist() == [1, 5, 9, 3, 70000, 1, 5, 9]
    counts, flat = decode_positions(lengths[:1], small, 1)
    assert flat.tolist() == [1, 5, 9]
    triples = pack_ints([4, 10, 12, 7, 20, 22])
    counts, flat = decode_positions(np.array([len(triples)], dtype=np.uint32), triples, 3)
    assert counts.tolist() == [2] and flat.tolist() == [4, 7]


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
