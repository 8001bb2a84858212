"""Structured filters (search/filters.py) through the one search function, over the demo
articles: keyword values fold like the index (猫 finds 貓), numbers and dates compare as such,
NOT/AND/OR combine, and the engine hooks that came with them (offset, matching, facet_size,
bodies) do what they say."""

from __future__ import annotations

import pytest

from search import QueryError, SearchRequest
from search.filters import AllOfFilters, AnyOfFilters, Condition, FilterError, NotFilter

CAT_BLOG = "blog/2019-06-16-adopting-a-ginger-cat.markdown"      # tags 猫, 领养 (Simplified)
CAT_NEWS = "hk-news/article_1811.md"                              # tags 貓, 領養 (Traditional)
COFFEE = "blog/2020-03-08-home-pour-over-coffee.md"
FIRE = "hk-news/article_2041.md"                                  # saved twice: 2041 and 2043
GLOSSARY = "glossary.md"                                          # no date, no tags, no author


def found(engine, node, q: str = "", **kw) -> list[str]:
    res = engine.search(SearchRequest(q=q, per_page=50, filter=node, facets=False, **kw))
    return sorted(h.id for h in res.hits)


def cond(field: str, op: str, *values: str) -> Condition:
    return Condition(field, op, values)


def test_a_tag_matches_in_either_script(engine):
    assert found(engine, cond("tag", "=", "猫")) == [CAT_BLOG, CAT_NEWS]
    assert found(engine, cond("tag", "=", "領養")) == [CAT_BLOG, CAT_NEWS]
    assert found(engine, cond("tag", "!=", "貓")) and CAT_BLOG not in found(engine, cond("tag", "!=", "貓"))


def test_keyword_values_ignore_case_and_surrounding_spaces(engine):
    tech = found(engine, cond("category", "=", "tech"))
    assert len(tech) == 4 and all(i.startswith("blog/") for i in tech)
    assert found(engine, cond("category", "=", " TECH ")) == tech
    assert found(engine, cond("author", "=", "mei ling ho")) == [
        "notes/5g-vs-wifi-6.md", "notes/dragons-back-weekday-hike.md", "notes/open-source-licences-in-plain-words.md"]


def test_in_is_any_of_the_values(engine):
    ids = found(engine, cond("category", "IN", "tech", "生活"))
    assert CAT_BLOG in ids and COFFEE in ids and "blog/2022-11-02-python-3-11-new-features.md" in ids
    assert not any(i.startswith("hk-news/") for i in ids)


def test_years_compare_as_numbers_and_to_includes_both_ends(engine):
    ids = found(engine, cond("year", "TO", "2019", "2020"))
    assert "blog/2019-03-05-moving-to-a-static-site.md" in ids and COFFEE in ids
    assert all(i.split("/")[0] != "36kr" for i in ids)                      # 36kr posts are 2021-2023
    assert found(engine, cond("year", ">", "2022")) == found(engine, cond("year", ">=", "2023"))
    assert GLOSSARY in found(engine, cond("year", "!=", "2020"))           # undated: not 2020
    assert GLOSSARY not in found(engine, cond("year", "<", "3000"))        # but never compared


def test_dates_are_whole_periods(engine):
    assert found(engine, cond("date", "=", "2020-08")) == [FIRE]           # both saves, collapsed into one hit
    hits = engine.search(SearchRequest(filter=cond("date", "=", "2020-08-12"), facets=False)).hits
    assert hits[0].versions == 2
    after = found(engine, cond("date", ">", "2023-04"))                    # after April: May onwards
    assert after == ["notes/dragons-back-weekday-hike.md", "notes/jyutping-vs-yale.md"]
    assert found(engine, cond("date", ">=", "2023-03")) == sorted(after + [
        "36kr/一杯茶的价格战：新茶饮品牌集体回到十元以内.md", "36kr/从VPN到零信任：中型企业的安全架构怎么迁移.md"])
    assert found(engine, cond("date", "<=", "2018")) == ["blog/2018-01-20-upgrade-to-python-3-6-3.md"]


def test_dates_as_instants_and_unix_seconds(engine):
    static_site = "blog/2019-03-05-moving-to-a-static-site.md"             # 2019-03-05T02:00:00Z
    assert found(engine, cond("date", "=", "2019-03-05T02:00:00Z")) == [static_site]
    assert found(engine, cond("date", "=", "2019-03-05T10:00:00+08:00")) == [static_site]
    assert found(engine, cond("date", "<", "2019-03-05T02:00:00Z")) == ["blog/2018-01-20-upgrade-to-python-3-6-3.md"]
    assert found(engine, cond("timestamp", "=", "1551751200")) == [static_site]
    assert found(engine, cond("date", "=", "1551751200")) == [static_site]
    assert found(engine, cond("timestamp", ">", "1690000000")) == ["notes/jyutping-vs-yale.md"]


def test_empty_null_and_exists(engine):
    assert GLOSSARY in found(engine, cond("tag", "IS EMPTY"))
    assert all(i.startswith(("36kr/", "glossary")) for i in found(engine, cond("tag", "IS EMPTY")))
    assert found(engine, cond("date", "IS NULL")) == [GLOSSARY] == found(engine, cond("year", "IS NULL"))
    assert found(engine, cond("tag", "IS NULL")) == []
    assert len(found(engine, cond("author", "EXISTS"))) == len(found(engine, None))
    assert GLOSSARY in found(engine, cond("author", "IS EMPTY")) and COFFEE in found(engine, cond("author", "IS EMPTY"))


def test_not_and_or_combine(engine):
    node = AllOfFilters((NotFilter(cond("category", "=", "港聞")), cond("year", "=", "2020")))
    assert found(engine, node) == [COFFEE, "hk-news/article_1950.md"]     # 1950 is 評論, not 港聞
    either = AnyOfFilters((cond("tag", "=", "咖啡"), cond("tag", "=", "iphone")))
    assert found(engine, either) == [COFFEE, "blog/2021-10-10-iphone-13-two-weeks.md"]
    assert found(engine, AnyOfFilters(())) == []
    assert len(found(engine, AllOfFilters(()))) == len(found(engine, None))


def test_ids_and_string_ranges(engine):
    assert found(engine, cond("id", "=", GLOSSARY)) == [GLOSSARY]
    assert found(engine, cond("id", "IN", GLOSSARY, "no/such.md")) == [GLOSSARY]
    assert found(engine, cond("id", "<", "37")) == [i for i in found(engine, None) if i < "37"]
    tags_after_w = found(engine, cond("tag", ">", "w"))                    # Chinese tags sort after Latin
    assert CAT_BLOG in tags_after_w and "notes/dragons-back-weekday-hike.md" not in tags_after_w


def test_filters_and_with_the_query_and_the_other_filters(engine):
    assert found(engine, cond("tag", "=", "猫"), q="领养") == [CAT_BLOG, CAT_NEWS]
    assert found(engine, cond("tag", "=", "猫"), q="领养", filters={"category": ["港聞"]}) == [CAT_NEWS]
    assert found(engine, cond("year", "=", "2019"), q="领养", date_from="2020") == []


@pytest.mark.parametrize(("args", "message"), [
    (("title", "=", "x"), "unknown filter field"),
    (("tag", "~", "x"), "unknown filter operator"),
    (("year", "=", "twenty"), "`year` is compared with numbers"),
    (("date", ">", "2021-02-30"), "`date` is compared with dates"),
    (("year", "TO", "2019"), "takes 2 values"),
    (("tag", "IN"), "one or more values"),
])
def test_conditions_check_their_field_operator_and_values(args, message):
    with pytest.raises(FilterError, match=message):
        Condition(args[0], args[1], tuple(args[2:]))


def test_offset_starts_the_hits_anywhere(engine):
    every = engine.search(SearchRequest(sort="oldest", per_page=30, facets=False)).hits
    part = engine.search(SearchRequest(sort="oldest", per_page=4, offset=5, facets=False)).hits
    assert [h.id for h in part] == [h.id for h in every[5:9]]
    with pytest.raises(QueryError, match="offset"):
        engine.search(SearchRequest(offset=995, per_page=10))


def test_matching_all_leaves_out_articles_with_only_some_words(engine):
    some = found(engine, None, q="咖啡 手冲")
    every = found(engine, None, q="咖啡 手冲", matching="all")
    assert every == [COFFEE] and len(some) > 1 and COFFEE in some
    assert found(engine, None, q="iphone python", matching="all") == []
    with pytest.raises(QueryError, match="matching"):
        engine.search(SearchRequest(q="x", matching="frequency"))


def test_facet_size_and_whole_bodies(engine):
    few = engine.search(SearchRequest(facet_size=2)).facets["tags"]
    many = engine.search(SearchRequest(facet_size=100)).facets["tags"]
    assert len(few) == 2 and len(many) > 15
    hit = engine.search(SearchRequest(q="貓", filter=cond("id", "=", CAT_NEWS), bodies=True)).hits[0]
    assert hit.body is not None and hit.excerpt.startswith("一個動物關注團體")
    assert [hit.body.text[a:b] for a, b in hit.body.ranges][:2] == ["貓", "貓"]
    assert engine.search(SearchRequest(q="貓")).hits[0].body is None
