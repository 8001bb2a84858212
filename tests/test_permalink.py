"""search/permalink.py without the generators: the resolution order, finding the site's config,
the settings that override it, and what the web pages do with an external link.
(tests/test_permalink_generators.py checks the links against pages Hexo, Jekyll and Hugo wrote.)"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import write_article
from selectolax.lexbor import LexborHTMLParser

import web
from search import SearchRequest, Settings
from search.articles import parse_bytes
from search.engine import Engine
from search.errors import ConfigError
from search.indexer import reindex
from search.permalink import Site, article_page, hugo_urlize, jekyll_slugify, link, load_site, sou_root

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def doc(**fields):
    base = {"id": "36kr/短视频电商，开店.md", "url": "", "permalink": "", "slug": "", "title": "短视频电商，开店",
            "categories": ["新媒体"], "date_text": "2022-05-12T03:08:41+00:00", "date": None}
    return base | fields


HEXO = Site("hexo", "https://blog.example.org", ":year/:month/:day/:title/", SHANGHAI, "source/_posts")


def test_an_absolute_front_matter_url_wins():
    assert link(HEXO, doc(url="https://news.example.org/a/1")) == "https://news.example.org/a/1"


def test_the_generators_own_override_comes_next():
    assert link(HEXO, doc(permalink="special/page/")) == "https://blog.example.org/special/page/"
    hugo = Site("hugo", "https://example.org/hugo", "", dt.UTC, "content")
    assert link(hugo, doc(id="posts/a.md", url="/about-me/")) == "https://example.org/hugo/about-me/"


def test_the_pattern_is_expanded_in_the_sites_time_zone():
    # 20:30 UTC on the 11th is the 12th in Shanghai; a naive date is a wall-clock time as written
    assert link(HEXO, doc(date_text="2022-05-11T20:30:00+00:00")).startswith("https://blog.example.org/2022/05/12/36kr/")
    assert link(HEXO, doc(date_text="2021-03-05T23:30:00")).startswith("https://blog.example.org/2021/03/05/")
    # an index written before date_text was stored falls back to the UTC date
    old = doc(date_text="", date=dt.datetime(2022, 5, 11, 20, 30, tzinfo=dt.UTC))
    assert link(HEXO, old).startswith("https://blog.example.org/2022/05/12/")


def test_chinese_paths_are_percent_encoded():
    assert link(HEXO, doc()) == ("https://blog.example.org/2022/05/12/36kr/"
                                 "%E7%9F%AD%E8%A7%86%E9%A2%91%E7%94%B5%E5%95%86%EF%BC%8C%E5%BC%80%E5%BA%97/")


def test_without_what_the_pattern_needs_the_link_is_sous_own_page():
    assert link(HEXO, doc(date_text="")) == "articles/36kr/%E7%9F%AD%E8%A7%86%E9%A2%91%E7%94%B5%E5%95%86" \
                                             "%EF%BC%8C%E5%BC%80%E5%BA%97.md"
    assert link(Site("hexo", "https://b.example", ":lang/:abbrlink/", dt.UTC, "source/_posts"), doc()) \
        == article_page(doc()["id"])
    assert link(Site("hexo", "", ":title/", dt.UTC, "source/_posts"), doc()) == article_page(doc()["id"])  # no site_url
    assert link(Site(), doc(url="javascript:alert(1)")) == article_page(doc()["id"])
    assert link(Site(base="https://b.example"), doc(url="//evil.example/x")) == article_page(doc()["id"])


def test_sous_own_page_is_under_the_root_being_served():
    with sou_root("https://sou.example.net/search/"):
        assert article_page("a b/猫.md") == "https://sou.example.net/search/articles/a%20b/%E7%8C%AB.md"
    assert article_page("a.md") == "articles/a.md"


@pytest.mark.parametrize(("text", "mode", "cased", "slug"), [
    ("New Year's Eve", "pretty", True, "New-Year's-Eve"),
    ("New Year's Eve", "default", False, "new-year-s-eve"),
    ("深夜咖啡：Hand Drip & Me", "default", False, "深夜咖啡-hand-drip-me"),
    ("  _under_score_ ", "default", False, "under-score"),
])
def test_jekyll_slugify(text, mode, cased, slug):
    assert jekyll_slugify(text, mode, cased) == slug


@pytest.mark.parametrize(("text", "slug"), [
    ("New Year's Eve 跨年夜", "new-years-eve-跨年夜"),
    ("短视频电商推出新手商家扶持计划，开店工具安装简单", "短视频电商推出新手商家扶持计划开店工具安装简单"),
    ("C++ & Go", "c++-go"),
])
def test_hugo_urlize(text, slug):
    assert hugo_urlize(text) == slug


# -- finding the site ---------------------------------------------------------------------------

def settings(**kw) -> Settings:
    return Settings().replace(**kw)


def test_a_hexo_blog_is_found_above_source_posts(tmp_path):
    blog = tmp_path / "blog"
    posts = blog / "source" / "_posts"
    posts.mkdir(parents=True)
    (blog / "_config.yml").write_text("url: https://blog.example.org\npermalink: posts/:title.html\n"
                                      "timezone: Asia/Shanghai\n", encoding="utf-8")
    (blog / "scaffolds").mkdir()
    site = load_site(settings(), str(posts))
    assert (site.generator, site.base, site.pattern, site.articles_at) == \
        ("hexo", "https://blog.example.org", "posts/:title.html", "source/_posts")
    assert site.timezone.utcoffset(dt.datetime(2022, 1, 1)) == dt.timedelta(hours=8)
    # explicit settings win over the config file
    site = load_site(settings(site_url="https://other.example/", permalink=":year/:title/"), str(posts))
    assert (site.base, site.pattern) == ("https://other.example", ":year/:title/")


def test_a_jekyll_site_and_its_named_style(tmp_path):
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_config.yml").write_text("url: https://example.org\nbaseurl: /notes\npermalink: pretty\n",
                                          encoding="utf-8")
    site = load_site(settings(), str(tmp_path / "_posts"))
    assert (site.generator, site.base, site.pattern) == ("jekyll", "https://example.org/notes", "pretty")
    post = {"id": "2021-03-05-late-night.md", "title": "x", "categories": ["Life"], "date_text": "2021-03-05T00:00:00"}
    assert link(site, post) == "https://example.org/notes/life/2021/03/05/late-night/"


def test_a_hugo_site_with_its_permalinks(tmp_path):
    (tmp_path / "content" / "posts").mkdir(parents=True)
    (tmp_path / "hugo.toml").write_text('baseURL = "https://example.org/"\ntimeZone = "Asia/Tokyo"\n'
                                        '[permalinks]\nposts = "/:year/:slug/"\n', encoding="utf-8")
    site = load_site(settings(), str(tmp_path / "content"))
    assert (site.generator, site.base, site.articles_at) == ("hugo", "https://example.org", "content")
    post = {"id": "posts/x.md", "title": "Hello World", "slug": "", "date_text": "2020-12-31T23:00:00"}
    assert link(site, post) == "https://example.org/2020/hello-world/"
    assert link(site, post | {"id": "about.md"}) == "https://example.org/about/"   # default: the content path


def test_no_site_and_no_settings_means_sous_own_pages(tmp_path):
    site = load_site(settings(), str(tmp_path))
    assert site.generator == "none"
    assert link(site, doc()) == article_page(doc()["id"])


def test_a_config_file_of_something_else_is_not_a_site(tmp_path):
    """A project's own config.yaml or _config.yml above a notes folder does not make it a site."""
    (tmp_path / "config.yaml").write_text("baseURL: https://nothing.example/\n", encoding="utf-8")
    (tmp_path / "_config.yml").write_text("url: [not even yaml\n", encoding="utf-8")
    (tmp_path / "notes").mkdir()
    assert load_site(settings(), str(tmp_path / "notes")).generator == "none"


def test_settings_name_the_generator_without_a_site_folder(tmp_path):
    site = load_site(settings(site_url="https://blog.example.org", generator="hexo"), str(tmp_path / "gone"))
    assert (site.generator, site.articles_at, site.pattern) == ("hexo", "source/_posts", ":year/:month/:day/:title/")


@pytest.mark.parametrize("bad", [{"generator": "wordpress"}, {"site_url": "blog.example.org"},
                                 {"site_url": "javascript:alert(1)"}])
def test_bad_settings_say_which(bad, tmp_path):
    with pytest.raises(ConfigError, match=next(iter(bad))):
        load_site(settings(**bad), str(tmp_path))


def test_a_broken_site_config_is_a_clear_error(tmp_path):
    (tmp_path / "_config.yml").write_text("url: [unclosed\n", encoding="utf-8")
    (tmp_path / "_posts").mkdir()
    with pytest.raises(ConfigError, match="_config.yml"):
        load_site(settings(), str(tmp_path / "_posts"))


# -- what the articles give, and what the pages show ------------------------------------------------

def test_articles_keep_slug_permalink_and_the_date_as_written():
    text = "---\ntitle: 深夜咖啡\nslug: late-coffee\npermalink: /coffee/\ndate: 2021-03-05 23:30:00\n---\nbody\n"
    a = parse_bytes(text.encode(), "a.md", tz=SHANGHAI)
    assert (a.slug, a.permalink, a.date_text) == ("late-coffee", "/coffee/", "2021-03-05T23:30:00")
    assert a.date == dt.datetime(2021, 3, 5, 15, 30, tzinfo=dt.UTC)
    rfc = parse_bytes(b"---\ndate: Thu, 12 May 2022 03:08:41 GMT\n---\nx\n", "b.md")
    assert rfc.date_text == "2022-05-12T03:08:41+00:00"
    named = parse_bytes(b"no front matter\n", "2019-06-16-cat.md")
    assert named.date_text == "2019-06-16T00:00:00"


def test_pages_link_to_sou_and_show_the_original(tmp_path, settings_factory):
    articles = tmp_path / "posts"
    write_article(articles, "late-night-coffee.md", "深夜咖啡", "手冲咖啡要等水温降到九十度。", date="2021-03-05 23:30:00")
    cfg = settings_factory(workers=1, site_url="https://blog.example.org", generator="hexo")
    reindex(cfg, articles, full=True)
    expected = "https://blog.example.org/2021/03/05/late-night-coffee/"
    with Engine.open(cfg) as engine:
        assert engine.search(SearchRequest(q="咖啡")).hits[0].url == expected
    client = web.create_app(cfg).test_client()
    assert client.get("/api/search?q=咖啡").get_json()["hits"][0]["url"] == expected
    page = LexborHTMLParser(client.get("/?q=咖啡").get_data(as_text=True))
    assert page.css_first(".hit-title a").attributes["href"].startswith("/articles/late-night-coffee.md")
    assert page.css_first(".hit a.original").attributes["href"] == expected
    article = LexborHTMLParser(client.get("/articles/late-night-coffee.md").get_data(as_text=True))
    assert article.css_first("a.source").attributes["href"] == expected
