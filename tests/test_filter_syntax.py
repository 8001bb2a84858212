"""Meilisearch's filter expressions (search/filter_syntax.py): the trees they parse to, and the
errors Meilisearch itself gives for bad ones (messages copied from its test suite), ending with
the 1-based columns of the offending text and the filter."""

from __future__ import annotations

import pytest

from search.filter_syntax import parse_filter
from search.filters import AllOfFilters, AnyOfFilters, Condition, FilterError, NotFilter

# The Meilisearch routes' attribute names -> sou's fields.
NAMES = {"categories": "category", "tags": "tag", "author": "author", "year": "year", "date": "date",
         "timestamp": "timestamp", "id": "id", "title": "tag"}


def p(text, names=NAMES):
    return parse_filter(text, names)


def c(field: str, op: str, *values: str) -> Condition:
    return Condition(field, op, values)


def test_conditions_and_operators():
    assert p("tags = 猫") == c("tag", "=", "猫")
    assert p("year>=2021") == c("year", ">=", "2021")
    assert p("year != 2020") == c("year", "!=", "2020")
    assert p("date < 2021-03-05") == c("date", "<", "2021-03-05")
    assert p("year 2019 TO 2021") == c("year", "TO", "2019", "2021")
    assert p("categories IN [tech, 生活, 'open source']") == c("category", "IN", "tech", "生活", "open source")
    assert p("tags IN [a, b,]") == c("tag", "IN", "a", "b")
    assert p("tags IN []") == AnyOfFilters(())
    assert p("author IS EMPTY") == c("author", "IS EMPTY")
    assert p("date IS NULL") == c("date", "IS NULL")
    assert p("tags EXISTS") == c("tag", "EXISTS")


def test_negated_forms():
    assert p("tags NOT IN [a, b]") == NotFilter(c("tag", "IN", "a", "b"))
    assert p("date IS NOT NULL") == NotFilter(c("date", "IS NULL"))
    assert p("author IS NOT EMPTY") == NotFilter(c("author", "IS EMPTY"))
    assert p("tags NOT EXISTS") == NotFilter(c("tag", "EXISTS"))
    assert p("NOT NOT tags = a") == c("tag", "=", "a")


def test_precedence_not_then_and_then_or():
    a, b, d = c("tag", "=", "a"), c("tag", "=", "b"), c("tag", "=", "d")
    assert p("tags = a OR tags = b AND tags = d") == AnyOfFilters((a, AllOfFilters((b, d))))
    assert p("(tags = a OR tags = b) AND tags = d") == AllOfFilters((AnyOfFilters((a, b)), d))
    assert p("NOT tags = a AND tags = b") == AllOfFilters((NotFilter(a), b))
    assert p("NOT (tags = a AND tags = b)") == NotFilter(AllOfFilters((a, b)))


def test_quotes_escapes_and_unicode_words():
    # instant-meilisearch quotes both sides and escapes backslashes and quotes
    assert p('"tags"="R&D \\"beta\\" \\\\ v2"') == c("tag", "=", 'R&D "beta" \\ v2')
    assert p("tags = 'it\\'s' OR tags = \"it's\"") == AnyOfFilters((c("tag", "=", "it's"), c("tag", "=", "it's")))
    assert p("tags = '新冠 疫苗'") == c("tag", "=", "新冠 疫苗")
    assert p("tags = COVID-19") == c("tag", "=", "COVID-19")
    assert p("tags = 3.6.3") == c("tag", "=", "3.6.3")
    assert p("tags = 'AND'") == c("tag", "=", "AND")
    assert p("   ") is None and p("") is None


def test_array_form_ands_strings_and_ors_nested_lists():
    assert p(["tags = a", ["tags = b", "tags = d"]]) == AllOfFilters(
        (c("tag", "=", "a"), AnyOfFilters((c("tag", "=", "b"), c("tag", "=", "d")))))
    assert p([["tags = a"]]) == c("tag", "=", "a")
    assert p(["", []]) is None
    assert p(None) is None


def test_library_field_names_by_default():
    assert parse_filter("tag = 猫 AND category = tech") == AllOfFilters((c("tag", "=", "猫"), c("category", "=", "tech")))


def error(text) -> str:
    with pytest.raises(FilterError) as info:
        p(text)
    return str(info.value)


OPERATION = ("Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, "
             "`IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon`")


@pytest.mark.parametrize(("text", "message"), [
    # the cases of Meilisearch's own tests/search/errors.rs, with its messages and columns
    ("tags & Glass", f"{OPERATION} at `tags & Glass`.\n1:13 tags & Glass"),
    ("title = Glass XOR title = Glass", "Found unexpected characters at the end of the filter: `XOR title = Glass`. "
                                        "You probably forgot an `OR` or an `AND` rule.\n15:32 title = Glass XOR title = Glass"),
    ("many = Glass", "Attribute `many` is not filterable. Available filterable attribute patterns are: "
                     "`author, categories, date, id, tags, timestamp, title, year`.\n1:5 many = Glass"),
    ('"many" = Glass', "Attribute `many` is not filterable. Available filterable attribute patterns are: "
                       "`author, categories, date, id, tags, timestamp, title, year`.\n2:6 \"many\" = Glass"),
    # and the other diagnostics of its filter-parser crate
    ("tags = ", "Was expecting a value but instead got nothing.\n8:8 tags = "),
    ("tags = AND", "Was expecting a value but instead got `AND`, which is a reserved keyword. To use `AND` as a "
                   "field name or a value, surround it by quotes.\n8:11 tags = AND"),
    ('tags = "貓', 'Expression `"貓` is missing the following closing delimiter: `"`.\n8:10 tags = "貓'),
    ("(tags = a OR tags = b", "Expression `(tags = a OR tags = b` is missing the following closing delimiter: `)`."
                              "\n1:22 (tags = a OR tags = b"),
    ("tags IN a", "Expected `[` after `IN` keyword.\n9:10 tags IN a"),
    ("tags IN [a, b", "Expected matching `]` after the list of field names given to `IN[`\n14:14 tags IN [a, b"),
    ("tags IN [a b]", "Expected only comma-separated field names inside `IN[..]` but instead found `b]`."
                      "\n12:14 tags IN [a b]"),
    ("year > 2020 AND", f"{OPERATION} but instead got nothing.\n16:16 year > 2020 AND"),
])
def test_errors_read_like_meilisearch(text, message):
    assert error(text) == message


@pytest.mark.parametrize(("text", "start"), [
    ("year = twenty", "`year` is compared with numbers, not `twenty`.\n8:14"),
    ("date >= 2021-02-30", "`date` is compared with dates such as"),
    ("tags CONTAINS 貓", "sou does not support `CONTAINS` filters"),
    ("tags STARTS WITH 貓", "sou does not support `STARTS WITH` filters"),
    ("_geoRadius(45.4, 9.2, 2000)", "`_geoRadius`: sou's articles have no geographic coordinates"),
])
def test_what_sou_cannot_filter_is_refused_with_a_position(text, start):
    assert error(text).startswith(start)


@pytest.mark.parametrize(("value", "message"), [
    (True, "Invalid syntax for the filter parameter: `expected String, Array, found: true`."),
    ({"tags": "a"}, 'Invalid syntax for the filter parameter: `expected String, Array, found: {"tags":"a"}`.'),
    ([1], "Invalid syntax for the filter parameter: `expected String, [String], found: 1`."),
    ([["tags = a", ["tags = b"]]], 'Invalid syntax for the filter parameter: `expected String, found: ["tags = b"]`.'),
    (["tags = a AND", [2]], "Invalid syntax for the filter parameter: `expected String, found: 2`."),
])
def test_array_form_errors(value, message):
    with pytest.raises(FilterError) as info:
        p(value)
    assert str(info.value) == message


def test_nesting_is_bounded():
    deep = "(" * 200 + "tags = a" + ")" * 200
    assert "maximum depth limit" in error(deep)
    assert p("(" * 20 + "tags = a" + ")" * 20) == c("tag", "=", "a")
