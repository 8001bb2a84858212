"""The pages in a real browser: headless Chromium driven by Playwright, against the app served
by waitress over the demo corpus. These catch what the test client cannot: the CSP really lets
our JS and CSS load, the suggestions work with the keyboard, the layout fits a phone."""

from __future__ import annotations

from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from browserkit import serve  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"

pytestmark = [
    pytest.mark.browser,
]


@pytest.fixture(scope="module")
def base_url(demo_index, demo_settings):
    """The real app under waitress on a free port, in a daemon thread, over the demo index
    that conftest builds once per session."""
    with serve(demo_settings) as url:
        yield url


@pytest.fixture()
def page(browser):
    """A fresh page that records console errors (a CSP violation shows up there)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def search(page, base_url: str, q: str) -> None:
    page.goto(base_url + "/")
    page.fill("#q", q)
    page.press("#q", "Enter")
    page.wait_for_selector("ol.hits")


def test_type_a_query_and_see_highlighted_results(page, base_url):
    search(page, base_url, "简单")
    assert page.locator("ol.hits li.hit").count() >= 3
    assert page.locator(".hit-title mark").first.inner_text() == "简单"
    assert page.locator(".snippet mark").count() > 0
    assert "results for" in page.locator(".summary").inner_text()
    # the stylesheet loaded under the CSP: <mark> has our highlight colour, not the UA default
    colour = page.eval_on_selector(".snippet mark", "m => getComputedStyle(m).backgroundColor")
    assert colour == "rgb(255, 226, 122)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "results.png"), full_page=True)
    assert page.errors == []


def test_click_a_facet_then_remove_it(page, base_url):
    search(page, base_url, "iphone")
    facet = page.locator("a.facet-link[data-facet=tag]").first
    value = facet.locator(".facet-value").inner_text()
    facet.click()
    page.wait_for_url("**tag=*")
    selected = page.locator("a.facet-link.selected")
    assert selected.count() == 1 and selected.locator(".facet-value").inner_text() == value
    assert page.locator(".chips .chip").first.inner_text().startswith(f"tag: {value}")
    selected.click()
    page.wait_for_load_state()
    assert page.locator("a.facet-link.selected").count() == 0
    assert "tag=" not in page.url


def test_change_the_sort(page, base_url):
    search(page, base_url, "python")
    page.get_by_role("navigation", name="Sort order").get_by_role("link", name="Newest").click()
    page.wait_for_url("**sort=newest*")
    assert page.locator("nav.sort a.current").inner_text() == "Newest"
    dates = page.locator("li.hit .meta time").evaluate_all("ts => ts.map(t => t.getAttribute('datetime'))")
    assert len(dates) > 1 and dates == sorted(dates, reverse=True)


def test_go_to_page_two(page, base_url):
    page.goto(base_url + "/?q=的&per_page=2")
    first = page.locator(".hit-title a").all_inner_texts()
    page.locator("nav.pagination a[rel=next]").click()
    page.wait_for_url("**page=2*")
    assert page.locator("nav.pagination a[aria-current=page]").inner_text() == "2"
    second = page.locator(".hit-title a").all_inner_texts()
    assert second and not set(first) & set(second)


def test_open_an_article_from_the_results(page, base_url):
    search(page, base_url, "iphone")
    title = page.locator(".hit-title a").first
    expected = title.inner_text()
    title.click()
    page.wait_for_selector("article h1")
    assert page.locator("article h1").inner_text() == expected
    assert page.locator(".article-body mark").count() > 0
    assert page.locator(".related li").count() > 0
    page.locator(".back a").click()
    page.wait_for_selector("ol.hits")
    assert page.errors == []


def test_pick_a_suggestion_with_the_keyboard(page, base_url):
    page.goto(base_url + "/")
    page.locator("#q").press_sequentially("ip", delay=40)
    option = page.locator("#suggestions li[role=option]", has_text="iPhone")
    option.wait_for()
    assert page.locator("#q").get_attribute("aria-expanded") == "true"
    for _ in range(page.locator("#suggestions li").all_inner_texts().index("iPhone") + 1):
        page.keyboard.press("ArrowDown")
    assert option.get_attribute("aria-selected") == "true"
    assert page.locator("#q").get_attribute("aria-activedescendant") == option.get_attribute("id")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=iPhone*")
    page.wait_for_selector("ol.hits")
    assert page.locator("#q").input_value() == "iPhone"


def test_escape_closes_the_suggestions(page, base_url):
    page.goto(base_url + "/")
    page.locator("#q").press_sequentially("ip", delay=40)
    page.locator("#suggestions li").first.wait_for()
    page.keyboard.press("Escape")
    assert page.locator("#suggestions").is_hidden()
    assert page.locator("#q").get_attribute("aria-expanded") == "false"


def test_slash_key_focuses_the_search_box(page, base_url):
    page.goto(base_url + "/articles/blog/2021-10-10-iphone-13-two-weeks.md")
    assert page.evaluate("document.activeElement.id") != "q"
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("a/b")                # once in the box, "/" is just a character
    assert page.locator("#q").input_value() == "a/b"


def test_skip_link_is_the_first_tab_stop(page, base_url):
    page.goto(base_url + "/?q=茶")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_the_page_works_without_javascript(browser, base_url):
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(base_url + "/")
    pg.fill("#q", "咖啡")
    pg.press("#q", "Enter")
    pg.wait_for_selector("ol.hits")
    assert pg.locator(".hit-title mark").count() > 0
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_phone_layout_fits_the_screen(browser, base_url, scheme):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme=scheme,
                                  is_mobile=True, has_touch=True)
    pg = context.new_page()
    for path in ("/", "/?q=简单", "/articles/hk-news/article_1201.md?q=疫苗"):
        pg.goto(base_url + path)
        assert pg.evaluate("document.documentElement.scrollWidth") <= 390, path
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.goto(base_url + "/?q=简单")
    pg.screenshot(path=str(ARTIFACTS / f"results-phone-{scheme}.png"))
    background = pg.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(21, 23, 27)") == (scheme == "dark")
    context.close()
