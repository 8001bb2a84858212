"""The web layer over the real engine: every route, every error shape, escaping, headers, and
the OpenAPI document checked against real responses (so docs and code cannot drift)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from selectolax.lexbor import LexborHTMLParser as HTMLParser

import web
import web.server
from search import Settings
from search.indexer import reindex
from web.text import lang_of, paragraphs, safe_link

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "articles"
IPHONE = "blog/2021-10-10-iphone-13-two-weeks.md"
HOSTILE = "<script>alert(1)</script>"

# Ids with everything a URL can trip on: %, #, ?, quotes, spaces, emoji, full-width letters.
ODD_FILES = {
    'odd ids/R&D 100% "done" #1?.md': (
        "---\ntitle: \"<img src=x onerror=alert(1)> 研发报告\"\nurl: \"javascript:alert(1)\"\n"
        "author: \"<b>Bob</b>\"\ntags: [\"<i>tag</i>\", 研发]\ndate: 2022-01-05\n---\n\n"
        "研发进度：百分之百完成。<script>alert('body')</script>\n\n第二段：一切顺利。\n"
    ),
    "emoji 😀 ＡＢＣ.md": "---\ntitle: 表情文章\ndate: 2022-02-01\nurl: https://example.org/emoji\n---\n\n研发团队喜欢表情。\n",
}


# -- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def cfg(jieba_cache):
    """Settings for these tests: jieba's cache stays in the session's tmp folder (conftest)."""
    def make(index_dir, **overrides) -> Settings:
        return Settings(index_dir=str(index_dir), cache_dir=str(jieba_cache), **overrides)
    return make


@pytest.fixture(scope="session")
def index_dir(demo_index, demo_settings) -> str:
    """The demo corpus indexed once per session by conftest's ``demo_index``."""
    return demo_settings.index_dir


@pytest.fixture(scope="session")
def odd_index_dir(tmp_path_factory, cfg) -> str:
    articles = tmp_path_factory.mktemp("odd-articles")
    for name, text in ODD_FILES.items():
        (articles / name).parent.mkdir(parents=True, exist_ok=True)
        (articles / name).write_text(text, encoding="utf-8")
    path = tmp_path_factory.mktemp("odd-index")
    reindex(cfg(path), str(articles))
    return str(path)


@pytest.fixture(scope="module")
def app(index_dir, cfg):
    application = web.create_app(cfg(index_dir))
    yield application
    web.close_app(application)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def odd_client(odd_index_dir, cfg):
    application = web.create_app(cfg(odd_index_dir))
    yield application.test_client()
    web.close_app(application)


@pytest.fixture()
def empty_client(tmp_path, cfg):
    application = web.create_app(cfg(tmp_path / "no-index-here"))
    return application.test_client()


@pytest.fixture(scope="module")
def openapi(app) -> dict:
    return app.test_client().get("/api/openapi.json").get_json()


def html(resp) -> HTMLParser:
    assert resp.mimetype == "text/html"
    return HTMLParser(resp.get_data(as_text=True))


def error_of(resp) -> dict:
    body = resp.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"]
    return body["error"]


def args_of(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href).query)


def validate(doc: dict, path: str, status: int, body, mimetype: str = "application/json") -> None:
    """Validate ``body`` against the schema the OpenAPI document declares for this response,
    resolving its ``$ref``s inside the document (OpenAPI 3.1 schemas are JSON Schema 2020-12)."""
    schema = doc["paths"][path]["get"]["responses"][str(status)]["content"][mimetype]["schema"]
    registry = Registry().with_resource("urn:sou:openapi", Resource.from_contents(doc, DRAFT202012))
    Draft202012Validator({"$ref": "urn:sou:openapi" + schema["$ref"]}, registry=registry).validate(body)


# -- the search page --------------------------------------------------------------------------

def test_empty_page_shows_query_syntax_with_examples(client):
    resp = client.get("/")
    assert resp.status_code == 200
    page = html(resp)
    box = page.css_first("input#q")
    assert "autofocus" in box.attributes
    assert page.css_first("label[for=q]") is not None
    text = page.body.text()
    for example in ('"open source"', "-3.6", "OR", "(猫 OR 狗)", "title:iPhone", "category:", "tag:",
                    "author:", "date:2021", "date:2021-03..2021-06"):
        assert example in text
    assert "31" in page.css_first(".lede").text()     # the demo corpus has 31 indexed articles
    assert page.css_first("title").text() == "sou 搜"


def test_search_page_shows_highlighted_hits_total_and_time(client):
    page = html(client.get("/?q=简单"))
    hits = page.css("ol.hits > li.hit")
    assert hits
    assert "<mark>简单</mark>" in page.css_first("ol.hits").html
    summary = page.css_first(".summary").text()
    assert re.search(r"\d+\s+results?", summary) and "ms" in summary
    first = hits[0]
    assert first.css_first(".hit-title a").attributes["href"].startswith("/articles/")
    assert first.css_first("time") is not None
    assert "autofocus" not in page.css_first("input#q").attributes


def test_page_links_its_json_twin_and_both_show_the_same_results(client):
    page = html(client.get("/?q=咖啡&sort=newest"))
    twin = page.css_first('link[rel=alternate][type="application/json"]').attributes["href"]
    assert twin.startswith("/api/search?")
    assert args_of(twin) == {"q": ["咖啡"], "sort": ["newest"]}
    assert page.css_first("a.json-twin").attributes["href"] == twin
    data = client.get(twin).get_json()
    page_ids = [a.attributes["href"] for a in page.css(".hit-title a")]
    assert page_ids == [f"/articles/{quote(h['id'], safe='/')}?q=%E5%92%96%E5%95%A1" for h in data["hits"]]


def test_facet_links_toggle_filters(client):
    page = html(client.get("/?q=iphone"))
    link = next(a for a in page.css("a.facet-link") if a.attributes["data-facet"] == "category")
    value = link.css_first(".facet-value").text()
    href = link.attributes["href"]
    assert args_of(href) == {"q": ["iphone"], "category": [value]}

    filtered = html(client.get(href))
    selected = [a for a in filtered.css("a.facet-link.selected")]
    assert [a.css_first(".facet-value").text() for a in selected] == [value]
    assert selected[0].attributes["aria-current"] == "true"
    chip = filtered.css_first(".chips a.chip").attributes["href"]
    for hit in client.get("/api/search", query_string={"q": "iphone", "category": value}).get_json()["hits"]:
        assert value in hit["categories"]
    # following the selected facet again removes the filter
    assert args_of(selected[0].attributes["href"]) == {"q": ["iphone"]}
    assert args_of(chip) == {"q": ["iphone"]}


def test_filters_stay_on_for_the_next_query(client):
    page = html(client.get("/?q=5G&tag=5G"))
    hidden = {(i.attributes["name"], i.attributes["value"]) for i in page.css("form[role=search] input[type=hidden]")}
    assert ("tag", "5G") in hidden


def test_hit_metadata_links_filter(client):
    page = html(client.get("/?q=iphone"))
    hit = page.css_first("li.hit")
    assert args_of(hit.css_first(".tags a").attributes["href"])["tag"]
    assert args_of(hit.css_first(".meta a.category").attributes["href"])["category"]


def test_sort_links_change_the_order(client):
    page = html(client.get("/?q=python"))
    links = {a.text(): a.attributes["href"] for a in page.css("nav.sort a")}
    assert set(links) == {"Relevance", "Newest", "Oldest"}
    assert page.css_first("nav.sort a.current").text() == "Relevance"
    newest = html(client.get(links["Newest"]))
    assert newest.css_first("nav.sort a.current").text() == "Newest"
    dates = [t.attributes["datetime"] for t in newest.css("li.hit .meta time")]
    assert dates == sorted(dates, reverse=True) and len(dates) > 1
    oldest = client.get("/api/search?q=python&sort=oldest").get_json()["hits"]
    assert [h["date"] for h in oldest] == sorted(h["date"] for h in oldest)


def test_pagination_links(client):
    first = html(client.get("/?q=的&per_page=2"))
    nav = first.css_first("nav.pagination")
    assert nav is not None
    assert nav.css_first("a[aria-current=page]").text() == "1"
    assert nav.css_first("a[rel=prev]") is None
    nxt = nav.css_first("a[rel=next]").attributes["href"]
    assert args_of(nxt) == {"q": ["的"], "per_page": ["2"], "page": ["2"]}
    second = html(client.get(nxt))
    assert second.css_first("nav.pagination a[aria-current=page]").text() == "2"
    assert args_of(second.css_first("nav.pagination a[rel=prev]").attributes["href"]) == {"q": ["的"], "per_page": ["2"]}
    assert second.css_first("ol.hits").attributes["start"] == "3"
    ids1 = {a.attributes["href"] for a in first.css(".hit-title a")}
    ids2 = {a.attributes["href"] for a in second.css(".hit-title a")}
    assert ids1 and ids2 and not ids1 & ids2


def test_no_results_shows_the_syntax_help(client):
    page = html(client.get("/?q=zzqqxxnotaword"))
    assert "No results" in page.css_first(".summary").text()
    assert page.css_first(".syntax") is not None


def test_did_you_mean_warnings_and_expansions_are_shown(client):
    warned = html(client.get("/", query_string={"q": "(猫"}))
    assert "missing ')'" in warned.css_first(".warnings").text()
    typo = html(client.get("/?q=ransomwear"))
    link = typo.css_first(".did-you-mean a")
    assert link.text() == "ransomware" and args_of(link.attributes["href"]) == {"q": ["ransomware"]}
    widened = client.get("/api/search?q=抖因").get_json()["expanded"]
    assert widened
    assert widened[0] in html(client.get("/?q=抖因")).css_first(".expanded").text()


def test_hostile_query_is_escaped_everywhere(client):
    for url in (f"/?q={quote(HOSTILE)}", f"/articles/{IPHONE}?q={quote(HOSTILE)}"):
        body = client.get(url).get_data(as_text=True)
        assert HOSTILE not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_hostile_article_data_is_escaped_and_javascript_urls_are_not_linked(odd_client):
    page = odd_client.get("/?q=研发").get_data(as_text=True)
    assert "<img src=x" not in page and "<b>Bob</b>" not in page and "<i>tag</i>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    hit = odd_client.get("/api/search?q=研发").get_json()["hits"]
    odd = next(h for h in hit if h["id"].startswith("odd ids/"))
    article = odd_client.get(f"/articles/{quote(odd['id'], safe='/')}").get_data(as_text=True)
    assert "<script>alert('body')</script>" not in article and "<img src=x" not in article
    assert "javascript:" not in article
    emoji = odd_client.get("/api/search?q=表情").get_json()["hits"][0]
    emoji_page = html(odd_client.get(f"/articles/{quote(emoji['id'], safe='/')}"))
    assert emoji_page.css_first("a.source").attributes["href"] == "https://example.org/emoji"


def test_odd_article_ids_are_quoted_in_links_and_found(odd_client):
    page = html(odd_client.get("/?q=研发"))
    hrefs = [a.attributes["href"] for a in page.css(".hit-title a")]
    assert len(hrefs) == 2
    for href in hrefs:
        path = urlsplit(href).path
        assert " " not in path and "#" not in path and "?" not in path and '"' not in path
        resp = odd_client.get(href)
        assert resp.status_code == 200, href
        detail = odd_client.get(path.replace("/articles/", "/api/articles/", 1)).get_json()
        assert detail["id"] in ODD_FILES
        assert odd_client.get(path.replace("/articles/", "/api/related/", 1)).status_code == 200


# -- the article page -------------------------------------------------------------------------

def test_article_page_highlights_the_query_and_shows_metadata_and_related(client):
    resp = client.get(f"/articles/{IPHONE}?q=iphone")
    assert resp.status_code == 200
    page = html(resp)
    assert page.css_first("h1 mark") is not None
    marks = page.css(".article-body p mark")
    assert marks and {m.text().lower() for m in marks} >= {"iphone"}
    assert len(page.css(".article-body p")) > 3              # paragraphs, not one blob
    meta = page.css_first(".article-meta").text()
    assert "2021-10-10" in meta and "评测" in meta
    assert page.css(".related li a")
    twin = page.css_first('link[rel=alternate][type="application/json"]').attributes["href"]
    assert twin == f"/api/articles/{IPHONE}?q=iphone"
    assert client.get(twin).get_json()["id"] == IPHONE
    back = page.css_first(".back a").attributes["href"]
    assert args_of(back) == {"q": ["iphone"]}


def test_article_page_without_query_has_no_marks(client):
    page = html(client.get(f"/articles/{IPHONE}"))
    assert page.css_first("mark") is None
    assert page.css_first(".back") is None


def test_article_lang_picks_the_font_stack(client):
    trad = html(client.get("/articles/hk-news/article_1201.md"))
    assert trad.css_first("article").attributes["lang"] == "zh-Hant"
    simp = html(client.get(f"/articles/{IPHONE}"))
    assert simp.css_first("article").attributes["lang"] == "zh-Hans"


# -- JSON API ---------------------------------------------------------------------------------

def test_api_search_returns_the_results_object(client, openapi):
    resp = client.get("/api/search?q=茶&category=资讯&per_page=3")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    data = resp.get_json()
    assert data["query"] == "茶" and data["per_page"] == 3 and data["filters"] == {"category": ["资讯"]}
    assert data["hits"] and all("资讯" in h["categories"] for h in data["hits"])
    assert "茶" in resp.get_data(as_text=True)          # readable UTF-8, not \\u escapes
    validate(openapi, "/api/search", 200, data)


def test_api_search_repeatable_filters_and_dates(client, openapi):
    data = client.get("/api/search?q=&year=2021&year=2022&from=2021-06&to=2022-06").get_json()
    assert data["filters"]["year"] == ["2021", "2022"]
    assert data["hits"]
    for hit in data["hits"]:
        assert "2021-06" <= hit["date"][:7] <= "2022-06"
    validate(openapi, "/api/search", 200, data)


def test_api_suggest_completes_the_last_word(client, openapi):
    data = client.get("/api/suggest?q=ip").get_json()
    assert data == {"query": "ip", "suggestions": data["suggestions"]} and "iPhone" in data["suggestions"]
    validate(openapi, "/api/suggest", 200, data)
    more = client.get("/api/suggest", query_string={"q": "python ip"}).get_json()["suggestions"]
    assert "python iPhone" in more
    tagged = client.get("/api/suggest", query_string={"q": "tag:COV"}).get_json()["suggestions"]
    assert "tag:COVID-19" in tagged
    assert client.get("/api/suggest?q=").get_json() == {"query": "", "suggestions": []}
    opensearch = client.get("/api/suggest?q=ip&format=opensearch")
    assert opensearch.mimetype == "application/x-suggestions+json"
    assert opensearch.get_json()[0] == "ip" and "iPhone" in opensearch.get_json()[1]
    validate(openapi, "/api/suggest", 200, opensearch.get_json(), "application/x-suggestions+json")


def test_api_article_and_related(client, openapi):
    detail = client.get(f"/api/articles/{IPHONE}?q=iphone").get_json()
    assert detail["id"] == IPHONE and "<mark>" in detail["body_html"]
    validate(openapi, "/api/articles/{id}", 200, detail)
    related = client.get(f"/api/related/{IPHONE}").get_json()
    assert related["id"] == IPHONE and related["hits"] and all(h["id"] != IPHONE for h in related["hits"])
    validate(openapi, "/api/related/{id}", 200, related)


def test_api_health(client, openapi):
    resp = client.get("/api/health")
    data = resp.get_json()
    assert data["status"] == "ok" and data["documents"] == 31 and data["analyzer_version"]
    assert resp.headers["Cache-Control"] == "no-store"
    validate(openapi, "/api/health", 200, data)


def test_openapi_document_is_valid_and_describes_every_api_route(app, openapi):
    assert openapi["openapi"].startswith("3.1")
    validate(openapi, "/api/openapi.json", 200, openapi)
    for schema in openapi["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    routes = {re.sub(r"<(?:path:)?(\w+)>", r"{\1}", r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    assert routes == set(openapi["paths"])
    limits = {p["name"]: p["schema"] for p in openapi["paths"]["/api/search"]["get"]["parameters"]}
    assert limits["per_page"]["maximum"] == 100 and limits["q"]["maxLength"] == 500


def test_opensearch_description(client):
    resp = client.get("/opensearch.xml")
    assert resp.status_code == 200 and resp.mimetype == "application/opensearchdescription+xml"
    body = resp.get_data(as_text=True)
    assert "<ShortName>sou 搜</ShortName>" in body
    assert 'template="http://localhost/?q={searchTerms}"' in body
    assert "format=opensearch&amp;q={searchTerms}" in body
    page = html(client.get("/"))
    assert page.css_first('link[rel=search]').attributes["href"] == "/opensearch.xml"


# -- errors: one shape, the right status -------------------------------------------------------

@pytest.mark.parametrize("query", [
    {"page": "abc"}, {"per_page": "1.5"}, {"page": "１"}, {"q": "字" * 501},
    {"tag": [f"t{i}" for i in range(21)]}, {"per_page": "101"}, {"per_page": "0"}, {"page": "0"},
    {"page": "-1"}, {"page": "11", "per_page": "100"}, {"sort": "random"}, {"sort": "bogus"},
    {"from": "notadate"}, {"to": "2021-02-30"}, {"year": "20x1"}, {"page": ""}, {"per_page": " "}, {"sort": ""},
])
def test_every_bad_parameter_is_400_bad_parameter(client, openapi, query):
    """One rule for every parameter problem (type, size, range, unknown value): 400, never 422."""
    resp = client.get("/api/search", query_string={"q": "x", **query})
    assert resp.status_code == 400
    err = error_of(resp)
    assert err["code"] == "bad_parameter"
    validate(openapi, "/api/search", 400, resp.get_json())
    page = client.get("/", query_string={"q": "x", **query})
    assert page.status_code == 400 and page.mimetype == "text/html"


def test_no_status_422_is_documented_or_answered(openapi):
    for path, item in openapi["paths"].items():
        assert "422" not in item["get"]["responses"], path


@pytest.mark.parametrize("year", ["0000", "9999", "2021"])
def test_every_four_digit_year_the_spec_allows_is_served(client, openapi, year):
    resp = client.get("/api/search", query_string={"year": year})
    assert resp.status_code == 200
    body = resp.get_json()
    validate(openapi, "/api/search", 200, body)
    assert body["filters"] == {"year": [year]}
    assert all(h["date"].startswith(year) for h in body["hits"])
    if year in ("0000", "9999"):
        assert body["total"] == 0
    else:
        assert body["total"] > 0


def test_empty_filters_are_not_given(client, openapi):
    """The page's date form sends `from=&to=` when left blank: empty filters filter nothing."""
    body = client.get("/api/search?from=&to=&year=&tag=").get_json()
    assert body["filters"] == {} and body["total"] == client.get("/api/search").get_json()["total"]
    validate(openapi, "/api/search", 200, body)


def test_filters_echo_the_date_range(client, openapi):
    body = client.get("/api/search?from=2021-03&to=2021&tag=x").get_json()
    assert body["filters"] == {"tag": ["x"], "from": ["2021-03"], "to": ["2021"]}
    validate(openapi, "/api/search", 200, body)


def test_error_messages_name_the_limit(client):
    assert "100" in error_of(client.get("/api/search?per_page=101"))["message"]
    assert "1000" in error_of(client.get("/api/search?page=11&per_page=100"))["message"]
    assert "page" in error_of(client.get("/api/search?page=abc"))["message"]
    assert client.get("/api/search?page=100&per_page=10").status_code == 200   # exactly max_results is fine


def test_html_routes_get_html_errors(client):
    resp = client.get("/?page=abc")
    assert resp.status_code == 400
    page = html(resp)
    assert "page must be a whole number" in page.text()
    assert client.get("/?per_page=1000").status_code == 400


def test_unknown_article_is_404_in_html_and_json(client, openapi):
    resp = client.get("/articles/no/such/article.md")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    assert "Not found" in html(resp).css_first("h1").text()
    for path, spec in (("/api/articles/no/such.md", "/api/articles/{id}"), ("/api/related/no/such.md", "/api/related/{id}")):
        resp = client.get(path)
        assert resp.status_code == 404 and error_of(resp)["code"] == "not_found"
        validate(openapi, spec, 404, resp.get_json())


def test_unknown_routes(client):
    resp = client.get("/api/nothing/here")
    assert resp.status_code == 404 and resp.mimetype == "application/json"
    assert error_of(resp)["code"] == "not_found"
    resp = client.get("/nothing/here")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    resp = client.post("/api/search")
    assert resp.status_code == 405 and error_of(resp)["code"] == "method_not_allowed"


def test_no_index_answers_503_with_the_command_to_run(empty_client, openapi):
    for path in ("/api/search?q=x", "/api/health", "/api/suggest?q=x", f"/api/articles/{IPHONE}"):
        resp = empty_client.get(path)
        assert resp.status_code == 503, path
        err = error_of(resp)
        assert err["code"] == "index_missing" and "sou reindex" in err["message"]
        assert resp.headers["Retry-After"]
    validate(openapi, "/api/search", 503, empty_client.get("/api/search").get_json())
    page = empty_client.get("/")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "sou reindex PATH" in html(page).css_first("pre.command").text()
    assert empty_client.get("/api/openapi.json").status_code == 200      # needs no index


def test_server_picks_up_an_index_built_after_it_started(tmp_path, cfg):
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(EXAMPLES / IPHONE, articles / "iphone.md")
    settings = cfg(tmp_path / "index")
    application = web.create_app(settings)
    client = application.test_client()
    assert client.get("/api/search?q=iphone").status_code == 503
    reindex(settings, str(articles))
    data = client.get("/api/search?q=iphone").get_json()
    assert data["total"] == 1
    shutil.copy(EXAMPLES / "blog/2022-11-02-python-3-11-new-features.md", articles / "python.md")
    reindex(settings, str(articles))                        # another reindex: seen on the next request
    assert client.get("/api/health").get_json()["documents"] == 2
    web.close_app(application)


class _Exploding:
    """An engine whose search fails unexpectedly: the user must still get the error shape."""

    def refresh(self) -> None:
        pass

    def search(self, request):
        raise RuntimeError("secret internal detail /home/user/index")

    def close(self) -> None:
        pass


def test_unexpected_errors_are_500_without_a_traceback(openapi, caplog, cfg, tmp_path):
    client = web.create_app(cfg(tmp_path), engine=_Exploding()).test_client()
    resp = client.get("/api/search?q=x")
    assert resp.status_code == 500
    err = error_of(resp)
    assert err["code"] == "internal" and "secret" not in err["message"]
    validate(openapi, "/api/search", 500, resp.get_json())
    page = client.get("/?q=x")
    assert page.status_code == 500 and "Traceback" not in page.get_data(as_text=True)
    assert "secret" not in page.get_data(as_text=True)
    assert any("unhandled error" in r.message for r in caplog.records)


# -- headers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/?q=茶", f"/articles/{IPHONE}", "/api/search?q=茶", "/static/sou.css",
                                  "/nope", "/api/nope", "/api/search?page=x"])
def test_security_headers_on_every_response(client, path):
    with client.get(path) as resp:
        resp.get_data()
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"]


def test_pages_have_no_inline_script_or_style(client):
    for path in ("/", "/?q=茶", f"/articles/{IPHONE}?q=iphone", "/nope"):
        page = html(client.get(path))
        assert all(s.attributes.get("src") for s in page.css("script"))
        assert not page.css("style") and not page.css("[style]")
        assert not [n for n in page.css("*") if any(a.startswith("on") for a in n.attributes)]


def test_accessibility_landmarks(client):
    page = html(client.get("/?q=茶"))
    assert page.css_first("a.skip-link").attributes["href"] == "#main"
    assert page.css_first("main#main") and page.css_first("header") and page.css_first("footer")
    assert page.css_first("form[role=search]") and page.css_first("aside")
    assert page.css_first("html").attributes["lang"] == "en"


def test_cors_is_off_by_default(client):
    resp = client.get("/api/search?q=x", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_cors_when_configured(index_dir, cfg):
    settings = cfg(index_dir, cors_origins="https://a.example, https://b.example")
    application = web.create_app(settings)
    client = application.test_client()
    ok = client.get("/api/health", headers={"Origin": "https://b.example"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://b.example"
    assert "Origin" in ok.headers["Vary"]
    assert "Access-Control-Allow-Origin" not in client.get("/api/health", headers={"Origin": "https://c.example"}).headers
    assert "Access-Control-Allow-Origin" not in client.get("/", headers={"Origin": "https://b.example"}).headers
    web.close_app(application)
    anyone = web.create_app(cfg(index_dir, cors_origins="*"))
    resp = anyone.test_client().get("/api/suggest?q=ip", headers={"Origin": "https://x.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    web.close_app(anyone)


# -- app factory and server --------------------------------------------------------------------

def test_create_app_opens_nothing_until_a_request(tmp_path, cfg):
    application = web.create_app(cfg(tmp_path / "missing"))
    assert application.extensions["sou"]._engine is None
    assert not (tmp_path / "missing").exists()


def test_serve_runs_waitress_with_the_settings(monkeypatch, tmp_path, cfg):
    """One process: waitress in this process on the socket serve() bound (tests/test_serve.py
    runs the real thing, with more processes, as a user would)."""
    calls, lines = [], []

    class Recorder:
        def __init__(self, app, **kw) -> None:
            calls.append((app, kw, kw["sockets"][0].getsockname()))

        def run(self) -> None:
            pass

    monkeypatch.setattr(web.server.waitress, "create_server", Recorder)
    web.server.serve(cfg(tmp_path, host="127.0.0.1", port=0, threads=3, processes=1), echo=lines.append)
    (app, kw, (host, port)), = calls
    assert {k: v for k, v in kw.items() if k != "sockets"} == {"threads": 3, "ident": "sou"}
    assert host == "127.0.0.1" and port > 0
    assert kw["sockets"][0].fileno() == -1            # closed when the server stopped
    assert app.test_client().get("/api/health").status_code == 503
    assert lines[-2:] == [f"sou: serving http://127.0.0.1:{port}/ (1 process × 3 threads, index {tmp_path})",
                          "sou: stopped"]


# -- display helpers ---------------------------------------------------------------------------

def test_paragraphs_keep_highlights_on_their_paragraph():
    from search.models import Marked

    text = "第一段有猫。\n\n第二段\n也有猫。\n \n\n末段"
    parts = paragraphs(Marked(text, ((4, 5), (14, 15))))
    assert [p.text for p in parts] == ["第一段有猫。", "第二段\n也有猫。", "末段"]
    assert [p.to_html() for p in parts][:2] == ["第一段有<mark>猫</mark>。", "第二段\n也有<mark>猫</mark>。"]


@pytest.mark.parametrize(("text", "lang"), [("國家安全法", "zh-Hant"), ("国家安全法", "zh-Hans"),
                                             ("open source", "en"), ("咖啡", "zh")])
def test_lang_of(text, lang):
    assert lang_of(text) == lang


@pytest.mark.parametrize(("url", "ok"), [("https://a.example/x", True), ("http://a", True),
                                          ("javascript:alert(1)", False), (" JavaScript:x", False),
                                          ("data:text/html,x", False), ("", False), ("/relative", False)])
def test_safe_link(url, ok):
    assert (safe_link(url) is not None) == ok


def test_openapi_json_is_plain_json(client):
    assert json.loads(client.get("/api/openapi.json").get_data(as_text=True))["info"]["title"] == "sou 搜 JSON API"


# -- what the audits of issue 11 found ----------------------------------------------------------

LONG_ID = "long/transcript.md"
LONG_URL = "https://news.example/%E6%96%B0%E8%81%9E/%E9%A6%99%E6%B8%AF/" + "%E9%95%B7%E6%96%87" * 30 + "?id=1"


def long_body(paragraphs: int = 2600) -> str:
    """An invented transcript of ~260,000 characters: numbered paragraphs, each with 議會 and
    the Latin word budget, so highlights can be checked in every part."""
    return "\n\n".join(f"第{i}段：議員在議會討論budget和交通安排，市民在會場外排隊等候旁聽。" * 2
                       for i in range(paragraphs))


@pytest.fixture(scope="module")
def long_client(tmp_path_factory, cfg):
    articles = tmp_path_factory.mktemp("long-articles")
    (articles / "long").mkdir()
    (articles / LONG_ID).write_text(
        f"---\ntitle: 議會長篇紀錄\ndate: 2022-03-01\nauthor: 記者林勵\nurl: \"{LONG_URL}\"\n"
        f"tags: [香港獨立, 議會]\n---\n\n{long_body()}\n", encoding="utf-8")
    for i, (tag, author) in enumerate([("香港独立", "林勵"), ("香港独立", "記者林勵"), ("香港獨立", "王小明")]):
        (articles / f"short{i}.md").write_text(
            f"---\ntitle: 短文{i}\ndate: 2022-04-0{i + 1}\nauthor: {author}\ntags: [{tag}]\n---\n\n議會今日休會。\n",
            encoding="utf-8")
    index = tmp_path_factory.mktemp("long-index")
    reindex(cfg(index), str(articles))
    application = web.create_app(cfg(index, article_chars=100_000))
    yield application.test_client()
    web.close_app(application)


def test_a_long_article_page_shows_one_part_and_links_the_rest(long_client):
    whole = long_body()
    page = html(long_client.get(f"/articles/{LONG_ID}?q=議會"))
    body = "\n\n".join(p.text() for p in page.css(".article-body p"))
    assert 50_000 <= len(body) <= 100_000 and whole.startswith(body)
    assert page.css(".article-body mark")
    assert all(m.text() == "議會" for m in page.css(".article-body mark"))
    assert {a.text() for a in page.css(".related li a")} >= {"短文0", "短文1", "短文2"}
    nxt = page.css_first("a.next-part").attributes["href"]
    assert args_of(nxt)["q"] == ["議會"]
    shown, parts = body, 1
    while nxt:
        part = html(long_client.get(nxt))
        text = "\n\n".join(p.text() for p in part.css(".article-body p"))
        assert {m.text() for m in part.css(".article-body mark")} == {"議會"}
        assert "From the beginning" in part.css_first(".notice.part").text()
        shown += "\n\n" + text
        parts += 1
        link = part.css_first("a.next-part")
        nxt = link.attributes["href"] if link else None
    assert shown == whole and parts == 3


def test_the_article_api_reads_a_long_body_in_parts(long_client, openapi):
    whole, offset, parts = long_body(), 0, []
    while offset is not None:
        resp = long_client.get(f"/api/articles/{LONG_ID}", query_string={"q": "budget", "offset": offset})
        detail = resp.get_json()
        validate(openapi, "/api/articles/{id}", 200, detail)
        assert detail["body_offset"] == offset and detail["body_chars"] == len(whole)
        assert len(detail["body"]) <= 100_000
        for a, b in detail["body_html"] and [(a, b) for a, b in _ranges_of(detail)]:
            assert detail["body"][a:b] == "budget"
        parts.append(detail["body"])
        offset = detail["next_offset"]
    assert "".join(parts) == whole and len(parts) == 3
    small = long_client.get(f"/api/articles/{LONG_ID}?limit=10").get_json()
    assert small["body"] == whole[:10] and small["next_offset"] == 10
    for bad in ("offset=-1", "limit=0", "limit=100001", "offset=x"):
        resp = long_client.get(f"/api/articles/{LONG_ID}?{bad}")
        assert resp.status_code == 400 and error_of(resp)["code"] == "bad_parameter", bad


def _ranges_of(detail: dict) -> list[tuple[int, int]]:
    """The highlight ranges of a body_html, recovered from its <mark> tags."""
    out, pos, plain = [], 0, 0
    html_text = detail["body_html"]
    while (start := html_text.find("<mark>", pos)) != -1:
        plain += len(_unescape(html_text[pos:start]))
        end = html_text.index("</mark>", start)
        word = _unescape(html_text[start + 6:end])
        out.append((plain, plain + len(word)))
        plain += len(word)
        pos = end + 7
    return out


def _unescape(text: str) -> str:
    import html as htmllib
    return htmllib.unescape(text)


def test_a_long_source_url_is_shown_short_and_decoded(long_client):
    link = html(long_client.get(f"/articles/{LONG_ID}")).css_first("a.source")
    assert link.attributes["href"] == LONG_URL
    assert "%E" not in link.text() and "新聞/香港" in link.text()
    assert len(link.text()) <= 60 and "…" in link.text()


def test_facet_values_that_differ_only_in_script_are_one_value(long_client):
    body = long_client.get("/api/search?q=議會").get_json()
    tags = {f["value"]: f["count"] for f in body["facets"]["tags"]}
    assert tags.get("香港独立") == 4 and "香港獨立" not in tags       # 2 + 2 articles; the common spelling
    for spelling in ("香港独立", "香港獨立"):
        picked = long_client.get("/api/search", query_string={"q": "議會", "tag": spelling}).get_json()
        assert picked["total"] == 4
        assert [f for f in picked["facets"]["tags"] if f["selected"]] == [
            {"value": "香港独立", "count": 4, "selected": True}]


def test_author_filter_and_author_field_follow_one_rule(long_client):
    by_filter = long_client.get("/api/search", query_string={"author": "林勵"}).get_json()
    by_field = long_client.get("/api/search", query_string={"q": "author:林勵"}).get_json()
    ids = sorted(h["id"] for h in by_filter["hits"])
    assert ids == sorted(h["id"] for h in by_field["hits"]) == [LONG_ID, "short0.md", "short1.md"]
    assert {h["author"] for h in by_filter["hits"]} == {"林勵", "記者林勵"}


def test_suggest_answers_400_for_an_unknown_format(client, openapi):
    for fmt in ("bogus", "null", "OPENSEARCH", ""):
        resp = client.get("/api/suggest", query_string={"q": "ip", "format": fmt})
        assert resp.status_code == 400, fmt
        assert error_of(resp)["code"] == "bad_parameter"
        validate(openapi, "/api/suggest", 400, resp.get_json())
    pair = client.get("/api/suggest?q=ip&format=opensearch").get_json()
    assert isinstance(pair[0], str) and isinstance(pair[1], list) and len(pair) == 2


@pytest.mark.parametrize("path", ["/api/articles/%2Fetc%2Fpasswd", "/api/articles//etc/passwd", "/api//search",
                                  "/api/search/", "/api/related/%2F%2Fx", "/api/articles/a//b.md"])
def test_every_api_answer_is_json(client, path):
    resp = client.get(path)
    assert resp.status_code == 404, (path, resp.status_code, resp.headers.get("Location"))
    assert resp.mimetype == "application/json" and error_of(resp)["code"] == "not_found"


def test_health_hides_server_paths_unless_a_setting_allows(client, index_dir, cfg, openapi):
    data = client.get("/api/health").get_json()
    assert "index_dir" not in data and "root" not in data and index_dir not in json.dumps(data)
    application = web.create_app(cfg(index_dir, health_paths=True))
    shown = application.test_client().get("/api/health").get_json()
    web.close_app(application)
    assert shown["index_dir"] == index_dir and shown["root"].endswith("articles")
    validate(openapi, "/api/health", 200, shown)


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_text_answers_are_compressed(client, encoding):
    import gzip

    import brotli

    decode = brotli.decompress if encoding == "br" else gzip.decompress
    for path in ("/?q=香港", "/api/search?q=香港", "/static/sou.css"):
        plain = client.get(path)
        packed = client.get(path, headers={"Accept-Encoding": encoding})
        assert packed.headers["Content-Encoding"] == encoding, path
        assert "Accept-Encoding" in packed.headers["Vary"]
        data = packed.get_data()
        assert len(data) < len(plain.get_data()) / 2

        def same(body: bytes) -> bytes:          # two runs differ only in the time they took
            return re.sub(rb'"took_ms": ?[0-9.]+|class="took">[^<]*', b"", body)

        assert same(decode(data)) == same(plain.get_data())
        if "Content-Length" in packed.headers:
            assert int(packed.headers["Content-Length"]) == len(data)
    small = client.get("/api/suggest?q=zzzz", headers={"Accept-Encoding": encoding})
    assert "Content-Encoding" not in small.headers             # under 500 bytes: not worth it
    assert "Content-Encoding" not in client.get("/?q=香港").headers     # the client did not ask


def test_no_results_page_has_no_empty_sidebar(client):
    page = html(client.get("/?q=zzzqqqxx"))
    assert "Nothing matched" in page.text()
    assert page.css_first("aside.facets") is None


@pytest.mark.parametrize("path", ["/", "/?q=茶", f"/articles/{IPHONE}", "/?q=zzzqqqxx"])
def test_pages_have_a_meta_description(client, path):
    meta = html(client.get(path)).css_first('meta[name="description"]')
    assert meta is not None and len(meta.attributes["content"]) > 20
