"""Engine.search over the demo index (examples/articles): what a user of a Chinese search
engine expects to find, how results are collapsed, filtered, sorted, paged and highlighted."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from helpers import write_article

from search import FacetValue, QueryError, SearchRequest
from search.analysis import fold
from search.engine import Engine
from search.indexer import reindex

CAT_SIMPLIFIED = "blog/2019-06-16-adopting-a-ginger-cat.markdown"
CAT_TRADITIONAL = "hk-news/article_1811.md"
FIRE = {"hk-news/article_2041.md", "hk-news/article_2043.md"}
TAIPEI = "hk-news/article_1702.md"
IPHONE = "blog/2021-10-10-iphone-13-two-weeks.md"
PY363 = "blog/2018-01-20-upgrade-to-python-3-6-3.md"
VACCINE = "hk-news/article_1201.md"
SHOP = "36kr/短视频电商推出新手商家扶持计划，开店工具安装简单.md"
LAUNDRY = "36kr/自助洗衣店在年轻社区走红，扫码即用成卖点.md"
TEA = "36kr/一杯茶的价格战：新茶饮品牌集体回到十元以内.md"
MILK_TEA = "hk-news/article_1950.md"
BILIBILI = "36kr/B站知识区UP主生存调查：中腰部创作者靠什么养活自己.md"


def search(engine: Engine, q: str = "", **kwargs):
    return engine.search(SearchRequest(q=q, **kwargs))


def ids(engine: Engine, q: str, **kwargs) -> list[str]:
    return [h.id for h in search(engine, q, per_page=100, **kwargs).hits]


# -- scripts and widths ---------------------------------------------------------------------

@pytest.mark.parametrize(("a", "b", "must"), [
    ("貓", "猫", {CAT_SIMPLIFIED, CAT_TRADITIONAL}),
    ("臺北", "台北", {TAIPEI}),
    ("記者會", "记者会", {VACCINE}),
    ("觀塘", "观塘", set()),
    ("領養", "领养", {CAT_SIMPLIFIED, CAT_TRADITIONAL}),
])
def test_traditional_and_simplified_find_each_other(engine: Engine, a: str, b: str, must: set[str]) -> None:
    found_a, found_b = ids(engine, a), ids(engine, b)
    assert found_a and set(found_a) == set(found_b)
    assert must <= set(found_a)


def test_full_width_finds_half_width(engine: Engine) -> None:
    wide = ids(engine, "ｉＰｈｏｎｅ")
    assert wide == ids(engine, "iPhone") == ids(engine, "IPHONE")
    assert wide[0] == IPHONE
    hit = search(engine, "ｉＰｈｏｎｅ").hits[0]
    assert [hit.title.text[a:b] for a, b in hit.title.ranges] == ["iPhone"]


@pytest.mark.parametrize(("q", "top"), [
    ("iPhone 13 续航", IPHONE),
    ("COVID-19 疫苗", VACCINE),
    ("Python 3.6.3", PY363),
    ("B站 UP主", BILIBILI),
    ("5G 基站", "36kr/5G基站建设进入下半场，运营商开始算电费账.md"),
])
def test_mixed_script_queries_rank_the_right_article_first(engine: Engine, q: str, top: str) -> None:
    assert ids(engine, q)[0] == top


@pytest.mark.parametrize(("q", "must"), [
    ("貓", {CAT_SIMPLIFIED, CAT_TRADITIONAL}),
    ("茶", {TEA, MILK_TEA}),
])
def test_one_character_queries_find_the_character_inside_words(engine: Engine, q: str, must: set[str]) -> None:
    assert must <= set(ids(engine, q))


@pytest.mark.parametrize(("q", "inside"), [("简单", {SHOP}), ("洗衣", {LAUNDRY}), ("工业", FIRE)])
def test_a_word_inside_a_longer_word_is_found(engine: Engine, q: str, inside: set[str]) -> None:
    assert inside & set(ids(engine, q))       # 安装简单, 洗衣店, 工業大廈


@pytest.mark.parametrize(("q", "expected"), [
    ('"助洗衣"', LAUNDRY),                 # jieba cuts 自助 / 洗衣店: the phrase spans two words
    ('"工业大厦火警"', "fire"),            # simplified phrase over 工業 / 大廈 / 火警
    ('"火警 消防"', "fire"),               # the title has 火警　消防 (ideographic space)
    ("「洗衣店在年轻」", LAUNDRY),
])
def test_phrases_match_across_search_mode_sub_words(engine: Engine, q: str, expected: str) -> None:
    found = ids(engine, q)
    if expected == "fire":
        assert len(found) == 1 and found[0] in FIRE
    else:
        assert expected in found


def test_a_phrase_is_stricter_than_its_words(engine: Engine) -> None:
    assert not ids(engine, '"火警 熊猫"')
    assert set(ids(engine, '"火警"')) <= set(ids(engine, "火警"))


# -- collapse -----------------------------------------------------------------------------------

def test_revisions_collapse_into_one_hit_with_versions(engine: Engine) -> None:
    res = search(engine, "观塘 火警")
    fire_hits = [h for h in res.hits if h.id in FIRE]
    assert len(fire_hits) == 1
    hit = fire_hits[0]
    assert hit.versions == 2
    assert set(hit.version_ids) == FIRE - {hit.id}
    assert res.total == len({h.id for h in res.hits})


def test_collapse_can_be_turned_off(engine: Engine, demo_settings) -> None:
    flat = Engine.open(demo_settings.replace(collapse=False))
    try:
        found = [h.id for h in flat.search(SearchRequest(q="观塘 火警")).hits]
        assert FIRE <= set(found)
    finally:
        flat.close()


def test_article_lists_its_other_versions(engine: Engine) -> None:
    detail = engine.article("hk-news/article_2041.md")
    assert detail.versions == ("hk-news/article_2043.md",)
    assert "觀塘" in detail.title.text


# -- facets, filters, sorting, paging ------------------------------------------------------------

def _values(hit, facet: str) -> tuple[str, ...]:
    return {"categories": hit.categories, "tags": hit.tags, "authors": (hit.author,) if hit.author else (),
            "years": (str(hit.date.year),) if hit.date else ()}[facet]


@pytest.mark.parametrize(("q", "filters"), [
    ("", {}),
    ("", {"category": ["港聞"]}),
    ("記者", {"category": ["港聞"]}),
    ("", {"year": ["2021"]}),
    ("python", {"tag": ["python"]}),
    ("", {"category": ["國際", "生活"]}),
])
def test_facet_counts_equal_the_hits_having_each_value(engine: Engine, q: str, filters: dict) -> None:
    res = search(engine, q, filters=filters, per_page=100)
    assert res.total == len(res.hits) > 0
    assert set(res.facets) == {"categories", "tags", "authors", "years"}
    assert res.facets["categories"] and res.facets["years"]
    for facet, values in res.facets.items():
        for fv in values:      # spellings that search folds together (猫/貓) are one value
            assert fv.count == sum(fold(fv.value) in {fold(v) for v in _values(h, facet)} for h in res.hits), (facet, fv)
        name = {"categories": "category", "tags": "tag", "authors": "author", "years": "year"}[facet]
        assert {fold(fv.value) for fv in values if fv.selected} == {fold(v) for v in filters.get(name, [])}


def test_filters_combine_with_the_query(engine: Engine) -> None:
    everything = set(ids(engine, "記者"))
    in_hk = ids(engine, "記者", filters={"category": ["港聞"]})
    assert in_hk and set(in_hk) < everything
    for hit in search(engine, "記者", filters={"category": ["港聞"]}, per_page=100).hits:
        assert "港聞" in hit.categories
    # two values of one filter are alternatives; two filters both apply
    both = set(ids(engine, "", filters={"category": ["國際", "生活"]}))
    assert both == set(ids(engine, "", filters={"category": ["國際"]})) | set(ids(engine, "", filters={"category": ["生活"]}))
    narrowed = ids(engine, "", filters={"category": ["國際"], "year": ["2021"]})
    assert narrowed == [TAIPEI]


def test_a_traditional_filter_value_matches_its_simplified_category(engine: Engine) -> None:
    assert set(ids(engine, "", filters={"category": ["港闻"]})) == set(ids(engine, "", filters={"category": ["港聞"]}))


def test_query_language_fields_restrict(engine: Engine) -> None:
    assert ids(engine, "category:國際 消防") == []
    assert set(ids(engine, "category:港聞 消防")) <= FIRE
    assert ids(engine, "tag:臺北") == [TAIPEI]
    assert ids(engine, "author:林怡君") == [TAIPEI]
    assert set(ids(engine, "title:猫")) == {CAT_SIMPLIFIED, CAT_TRADITIONAL}
    assert ids(engine, "date:2021-01..2021-01 捷運") == [TAIPEI]
    assert ids(engine, "date:2019 捷運") == []


def test_exclusion_and_or(engine: Engine) -> None:
    cats = set(ids(engine, "猫"))
    assert set(ids(engine, "猫 -领养")) == cats - set(ids(engine, "领养"))
    assert set(ids(engine, "猫 OR 茶")) == cats | set(ids(engine, "茶"))
    assert set(ids(engine, "(猫 OR 茶) -tag:茶")) == (cats | set(ids(engine, "茶"))) - set(ids(engine, "tag:茶"))


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_sort_by_date(engine: Engine, sort: str) -> None:
    res = search(engine, "", sort=sort, per_page=100)
    dates = [h.date for h in res.hits if h.date is not None]
    assert len(dates) >= 20
    assert dates == sorted(dates, reverse=(sort == "newest"))
    assert all(h.date is not None for h in res.hits[: len(dates)])      # undated articles last
    assert {h.id for h in res.hits} == set(ids(engine, ""))


def test_sorting_a_query_keeps_its_hits(engine: Engine) -> None:
    relevance = set(ids(engine, "记者"))
    assert set(ids(engine, "记者", sort="newest")) == relevance == set(ids(engine, "记者", sort="oldest"))


def test_paging(engine: Engine) -> None:
    first = search(engine, "", per_page=5, page=1)
    second = search(engine, "", per_page=5, page=2)
    assert first.total == second.total >= 10
    assert len(first.hits) == len(second.hits) == 5
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}
    everything = ids(engine, "")
    pages = []
    for page in range(1, first.pages + 1):
        pages += [h.id for h in search(engine, "", per_page=5, page=page).hits]
    assert pages == everything
    assert search(engine, "", per_page=5, page=first.pages + 1).hits == ()


@pytest.mark.parametrize("request_kwargs", [
    {"per_page": 101},
    {"per_page": 0},
    {"page": 0},
    {"page": 101, "per_page": 10},           # beyond max_results (1000)
    {"sort": "random"},
    {"filters": {"colour": ["red"]}},
    {"filters": {"year": ["last year"]}},
    {"date_from": "yesterday"},
])
def test_bad_requests_raise_query_error(engine: Engine, request_kwargs: dict) -> None:
    with pytest.raises(QueryError) as info:
        search(engine, "猫", **request_kwargs)
    assert str(info.value)


def test_date_range_request(engine: Engine) -> None:
    res = search(engine, "", date_from="2021", date_to="2021-06", per_page=100)
    assert res.hits
    assert all(h.date is not None and h.date.year == 2021 and h.date.month <= 6 for h in res.hits)


# -- highlights ---------------------------------------------------------------------------------

@pytest.mark.parametrize("q", ["消防", "貓", "臺北", "iPhone", "python", "茶", "記者", '"工業大廈"'])
def test_highlight_ranges_point_at_the_query_characters(engine: Engine, q: str) -> None:
    term = fold(q.strip('"'))
    res = search(engine, q)
    assert res.hits
    marked = 0
    for hit in res.hits:
        for piece in (hit.title, *hit.snippets):
            for a, b in piece.ranges:
                assert 0 <= a < b <= len(piece.text)
                # touching matches are merged: 紅茶茶葉 marks 茶茶 as one range
                assert fold(piece.text[a:b]).replace(term, "") == "", (hit.id, piece.text, piece.text[a:b])
                marked += 1
            assert list(piece.ranges) == sorted(piece.ranges)
    assert marked >= 1


def test_snippets_cut_at_sentence_boundaries_and_are_short(engine: Engine) -> None:
    for hit in search(engine, "消防").hits:
        assert hit.snippets
        for snippet in hit.snippets:
            assert len(snippet.text) <= 2 * engine.settings.snippet_chars
            assert snippet.text[-1] in "。！？；.!?…」" or snippet.text.endswith("…")


def test_no_highlight_when_not_asked(engine: Engine) -> None:
    hit = engine.search(SearchRequest(q="消防", highlight=False)).hits[0]
    assert hit.title.ranges == ()
    assert all(s.ranges == () for s in hit.snippets)


@pytest.fixture(scope="module")
def hostile_engine(tmp_path_factory, demo_settings):
    root = tmp_path_factory.mktemp("hostile-articles")
    write_article(root, "hostile.md", "<script>alert(1)</script> 安全測試",
                  "這段正文有 `<img src=x onerror=alert(2)>` 和 `</mark><b>粗</b>` 兩段代碼，安全測試要把它們當成文字。\n\n"
                  "第二段 & 還有 \"引號\" 與 'apostrophe'，alert 再出現一次。",
                  date="2024-01-01")
    settings = demo_settings.replace(index_dir=str(tmp_path_factory.mktemp("hostile-index")))
    reindex(settings, root)
    eng = Engine.open(settings)
    yield eng
    eng.close()


def _unmark(markup: str) -> str:
    return html.unescape(markup.replace("<mark>", "").replace("</mark>", ""))


@pytest.mark.parametrize("q", ["alert", "安全測試", "script", "img", "mark"])
def test_hostile_titles_and_bodies_are_escaped(hostile_engine: Engine, q: str) -> None:
    res = hostile_engine.search(SearchRequest(q=q))
    assert res.total == 1
    data = res.to_dict()["hits"][0]
    assert data["title"].startswith("<script>")
    assert "<script" not in data["title_html"] and data["title_html"].startswith("&lt;")
    assert _unmark(data["title_html"]) == data["title"]
    for snippet in data["snippets"]:
        tags = re.findall(r"<[^>]*>", snippet["html"])
        assert set(tags) <= {"<mark>", "</mark>"}, tags
        assert snippet["html"].count("<mark>") == snippet["html"].count("</mark>") == len(snippet["ranges"])
        assert _unmark(snippet["html"]) == snippet["text"]
    body = hostile_engine.article("hostile.md").to_dict()
    assert "<img" not in body["body_html"] and "&lt;img" in body["body_html"]


# -- odd queries --------------------------------------------------------------------------------

@pytest.mark.parametrize(("q", "finds"), [
    ('"火警', True),
    ("消防 -", True),
    ("title: 消防", True),
    ("((消防", True),
    ("消防 OR", True),
    ("|||", True),            # nothing to search for: every article, with a warning
    ("date:abc 消防", True),
    ("-", True),
])
def test_odd_syntax_comes_back_with_warnings(engine: Engine, q: str, finds: bool) -> None:
    res = search(engine, q)
    assert res.warnings
    assert bool(res.hits) is finds


def test_an_over_long_query_is_cut_with_a_warning(engine: Engine) -> None:
    res = search(engine, "消防 " * 400)
    assert any("cut" in w for w in res.warnings)
    assert res.hits


def test_an_empty_query_lists_every_article_newest_first(engine: Engine) -> None:
    res = search(engine, "", per_page=100)
    assert res.warnings == ()
    assert res.total == engine.document_count() - 1          # the two fire revisions are one hit
    dates = [h.date for h in res.hits if h.date]
    assert dates == sorted(dates, reverse=True)


# -- related, suggest, did you mean -------------------------------------------------------------

def test_related_never_returns_the_article_or_its_revisions(engine: Engine) -> None:
    every = ids(engine, "")
    assert every
    for doc_id in every:
        own = {doc_id, *engine.article(doc_id).versions}
        related = engine.related(doc_id, n=5)
        assert len(related) <= 5
        assert not own & {h.id for h in related}, doc_id
        assert len({h.id for h in related}) == len(related)


def test_related_finds_the_other_cat_article(engine: Engine) -> None:
    assert CAT_TRADITIONAL in [h.id for h in engine.related(CAT_SIMPLIFIED, n=5)]


@pytest.mark.parametrize(("prefix", "completion"), [("pyth", "python"), ("觀", "觀塘"), ("观", "觀塘"), ("open", "open source")])
def test_complete_completes_a_prefix(engine: Engine, prefix: str, completion: str) -> None:
    out = engine.complete(prefix, n=8)
    assert completion in out
    assert len(out) <= 8
    assert all(fold(s).startswith(fold(prefix)) for s in out)


def test_complete_of_nothing_is_empty(engine: Engine) -> None:
    assert engine.complete("") == [] and engine.complete("   ") == []
    assert engine.complete("zzzzqqq") == []


def test_did_you_mean_corrects_a_latin_typo(engine: Engine) -> None:
    res = search(engine, "pythn")
    assert res.total == 0
    assert res.suggestion is not None and "python" in res.suggestion
    assert search(engine, res.suggestion).total > res.total


def test_no_did_you_mean_when_the_query_finds_enough(engine: Engine) -> None:
    assert search(engine, "python").suggestion is None
    assert search(engine, "消防").suggestion is None


# -- the JSON shape -----------------------------------------------------------------------------

HIT_KEYS = {"id", "title", "title_html", "url", "date", "author", "categories", "tags", "score", "snippets", "versions"}
TOP_KEYS = {"query", "total", "page", "per_page", "took_ms", "hits", "facets", "suggestion", "warnings"}


def test_to_dict_has_every_documented_key(engine: Engine) -> None:
    import json

    data = search(engine, "观塘 消防", per_page=3).to_dict()
    json.dumps(data)                       # plain JSON types only
    assert TOP_KEYS <= set(data)
    assert data["query"] == "观塘 消防" and data["page"] == 1 and data["per_page"] == 3
    assert isinstance(data["took_ms"], float) and isinstance(data["warnings"], list)
    assert data["hits"]
    for hit in data["hits"]:
        assert HIT_KEYS <= set(hit)
        assert hit["date"] is None or re.match(r"\d{4}-\d\d-\d\dT", hit["date"])
        for snippet in hit["snippets"]:
            assert set(snippet) == {"text", "html", "ranges"}
            assert all(isinstance(r, list) and len(r) == 2 for r in snippet["ranges"])
    assert data["hits"][0]["versions"] == 2
    for name, values in data["facets"].items():
        assert name in {"categories", "tags", "authors", "years"}
        for value in values:
            assert set(value) == {"value", "count", "selected"}


def test_hit_ids_are_posix_paths_relative_to_the_articles_root(engine: Engine, demo_index) -> None:
    root = Path(demo_index.root)
    for doc_id in ids(engine, ""):
        assert not doc_id.startswith("/") and "\\" not in doc_id
        assert (root / doc_id).is_file()


# -- parameters, parts and warnings (issue 11) ---------------------------------------------------

def test_a_date_only_query_does_not_claim_to_show_everything(engine: Engine) -> None:
    future = search(engine, "date:2031")
    assert future.total == 0 and not any("showing all" in w for w in future.warnings)
    assert search(engine, "date:2021").total > 0
    assert any("showing all" in w for w in search(engine, "|||").warnings)


@pytest.mark.parametrize(("year", "found"), [("0000", False), ("9999", False), ("2021", True), (" 2021 ", True)])
def test_every_four_digit_year_is_a_filter(engine: Engine, year: str, found: bool) -> None:
    res = search(engine, "", filters={"year": [year]}, per_page=100)
    assert (res.total > 0) == found
    assert all(h.date.year == int(year) for h in res.hits)


def test_results_echo_every_filter_including_the_dates(engine: Engine) -> None:
    res = search(engine, "", filters={"tag": ["python"]}, date_from="2018", date_to="2021-06")
    assert res.filters == {"tag": ["python"], "from": ["2018"], "to": ["2021-06"]}
    assert res.to_dict()["filters"] == res.filters


def test_an_article_body_is_read_in_parts_with_its_highlights(engine: Engine) -> None:
    whole = engine.article(IPHONE, q="iPhone")
    assert whole.body_offset == 0 and whole.next_offset is None and whole.body_chars == len(whole.body.text)
    text, offset, parts = "", 0, 0
    while offset is not None:
        part = engine.article(IPHONE, q="iPhone", offset=offset, limit=120)
        assert part.body_offset == offset and len(part.body.text) <= 120
        assert all(fold(part.body.text[a:b]) == "iphone" for a, b in part.body.ranges)
        text += part.body.text
        offset, parts = part.next_offset, parts + 1
    assert text == whole.body.text and parts > 2
    # every highlight of the whole text is in exactly one part, unless a cut went through it
    assert sum(len(engine.article(IPHONE, q="iPhone", offset=o, limit=120).body.ranges)
               for o in _offsets(engine, IPHONE, 120)) >= len(whole.body.ranges) - parts


def _offsets(engine: Engine, doc_id: str, limit: int) -> list[int]:
    out, offset = [], 0
    while offset is not None:
        out.append(offset)
        offset = engine.article(doc_id, offset=offset, limit=limit).next_offset
    return out


def test_parts_end_at_paragraph_breaks() -> None:
    from search.highlight import part_bounds

    text = "第一段。" * 10 + "\n\n" + "第二段。" * 10 + "\n\n" + "x" * 100
    start, end = part_bounds(text, 0, 60)
    assert text[:end].endswith("\n\n") and end <= 60
    assert part_bounds(text, end, 1000) == (end, len(text))
    assert part_bounds(text, 10_000, 50) == (len(text), len(text))
    assert part_bounds("x" * 100, 0, 30) == (0, 30)           # no break at all: cut at the limit


def test_author_filter_matches_a_part_of_the_name_like_the_author_field(tmp_path, settings_factory) -> None:
    for name, author in (("a.md", "記者林勵"), ("b.md", "林勵"), ("c.md", "林励文"), ("d.md", "王小明")):
        write_article(tmp_path / "articles", name, f"{author}的報道", "今日天氣晴朗。", author=author)
    settings = settings_factory()
    reindex(settings, tmp_path / "articles")
    with Engine.open(settings) as eng:
        by_filter = {h.id for h in search(eng, "", filters={"author": ["林勵"]}).hits}
        by_field = {h.id for h in search(eng, "author:林勵").hits}
        assert by_filter == by_field == {"a.md", "b.md", "c.md"}
        facet = search(eng, "", filters={"author": ["林勵"]}).facets["authors"]
        assert {(v.value, v.count, v.selected) for v in facet} == {("記者林勵", 1, False), ("林勵", 1, True),
                                                                 ("林励文", 1, False)}


def test_tags_that_differ_only_in_script_are_one_facet_value(tmp_path, settings_factory) -> None:
    tags = {"a.md": ["香港独立"], "b.md": ["香港独立"], "c.md": ["香港獨立"], "d.md": ["香港独立", "香港獨立"],
            "e.md": ["ＡＢＣ"], "f.md": ["abc"], "g.md": ["abc"]}
    for name, values in tags.items():
        path = write_article(tmp_path / "articles", name, f"文章{name}", "新聞內容。")
        path.write_text(path.read_text(encoding="utf-8").replace("---\n\n", f"tags: {values}\n---\n\n", 1),
                        encoding="utf-8")
    settings = settings_factory()
    reindex(settings, tmp_path / "articles")
    with Engine.open(settings) as eng:
        facet = {v.value: v.count for v in search(eng, "").facets["tags"]}
        assert facet == {"香港独立": 4, "abc": 3}        # the most common spelling; d.md counted once
        for spelling in ("香港獨立", "香港独立"):
            picked = search(eng, "", filters={"tag": [spelling]})
            assert {h.id for h in picked.hits} == {"a.md", "b.md", "c.md", "d.md"}
            assert [v for v in picked.facets["tags"] if v.selected] == [FacetValue("香港独立", 4, True)]


def test_a_refresh_that_races_a_full_rebuild_opens_the_new_version(settings_factory, tmp_path: Path) -> None:
    """A full rebuild deletes the version it replaced right after naming the new one; a refresh
    that began opening the old one finds its files gone half-way and must open the new one
    (under load this was one 503 in ~600 requests)."""
    root = tmp_path / "posts"
    write_article(root, "a.md", "颱風山竹襲港", "天文台懸掛十號風球。")
    settings = settings_factory(workers=1)
    reindex(settings, root)
    engine = Engine.open(settings)
    try:
        write_article(root, "b.md", "颱風過後清理塌樹", "市民清晨上班，路上滿是塌樹。")
        reindex(settings, root)                       # a new version for the refresh to open...
        real = engine._open_version
        raced = []

        def racing(meta, ix):
            if not raced:                 # ...replaced by a rebuild while it opens it
                raced.append(reindex(settings, root, full=True))
            return real(meta, ix)

        engine._open_version = racing
        assert engine.refresh()
        assert raced and engine.search(SearchRequest(q="颱風")).total == 2
    finally:
        engine.close()
