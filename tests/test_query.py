"""The lenient query parser: each feature of the query language, and odd syntax that never
raises but comes back as warnings."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.analysis import Analyzer
from search.query import AllOf, AnyOf, Compiler, DateRange, Not, Phrase, Words, parse, parse_date_range


def test_plain_words_are_an_and() -> None:
    parsed = parse("国安法 记者")
    assert parsed.node == AllOf((Words("国安法"), Words("记者")))
    assert parsed.warnings == []


def test_chinese_without_spaces_is_one_words_clause_segmented_later() -> None:
    parsed = parse("国安法记者会")
    assert parsed.node == Words("国安法记者会")
    compiled = Compiler(Analyzer.default()).compile(parsed)
    assert {"国安法", "记者会"} <= compiled.terms["body"]


@pytest.mark.parametrize(("q", "text"), [
    ('"exact phrase"', "exact phrase"),
    ("「黃色經濟圈」", "黃色經濟圈"),
    ("『黃色經濟圈』", "黃色經濟圈"),
    ("“国安法”", "国安法"),
    ("＂国安法＂", "国安法"),
])
def test_quoted_phrases_in_every_quote_style(q: str, text: str) -> None:
    parsed = parse(q)
    assert parsed.node == Phrase(text)
    assert parsed.warnings == []


def test_exclusion() -> None:
    assert parse("猫 -狗").node == AllOf((Words("猫"), Not(Words("狗"))))
    assert parse('猫 -"黑色 的狗"').node == AllOf((Words("猫"), Not(Phrase("黑色 的狗"))))
    assert parse("猫 NOT 狗").node == AllOf((Words("猫"), Not(Words("狗"))))


@pytest.mark.parametrize("q", ["疫苗 OR 口罩", "疫苗 | 口罩", "疫苗 || 口罩"])
def test_or(q: str) -> None:
    assert parse(q).node == AnyOf((Words("疫苗"), Words("口罩")))


def test_parentheses_group() -> None:
    parsed = parse("(疫苗 OR 口罩) 長者")
    assert parsed.node == AllOf((AnyOf((Words("疫苗"), Words("口罩"))), Words("長者")))
    assert parse("（疫苗 OR 口罩）長者").node == parsed.node    # full-width parentheses
    assert parse("-(疫苗 OR 口罩) 長者").node == AllOf((Not(AnyOf((Words("疫苗"), Words("口罩")))), Words("長者")))


@pytest.mark.parametrize(("q", "node"), [
    ("title:疫苗", Words("疫苗", "title")),
    ("category:港聞", Words("港聞", "category")),
    ("tag:貓", Words("貓", "tag")),
    ("author:陳", Words("陳", "author")),
    ("TITLE:疫苗", Words("疫苗", "title")),
    ("标签:貓", Words("貓", "tag")),
    ("title：疫苗", Words("疫苗", "title")),            # full-width colon
    ('title:"疫苗 接種"', Phrase("疫苗 接種", "title")),
    ("title: 疫苗", Words("疫苗")),                      # value missing: the field is dropped
])
def test_fields(q: str, node) -> None:
    assert parse(q).node == node


def test_unknown_field_prefix_is_just_a_word() -> None:
    assert parse("http://example.com").node == Words("http://example.com")
    assert parse("foo:bar").node == Words("foo:bar")


def test_excluded_field() -> None:
    assert parse("貓 -tag:領養").node == AllOf((Words("貓"), Not(Words("領養", "tag"))))


@pytest.mark.parametrize(("q", "start", "end"), [
    ("date:2021", datetime(2021, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)),
    ("date:2021-03", datetime(2021, 3, 1, tzinfo=UTC), datetime(2021, 4, 1, tzinfo=UTC)),
    ("date:2021-12", datetime(2021, 12, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)),
    ("date:2021-03-05", datetime(2021, 3, 5, tzinfo=UTC), datetime(2021, 3, 6, tzinfo=UTC)),
    ("date:2021-03..2021-06", datetime(2021, 3, 1, tzinfo=UTC), datetime(2021, 7, 1, tzinfo=UTC)),
    ("date:2019..2020", datetime(2019, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)),
    ("date:..2019", None, datetime(2020, 1, 1, tzinfo=UTC)),
    ("date:2021-03..", datetime(2021, 3, 1, tzinfo=UTC), None),
])
def test_dates_become_filters(q: str, start, end) -> None:
    parsed = parse(q + " 疫苗")
    assert parsed.node == Words("疫苗")
    assert len(parsed.dates) == 1
    assert (parsed.dates[0].start, parsed.dates[0].end) == (start, end)
    assert parsed.warnings == []


def test_parse_date_range_rejects_nonsense() -> None:
    for text in ("abc", "2021-13", "2021-02-30", "..", "2021..abc", ""):
        assert parse_date_range(text) is None
    assert parse_date_range("2021") == DateRange(datetime(2021, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC), "2021")


# -- odd syntax: never raises, warns, searches the rest -------------------------------------------

@pytest.mark.parametrize(("q", "node", "warning"), [
    ('"unbalanced quote', Phrase("unbalanced quote"), "closing quote"),
    ('猫 "黑色', AllOf((Words("猫"), Phrase("黑色"))), "closing quote"),
    ("-", None, "lone '-'"),
    ("- 猫", Words("猫"), "lone '-'"),
    ("猫 -", Words("猫"), "lone '-'"),
    ("title:", None, "no value"),
    ("title: 猫", Words("猫"), "no value"),
    ("猫 category:", Words("猫"), "no value"),
    ("OR", None, "only operators"),
    ("OR AND NOT", None, "only operators"),
    ("( ) | -", None, None),
    ("((猫", Words("猫"), "missing ')'"),
    ("猫))", Words("猫"), "unmatched ')'"),
    ("OR 猫", Words("猫"), "OR needs"),
    ("猫 OR", Words("猫"), "OR needs"),
    ("date:abc 猫", Words("猫"), "not a date"),
    ("date:2021-13 猫", Words("猫"), "not a date"),
    ('""', None, "quote"),
    ("「」 猫", Words("猫"), "quote"),
    ('猫 "', Words("猫"), "quote"),
    ("|||", None, "to search for"),
])
def test_odd_syntax_warns_and_keeps_the_rest(q: str, node, warning: str | None) -> None:
    parsed = parse(q)
    assert parsed.node == node
    assert parsed.warnings, f"no warning for {q!r}"
    if warning:
        assert any(warning in w for w in parsed.warnings), parsed.warnings
    assert len(parsed.warnings) == len(set(parsed.warnings))


@pytest.mark.parametrize(("q", "typed"), [("OR AND NOT", "NOT"), ("猫 NOT", "NOT"), ("(猫) NOT OR 狗", "NOT"),
                                          ("猫 -", "-"), ("- 猫", "-")])
def test_a_lone_negation_is_named_as_typed(q: str, typed: str) -> None:
    warnings = parse(q).warnings
    assert f"a lone '{typed}' was ignored" in warnings
    assert not any("'-'" in w for w in warnings) or typed == "-"


@pytest.mark.parametrize("q", ["|||", "!!!", "-- --", "&&&", "😀", "。，、"])
def test_a_query_with_nothing_searchable_says_so(q: str) -> None:
    parsed = parse(q)
    assert Compiler(Analyzer.default()).compile(parsed).strict is None
    assert parsed.warnings


def test_deep_nesting_does_not_recurse_forever() -> None:
    parsed = parse("(" * 300 + "猫" + ")" * 300)
    assert parsed.node == Words("猫")


def test_operator_soup_never_raises() -> None:
    rng = random.Random(20240601)
    pieces = ['"', "「", "」", "“", "(", ")", "（", "）", "-", "－", "OR", "|", "AND", "NOT", "title:", "date:",
              "category:", "tag:", "author:", "..", "：", "猫", "貓", "x", " ", "  ", "\u3000", "\x00", "\\", "*", "?"]
    soup = ""
    while len(soup) < 10_000:
        soup += rng.choice(pieces)
    parsed = parse(soup)
    assert isinstance(parsed.warnings, list)
    Compiler(Analyzer.default()).compile(parsed)    # the Whoosh query builds too


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.sampled_from(list('"「」“”()（）-－|: .猫貓a2021') + ["OR", "NOT", "title:", "date:", ".."]),
                max_size=40).map("".join)
       | st.text(max_size=40))
def test_parse_never_raises(q: str) -> None:
    parsed = parse(q)
    compiled = Compiler(Analyzer.default()).compile(parsed)
    if compiled.strict is not None:
        assert compiled.relaxed is not None


def test_compiler_records_terms_for_highlighting_once() -> None:
    compiled = Compiler(Analyzer.default()).compile(parse("pythn 國安法"))
    assert compiled.words == ["pythn", "國安法"]
    assert {"pythn", "国安法"} <= compiled.terms["title"]
    assert compiled.phrases.count("國安法") <= 1


def test_excluded_words_are_not_highlighted() -> None:
    compiled = Compiler(Analyzer.default()).compile(parse("貓 -狗"))
    assert "狗" not in compiled.terms["body"]
    assert "猫" in compiled.terms["body"]
