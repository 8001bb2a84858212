"""embed.js on another site: a plain static page served from another local port includes the
one script tag, and a reader types a query in Traditional script and lands on the article's
page on that site (the Simplified seed post from examples/articles, linked the way its Hexo
blog would link it). The page has a strict CSP of its own that allows only sou's script."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from browserkit import serve  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SEED = "36kr/短视频电商推出新手商家扶持计划，开店工具安装简单.md"
# Hexo's default pattern over the seed post (dated Thu, 12 May 2022 03:08:41 GMT)
SEED_PAGE = "2022/05/12/36kr/短视频电商推出新手商家扶持计划，开店工具安装简单/index.html"

pytestmark = [pytest.mark.browser]

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'self'; script-src {sou}; connect-src {sou}; style-src 'self'">
<title>A blog on another origin</title>
<link rel="stylesheet" href="/blog.css">
</head><body>
<h1>My blog</h1>
<p>Host text with its own <mark id="host-mark">mark</mark>.</p>
<div id="box" data-sou-search data-placeholder="Search this blog" data-results="5"></div>
<script src="{sou}/embed.js" defer></script>
</body></html>
"""
HOST_CSS = "input { border: 3px dashed red; } li { color: red; } mark { outline: 2px solid green; }\n"


@contextlib.contextmanager
def static_site(folder: Path):
    """A plain file server (the user's blog) on a free port of its own."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None            # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def blog_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("blog")
    (folder / "blog.css").write_text(HOST_CSS, encoding="utf-8")
    page = folder / SEED_PAGE
    page.parent.mkdir(parents=True)
    page.write_text("<!doctype html><title>seed post</title><h1>The seed post on the blog</h1>", encoding="utf-8")
    return folder


@contextlib.contextmanager
def blog_with_sou(blog_folder, demo_settings, *, allow_cors: bool):
    """(blog URL, sou URL): sou links hits to the blog the way Hexo does by default."""
    with static_site(blog_folder) as blog:
        settings = demo_settings.replace(site_url=blog, generator="hexo",
                                         cors_origins=blog if allow_cors else "")
        with serve(settings) as sou:
            (blog_folder / "index.html").write_text(HOST_PAGE.format(sou=sou), encoding="utf-8")
            yield blog, sou


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def test_embed_finds_the_seed_post_and_goes_to_its_page_on_the_blog(page, demo_index, demo_settings, blog_folder):
    with blog_with_sou(blog_folder, demo_settings, allow_cors=True) as (blog, sou):
        page.goto(blog + "/")
        box = page.locator("input[role=combobox]")           # inside the shadow root
        assert box.get_attribute("placeholder") == "Search this blog"
        box.click()
        box.press_sequentially("抖音電商", delay=30)
        options = page.locator("[role=listbox] [role=option]")
        options.first.wait_for()
        assert box.get_attribute("aria-expanded") == "true"
        first = options.first
        assert "短视频电商推出新手商家扶持计划" in first.locator("b").inner_text()
        assert first.locator("b mark").first.inner_text() == "电商"          # 電商 found 电商
        assert first.locator("small mark").count() > 0                      # the snippet is highlighted
        assert 1 <= options.count() <= 5
        assert "result" in page.locator("[role=status]").inner_text()
        # keyboard: the combobox keeps focus, aria-activedescendant names the active option
        box.press("ArrowDown")
        assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
        assert first.get_attribute("aria-selected") == "true"
        if options.count() > 1:
            box.press("ArrowDown")
            assert box.get_attribute("aria-activedescendant") == options.nth(1).get_attribute("id")
            assert first.get_attribute("aria-selected") == "false"
            box.press("ArrowUp")
        assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
        # the page's styles did not reach into the box, and ours did not leak out
        assert page.eval_on_selector("#box", "h => getComputedStyle(h.shadowRoot.querySelector('input'))"
                                     ".borderTopStyle") == "solid"
        assert page.eval_on_selector("#host-mark", "m => getComputedStyle(m).borderRadius") == "0px"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "embed.png"))
        box.press("Enter")
        page.wait_for_url(blog + "/2022/05/12/36kr/**")
        assert page.locator("h1").inner_text() == "The seed post on the blog"
        assert page.errors == []


def test_embed_follows_a_dark_page(page, demo_index, demo_settings, blog_folder):
    with blog_with_sou(blog_folder, demo_settings, allow_cors=True) as (blog, _sou):
        backgrounds = {}
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.goto(blog + "/")
            box = page.locator("input[role=combobox]")
            box.wait_for()
            backgrounds[scheme] = box.evaluate("i => getComputedStyle(i).backgroundColor")
        assert backgrounds["light"] == "rgb(255, 255, 255)"
        assert backgrounds["dark"] != backgrounds["light"]
        assert page.errors == []


def test_embed_without_cors_shows_an_error_not_a_crash(page, demo_index, demo_settings, blog_folder):
    with blog_with_sou(blog_folder, demo_settings, allow_cors=False) as (blog, _sou):
        page.goto(blog + "/")
        box = page.locator("input[role=combobox]")
        box.press_sequentially("抖音", delay=30)
        status = page.locator("[role=status].err")
        status.wait_for()
        assert "cors_origins" in status.inner_text()
        assert box.get_attribute("aria-expanded") == "false"
        assert page.errors == []
