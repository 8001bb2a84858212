"""The Meilisearch-compatible routes through Flask's test client: parameter checks with
Meilisearch's codes and messages, the document and ``_formatted`` shapes, crops, paging limits,
the refused writes, CORS, and the optional key (pages, sou's API, Meilisearch routes).
tests/test_meili_clients.py drives the same routes with the real JS clients."""

from __future__ import annotations

import json
import re

import pytest
from helpers import write_article

import web
from search.errors import ConfigError
from search.indexer import reindex
from search.models import Marked
from web.auth import COOKIE, session_token
from web.meili_format import crop

CAT_NEWS = "hk-news/article_1811.md"
KEY = "s3cret-team-key"


@pytest.fixture(scope="module")
def app(demo_index, demo_settings):
    application = web.create_app(demo_settings)
    yield application
    web.close_app(application)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def private_app(demo_index, demo_settings):
    application = web.create_app(demo_settings.replace(api_key=KEY, cors_origins="https://theme.example"))
    yield application
    web.close_app(application)


@pytest.fixture()
def private(private_app):
    return private_app.test_client()


def post(client, body, path="/indexes/articles/search", **kw):
    return client.post(path, data=json.dumps(body, ensure_ascii=False), content_type="application/json", **kw)


def meili_error(resp, status: int, code: str) -> str:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"message", "code", "type", "link"}
    assert body["code"] == code and body["link"] == f"https://docs.meilisearch.com/errors#{code}"
    return body["message"]


# -- parameters ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "code", "message"), [
    ({"limit": "doggo"}, "invalid_search_limit",
     'Invalid value type at `.limit`: expected a positive integer, but found a string: `"doggo"`'),
    ({"offset": -1}, "invalid_search_offset",
     "Invalid value type at `.offset`: expected a positive integer, but found a negative integer: `-1`"),
    ({"page": "2"}, "invalid_search_page", None), ({"hitsPerPage": True}, "invalid_search_hits_per_page", None),
    ({"q": ["doggo"]}, "invalid_search_q",
     'Invalid value type at `.q`: expected a string, but found an array: `["doggo"]`'),
    ({"attributesToRetrieve": "doggo"}, "invalid_search_attributes_to_retrieve",
     'Invalid value type at `.attributesToRetrieve`: expected an array, but found a string: `"doggo"`'),
    ({"facets": [1]}, "invalid_search_facets",
     "Invalid value type at `.facets[0]`: expected a string, but found a positive integer: `1`"),
    ({"sort": "date:desc"}, "invalid_search_sort", None),
    ({"filter": True}, "invalid_search_filter",
     "Invalid syntax for the filter parameter: `expected String, Array, found: true`."),
    ({"matchingStrategy": "doggo"}, "invalid_search_matching_strategy",
     "Unknown value `doggo` at `.matchingStrategy`: expected one of `last`, `all`, `frequency`"),
    ({"cropLength": 1.5}, "invalid_search_crop_length", None),
    ({"highlightPreTag": ["doggo"]}, "invalid_search_highlight_pre_tag", None),
    ({"cropMarker": None}, "invalid_search_crop_marker", None),
    ({"showRankingScore": "yes"}, "invalid_search_show_ranking_score", None),
    ({"showMatchesPosition": 1}, "invalid_search_show_matches_position", None),
    ({"marin": "hello"}, "bad_request", None),
    ({"vector": [0.1, 0.2]}, "invalid_search_vectors", "sou does not support `vector`: sou has no vector store."),
    ({"hybrid": {"embedder": "default"}}, "invalid_search_hybrid_query", None),
    ({"distinct": "id"}, "invalid_search_distinct", None),
    ({"rankingScoreThreshold": 0.5}, "invalid_search_ranking_score_threshold", None),
    ({"attributesToSearchOn": ["title"]}, "invalid_search_attributes_to_search_on", None),
    ({"q": "x" * 501}, "invalid_search_q", None),
    ({"facets": ["title"]}, "invalid_search_facets",
     "Invalid facet distribution: Pattern `title` is not filterable. Available filterable attributes patterns are: "
     "`author, categories, tags, year`."),
    ({"facets": ["date"]}, "invalid_search_facets", None),
    ({"sort": ["title:asc"]}, "invalid_search_sort",
     "Index `articles`: Attribute `title` is not sortable. Available sortable attributes are: `date, timestamp`."),
    ({"sort": ["date"]}, "invalid_search_sort",
     "Invalid syntax for the sort parameter: expected expression ending by `:asc` or `:desc`, found `date`."),
    ({"sort": ["date:desc", "timestamp:asc"]}, "invalid_search_sort", None),
])
def test_bad_parameters_get_meilisearchs_code_and_message(client, body, code, message):
    got = meili_error(post(client, body), 400, code)
    if message:
        assert got == message
    else:
        assert got


def test_parameters_that_ask_for_nothing_unsupported_are_accepted(client):
    resp = post(client, {"q": "猫", "vector": None, "retrieveVectors": False, "attributesToSearchOn": ["*"],
                         "locales": ["zho"], "showRankingScoreDetails": False, "hybrid": None,
                         "attributesToRetrieve": ["id"]})
    assert resp.status_code == 200 and len(resp.get_json()["hits"]) == 2


@pytest.mark.parametrize(("query", "code", "message"), [
    ("limit=doggo", "invalid_search_limit", "Invalid value in parameter `limit`: could not parse `doggo` as a "
                                            "positive integer"),
    ("showRankingScore=yes", "invalid_search_show_ranking_score", "Invalid value in parameter `showRankingScore`: "
     "could not parse `yes` as a boolean, expected either `true` or `false`"),
    ("matchingStrategy=doggo", "invalid_search_matching_strategy",
     "Unknown value `doggo` for parameter `matchingStrategy`: expected one of `last`, `all`, `frequency`"),
    ("marin=1", "bad_request", None),
    ("filter=tags%20%3D", "invalid_search_filter", "Was expecting a value but instead got nothing.\n7:7 tags ="),
])
def test_bad_get_parameters(client, query, code, message):
    got = meili_error(client.get(f"/indexes/articles/search?{query}"), 400, code)
    assert got == message or message is None


def test_get_parameters_take_lists_and_json_filters(client):
    resp = client.get("/indexes/articles/search?q=&filter=%5B%5B%22tags%20%3D%20%E7%8C%AB%22%5D%5D"
                      "&attributesToRetrieve=id,tags&facets=tags,year&sort=date:desc")
    body = resp.get_json()
    assert resp.status_code == 200
    assert [hit["id"] for hit in body["hits"]] == [CAT_NEWS, "blog/2019-06-16-adopting-a-ginger-cat.markdown"]
    assert set(body["hits"][0]) == {"id", "tags"} and set(body["facetDistribution"]) == {"tags", "year"}


@pytest.mark.parametrize(("headers", "data", "status", "code"), [
    ({}, b'{"q": "x"}', 415, "missing_content_type"),
    ({"Content-Type": "text/plain"}, b'{"q": "x"}', 415, "invalid_content_type"),
    ({"Content-Type": "application/json"}, b"", 400, "missing_payload"),
    ({"Content-Type": "application/json"}, b'{"q": ', 400, "malformed_payload"),
    ({"Content-Type": "application/json"}, b'["q"]', 400, "bad_request"),
    ({"Content-Type": "application/json"}, b'{"q": "' + b"x" * 70_000 + b'"}', 413, "payload_too_large"),
])
def test_bodies_that_are_not_a_json_object(client, headers, data, status, code):
    meili_error(client.post("/indexes/articles/search", data=data, headers=headers), status, code)


# -- results -------------------------------------------------------------------------------------

def test_documents_have_the_articles_fields_and_numbers_for_dates(client):
    hit = post(client, {"filter": f'id = "{CAT_NEWS}"'}).get_json()["hits"][0]
    assert list(hit) == ["id", "title", "body", "excerpt", "url", "date", "timestamp", "year", "author",
                         "categories", "tags"]
    assert hit["timestamp"] == 1601769600 and hit["year"] == 2020 and hit["date"] == "2020-10-04T00:00:00+00:00"
    assert hit["author"] == "記者馮嘉慧" and hit["categories"] == ["港聞"] and hit["url"] == "https://example.org/news/1811"
    glossary = post(client, {"filter": "id = glossary.md"}).get_json()["hits"][0]
    assert glossary["date"] is None and glossary["year"] is None and glossary["tags"] == []


def test_formatted_holds_highlighted_and_retrieved_fields_with_numbers_as_strings(client):
    hit = post(client, {"q": "貓", "filter": f'id = "{CAT_NEWS}"', "attributesToRetrieve": ["id", "year"],
                        "attributesToHighlight": ["title", "author"]}).get_json()["hits"][0]
    assert set(hit) == {"id", "year", "_formatted"}
    assert hit["_formatted"] == {"id": CAT_NEWS, "title": "動物團體週末舉辦領養日 三十多隻<em>貓</em>尋找新家",
                                 "year": "2020", "author": "記者馮嘉慧"}
    none = post(client, {"q": "貓", "attributesToRetrieve": [], "attributesToHighlight": ["tags"], "limit": 1})
    assert none.get_json()["hits"][0] == {"_formatted": {"tags": ["<em>貓</em>", "領養", "動物權益", "寵物"]}}
    plain = post(client, {"q": "貓", "attributesToRetrieve": ["id"], "limit": 1}).get_json()["hits"][0]
    assert "_formatted" not in plain


def test_highlights_follow_sous_matches_not_the_query_string(client):
    # a Simplified query lights up the Traditional characters it matched, in every field
    hit = post(client, {"q": "动物 领养", "filter": f'id = "{CAT_NEWS}"', "attributesToHighlight": ["*"],
                        "attributesToRetrieve": []}).get_json()["hits"][0]["_formatted"]
    assert "<em>動物</em>" in hit["title"] and "<em>領養</em>" in hit["title"]
    assert "<em>領養</em>" in hit["tags"] and "<em>動物</em>權益" in hit["tags"]
    assert "<em>領養</em>" in hit["excerpt"]


def test_every_attribute_cropped_with_its_own_length(client):
    hit = post(client, {"q": "貓", "filter": f'id = "{CAT_NEWS}"', "attributesToCrop": ["*:3", "body:6"],
                        "cropMarker": "...", "attributesToRetrieve": ["id"]}).get_json()["hits"][0]["_formatted"]
    assert hit["body"].startswith("...") and hit["body"].endswith("...") and "貓" in hit["body"]
    assert len(hit["excerpt"]) < len(hit["body"]) and "<em>" not in hit["body"]
    assert hit["id"] == CAT_NEWS                 # a path is one word to crop


def test_matches_position_is_in_utf8_bytes(client):
    hit = post(client, {"q": "貓", "filter": f'id = "{CAT_NEWS}"', "showMatchesPosition": True,
                        "attributesToRetrieve": ["title", "tags"]}).get_json()["hits"][0]
    title = hit["title"].encode("utf-8")
    first = hit["_matchesPosition"]["title"][0]
    assert title[first["start"]:first["start"] + first["length"]].decode("utf-8") == "貓"
    assert hit["_matchesPosition"]["tags"] == [{"start": 0, "length": 3, "indices": [0]}]


def test_facets_star_counts_every_facet(client):
    body = post(client, {"facets": ["*"], "limit": 0}).get_json()
    assert set(body["facetDistribution"]) == {"author", "categories", "tags", "year"}
    assert list(body["facetDistribution"]["year"]) == sorted(body["facetDistribution"]["year"])
    assert body["facetDistribution"]["author"]["Mei Ling Ho"] == 3


def test_paging_stops_at_max_results_like_meilisearchs_max_total_hits(demo_settings):
    app = web.create_app(demo_settings.replace(max_results=12, max_per_page=5))
    try:
        c = app.test_client()
        deep = post(c, {"offset": 40, "limit": 3, "attributesToRetrieve": ["id"]}).get_json()
        assert deep["hits"] == [] and deep["offset"] == 12 and deep["limit"] == 0 and deep["estimatedTotalHits"] == 12
        near = post(c, {"offset": 10, "limit": 5, "attributesToRetrieve": ["id"]}).get_json()
        assert len(near["hits"]) == 2 and near["limit"] == 2
        pages = post(c, {"page": 2, "hitsPerPage": 50, "attributesToRetrieve": ["id"]}).get_json()
        assert pages["hitsPerPage"] == 5 and len(pages["hits"]) == 5 and pages["totalPages"] == 3
        assert pages["totalHits"] == 12
        nothing = post(c, {"page": 0, "hitsPerPage": 5}).get_json()
        assert nothing["hits"] == [] and nothing["page"] == 0
    finally:
        web.close_app(app)


def test_tags_are_not_html_escaped_as_in_meilisearch(tmp_path, settings_factory):
    articles = tmp_path / "articles"
    write_article(articles, "rd.md", "<b>R&D</b> 研发周报", "本周研发进度顺利。", tags="研发")
    settings = settings_factory()
    reindex(settings, articles, full=True)
    app = web.create_app(settings)
    try:
        hit = post(app.test_client(), {"q": "研发", "attributesToHighlight": ["title"]}).get_json()["hits"][0]
        assert hit["_formatted"]["title"] == "<b>R&D</b> <em>研发</em>周报"
        assert hit["title"] == "<b>R&D</b> 研发周报"
    finally:
        web.close_app(app)


# -- crop ----------------------------------------------------------------------------------------

def test_crop_counts_latin_words_and_keeps_the_match_inside():
    text = "Le Petit Prince is a novella by Antoine de Saint-Exupery, first published in 1943."
    start = text.index("Prince")
    out = crop(Marked(text, ((start, start + 6),)), 2, "…")
    assert out.text == "…Petit Prince…" and out.text[out.ranges[0][0]:out.ranges[0][1]] == "Prince"
    assert crop(Marked(text, ()), 3, "…").text == "Le Petit Prince…"
    assert crop(Marked(text, ()), 50, "…").text == text


def test_crop_counts_chinese_words_as_jieba_cuts_them():
    text = "秋涼天氣適合行山，不少市民趁周末到西貢一帶郊遊。記者今早在麥理浩徑第二段起點所見，上午九時已有大批行山人士等候小巴。"
    at = text.index("麥理浩徑")
    out = crop(Marked(text, ((at, at + 4),)), 6, "…")
    assert out.text.startswith("…") and out.text.endswith("…") and "麥理浩徑" in out.text
    assert 8 <= len(out.text) <= 20
    a, b = out.ranges[0]
    assert out.text[a:b] == "麥理浩徑"


# -- routes sou does not serve --------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("post", "/indexes/articles/documents"), ("put", "/indexes/articles/documents"),
    ("delete", "/indexes/articles/documents/glossary.md"), ("patch", "/indexes/articles/settings"),
    ("post", "/indexes"), ("delete", "/indexes/articles"), ("post", "/keys"), ("post", "/dumps"),
    ("post", "/swap-indexes"), ("post", "/health"),
])
def test_writes_are_refused_with_the_reason(client, method, path):
    resp = getattr(client, method)(path, json={"id": "x"})
    message = meili_error(resp, 405, "bad_request")
    assert "sou reindex PATH" in message and path in message
    assert resp.headers["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("path", ["/tasks", "/tasks/1", "/keys", "/indexes/articles/settings",
                                  "/indexes/articles/documents", "/experimental-features"])
def test_reads_of_what_sou_does_not_have_are_404(client, path):
    assert "does not serve" in meili_error(client.get(path), 404, "bad_request")


def test_unknown_index_and_document(client):
    assert meili_error(client.get("/indexes/movies"), 404, "index_not_found") == "Index `movies` not found."
    meili_error(post(client, {"q": "x"}, path="/indexes/movies/search"), 404, "index_not_found")
    meili_error(client.get("/indexes/movies/documents/glossary.md"), 404, "index_not_found")
    meili_error(client.get("/indexes/articles/documents/none.md"), 404, "document_not_found")
    meili_error(client.get("/indexes?limit=x"), 400, "invalid_index_limit")


def test_the_index_uid_is_a_setting(demo_settings):
    app = web.create_app(demo_settings.replace(meili_index="notes"))
    try:
        c = app.test_client()
        assert c.get("/indexes").get_json()["results"][0]["uid"] == "notes"
        assert post(c, {"q": "猫"}, path="/indexes/notes/search").status_code == 200
        meili_error(post(c, {"q": "猫"}), 404, "index_not_found")
    finally:
        web.close_app(app)


def test_no_index_yet_reads_as_index_not_found_with_the_command(settings_factory):
    app = web.create_app(settings_factory())
    try:
        c = app.test_client()
        assert "sou reindex" in meili_error(post(c, {"q": "x"}), 404, "index_not_found")
        assert c.get("/health").get_json() == {"status": "available"}
    finally:
        web.close_app(app)


def test_unexpected_errors_are_meilisearch_shaped_500s(client, monkeypatch, caplog):
    from search.engine import Engine

    def boom(self, request):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Engine, "search", boom)
    message = meili_error(post(client, {"q": "x"}), 500, "internal")
    assert "disk on fire" not in message and "Traceback" not in message


# -- CORS ----------------------------------------------------------------------------------------

def test_preflight_from_an_allowed_site_lets_the_client_post_with_its_headers(private):
    resp = private.options("/indexes/articles/search", headers={
        "Origin": "https://theme.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-meilisearch-client"})
    assert resp.status_code == 200                                 # no key needed for a preflight
    assert resp.headers["Access-Control-Allow-Origin"] == "https://theme.example"
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert resp.headers["Access-Control-Allow-Headers"] == "authorization,content-type,x-meilisearch-client"
    other = private.options("/indexes/articles/search", headers={"Origin": "https://evil.example",
                                                                  "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_no_cors_unless_configured(client):
    resp = post(client, {"q": "x"}, headers={"Origin": "https://theme.example"})
    assert resp.status_code == 200 and "Access-Control-Allow-Origin" not in resp.headers


# -- the key -------------------------------------------------------------------------------------

def test_without_a_key_setting_everything_is_public(client):
    assert client.get("/").status_code == 200
    assert client.get("/api/search?q=x").status_code == 200
    assert post(client, {"q": "x"}).status_code == 200


def test_meilisearch_routes_answer_like_meilisearch(private):
    assert private.get("/health").get_json() == {"status": "available"}
    assert meili_error(post(private, {"q": "x"}), 401, "missing_authorization_header") == (
        "The Authorization header is missing. It must use the bearer authorization method.")
    wrong = post(private, {"q": "x"}, headers={"Authorization": "Bearer nope"})
    assert meili_error(wrong, 403, "invalid_api_key") == "The provided API key is invalid."
    assert wrong.get_json()["type"] == "auth"
    assert post(private, {"q": "x"}, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert private.get("/version", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    meili_error(private.get("/version"), 401, "missing_authorization_header")


def test_sous_api_answers_401_in_its_own_shape(private):
    for path in ("/api/search?q=x", "/api/health", "/api/openapi.json", "/api/suggest?q=x"):
        resp = private.get(path)
        assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthorized"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert "not this sou's key" in private.get("/api/search?q=x", headers={"Authorization": "Bearer x"}).get_json()[
        "error"]["message"]
    assert private.get("/api/search?q=x", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


def test_pages_ask_for_the_key_with_a_form_that_needs_no_script(private):
    resp = private.get("/articles/glossary.md?q=分词")
    assert resp.status_code == 401 and resp.headers["Cache-Control"] == "no-store"
    html = resp.get_data(as_text=True)
    assert '<form method="post" action="/signin">' in html and 'type="password"' in html
    assert 'name="next" value="/articles/glossary.md?q=' in html and "<script" not in html
    with private.get("/static/sou.css") as css:
        assert css.status_code == 200


def test_signing_in_sets_an_httponly_strict_cookie_that_is_not_the_key(private):
    wrong = private.post("/signin", data={"key": "guess", "next": "/"}, headers={"Origin": "http://localhost"})
    assert wrong.status_code == 401 and "not the key" in wrong.get_data(as_text=True)
    assert "Set-Cookie" not in wrong.headers
    resp = private.post("/signin", data={"key": KEY, "next": "/?q=%E8%B2%93"}, headers={"Origin": "http://localhost"})
    assert resp.status_code == 303 and resp.headers["Location"] == "/?q=%E8%B2%93"
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}={session_token(KEY)};") and KEY not in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie and "Max-Age=" in cookie
    assert "Secure" not in cookie
    page = private.get("/?q=貓")
    assert page.status_code == 200 and "<mark>貓</mark>" in page.get_data(as_text=True)
    assert private.get("/api/suggest?q=貓").status_code == 200        # the page's own scripts
    out = private.post("/signout", headers={"Origin": "http://localhost"})
    assert out.status_code == 303 and re.search(rf"{COOKIE}=;.*Max-Age=0|{COOKIE}=;.*Expires", out.headers["Set-Cookie"])
    assert private.get("/").status_code == 401


def test_the_cookie_is_secure_over_https(private):
    resp = private.post("/signin", data={"key": KEY}, base_url="https://localhost")
    assert "Secure" in resp.headers["Set-Cookie"]


def test_signing_in_from_another_site_is_refused(private):
    resp = private.post("/signin", data={"key": KEY, "next": "/"}, headers={"Origin": "https://evil.example"})
    assert resp.status_code == 403 and "Set-Cookie" not in resp.headers
    private.set_cookie(COOKIE, session_token(KEY))
    assert private.post("/signout", headers={"Origin": "https://evil.example"}).status_code == 403
    assert private.get("/").status_code == 200                       # still signed in


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_after_signing_in_only_paths_of_this_site(private, target):
    resp = private.post("/signin", data={"key": KEY, "next": target})
    assert resp.status_code == 303 and resp.headers["Location"] == "/"


def test_a_cookie_for_another_key_is_worthless(private):
    private.set_cookie(COOKIE, session_token("an-old-key"))
    assert private.get("/").status_code == 401
    private.set_cookie(COOKIE, KEY)                                   # nor is the raw key
    assert private.get("/").status_code == 401


def test_a_key_must_fit_in_a_header(demo_settings):
    with pytest.raises(ConfigError, match="printable ASCII"):
        web.create_app(demo_settings.replace(api_key="團隊密鑰"))
    with pytest.raises(ConfigError):
        web.create_app(demo_settings.replace(api_key="two words"))
