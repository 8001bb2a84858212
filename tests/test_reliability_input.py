"""Bad input (issue 5): the article parser, the query parser and Engine.search on whatever a real
folder or a real user throws at them.

The contract under test: ``parse_bytes`` returns an Article or raises ArticleError (with the path
and a reason), nothing else; ``query.parse`` + ``Compiler().compile`` never raise and say what they
ignored; ``Engine.search`` returns SearchResults or raises QueryError. "Never hangs" is shown by
this module finishing: every input is bounded in size, and the pathological ones below (1 MB
lines of spaces, unclosed template tags, YAML alias bombs) took minutes before the fixes they
guard (see RELIABILITY.md).

Hypothesis runs derandomized (the same examples on every run), with modest example counts so
the module stays fast on a 2-core machine.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import QueryError, SearchRequest, SearchResults
from search.analysis import Analyzer
from search.articles import MAX_META_NODES, parse_bytes
from search.errors import ArticleError
from search.models import Article
from search.query import FIELD_ALIASES, FIELDS, Compiler, DateRange, ParsedQuery, parse

NAME = "x.md"
FAST = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- the article parser ------------------------------------------------------------------------

def parse_or_error(data: bytes) -> Article | ArticleError:
    """The parser's whole contract: an Article, or an ArticleError naming the file and the reason.
    Any other exception propagates and fails the test."""
    try:
        article = parse_bytes(data, NAME)
    except ArticleError as exc:
        assert exc.path == NAME
        assert exc.reason and exc.kind
        assert str(exc).startswith(NAME + ": ")
        return exc
    check_article(article)
    return article


def check_article(a: Article) -> None:
    """Every field has the type the indexer relies on, whatever the input was."""
    assert isinstance(a, Article) and a.id == NAME
    for text in (a.title, a.body, a.excerpt, a.author, a.url, a.group):
        assert isinstance(text, str)
        assert "\x00" not in text
    assert a.title, "an article always has a title (front matter, first heading or file name)"
    for values in (a.tags, a.categories):
        assert isinstance(values, tuple)
        assert all(isinstance(v, str) and v and v == v.strip() and len(v) <= 200 for v in values)
        assert len(set(values)) == len(values)
    for when in (a.date, a.updated):
        assert when is None or (isinstance(when, dt.datetime) and when.utcoffset() == dt.timedelta(0)
                                and 1800 <= when.year <= 2200)
    assert a.url == "" or a.url.lower().startswith(("http://", "https://", "/"))
    assert all(isinstance(w, str) for w in a.warnings)
    assert len(a.excerpt) <= 161


@FAST
@given(st.binary(max_size=3000))
def test_random_bytes(data: bytes) -> None:
    parse_or_error(data)


@FAST
@given(st.binary(max_size=1500))
def test_random_bytes_after_a_front_matter_fence(data: bytes) -> None:
    parse_or_error(b"---\ntitle: t\n" + data + b"\n---\nbody " + data)


# Front matter values of every type YAML can carry, nested.
SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**70, max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
           | st.dates() | st.datetimes() | st.datetimes(timezones=st.timezones())
           | st.sampled_from(["", " ", "null", "~", "yes", "0xBACB", "2021-02-30", "Sat, 30 Apr 2022 04:19:20 GMT",
                             "20210315", "1618000000000", "#hashtag", "<script>alert(1)</script>", "javascript:alert(1)",
                             "a, b，c、d", "\u200b\ufeff", "&amp;&lt;", "{{ 7*7 }}", "{% raw %}"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5)
                      | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)
KEYS = st.sampled_from(["title", "date", "updated", "lastmod", "tags", "tag", "keywords", "categories", "category",
                        "author", "authors", "source", "url", "permalink", "description", "excerpt", "draft",
                        "published", "pubDate", "created_at"]) | st.text(max_size=12)


def front_matter(meta: dict) -> str:
    """YAML for ``meta`` (a real YAML document: what a generator of front matter would write)."""
    try:
        return yaml.safe_dump(meta, allow_unicode=True, default_flow_style=False)
    except (yaml.YAMLError, ValueError, OverflowError):
        return json.dumps(meta, default=str, ensure_ascii=False)   # JSON is YAML too


@SLOW
@given(st.dictionaries(KEYS, VALUES, max_size=8), st.text(max_size=200))
def test_random_yaml_front_matter(meta: dict, body: str) -> None:
    text = "---\n" + front_matter(meta) + "---\n\n" + body
    result = parse_or_error(text.encode("utf-8", "surrogatepass"))
    # the draft flag never makes parse_bytes fail (drafts are only skipped by a reindex)
    assert isinstance(result, Article) or result.kind in ("binary", "bad_encoding")


@SLOW
@given(st.lists(st.tuples(KEYS, st.text(max_size=30)), max_size=8), st.text(max_size=100))
def test_broken_yaml_is_read_line_by_line(pairs: list[tuple[str, str]], body: str) -> None:
    """Hand-written front matter: `key: value` lines with whatever characters people type."""
    lines = "\n".join(f"{k}: {v}" for k, v in pairs)
    parse_or_error(f"---\n{lines}\n---\n{body}".encode())


WORD = st.text(alphabet=string.ascii_letters + "猫狗茶咖啡城市港口數據網絡", min_size=1, max_size=8)


@FAST
@given(st.lists(WORD, min_size=1, max_size=4).map(" ".join), st.lists(WORD, max_size=6),
       st.lists(WORD, max_size=3), st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2199, 12, 31)))
def test_well_formed_front_matter_round_trips(title: str, tags: list[str], categories: list[str],
                                              date: dt.date) -> None:
    """Not only no crash: well-formed values arrive unchanged, whatever the encoding and line ends."""
    meta = {"title": title, "tags": tags, "categories": categories, "date": date}
    text = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n\n正文第一段。\n\n第二段 body.\n"
    variants = [text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8"),
                text.replace("\n", "\r\n").encode("utf-8"), text.encode("gb18030")]
    parsed = [parse_bytes(data, NAME) for data in variants]
    for article in parsed:
        check_article(article)
        assert article.title == title
        assert article.tags == tuple(dict.fromkeys(tags))
        assert article.categories == tuple(dict.fromkeys(categories))
        assert article.date == dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC)
        assert article.body == "正文第一段。\n\n第二段 body."
    assert any("GB18030" in w for w in parsed[3].warnings) or text.isascii()


@FAST
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\ufeff"), max_size=400))
def test_bom_crlf_and_gb18030_do_not_change_the_article(text: str) -> None:
    plain = parse_or_error(text.encode("utf-8"))
    for data in (b"\xef\xbb\xbf" + text.encode("utf-8"), text.replace("\n", "\r\n").encode("utf-8")):
        other = parse_or_error(data)
        if isinstance(plain, Article):
            assert isinstance(other, Article)
            assert (other.title, other.body, other.tags, other.date) == (plain.title, plain.body, plain.tags, plain.date)
    try:
        gb = text.encode("gb18030")
    except UnicodeEncodeError:
        return
    parse_or_error(gb)


HTML_PARTS = st.sampled_from([
    "<div>", "</div>", "<p>", "</p>", "<b>", "</i>", "<table><tr><td>", "</td>", "<ul><li>", "<pre>", "<code>",
    "<script>", "</script>", "<style>", "</style>", "<!--", "-->", "<![CDATA[", "]]>", "<textarea>", "<title>",
    "<svg><foreignObject>", "<math>", "<template>", "<img src=x onerror=alert(1)>", "<a href='javascript:x'>",
    "&amp;", "&#0;", "&#xD800;", "&#99999999;", "&nbsp;", "&", "<", ">", "\"", "'", "文字", "text", "\n", "\n\n",
    "# ", "> ", "- ", "```", "`", "*", "_", "[", "](", ")", "|", "---", "{{<", ">}}", "{%", "%}", "{.cls}",
])


@FAST
@given(st.lists(HTML_PARTS, max_size=120).map("".join))
def test_html_and_markdown_soup(markup: str) -> None:
    parse_or_error(markup.encode())
    parse_or_error(("---\ntitle: soup\n---\n" + markup).encode())


def deep(open_tag: str, close_tag: str, n: int) -> bytes:
    return (open_tag * n + "核心内容 core" + close_tag * n).encode()


# Pathological files, each one bounded (<= ~1 MB). Several took from minutes to hours before the
# regular expressions in search/articles.py were made linear (RELIABILITY.md lists them).
EXTREME = {
    "5000 nested divs": (deep("<div>", "</div>", 5000), "核心内容 core"),
    "5000 unclosed divs": (("<div>" * 5000 + "核心内容 core").encode(), "核心内容 core"),
    "5000 nested inline tags": (deep("<b><i>", "</i></b>", 5000), "核心内容 core"),
    "unclosed tags everywhere": (("<p><b>粗体 <table><tr><td>单元 <a href=x>链接 " * 500 + "核心内容 core").encode(), "核心内容 core"),
    "5000 nested blockquotes": (deep("> ", "", 5000), "核心内容 core"),
    "1000 nested list levels": ("".join("  " * i + "- 项\n" for i in range(1000)).encode() + "核心内容 core".encode(), "核心内容 core"),
    "1 MB single line of Chinese": (("中文" * 262_144).encode() + " 核心内容 core".encode(), "核心内容 core"),
    "1 MB line of spaces": (b" " * 1_000_000 + "核心内容 core".encode(), "核心内容 core"),
    "1 MB line of tabs": (b"\t" * 1_000_000 + "核心内容 core".encode(), "核心内容 core"),
    "1 MB of unclosed {{<": (b"{{<" * 330_000 + "核心内容 core".encode(), "核心内容 core"),
    "1 MB of unclosed {%": (b"{%" * 500_000 + "\n\n核心内容 core".encode(), "核心内容 core"),
    "heading with 500 kB of spaces": (b"# a" + b" " * 500_000 + "b\n\n核心内容 core".encode(), "核心内容 core"),
    "1 MB of newlines": (b"\n" * 1_000_000 + "核心内容 core".encode(), "核心内容 core"),
    "1 MB of carriage returns": (b"\r" * 1_000_000 + "核心内容 core".encode(), "核心内容 core"),
    "1 MB of brackets": (b"[" * 500_000 + "核心内容 core".encode() + b"]" * 500_000, "核心内容 core"),
    "1 MB of emphasis": (b"*" * 500_000 + "核心内容 core".encode() + b"*" * 500_000, "核心内容 core"),
    "control characters": (bytes(range(1, 32)) * 1000 + "核心内容 core".encode(), "核心内容 core"),
    "a few NUL bytes": (b"---\ntitle: a\x00b\n---\n" + "核心\x00内容 core".encode(), "核心内容 core"),
    "unclosed front matter": (b"---\ntitle: t\n" + b"k: v\n" * 50_000 + "核心内容 core".encode(), "核心内容 core"),
}


@pytest.mark.parametrize("name", list(EXTREME))
def test_extreme_files_parse_to_an_article(name: str) -> None:
    data, needle = EXTREME[name]
    article = parse_or_error(data)
    assert isinstance(article, Article), article
    assert needle in article.body.replace("\n", "") or needle in article.title


YAML_BOMB = b"""---
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
title: Bomb
tags: *h
author: *h
categories: *h
---
body text
"""


def test_yaml_alias_bomb_is_read_line_by_line() -> None:
    """8 lines that expand to 43 million values: the parser must not walk them (46 s and GBs
    of memory for the 7-level version before the fix)."""
    article = parse_or_error(YAML_BOMB)
    assert isinstance(article, Article)
    assert article.title == "Bomb"
    assert any(f"{MAX_META_NODES:,}" in w for w in article.warnings)
    assert len(article.tags) <= 1 and article.body == "body text"


def test_big_but_honest_front_matter_is_kept() -> None:
    tags = [f"t{i}" for i in range(5000)]
    article = parse_or_error(("---\n" + yaml.safe_dump({"title": "many", "tags": tags}) + "---\nx").encode())
    assert isinstance(article, Article) and article.tags == tuple(tags)


@pytest.mark.parametrize(("depth", "opener", "closer"), [(900, "[", "]"), (3000, "[", "]"), (3000, "{a: ", "}")])
def test_deeply_nested_yaml(depth: int, opener: str, closer: str) -> None:
    parse_or_error(f"---\ntitle: deep\ntags: {opener * depth}x{closer * depth}\n---\nbody".encode())


@pytest.mark.parametrize(("data", "kind"), [
    (b"\x00" * 200, "binary"),
    ("---\ntitle: t\n---\nbody".encode("utf-16"), "binary"),
    (b"\xff\xfe\xfa\x80\x81 invalid", "bad_encoding"),
    (b"\x80" * 100, "bad_encoding"),
])
def test_binary_and_undecodable_files_are_reported(data: bytes, kind: str) -> None:
    error = parse_or_error(data)
    assert isinstance(error, ArticleError) and error.kind == kind


def test_gb18030_file_is_decoded_with_a_warning() -> None:
    article = parse_or_error("---\ntitle: 香港新聞\ntags: [政治, 經濟]\n---\n\n立法會今日開會。\r\n".encode("gb18030"))
    assert isinstance(article, Article)
    assert (article.title, article.tags, article.body) == ("香港新聞", ("政治", "經濟"), "立法會今日開會。")
    assert any("GB18030" in w for w in article.warnings)


# -- the query parser --------------------------------------------------------------------------

def parse_and_compile(q: str) -> ParsedQuery:
    """The whole contract: a ParsedQuery with string warnings, and a compilable tree."""
    parsed = parse(q)
    assert isinstance(parsed, ParsedQuery)
    assert all(isinstance(w, str) and w for w in parsed.warnings)
    assert all(isinstance(d, DateRange) for d in parsed.dates)
    compiled = Compiler(Analyzer.default()).compile(parsed)
    if parsed.node is None:
        assert compiled.strict is None
    return parsed


OPERATORS = st.sampled_from([
    "(", ")", "（", "）", '"', "“", "”", "「", "」", "『", "』", "＂", "„", "-", "－", "--", "OR", "AND", "NOT", "|",
    "||", "&&", "&", "+", "title:", "date:", "tag:", "category:", "author:", "categories:", "cat:", "tags:", "标签:",
    "作者:", "標題:", "日期:", "分類:", "：", "date:2021", "date:..", "date:2021..", "date:..2020-06", "date:2021-13",
    "a", "中文", "猫", "國安法", "iPhone", "3.6.3", "COVID-19", "😀", "\u200b", "\x00", " ", "  ", "\t", "\n", "*", "?",
])


@FAST
@given(st.text(max_size=300))
def test_query_random_unicode(q: str) -> None:
    parse_and_compile(q)


@FAST
@given(st.lists(OPERATORS, max_size=60))
def test_query_operator_soup(parts: list[str]) -> None:
    parse_and_compile("".join(parts))
    parsed = parse_and_compile(" ".join(parts))
    if parts and all(p in ("(", ")", "（", "）", "OR", "|", "||", "-", "－", "--", "NOT", " ", "  ") for p in parts) \
            and any(p.strip() for p in parts):
        assert parsed.node is None and parsed.warnings


FIELD_NAMES = sorted(FIELDS | set(FIELD_ALIASES) | {f.upper() for f in FIELDS})


@FAST
@given(st.sampled_from(FIELD_NAMES), st.sampled_from([":", "："]), st.text(max_size=40), st.booleans())
def test_every_field_name_with_any_value(name: str, colon: str, value: str, negate: bool) -> None:
    parse_and_compile(("-" if negate else "") + name + colon + value)
    parse_and_compile(f"猫 {name}{colon}{value} 狗")
    parse_and_compile(f'{name}{colon}"{value}"')


DATE_JUNK = st.text(alphabet=string.digits + "-./年月日.." + "abcxyz", min_size=1, max_size=30)


@FAST
@given(DATE_JUNK | st.sampled_from(["9" * 400, "0000", "2021-00", "2021-02-30", "2021..2020", "....", "1e10",
                                   "２０２１", "٢٠٢١", "2021-1-1..2021-12-31", "-2021", "+2021"]))
def test_date_garbage_is_a_filter_or_a_warning(value: str) -> None:
    parsed = parse_and_compile(f"date:{value} 猫")
    assert parsed.node is not None       # the word is still searched
    warned = any(w.startswith("`date:") for w in parsed.warnings)
    assert (len(parsed.dates) == 1) != warned, (parsed.dates, parsed.warnings)
    for rng in parsed.dates:
        assert rng.start is not None or rng.end is not None


@pytest.mark.parametrize(("q", "warning"), [
    ('"unclosed phrase', "missing closing quote"),
    ("(猫 狗", "missing ')'"),
    ("猫 狗)", "unmatched ')'"),
    ("title: 猫", "has no value"),
    ("猫 -", "lone '-'"),
    ("OR 猫", "OR needs something"),
    ("date:abc 猫", "is not a date"),
    ("((((((((((((((((((((((((((((((猫))))))))))))))))))))))))))))))", "nest too deeply"),
    ("| OR ||", "only operators"),
    ("!!! 😀", "no letters, digits or Chinese"),
])
def test_odd_syntax_warns(q: str, warning: str) -> None:
    parsed = parse_and_compile(q)
    assert any(warning in w for w in parsed.warnings), parsed.warnings


def ten_kb(unit: str) -> str:
    return (unit * (10_000 // len(unit) + 1))[:10_000]


TEN_KB = {name: ten_kb(unit) for name, unit in {
    "words": "猫 狗 city ",
    "chinese run": "中文全文搜索引擎",
    "open parens": "(",
    "close parens": ")",
    "nested groups": "(猫 ",
    "quotes": '"',
    "fancy quotes": "「“『",
    "minus": "-",
    "fields": "title:",
    "dates": "date:2021..2022 ",
    "ORs": "猫 OR ",
    "NOTs": "NOT ",
    "soup": '("a" OR -b) title:"c d" ',
    "emoji": "😀",
    "NULs": "\x00",
}.items()}


@pytest.mark.parametrize("name", list(TEN_KB))
def test_ten_kb_queries(name: str) -> None:
    q = TEN_KB[name]
    assert len(q) == 10_000
    parse_and_compile(q)


# -- Engine.search over the demo index ----------------------------------------------------------

QUERIES = (st.text(max_size=60) | st.lists(OPERATORS, max_size=20).map(" ".join)
           | st.lists(st.sampled_from(["猫", "咖啡", "iphone", "简单", "香港", "python", "的", "茶"]) | OPERATORS,
                      max_size=12).map(" ".join))

# Requests the web layer would let through: the engine must answer every one of them.
VALID_REQUESTS = st.builds(
    SearchRequest,
    q=QUERIES,
    page=st.integers(min_value=1, max_value=5),
    per_page=st.none() | st.integers(min_value=1, max_value=100),
    filters=st.dictionaries(st.sampled_from(["category", "tag", "author"]),
                            st.lists(st.text(max_size=12) | st.sampled_from(["tech", "科技", "Apple", "iPhone"]),
                                     max_size=3), max_size=2),
    sort=st.sampled_from(["relevance", "newest", "oldest"]),
    highlight=st.booleans(),
    facets=st.booleans(),
    explain=st.booleans(),
)

# Anything at all in every parameter.
ANY_REQUESTS = st.builds(
    SearchRequest,
    q=QUERIES,
    page=st.integers(min_value=-2, max_value=120),
    per_page=st.none() | st.integers(min_value=-1, max_value=120),
    filters=st.dictionaries(st.sampled_from(["category", "tag", "author", "year", "bogus"]),
                            st.lists(st.text(max_size=12) | st.sampled_from(["2021", "tech", "科技", "20x1"]),
                                     max_size=3), max_size=3),
    sort=st.sampled_from(["relevance", "newest", "oldest", "", "random", "RELEVANCE"]),
    date_from=st.none() | DATE_JUNK | st.sampled_from(["2021", "2020-03", "2019-02-29"]),
    date_to=st.none() | DATE_JUNK | st.sampled_from(["2022", "2021-12-31"]),
)


def check_results(engine, req: SearchRequest, results: SearchResults) -> None:
    assert isinstance(results, SearchResults)
    assert 0 <= len(results.hits) <= results.per_page
    assert results.total >= len(results.hits)
    assert len({hit.id for hit in results.hits}) == len(results.hits)
    assert all(w for w in results.warnings)
    if len(req.q) > engine.settings.max_query_length:
        assert any("was cut" in w for w in results.warnings)
    for hit in results.hits:
        assert not math.isnan(hit.score)
        for marked in (hit.title, *hit.snippets):
            assert all(0 <= a < b <= len(marked.text) for a, b in marked.ranges)
    json.dumps(results.to_dict(), default=str)          # what the API serialises


ENGINE = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])


@ENGINE
@given(req=VALID_REQUESTS)
def test_engine_answers_every_valid_request(engine, req: SearchRequest) -> None:
    check_results(engine, req, engine.search(req))


@ENGINE
@given(req=ANY_REQUESTS)
def test_engine_search_returns_results_or_query_error(engine, req: SearchRequest) -> None:
    try:
        results = engine.search(req)
    except QueryError as exc:
        assert str(exc)
        return
    check_results(engine, req, results)


@LONG
@given(q=st.text(min_size=490, max_size=2000) | st.lists(OPERATORS, min_size=200, max_size=400).map("".join))
def test_engine_cuts_long_queries_and_answers(engine, q: str) -> None:
    """Over-long queries (the web refuses them with a 400; the library cuts them, with a warning).
    Fewer examples: a 500-character query of random words costs ~0.3 s of spelling suggestions."""
    req = SearchRequest(q=q)
    check_results(engine, req, engine.search(req))
