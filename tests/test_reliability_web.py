"""Hostile requests and hostile articles against the web layer (issue 5).

* ``/api/search`` (and the HTML page) on random query strings and random parameter values: never
  a 500, always the declared type, errors in the one shape ``{"error": {"code", "message"}}``.
* Path tricks on ``/articles/<id>``, ``/api/articles/<id>`` and ``/api/related/<id>``: 404 (or
  400), and nothing read from disk: ``open`` and friends are watched during each request.
* A hostile corpus (``<script>``, ``onerror=``, ``javascript:`` links, ``</mark>``, ``{{ 7*7 }}``,
  ``{% raw %}`` in titles, bodies, tags, authors, categories, URLs and file names) renders as
  inert text on the results page and the article page.

tests/browser/test_hostile.py opens the same corpus in a real Chromium.
"""

from __future__ import annotations

import builtins
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_from_bytes, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

import web
from search import Settings
from search.indexer import reindex

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SVG = "<svg onload=alert(1)>"
JS_URL = "javascript:alert(1)"
TEMPLATE = "{{ 7*7 }}"
RAW = "{% raw %}"
CLOSE_MARK = "</mark>"
WORD = "灯塔"            # in every hostile article, so one query lists them all

HOSTILE_NAME = '"><img src=x onerror=alert(1)>.md'      # a file name is an article id, shown on pages

HOSTILE_ARTICLES: dict[str, str] = {
    "xss.md": f"""---
title: "{SCRIPT} {WORD}标题"
author: "{IMG}"
categories: ["{IMG}", "分类"]
tags: ["{SCRIPT}", "{CLOSE_MARK}", "{TEMPLATE}", "{JS_URL}"]
url: "{JS_URL}"
description: "{SCRIPT} 摘要"
date: 2022-03-04
---

{WORD}第一段：{SCRIPT} 原样的脚本会被丢弃。

代码里的脚本是文字：`{SCRIPT}` 和 `{IMG}`。

实体也是文字：&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;

[点我]({JS_URL}) <a href="{JS_URL}">链接</a> {IMG} {SVG}

<div onclick="alert(1)" style="x">{WORD} {CLOSE_MARK} 关闭标记</div>
""",
    "template.md": f"""---
title: "{TEMPLATE} {RAW} {WORD}模板"
author: "{{{{ config }}}}"
tags: ["{RAW}", "{{{{ 7*7 }}}}"]
date: 2022-03-05
---

模板语法 {TEMPLATE} 与 {{{{ config.items() }}}} 不会被执行，{WORD}照常显示。

`{RAW}` 在代码里。
""",
    "mark.md": f"""---
title: "{CLOSE_MARK}<mark>{WORD}</mark> <b>粗体</b>"
author: "</mark>作者"
date: 2022-03-06
url: " javascript:alert(1)"
---

<mark>{WORD}</mark> 和 `{CLOSE_MARK}` 以及 {WORD}{CLOSE_MARK}{WORD}。
""",
    HOSTILE_NAME: f"""---
title: 文件名也是数据 {WORD}
date: 2022-03-07
url: "https://example.org/ok?a=1&b=<2>"
---

这篇文章的文件名里有标记。{WORD}。
""",
}
# Files in or beside the articles folder that are NOT indexed: the server must never read them.
SECRET = "TOPSECRET-DO-NOT-SERVE"
NOT_INDEXED = {"_drafts/secret.md": f"---\ntitle: draft\n---\n{SECRET}\n", ".hidden.md": f"{SECRET}\n",
               "notes.txt": f"{SECRET}\n"}


def write_hostile_corpus(folder: Path) -> Path:
    """The hostile articles (and the non-indexed secrets) under ``folder``; returns ``folder``."""
    for name, text in {**HOSTILE_ARTICLES, **NOT_INDEXED}.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


@dataclass
class Hostile:
    client: object
    articles: Path
    index: Path
    outside: Path          # a secret file next to the articles folder


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, jieba_cache) -> Iterator[Hostile]:
    base = tmp_path_factory.mktemp("hostile")
    articles = write_hostile_corpus(base / "articles")
    outside = base / "secret.md"
    outside.write_text(f"---\ntitle: outside\n---\n{SECRET}\n", encoding="utf-8")
    cfg = Settings(index_dir=str(base / "index"), cache_dir=str(jieba_cache), workers=1)
    summary = reindex(cfg, str(articles), full=True)
    assert summary.documents == len(HOSTILE_ARTICLES) and not summary.skipped, summary
    app = web.create_app(cfg)
    client = app.test_client()
    assert client.get(f"/?q={WORD}").status_code == 200      # open the engine, load the templates
    assert client.get("/articles/no-such-article.md").status_code == 404
    yield Hostile(client, articles, base / "index", outside)
    web.close_app(app)


# -- inert markup ------------------------------------------------------------------------------

URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcdoc")


def assert_inert(markup: str) -> LexborHTMLParser:
    """No markup from article data can run: no inline script, no event handler, no javascript:
    URL, and every <mark> we emit is closed by us (an article's </mark> is text)."""
    low = markup.lower()
    assert "<script>alert" not in low and "<img src=x" not in low and "<svg" not in low
    assert 'href="javascript:' not in low and "href='javascript:" not in low
    assert low.count("<mark>") == low.count("</mark>")
    tree = LexborHTMLParser(markup)
    for node in tree.css("*"):
        for name, value in (node.attributes or {}).items():
            assert not name.lower().startswith("on"), (node.tag, name, value)
            if name.lower() in URL_ATTRS and value:
                assert not re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(("javascript:", "data:text/html")), value
        if node.tag == "script":
            assert "src" in (node.attributes or {}) and not (node.text() or "").strip(), node.html
        assert node.tag not in ("img", "svg", "iframe", "object", "embed"), node.html
    return tree


def page_text(tree: LexborHTMLParser) -> str:
    return tree.body.text(separator=" ") if tree.body else ""


def test_results_page_shows_hostile_data_as_text(hostile):
    resp = hostile.client.get(f"/?q={WORD}")
    assert resp.status_code == 200
    tree = assert_inert(resp.get_data(as_text=True))
    titles = [a.text() for a in tree.css(".hit-title a")]
    assert len(titles) == len(HOSTILE_ARTICLES)
    assert any(SCRIPT in t for t in titles)
    assert any(t.startswith(TEMPLATE) and RAW in t for t in titles)     # not 49, not swallowed
    assert any(t.startswith(CLOSE_MARK + "<mark>") for t in titles)
    text = page_text(tree)
    for shown in (IMG, SCRIPT, TEMPLATE, CLOSE_MARK, HOSTILE_NAME):
        assert shown in text, shown
    assert "49" not in " ".join(titles)


@pytest.mark.parametrize("q", [WORD, f"{WORD} {CLOSE_MARK}", f"{WORD} {SCRIPT}", f'"{WORD}" mark', "mark", TEMPLATE,
                               "script alert", "onerror"])
def test_results_pages_for_hostile_queries_are_inert(hostile, q):
    resp = hostile.client.get("/", query_string={"q": q})
    assert resp.status_code == 200
    assert_inert(resp.get_data(as_text=True))
    api = hostile.client.get("/api/search", query_string={"q": q}).get_json()
    for hit in api["hits"]:
        # the JSON's ready-made HTML is escaped too
        for html in [hit["title_html"], *(s["html"] for s in hit["snippets"])]:
            assert "<script" not in html and "<img" not in html and html.count("<mark>") == html.count("</mark>")


def test_article_pages_show_hostile_data_as_text(hostile):
    hits = hostile.client.get(f"/api/search?q={WORD}").get_json()["hits"]
    assert {h["id"] for h in hits} == set(HOSTILE_ARTICLES)
    for hit in hits:
        for q in ("", WORD, CLOSE_MARK, SCRIPT):
            resp = hostile.client.get(f"/articles/{quote(hit['id'], safe='/')}", query_string={"q": q} if q else None)
            assert resp.status_code == 200, hit["id"]
            tree = assert_inert(resp.get_data(as_text=True))
            assert tree.css_first("h1").text() == hit["title"]
    xss = LexborHTMLParser(hostile.client.get("/articles/xss.md").get_data(as_text=True))
    body = xss.css_first(".article-body").text()
    assert SCRIPT in body and IMG in body          # from the code spans and the entities: text
    assert "原样的脚本会被丢弃" in body and "alert(1)" in body
    assert xss.css_first("a.source") is None       # the javascript: URL is not linked
    meta = page_text(xss)
    assert IMG in meta and TEMPLATE in meta and CLOSE_MARK in meta    # author, categories, tags
    template = LexborHTMLParser(hostile.client.get("/articles/template.md").get_data(as_text=True))
    assert template.css_first("h1").text().startswith(f"{TEMPLATE} {RAW}")
    assert TEMPLATE in template.css_first(".article-body").text()
    assert "49" not in template.css_first("h1").text() + template.css_first(".article-body").text()
    odd = hostile.client.get(f"/articles/{quote(HOSTILE_NAME)}")
    assert odd.status_code == 200
    assert HOSTILE_NAME in page_text(assert_inert(odd.get_data(as_text=True)))


def test_api_article_drops_javascript_urls(hostile):
    for doc_id in ("xss.md", "mark.md"):      # their javascript: url is never the link: sou's page is
        detail = hostile.client.get(f"/api/articles/{doc_id}").get_json()
        assert detail["url"] == f"http://localhost/articles/{doc_id}"
    ok = hostile.client.get(f"/api/articles/{quote(HOSTILE_NAME)}").get_json()
    assert ok["url"] == "https://example.org/ok?a=1&b=<2>"
    page = hostile.client.get(f"/articles/{quote(HOSTILE_NAME)}").get_data(as_text=True)
    assert 'href="https://example.org/ok?a=1&amp;b=&lt;2&gt;"' in page


# -- nothing is read from disk for an article request -------------------------------------------

class OpenGuard:
    """Records every path opened through open/io.open/os.open/Path.read_* while active."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        real_open, real_os_open = builtins.open, os.open
        real_read_bytes, real_read_text = Path.read_bytes, Path.read_text

        def note(file) -> None:
            if isinstance(file, int):
                return
            try:
                self.paths.append(os.path.realpath(os.fsdecode(file)))
            except (TypeError, ValueError):
                self.paths.append(repr(file))

        def guarded_open(file, *args, **kwargs):
            note(file)
            return real_open(file, *args, **kwargs)

        def guarded_os_open(path, *args, **kwargs):
            note(path)
            return real_os_open(path, *args, **kwargs)

        def guarded_read_bytes(self_path):
            note(self_path)
            return real_read_bytes(self_path)

        def guarded_read_text(self_path, *args, **kwargs):
            note(self_path)
            return real_read_text(self_path, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", guarded_open)
        monkeypatch.setattr(io, "open", guarded_open)
        monkeypatch.setattr(os, "open", guarded_os_open)
        monkeypatch.setattr(Path, "read_bytes", guarded_read_bytes)
        monkeypatch.setattr(Path, "read_text", guarded_read_text)

    def outside(self, *allowed: Path) -> list[str]:
        roots = [os.path.realpath(p) for p in allowed]
        return [p for p in self.paths if not any(p == r or p.startswith(r + os.sep) for r in roots)]


WEB_DIR = Path(web.__file__).resolve().parent         # templates and static files


def test_the_open_guard_sees_reads(monkeypatch, tmp_path):
    """The guard below would catch a read: it records builtins.open, os.open and Path.read_*."""
    target = tmp_path / "f.txt"
    target.write_text("x", encoding="utf-8")
    guard = OpenGuard(monkeypatch)
    with open(target, encoding="utf-8") as fh:
        fh.read()
    target.read_bytes()
    os.close(os.open(target, os.O_RDONLY))
    seen = guard.outside(WEB_DIR)
    assert set(seen) == {str(target.resolve())} and len(seen) >= 3


PATH_TRICKS = [
    "../../../../../../etc/passwd",
    "..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%252e%252e%252fetc%252fpasswd",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "file:///etc/passwd",
    "etc/passwd%00.md",
    "%00",
    "xss.md%00",
    "xss.md%00../../etc/passwd",
    "..\\..\\..\\..\\etc\\passwd",
    "%5c..%5c..%5c..%5cetc%5cpasswd",
    "....//....//....//etc/passwd",
    "~root/.bashrc",
    "%ff%fe%fd",
    "a" * 5000,
    "../" * 300 + "etc/passwd",
    "_drafts/secret.md",
    ".hidden.md",
    "notes.txt",
    "../secret.md",
    "..%2fsecret.md",
    "./xss.md",
    "xss.md/",
    "XSS.md",
]


@pytest.mark.parametrize("prefix", ["/articles/", "/api/articles/", "/api/related/"])
@pytest.mark.parametrize("trick", PATH_TRICKS, ids=lambda t: t[:40])
def test_path_tricks_are_404_and_read_nothing(hostile, monkeypatch, prefix, trick):
    guard = OpenGuard(monkeypatch)
    # Werkzeug answers `//` with a 308 to the merged path (/articles//etc/passwd -> /articles/etc/passwd):
    # follow it, the request must still end in a 404.
    resp = hostile.client.get(prefix + trick, follow_redirects=True)
    assert resp.status_code in (404, 400), (prefix + trick, resp.status_code)
    assert all(r.status_code == 308 and urlsplit(r.location).path.startswith(prefix) for r in resp.history)
    body = resp.get_data(as_text=True)
    assert SECRET not in body and "root:x:0:0" not in body
    if prefix.startswith("/api/"):
        error = resp.get_json()["error"]
        assert set(error) == {"code", "message"} and error["code"] in ("not_found", "bad_parameter")
    assert guard.outside(hostile.index, WEB_DIR) == [], "a request read a file outside the index folder"
    assert not [p for p in guard.paths if "passwd" in p or SECRET in p or p.startswith(str(hostile.articles.resolve()))]


@pytest.mark.parametrize("doc_id", ["xss.md", "template.md"])
def test_an_article_is_served_from_the_index_not_from_the_file(hostile, monkeypatch, doc_id):
    """Even a real article is answered from the index: its file is never opened by a request."""
    guard = OpenGuard(monkeypatch)
    for prefix in ("/articles/", "/api/articles/", "/api/related/"):
        assert hostile.client.get(prefix + doc_id).status_code == 200
    assert guard.outside(hostile.index, WEB_DIR) == []


def test_absolute_path_to_a_file_beside_the_articles_is_404(hostile, monkeypatch):
    guard = OpenGuard(monkeypatch)
    for path in (str(hostile.outside), os.path.relpath(hostile.outside, hostile.articles),
                 str(hostile.articles / "xss.md")):
        for prefix in ("/articles/", "/api/articles/"):
            resp = hostile.client.get(prefix + quote(path), follow_redirects=True)
            assert resp.status_code == 404, path
            assert SECRET not in resp.get_data(as_text=True)
    assert guard.outside(hostile.index, WEB_DIR) == []


# -- random query strings ------------------------------------------------------------------------

JUNK_INT = (st.integers(min_value=-10**12, max_value=10**12).map(str)
            | st.sampled_from(["", " ", "0", "-1", "1e3", "٣", "²", "0x10", "NaN", "1.5", " 2 ", "99999999999", "+3"])
            | st.text(max_size=12))
TEXT = st.text(max_size=40) | st.sampled_from(["科技", "tech", "Apple", "iPhone", "2021", "", " "])
DATES = st.text(max_size=40) | st.sampled_from(["2021", "2021-03", "2021-02-30", "..", "2021..2022", "９９９９"])
QUERY = (st.text(max_size=80) | st.text(min_size=495, max_size=520)
         | st.lists(st.sampled_from(['"', "(", ")", "-", "OR", "title:", "date:", "tag:", "猫", "咖啡", "iphone",
                                     "date:2021..", "“", "）"]), max_size=20).map(" ".join))

PARAMS = st.lists(st.one_of(
    st.tuples(st.just("q"), QUERY),
    st.tuples(st.sampled_from(["page", "per_page"]), JUNK_INT),
    st.tuples(st.just("sort"), st.sampled_from(["relevance", "newest", "oldest", "", "RANDOM"]) | st.text(max_size=10)),
    st.tuples(st.sampled_from(["category", "tag", "author", "year"]), TEXT),
    st.tuples(st.sampled_from(["from", "to"]), DATES),
    st.tuples(st.text(max_size=8), st.text(max_size=8)),
), max_size=8)

WEB = settings(max_examples=200, deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def demo_client(demo_index, demo_settings):
    app = web.create_app(demo_settings)
    yield app.test_client()
    web.close_app(app)


def check_api(resp, mimetype: str = "application/json") -> dict:
    assert resp.status_code in (200, 400), (resp.status_code, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == (mimetype if resp.status_code == 200 else "application/json")
    body = resp.get_json()
    if resp.status_code != 200:
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
        assert isinstance(body["error"]["message"], str) and body["error"]["message"]
        assert body["error"]["code"] == "bad_parameter", body
    return body


@WEB
@given(params=PARAMS)
def test_api_search_on_random_parameters(demo_client, params):
    body = check_api(demo_client.get("/api/search?" + urlencode(params)))
    if "error" not in body:
        assert isinstance(body["total"], int) and isinstance(body["hits"], list)
        assert len(body["hits"]) <= body["per_page"]


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(params=PARAMS)
def test_search_page_on_random_parameters(demo_client, params):
    resp = demo_client.get("/?" + urlencode(params))
    assert resp.status_code in (200, 400), resp.status_code
    assert resp.mimetype == "text/html"


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(raw=st.lists(st.tuples(st.binary(max_size=12), st.binary(max_size=60)), max_size=6))
def test_api_search_on_undecodable_query_strings(demo_client, raw):
    """Percent-escapes that are not UTF-8 (%FF), NULs, lone separators."""
    query = "&".join(quote_from_bytes(k) + "=" + quote_from_bytes(v) for k, v in raw)
    check_api(demo_client.get("/api/search?" + query))
    raw_query = b"q=" + b"".join(v for _, v in raw).replace(b"#", b"")
    check_api(demo_client.get("/api/search", query_string=raw_query.decode("latin-1")))


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=520), fmt=st.sampled_from(["", "opensearch"]))
def test_api_suggest_on_random_text(demo_client, q, fmt):
    body = check_api(demo_client.get("/api/suggest", query_string={"q": q, "format": fmt}),
                     "application/x-suggestions+json" if fmt else "application/json")
    if "error" not in body:
        suggestions = body[1] if fmt else body["suggestions"]
        assert all(isinstance(s, str) for s in suggestions)


@pytest.mark.parametrize("size", [501, 10_000, 100_000])
def test_huge_queries_are_400_in_the_error_shape(demo_client, size):
    """(100,000 Chinese characters are a 900 kB URL; waitress refuses request lines over 256 kB
    before Flask sees them, and decoding a bigger one only costs the test time.)"""
    for path in ("/api/search", "/api/suggest"):
        resp = demo_client.get(path, query_string={"q": "猫" * size})
        body = check_api(resp)
        assert resp.status_code == 400 and "limit is 500" in body["error"]["message"]
    page = demo_client.get("/", query_string={"q": "猫" * size})
    assert page.status_code == 400 and page.mimetype == "text/html"


@pytest.mark.parametrize(("params", "status"), [
    ({"page": "0"}, 400), ({"page": "-1"}, 400), ({"page": "abc"}, 400), ({"page": "1e3"}, 400),
    ({"page": "9" * 30}, 400), ({"per_page": "0"}, 400), ({"per_page": "101"}, 400), ({"per_page": "٣"}, 400),
    ({"page": "999", "per_page": "100"}, 400), ({"sort": "random"}, 400), ({"from": "yesterday"}, 400),
    ({"to": "2021-02-30"}, 400), ({"from": "x" * 33}, 400), ({"year": "20x1"}, 400), ({"year": "0000"}, 200),
    ({"year": "9999"}, 200),
    ({"category": ["c"] * 21}, 200), ({"category": [f"c{i}" for i in range(21)]}, 400),
    ({"tag": "t" * 501}, 400),
])
def test_bad_parameters_are_400(demo_client, params, status):
    resp = demo_client.get("/api/search", query_string={"q": "猫", **params})
    check_api(resp)
    assert resp.status_code == status, resp.get_json()

