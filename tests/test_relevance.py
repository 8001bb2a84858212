"""Ranking rules on small original corpora: a number typed after a Latin word stays with it
(iPhone 15 before iPhone 16), and a long description finds the one article that has most of
its words, especially in its title."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import write_article
from whoosh import query as wq

from search import SearchRequest, Settings
from search.engine import Engine
from search.indexer import reindex
from search.phrase import Adjacent
from search.scoring import Evaluator

PHONES = {
    "iphone15.md": ("苹果发布 iPhone 15，起售价不变", "iPhone 15 Pro 换用钛金属边框，标准版也改用 USB-C 接口。"),
    "iphone15-glued.md": ("iPhone15 拆解：电池更大", "拆解机构说，九月发布的 iPhone15 电池容量比上一代大。"),
    "iphone16.md": ("苹果发布 iPhone 16 和 iPhone 16 Plus", "发布会只用了 15 分钟介绍新机，iPhone 16 的相机按钮最受关注。"),
    "iphone17.md": ("iPhone 17 系列发布", "苹果发布了更薄的 iPhone 17，电池续航提升 15%。"),
    "ios.md": ("黑客发布兼容 iOS 15 的越狱工具", "越狱工具支持运行 iOS 15 的 iPhone 和 iPad。"),
    "covid.md": ("COVID-19 疫苗加强针开打", "长者优先接种 COVID-19 疫苗加强针，预约从下周开始。"),
    "covid-year.md": ("COVID 疫情三年回顾", "从 2020 年到 2022 年，19 个国家先后放宽入境限制，疫苗接种率上升。"),
}

LIBRARY = {
    "swap.md": ("社区旧书交换日", "周末在图书馆门口，市民带三本旧书可以换一本，现场还有儿童绘本区。"),
    "corner.md": ("图书馆周末咖啡角开张", "图书馆周末的咖啡角开张了。咖啡角周末营业，图书馆的咖啡很便宜。"),
    "cafe.md": ("周末咖啡市集", "周末的咖啡市集有二十个摊位，咖啡师现场冲咖啡。"),
    "kids.md": ("儿童阅读活动报名", "图书馆的儿童阅读活动周末开始报名，儿童需由家长陪同。"),
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory, jieba_cache: Path):
    root = tmp_path_factory.mktemp("ranking-articles")
    for name, (title, body) in (PHONES | LIBRARY).items():
        write_article(root, name, title, body, date="2024-09-10")
    settings = Settings(index_dir=str(tmp_path_factory.mktemp("ranking-index")), workers=1, cache_dir=str(jieba_cache))
    reindex(settings, root)
    with Engine.open(settings) as engine:
        yield engine


def ids(engine: Engine, q: str) -> list[str]:
    return [h.id for h in engine.search(SearchRequest(q=q, per_page=20)).hits]


def test_a_number_typed_after_a_word_stays_with_it(engine) -> None:
    found = ids(engine, "iPhone 15 发布")
    assert set(found[:2]) == {"iphone15.md", "iphone15-glued.md"}   # `iPhone15` written as one token too
    assert {"iphone16.md", "iphone17.md", "ios.md"} <= set(found[2:])   # 15 elsewhere: still found, below


def test_a_number_held_to_its_word_also_matches_the_parts_of_one_token(engine) -> None:
    found = ids(engine, "COVID 19 疫苗")
    assert found[0] == "covid.md"
    assert "covid-year.md" in found[1:]


def test_words_at_one_position_are_found_by_their_offsets(engine) -> None:
    snap = engine.snapshots.current
    evaluator = Evaluator(snap.collection)
    table = snap.table
    # titles keep word positions (iPhone15 is indexed as iphone15 + its parts at one position);
    # bodies keep none: there the n-gram field holds each Latin token whole and in order
    cases = ((Adjacent("title", ["iphone", "15"], offsets=(0, 1)), {"iphone15.md"}),
             (Adjacent("title", ["iphone", "15"], offsets=(0, 0)), {"iphone15-glued.md"}),
             (Adjacent("ngram", ["iphone", "15"]), {"iphone15.md"}),
             (wq.Term("ngram", "iphone15"), {"iphone15-glued.md"}))
    for q, expected in cases:
        got = {table.ids[d] for d in np.flatnonzero(evaluator.run(q).mask)}
        assert got == expected, q
        whoosh = {table.ids[d] for _, d in snap.searcher.search(q, limit=None).top_n}
        assert whoosh == expected, q


def test_a_long_description_finds_the_article_with_most_of_its_words(engine) -> None:
    # No article has all seven words. The swap day has six of them (two in its title); the
    # coffee corner repeats three of them, in its title and all through its short body.
    res = engine.search(SearchRequest(q="图书馆 周末 旧书 交换 儿童 咖啡 市民", per_page=20))
    found = [h.id for h in res.hits]
    assert found[0] == "swap.md", found
    assert set(found) == {"swap.md", "corner.md", "cafe.md", "kids.md"}
    assert any("no article has all the words" in note for note in res.expanded)
