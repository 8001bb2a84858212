"""Chinese recall beyond plain matching: pinyin, homophones, synonyms, variants, stop words,
--explain. A small original corpus per module, written so each feature has one clear answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from search import SearchRequest, Settings
from search.cli import main
from search.engine import Engine
from search.indexer import reindex

ARTICLES = {
    "douyin.md": ("抖音电商推出新手扶持计划", "抖音电商今天宣布，新商家在抖音开店的前三个月免收佣金。因为竞争激烈，平台希望吸引更多小商家。"),
    "douyin2.md": ("抖音直播带货的规则变了", "抖音调整直播规则，主播需要实名认证。抖音表示规则下月生效。"),
    "leak.md": ("醫院數據洩露事件調查", "一家醫院的病人數據洩露，調查人員說數據洩露源於外包商。"),
    "latin.md": ("A note on the word douyin", "This English note uses the word douyin literally, as a name."),
    "taipei.md": ("臺北捷運新路線通車", "臺北捷運的新路線今天通車，車廂裡面很擁擠。"),
    "covid.md": ("COVID-19 vaccine booster", "The COVID-19 booster campaign starts next week for older people."),
    "xinguan.md": ("新冠疫苗接种开始", "新冠疫苗第三针开始接种，长者优先。"),
}


def _write(root: Path) -> None:
    for name, (title, body) in ARTICLES.items():
        (root / name).write_text(f"---\ntitle: {title}\ndate: 2022-05-01\n---\n\n{body}\n", encoding="utf-8")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, jieba_cache: Path) -> tuple[Path, Settings]:
    root = tmp_path_factory.mktemp("recall-articles")
    _write(root)
    settings = Settings(index_dir=str(tmp_path_factory.mktemp("recall-index")), workers=1,
                        cache_dir=str(jieba_cache))
    reindex(settings, root)
    return root, settings


def ids(engine: Engine, q: str, **kw) -> list[str]:
    return [h.id for h in engine.search(SearchRequest(q=q, per_page=20, **kw)).hits]


def test_full_pinyin_finds_the_chinese_word_and_says_so(corpus) -> None:
    engine = Engine.open(corpus[1])
    for q in ("douyin", "dou yin", "DouYin"):
        res = engine.search(SearchRequest(q=q))
        found = [h.id for h in res.hits]
        assert {"douyin.md", "douyin2.md"} <= set(found), q
        assert any("抖音" in note and q.strip() in note for note in res.expanded), res.expanded


def test_literal_matches_rank_before_pinyin_matches(corpus) -> None:
    found = ids(Engine.open(corpus[1]), "douyin")
    assert found[0] == "latin.md"
    assert found.index("latin.md") < found.index("douyin.md")


def test_pinyin_of_several_words_and_traditional_text(corpus) -> None:
    found = ids(Engine.open(corpus[1]), "shuju xielou")
    assert found == ["leak.md"]           # 數據洩露, folded to 数据泄露


def test_initials_find_title_words(corpus) -> None:
    res = Engine.open(corpus[1]).search(SearchRequest(q="dy"))
    assert "douyin.md" in [h.id for h in res.hits]
    assert any("抖音" in note for note in res.expanded)


def test_pinyin_can_be_switched_off(corpus) -> None:
    engine = Engine.open(corpus[1].replace(pinyin=False))
    assert ids(engine, "shuju xielou") == []


def test_a_homophone_typo_is_corrected(corpus) -> None:
    res = Engine.open(corpus[1]).search(SearchRequest(q="抖因"))
    assert res.suggestion == "抖音"


def test_variants_fold_both_ways(corpus) -> None:
    engine = Engine.open(corpus[1])
    assert ids(engine, "台北 捷运") == ["taipei.md"]
    assert ids(engine, "臺北") == ["taipei.md"]
    assert ids(engine, "里面") == ["taipei.md"]       # 裡面 in the text


def test_synonyms_apply_at_query_time_and_reload_without_reindex(corpus, tmp_path: Path) -> None:
    syn = tmp_path / "synonyms.txt"
    syn.write_text("# test\n新冠, COVID-19\n", encoding="utf-8")
    engine = Engine.open(corpus[1].replace(synonyms_file=str(syn)))
    res = engine.search(SearchRequest(q="新冠"))
    assert {h.id for h in res.hits} == {"covid.md", "xinguan.md"}
    assert any("COVID-19" in note for note in res.expanded)
    syn.write_text("抖音 => 抖音, 数据泄露\n", encoding="utf-8")      # edited: no reindex
    assert {h.id for h in engine.search(SearchRequest(q="新冠")).hits} == {"xinguan.md"}
    assert "leak.md" in ids(engine, "抖音")
    off = Engine.open(corpus[1].replace(synonyms_file=str(syn), synonyms=False))
    assert "leak.md" not in ids(off, "抖音")


def test_stop_words_are_dropped_except_inside_quotes(corpus) -> None:
    engine = Engine.open(corpus[1])
    assert ids(engine, "的 抖音") == ids(engine, "抖音")
    quoted = engine.search(SearchRequest(q='"新商家在抖音"'))
    assert [h.id for h in quoted.hits] == ["douyin.md"]
    assert ids(Engine.open(corpus[1].replace(stopwords="none")), "的 抖音") != []


def test_explain_shows_how_the_query_was_understood(corpus) -> None:
    settings = corpus[1]
    result = CliRunner().invoke(main, ["search", "抖音 规则", "--index", settings.index_dir, "--json", "--explain"])
    assert result.exit_code == 0, result.output
    explain = json.loads(result.output)["explain"]
    words = [w for clause in explain["clauses"] for w in clause.get("words", [])]
    assert "抖音" in words and "规则" in words
    assert "strict" in explain and "relaxed" in explain
