"""Pinyin typed without switching the input method, on a tiny index: full pinyin with and without
spaces, initials mixed with full pinyin, homophone typos, and literal matches of the whole query
always first. A few checks on the 163-post corpus_zh sample, when it is there."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CORPORA, write_article

from search import SearchRequest, Settings
from search.engine import Engine
from search.indexer import reindex
from search.pinyin import PinyinVocabulary, WordCounts, body_min_df

ARTICLES = {
    "douyin-a.md": ("抖音上线新的创作者激励计划", "抖音表示，粉丝超过一万的创作者可以申请流量扶持。"),
    "douyin-b.md": ("短视频平台抖音调整推荐规则", "新规则下，抖音会减少重复内容的推荐。"),
    "tofu.md": ("Tofu workshop notes", "In the recipe names we collected, the word dou means bean, and it comes first."),
    "leak-a.md": ("企业数据泄露的防范要点", "防范数据泄露，先从权限管理做起，再做好日志审计。"),
    "leak-b.md": ("数据泄露事件频发", "今年已经发生了三起大规模的数据泄露。"),
    "fraud.md": ("防范电信诈骗", "接到自称客服的电话，先挂断再核实。"),
    "vuln.md": ("信息安全漏洞通报", "本周通报的信息安全漏洞涉及两款路由器，厂商已经发布补丁。"),
    "zoo.md": ("动物园周末开放夜场", "夜场可以看到熊猫吃竹子，门票需要提前预约。"),
    "trust.md": ("零信任架构落地指南", "零信任的原则是默认不信任任何设备，每次访问都要验证。"),
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory, jieba_cache: Path):
    root = tmp_path_factory.mktemp("pinyin-articles")
    for name, (title, body) in ARTICLES.items():
        write_article(root, name, title, body, date="2024-03-01")
    settings = Settings(index_dir=str(tmp_path_factory.mktemp("pinyin-index")), workers=1, cache_dir=str(jieba_cache))
    reindex(settings, root)
    with Engine.open(settings) as engine:
        yield engine


def search(engine: Engine, q: str):
    return engine.search(SearchRequest(q=q, per_page=20))


def test_the_pinyin_reading_of_the_whole_query_beats_a_literal_match_of_some_words(engine) -> None:
    res = search(engine, "dou yin")
    found = [h.id for h in res.hits]
    assert set(found[:2]) == {"douyin-a.md", "douyin-b.md"}
    assert "tofu.md" in found[2:]            # has `dou`, not `yin`: below the reading of both
    assert any("抖音" in note for note in res.expanded)
    assert not any("no article has all the words" in note for note in res.expanded)


def test_a_body_word_of_one_article_has_a_pinyin_reading_in_a_small_index(engine) -> None:
    res = search(engine, "xiongmao")
    assert [h.id for h in res.hits] == ["zoo.md"]
    assert res.suggestion is None


def test_initials_mixed_with_full_pinyin(engine) -> None:
    res = search(engine, "sjxl fangfan")
    found = [h.id for h in res.hits]
    assert found[0] == "leak-a.md"           # 数据泄露 and 防范 together
    assert set(found[1:]) <= {"leak-b.md", "fraud.md"}
    assert any("数据泄露 防范" in note for note in res.expanded), res.expanded
    assert [h.id for h in search(engine, "xxaq loudong").hits] == ["vuln.md"]


def test_a_syllable_the_segmenter_keeps_apart_from_its_word(engine) -> None:
    # jieba cuts 零信任 into 零 + 信任: `ling` is read as the character the index has beside 信任
    for q in ("lingxinren", "ling xinren"):
        res = search(engine, q)
        assert [h.id for h in res.hits] == ["trust.md"], q
        assert any("零信任" in note for note in res.expanded), res.expanded


def test_a_homophone_typo_offers_the_word_the_index_has(engine) -> None:
    assert search(engine, "抖因").suggestion == "抖音"
    assert search(engine, "抖因 规则").suggestion == "抖音 规则"
    assert search(engine, "抖音").suggestion is None


def test_initials_never_read_english_words_or_syllables_as_strings_of_words() -> None:
    vocab = PinyinVocabulary(
        full={"fangfan": [("防范", 9)]},
        initials={"sj": [("数据", 9), ("世界", 5)], "xl": [("泄露", 7)], "de": [("大额", 3)], "ep": [("恩平", 2)],
                  "ha": [("海岸", 4)], "ng": [("能够", 4)]},
        syllables={"fang", "fan", "hang", "ha", "de", "shu", "ju"},
    )
    together = {("防范", "数据", "泄露"): 3, ("防范", "世界", "泄露"): 1}

    def count(words: list[str]) -> int:
        return together.get(tuple(words), 1 if len(words) == 2 else 0)

    assert vocab.expand("sjxl fangfan", count) == [["数据泄露"], ["防范"]]
    assert vocab.expand("deep fangfan", count) is None      # a vowel: only one word's initials
    assert vocab.expand("hang fangfan", count) is None      # a pinyin syllable, not initials


def test_small_indexes_give_rarer_body_words_a_reading() -> None:
    assert body_min_df(163) == 1
    assert body_min_df(81_000) == 3


@pytest.mark.corpus
@pytest.mark.skipif(not CORPORA["corpus_zh"].is_dir(), reason="the shared corpus_zh sample is not on this machine")
def test_douyin_on_the_corpus_zh_sample(tmp_path_factory, jieba_cache: Path) -> None:
    settings = Settings(index_dir=str(tmp_path_factory.mktemp("sample-zh-index")), cache_dir=str(jieba_cache))
    reindex(settings, CORPORA["corpus_zh"])
    with Engine.open(settings) as engine:
        for q in ("douyin", "dou yin"):
            res = search(engine, q)
            assert res.suggestion is None, q
            assert res.hits and any("抖音" in note for note in res.expanded), (q, res.expanded)
            stored = [engine.article(h.id) for h in res.hits]
            assert all("抖音" in a.title.text + a.body.text for a in stored), q


def test_a_reopen_after_a_save_reads_the_new_pinyin_words_and_leaves_the_old_vocabulary_alone(
        tmp_path: Path, jieba_cache: Path) -> None:
    root = tmp_path / "posts"
    write_article(root, "a.md", "抖音電商的新玩法", "抖音電商今年的直播帶貨。")
    write_article(root, "b.md", "外賣平台", "美團外賣與餓了麼的補貼戰。")
    settings = Settings(index_dir=str(tmp_path / "index"), cache_dir=str(jieba_cache))
    reindex(settings, root)
    with Engine.open(settings) as engine:
        before = engine.pinyin
        assert before is not None and "douyin" in before.full and "xinnian" not in before.full
        engine.refresh()
        assert engine.pinyin is before                      # nothing changed: nothing re-read
        # An incremental reindex reads new words with the characters' saved readings (新, 年).
        write_article(root, "c.md", "新年直播", "新年的直播電商。")
        reindex(settings, root)                             # only the delta file changes
        engine.refresh()
        after = engine.pinyin
        assert after is not before and "xinnian" in after.full
        assert "xinnian" not in before.full                 # a snapshot still in use keeps its own
        assert [h.title.text for h in engine.search(SearchRequest(q="xinnian")).hits] == ["新年直播"]


def test_the_vocabulary_is_the_same_whichever_worker_counted_a_word(tmp_path: Path, jieba_cache: Path) -> None:
    """A full build counts words in its workers, each over its own share of the articles: one
    worker or two must give the same readings, ties included (six words read "qj", one article
    each, which the two workers split between them)."""
    root = tmp_path / "posts"
    for i, word in enumerate(["全景", "前景", "期间", "七家", "抢劫", "桥接"]):
        write_article(root, f"qj{i}.md", f"{word}的故事", "一段同样长度的正文。")
    for i in range(150):
        write_article(root, f"filler{i:03}.md", f"Release notes {i}", f"Version {i} fixes a crash on start.")
    built = {}
    for workers in (1, 2):
        settings = Settings(index_dir=str(tmp_path / f"index-{workers}"), cache_dir=str(jieba_cache), workers=workers)
        reindex(settings, root)
        with Engine.open(settings) as engine:
            built[workers] = (engine.pinyin.full, engine.pinyin.initials)
    assert [w for w, _ in built[2][1]["qj"]] == sorted(["全景", "前景", "期间", "七家", "抢劫", "桥接"])
    assert built[1] == built[2]


def test_word_counts_from_build_processes_add_up_as_counted_document_by_document() -> None:
    """Each build process hands over its segment's body words in batches; summed in the parent
    they are the counts of reading every document (words in both shards add up; English,
    single characters and words with other scripts never count)."""
    import numpy as np

    docs = [["抖音", "直播", "抖音"], ["直播", "香港", "iPhone"], ["抖音", "中", "直播間"], ["香港"]]
    by_document = WordCounts()
    for words in docs:
        by_document.add_document([], [], sorted(set(words)), [])

    def shard(part):
        counts = WordCounts()
        dfs = {}
        for words in part:
            for w in set(words):
                dfs[w] = dfs.get(w, 0) + 1
        terms = sorted(w.encode("utf-8") for w in dfs)
        counts.add_terms("body", terms, np.array([dfs[t.decode("utf-8")] for t in terms]))
        return counts

    merged = shard(docs[:2])
    merged.merge(shard(docs[2:]))
    assert merged.body_counts() == by_document.body_counts() == {"抖音": 2, "直播": 2, "香港": 2, "直播間": 1}


def test_readings_are_derived_once_into_the_cache_and_match_pypinyin(tmp_path: Path) -> None:
    """A build reads pypinyin's tables through a derived file in the cache folder; what it reads
    back is what pypinyin says (first reading, tones dropped), and a damaged file is
    derived again rather than trusted."""
    from pypinyin import Style, lazy_pinyin

    from search.pinyin import _Readings

    fresh = _Readings(tmp_path)
    [cached_file] = tmp_path.glob("pinyin-readings-*")
    again = _Readings(tmp_path)
    for word in ("重庆", "银行", "女儿", "抖音", "零信任"):
        assert fresh.word(word) == again.word(word)
    assert again.word("重庆") == ["chong", "qing"]              # the phrase table, not 重 = zhong
    assert again.char("音") == "yin"
    assert again.word("抖音") == lazy_pinyin("抖音", style=Style.NORMAL)
    assert again.char("A") == ""
    cached_file.write_bytes(b"not marshal data")
    assert _Readings(tmp_path).word("重庆") == ["chong", "qing"]
    assert cached_file.read_bytes() != b"not marshal data"
