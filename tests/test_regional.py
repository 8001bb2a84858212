"""Regional vocabulary: a Taiwan or Hong Kong word finds the articles that use the mainland word
for the same thing, and the other way round, below the articles with the word typed; false
friends (a word both regions use, with different meanings) stay apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_article

from search import SearchRequest, Settings
from search.analysis import Analyzer
from search.engine import Engine
from search.indexer import reindex
from search.regional import RegionalWords

ARTICLES = {
    "tw-chip.md": ("新一代晶片量產時程曝光", "這家公司的晶片採用更先進的製程，明年起伺服器與筆電都會用到。"),
    "cn-chip.md": ("国产芯片进入手机市场", "这款芯片功耗更低，几家服务器厂商也在测试样品。"),
    "cn-net.md": ("家庭网络故障排查指南", "网络断线时，先重启路由器，再检查网线和光猫的指示灯。"),
    "tw-net.md": ("公司網路遭駭客入侵", "網路管理員在週末發現異常流量，資料庫的備份沒有受到影響。"),
    "tw-db.md": ("資料庫效能調校心得", "資料庫查詢變慢時，先看索引有沒有建好，再看連線數。"),
    "cn-db.md": ("数据库备份的三个习惯", "每天自动备份数据库，每周做一次恢复演练，备份文件异地保存。"),
    "cn-video.md": ("短视频平台调整推荐算法", "平台表示，新的推荐算法会减少重复视频，创作者的播放量可能下降。"),
    "cn-film.md": ("这部影片在电影节获奖", "导演说，影片拍摄用了三年，演员大多是第一次演戏。"),
    "cn-kernel.md": ("Linux 内核发布安全更新", "新版内核修复了一个提权漏洞，发行版会在一周内推送。"),
    "cn-core.md": ("公司核心业务保持增长", "财报显示，核心业务收入增长百分之十二，新业务仍在亏损。"),
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory, jieba_cache: Path) -> Settings:
    root = tmp_path_factory.mktemp("regional-articles")
    for name, (title, body) in ARTICLES.items():
        write_article(root, name, title, body, date="2023-04-01")
    settings = Settings(index_dir=str(tmp_path_factory.mktemp("regional-index")), workers=1,
                        cache_dir=str(jieba_cache))
    reindex(settings, root)
    return settings


@pytest.fixture(scope="module")
def engine(settings: Settings):
    with Engine.open(settings) as engine:
        yield engine


def search(engine: Engine, q: str):
    return engine.search(SearchRequest(q=q, per_page=20))


@pytest.mark.parametrize(("typed", "own", "other", "other_word"), [
    ("晶片", "tw-chip.md", "cn-chip.md", "芯片"),
    ("芯片", "cn-chip.md", "tw-chip.md", "晶片"),
    ("網路", "tw-net.md", "cn-net.md", "网络"),
    ("网络", "cn-net.md", "tw-net.md", "網路"),
    ("伺服器", "tw-chip.md", "cn-chip.md", "服务器"),
    ("資料庫", "tw-db.md", "cn-db.md", "数据库"),
])
def test_a_regional_word_finds_the_other_regions_word_below_its_own(engine, typed, own, other, other_word) -> None:
    res = search(engine, typed)
    found = [h.id for h in res.hits]
    assert found[0] == own, found
    assert other in found, found
    assert any(other_word in note or other_word.translate(str.maketrans("網", "网")) in note
               for note in res.expanded), res.expanded
    hit = next(h for h in res.hits if h.id == other)
    marked = [hit.title.text[a:b] for a, b in hit.title.ranges] + \
        [s.text[a:b] for s in hit.snippets for a, b in s.ranges]
    assert marked and all(Analyzer.default().fold(m) == Analyzer.default().fold(other_word) for m in marked), marked


def test_each_word_of_a_query_is_swapped(engine) -> None:
    res = search(engine, "晶片 伺服器")
    assert {h.id for h in res.hits[:2]} == {"tw-chip.md", "cn-chip.md"}     # both words, in either region's
    assert not any("no article has all the words" in note for note in res.expanded)


@pytest.mark.parametrize(("typed", "not_found"), [
    ("影片", "cn-video.md"),      # a film on the mainland, a video in Taiwan
    ("内核", "cn-core.md"),       # Taiwan's 核心 is the kernel; the mainland's is the core
    ("核心", "cn-kernel.md"),
])
def test_false_friends_stay_apart(engine, typed, not_found) -> None:
    res = search(engine, typed)
    assert not_found not in [h.id for h in res.hits]
    assert res.total == 1


def test_a_word_typed_in_traditional_characters_is_read_as_the_readers_own() -> None:
    regional = RegionalWords(Analyzer.default())
    assert regional.alternative("資料庫").text == "数据库"
    assert regional.alternative("資料").text == "数据"       # a Taiwan reader's 資料 is data
    assert regional.alternative("资料") is None               # a mainland reader's is material
    assert regional.alternative("作業系統漏洞").text == "操作系统漏洞"


def test_regional_words_can_be_switched_off(settings: Settings) -> None:
    with Engine.open(settings.replace(regional=False)) as engine:
        res = search(engine, "晶片")
        assert [h.id for h in res.hits] == ["tw-chip.md"]
        assert res.expanded == ()
