"""Search UIs built for Meilisearch, on a page of another site, searching sou in Chromium:
InstantSearch.js widgets through the real @meilisearch/instant-meilisearch adapter and
``meilisearch`` client, and docs-searchbar.js (which bundles meilisearch 0.30).

The pages (tests/js/*.html) and the npm packages are served by a static server of their own,
so every request to sou is cross-origin and goes through CORS (``cors_origins``); one run does
the same against a sou that needs a key. Needs ``npm ci`` in tests/js.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from browserkit import serve  # noqa: E402

JS = Path(__file__).resolve().parents[1] / "js"
KEY = "kb-team-key-0042"

pytestmark = [pytest.mark.browser]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def static_site(folder: Path):
    """tests/js over HTTP on a free port: the "theme" whose page calls sou."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def site():
    if not (JS / "node_modules" / "@meilisearch" / "instant-meilisearch").is_dir():
        pytest.skip("the npm packages are not installed: run `npm ci` in tests/js (.ci/run does)")
    with static_site(JS) as url:
        yield url


@pytest.fixture(scope="module")
def sou(site, demo_index, demo_settings):
    with serve(demo_settings.replace(cors_origins=site)) as url:
        yield url


@pytest.fixture(scope="module")
def private_sou(site, demo_index, demo_settings):
    with serve(demo_settings.replace(cors_origins=site, api_key=KEY)) as url:
        yield url


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def open_page(page, site: str, sou: str, **params) -> None:
    page.goto(f"{site}/instantsearch.html?{urlencode({'host': sou, **params})}")
    page.wait_for_selector(".ais-Hits-item")


def titles(page) -> list[str]:
    return page.locator(".ais-Hits-item .title").all_inner_texts()


def type_query(page, q: str) -> None:
    first = page.locator(".ais-Hits-item .title").first.get_attribute("data-id")
    page.fill(".ais-SearchBox-input", q)
    page.wait_for_function(
        "first => { const t = document.querySelector('.ais-Hits-item .title');"
        " return t && t.dataset.id !== first; }", arg=first)


def test_type_chinese_and_see_sous_highlights(page, site, sou):
    open_page(page, site, sou)
    assert len(titles(page)) == 4                                   # hitsPerPage from configure()
    assert "30" in page.locator("#stats").inner_text()              # every article, revisions collapsed
    type_query(page, "猫")
    page.wait_for_selector(".ais-Hits-item mark")
    marks = page.locator(".ais-Hits-item .title mark").all_inner_texts()
    assert "貓" in marks and "猫" in marks                           # sou's folding, not a substring search
    snippets = page.locator(".ais-Hits-item .snippet").all_inner_texts()
    assert any("貓" in s for s in snippets) and all(len(s) < 80 for s in snippets)
    assert page.locator(".ais-Hits-item .snippet mark").count() > 0
    assert page.errors == []


def test_refine_by_a_tag_then_page_through(page, site, sou):
    open_page(page, site, sou)
    pages = page.locator(".ais-Pagination-item--page")
    assert pages.count() >= 2
    page.locator(".ais-Pagination-item--page a", has_text="2").click()
    page.wait_for_selector(".ais-Pagination-item--selected >> text=2")
    second_page = titles(page)
    assert len(second_page) == 4
    tag = page.locator(".ais-RefinementList-item", has_text="領養")
    # one facet value for both spellings (領養 and 领养 fold together), as the filter matches both
    assert tag.locator(".ais-RefinementList-count").inner_text() == "2"
    tag.locator("input").check()
    page.wait_for_function("() => document.querySelectorAll('.ais-Hits-item').length === 2")
    ids = sorted(page.locator(".ais-Hits-item .title").evaluate_all("els => els.map(e => e.dataset.id)"))
    # the filter is folded like the index: 領養 also finds the Simplified 领养
    assert ids == ["blog/2019-06-16-adopting-a-ginger-cat.markdown", "hk-news/article_1811.md"]
    assert page.errors == []


def test_finite_pagination_reads_total_pages(page, site, sou):
    open_page(page, site, sou, finite="1")
    page.locator(".ais-Pagination-item--lastPage a").click()
    page.wait_for_selector(".ais-Pagination-item--selected >> text=8")       # 30 articles, 4 a page
    page.wait_for_function("() => document.querySelectorAll('.ais-Hits-item').length === 2")
    assert page.errors == []


def test_a_private_collection_works_with_its_key_and_not_without(page, site, private_sou):
    open_page(page, site, private_sou, key=KEY)
    type_query(page, "貓")
    assert page.locator(".ais-Hits-item .title mark").count() >= 2
    page.goto(f"{site}/instantsearch.html?{urlencode({'host': private_sou, 'key': 'wrong'})}")
    page.wait_for_function("() => document.body.dataset.error")
    assert "API key is invalid" in page.evaluate("() => document.body.dataset.error")


def test_docs_searchbar_shows_highlighted_suggestions(page, site, sou):
    """docs-searchbar.js bundles meilisearch 0.30; with the README's transformData recipe its
    dropdown lists sou's hits with sou's highlights."""
    # its "Powered by" footer loads a logo from the web, which these tests never reach
    page.route("https://res.cloudinary.com/**", lambda route: route.fulfill(
        status=200, content_type="image/svg+xml", body='<svg xmlns="http://www.w3.org/2000/svg"/>'))
    page.goto(f"{site}/docs-searchbar.html?{urlencode({'host': sou})}")
    page.fill("#search", "领养")
    page.wait_for_selector(".dsb-suggestion")
    highlighted = page.locator(".docs-searchbar-suggestion--highlight").all_inner_texts()
    assert "領養" in highlighted and "领养" in highlighted
    links = page.locator(".dsb-suggestion a").evaluate_all("els => els.map(e => e.href)")
    assert f"{sou}/articles/blog/2019-06-16-adopting-a-ginger-cat.markdown" in links
    assert page.errors == []
