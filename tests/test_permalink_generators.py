"""Hits link to the page the site's own generator wrote for the article.

Each test writes a small ORIGINAL site (dated posts, with and without slugs, Chinese titles,
categories, a date that falls on another day in the site's time zone), builds it with the real
generator (Hexo from npm under tests/generators/hexo, Jekyll and Hugo from Debian), indexes the
posts with sou, and checks that the link of every hit names a page the generator wrote, and
that every post page it wrote is some hit's link. sou's own ``timezone`` is left at UTC on
purpose: the site's config decides the date in a link.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path
from urllib.parse import unquote

import pytest
from helpers import ROOT

from search import SearchRequest
from search.engine import Engine
from search.indexer import reindex

HEXO_DIR = ROOT / "tests" / "generators" / "hexo"
SITE = "https://blog.example.org"


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def sou_links(settings_factory, articles: Path, **settings) -> dict[str, str]:
    """id -> url of every indexed article, as the engine gives them to every API."""
    cfg = settings_factory(workers=1, **settings)
    summary = reindex(cfg, articles, full=True)
    assert summary.skipped == []
    with Engine.open(cfg) as engine:
        hits = engine.search(SearchRequest(q="", per_page=100)).hits
        detail = engine.article(hits[0].id)
        assert detail.url == hits[0].url                    # the article API gives the same link
    return {hit.id: hit.url for hit in hits}


def written_pages(public: Path) -> set[str]:
    return {p.relative_to(public).as_posix() for p in public.rglob("*.html")}


def page_of(url: str, base: str) -> str:
    """The file a static server sends for ``url``: the path under the site, index.html for a
    folder."""
    assert url.startswith(base + "/"), url
    path = unquote(url[len(base) + 1:])
    return path + "index.html" if path.endswith("/") or not path else path


def run(cmd: list[str], cwd: Path, **env: str) -> None:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stdout + done.stderr


# -- Hexo ---------------------------------------------------------------------------------------

HEXO_POSTS = {
    "36kr/短视频电商推出扶持计划，开店工具安装简单.md": """
        ---
        title: '短视频电商推出新手商家扶持计划，开店工具安装简单'
        categories:
         - 新媒体
         - 36kr
        author: 36kr
        date: Thu, 12 May 2022 03:08:41 GMT
        ---
        抖音电商公布了面向中小商家的扶持计划。
        """,
    "late-night-coffee.md": """
        ---
        title: 深夜咖啡：Hand Drip & Me
        date: 2021-03-05 23:30:00
        categories: 生活
        tags: [咖啡]
        ---
        手冲咖啡要等水温降到九十度。
        """,
    "New Year's Eve.md": """
        ---
        title: "New Year's Eve 跨年夜"
        date: 2020-12-31 23:59:59
        ---
        The fireworks started late this year.
        """,
    "2019-06-16-猫咪领养记.md": """
        ---
        title: 猫咪领养记
        date: 2019-06-16
        ---
        橘猫来家里的第一天躲在沙发下面。
        """,
}


def hexo_available() -> bool:
    return shutil.which("node") is not None and (HEXO_DIR / "node_modules" / "hexo").is_dir()


@pytest.mark.skipif(not hexo_available(), reason="Hexo is not installed: npm ci --prefix tests/generators/hexo")
@pytest.mark.parametrize("pattern", [None, ":category/:post_title.html", "posts/:year/:i_month/:name/"])
def test_hexo_links_are_the_pages_hexo_writes(tmp_path, settings_factory, pattern):
    site = tmp_path / "blog"
    config = f"title: test\nurl: {SITE}/blog\nroot: /blog/\ntimezone: Asia/Shanghai\ntheme: sou\n"
    if pattern:
        config += f"permalink: {pattern}\n"
    write(site, {"_config.yml": config, "themes/sou/layout/post.njk": "{{ page.title }}\n"})
    write(site / "source" / "_posts", HEXO_POSTS)
    # Hexo formats the link's date in the machine's zone: a blogger's machine is in the blog's
    run(["node", str(HEXO_DIR / "generate.js"), str(site)], cwd=HEXO_DIR, TZ="Asia/Shanghai")
    wrote = written_pages(site / "public")
    links = sou_links(settings_factory, site / "source" / "_posts")
    assert {page_of(url, SITE + "/blog") for url in links.values()} == wrote
    if pattern is None:      # Hexo's default pattern, read from nowhere: `:year/:month/:day/:title/`
        assert links["36kr/短视频电商推出扶持计划，开店工具安装简单.md"] == SITE + "/blog/2022/05/12/36kr/" \
            "%E7%9F%AD%E8%A7%86%E9%A2%91%E7%94%B5%E5%95%86%E6%8E%A8%E5%87%BA%E6%89%B6%E6%8C%81%E8%AE%A1%E5%88%92" \
            "%EF%BC%8C%E5%BC%80%E5%BA%97%E5%B7%A5%E5%85%B7%E5%AE%89%E8%A3%85%E7%AE%80%E5%8D%95/"
        assert "2021/03/05/late-night-coffee/index.html" in wrote   # 23:30 Shanghai, 15:30 UTC


# -- Jekyll -------------------------------------------------------------------------------------

JEKYLL_POSTS = {
    "2022-05-11-douyin-shop-plan.md": """
        ---
        title: 短视频电商推出新手商家扶持计划
        date: 2022-05-11 20:30:00 +0000
        categories: [新媒体, 36kr]
        ---
        抖音电商公布了面向中小商家的扶持计划。
        """,
    "2021-03-05-late-night-coffee.md": """
        ---
        title: 深夜咖啡：Hand Drip & Me
        slug: 深夜咖啡
        ---
        手冲咖啡要等水温降到九十度。
        """,
    "2020-12-31-New Year's Eve.md": """
        ---
        title: "New Year's Eve 跨年夜"
        category: Life Notes
        ---
        The fireworks started late this year.
        """,
    "2019-06-16-adopting-a-cat.markdown": """
        ---
        title: 猫咪领养记
        date: 2019-06-16 08:00:00
        ---
        橘猫来家里的第一天躲在沙发下面。
        """,
}


@pytest.mark.skipif(shutil.which("jekyll") is None, reason="Jekyll is not installed (apt-get install jekyll)")
@pytest.mark.parametrize("pattern", [None, "pretty", "/:categories/:title/", "/:year/:month/:day/:slug.html"])
def test_jekyll_links_are_the_pages_jekyll_writes(tmp_path, settings_factory, pattern):
    site = tmp_path / "site"
    config = f"url: {SITE}\nbaseurl: /notes\ntimezone: Asia/Shanghai\n"
    if pattern:
        config += f"permalink: {pattern}\n"
    write(site, {"_config.yml": config})
    write(site / "_posts", JEKYLL_POSTS)
    run(["jekyll", "build", "--quiet", "--safe", "-s", str(site), "-d", str(site / "_site")], cwd=site)
    wrote = written_pages(site / "_site")
    links = sou_links(settings_factory, site / "_posts")
    assert {page_of(url, SITE + "/notes") for url in links.values()} == wrote
    if pattern is None:     # the `date` style; 20:30 UTC on the 11th is the 12th in Shanghai
        assert links["2022-05-11-douyin-shop-plan.md"] == \
            SITE + "/notes/%E6%96%B0%E5%AA%92%E4%BD%93/36kr/2022/05/12/douyin-shop-plan.html"


# -- Hugo ---------------------------------------------------------------------------------------

HUGO_CONTENT = {
    "posts/douyin-shop-plan.md": """
        ---
        title: 短视频电商推出新手商家扶持计划，开店工具安装简单
        date: 2022-05-11T20:30:00+00:00
        categories: [新媒体]
        ---
        抖音电商公布了面向中小商家的扶持计划。
        """,
    "posts/late-night-coffee.md": """
        ---
        title: "深夜咖啡：Hand Drip & Me"
        slug: 深夜咖啡
        date: 2021-03-05 23:30:00
        ---
        手冲咖啡要等水温降到九十度。
        """,
    "posts/cat-adoption/index.md": """
        ---
        title: Adopting a Ginger Cat 领养橘猫
        date: 2019-06-16
        ---
        橘猫来家里的第一天躲在沙发下面。
        """,
    "notes/New Year's Eve.md": """
        +++
        title = "New Year's Eve 跨年夜"
        date = 2020-12-31T23:59:59+08:00
        +++
        The fireworks started late this year.
        """,
}
HUGO_CONFIG = """
baseURL = "https://blog.example.org/hugo/"
timeZone = "Asia/Shanghai"
disableKinds = ["home", "section", "taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
[permalinks]
posts = "{pattern}"
"""


@pytest.mark.skipif(shutil.which("hugo") is None, reason="Hugo is not installed (apt-get install hugo)")
@pytest.mark.parametrize("pattern", ["/:year/:month/:day/:slug/", "/:section/:title/", "/:sections/:filename/"])
def test_hugo_links_are_the_pages_hugo_writes(tmp_path, settings_factory, pattern):
    site = tmp_path / "site"
    write(site, {"hugo.toml": HUGO_CONFIG.format(pattern=pattern), "layouts/_default/single.html": "{{ .Title }}\n"})
    write(site / "content", HUGO_CONTENT)
    run(["hugo", "--quiet", "-s", str(site)], cwd=site)
    wrote = written_pages(site / "public")
    links = sou_links(settings_factory, site / "content")
    assert {page_of(url, SITE + "/hugo") for url in links.values()} == wrote
    assert page_of(links["notes/New Year's Eve.md"], SITE + "/hugo") == "notes/new-years-eve/index.html"
    if pattern.startswith("/:year"):       # Hugo keeps a date's own offset: still the 11th
        assert page_of(links["posts/douyin-shop-plan.md"], SITE + "/hugo") == \
            "2022/05/11/短视频电商推出新手商家扶持计划开店工具安装简单/index.html"
