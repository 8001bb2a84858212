"""Where a hit links to: the article on the user's own site, built the way its generator builds it.

A search box on a Hexo, Jekyll or Hugo blog must send readers to the blog's own page for a post,
not to a copy on the search server. The front matter rarely says where that page is (a Hexo
post's link comes from ``permalink:`` in the site's ``_config.yml``), so sou reads the site's
config file above the articles folder, or the ``site_url`` / ``permalink`` / ``generator``
settings, and expands the pattern from the article the way that generator does: its
placeholders, its slug rules, its time zone. The tests build real sites with the real
generators and check that every link names a page the generator wrote.

Links are computed when a hit is shown, from stored fields, so changing ``site_url`` or the
pattern needs no reindex. Resolution per article:

1. an absolute ``url`` in the front matter (news mirrors keep their original's address);
2. the generator's own per-post override (Hexo/Jekyll ``permalink:``, Hugo ``url:``), joined
   with the site's address;
3. the site's address plus the pattern expanded from the article;
4. sou's own article page, ``articles/<id>`` under sou's root (``SOU_ROOT``, which the web app
   sets per request to its own address, so the link is right under a path prefix too).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from hashlib import sha1
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit

import yaml

from .errors import ConfigError

GENERATORS = ("auto", "hexo", "jekyll", "hugo", "none")
SEARCH_UP = 4                       # the articles folder is at most this far below the site root
HUGO_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml", "config.yml",
                "config.json")
JEKYLL_STYLES = {   # jekyll/configuration.rb STYLE_TO_PERMALINK
    "none": "/:categories/:title:output_ext",
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
}
DEFAULT_PATTERN = {"hexo": ":year/:month/:day/:title/", "jekyll": "date"}
# sou's own address for the request being served ("" outside a request: links are relative).
SOU_ROOT: ContextVar[str] = ContextVar("sou_root", default="")


@dataclass(frozen=True)
class Site:
    """How the articles' site builds its links (all read once when the engine opens the index)."""

    generator: str = "none"          # hexo | jekyll | hugo | none
    base: str = ""                   # the site's address, no trailing slash ("" = unknown)
    pattern: str = ""                # the permalink pattern in the generator's syntax
    timezone: dt.tzinfo = dt.UTC     # for naive dates and for the date parts of links
    articles_at: str = ""            # the articles folder relative to the site root (POSIX)
    config_file: str = ""            # where the above was read from ("" = settings only)
    options: Mapping[str, Any] = field(default_factory=dict)   # generator extras (Hugo sections, ...)


@contextlib.contextmanager
def sou_root(url: str) -> Iterator[None]:
    """Links to sou's own article pages start with ``url`` (e.g. https://host/search/) inside."""
    token = SOU_ROOT.set(url)
    try:
        yield
    finally:
        SOU_ROOT.reset(token)


def article_page(doc_id: str) -> str:
    """sou's own page for an article, under the root of the request being served."""
    return SOU_ROOT.get() + "articles/" + quote(doc_id, safe="/")


def link(site: Site, doc: Mapping[str, Any]) -> str:
    """The link for one indexed article; ``doc`` holds its stored fields (id, url, permalink,
    slug, title, categories, date_text) and ``date`` (aware datetime or None)."""
    url = str(doc.get("url") or "")
    if re.match(r"(?i)https?://", url):
        return url
    path = None
    try:
        if site.base and site.generator != "none":
            path = _override(site, doc) or _EXPANDERS[site.generator](site, doc)
        elif site.base and url.startswith("/") and not url.startswith("//"):
            path = url
    except _CannotExpand:
        path = None
    if path is None:
        return article_page(str(doc["id"]))
    return site.base + quote("/" + path.lstrip("/"), safe="/-._~!$&'()*+,;=:@")


class _CannotExpand(Exception):
    """A placeholder the article has no value for (no date, an unknown key): use sou's page."""


def _override(site: Site, doc: Mapping[str, Any]) -> str | None:
    """The generator's own per-post path: Hexo and Jekyll ``permalink:``, Hugo ``url:``."""
    if site.generator == "hexo":
        value = str(doc.get("permalink") or "")
        return value if value else None
    if site.generator == "jekyll":
        value = str(doc.get("permalink") or "")
        return _jekyll_expand(site, doc, value) if value else None
    url = str(doc.get("url") or "")
    return url if url.startswith("/") and not url.startswith("//") else None


# -- dates --------------------------------------------------------------------------------------

def _local_date(site: Site, doc: Mapping[str, Any], *, own_offset: bool = False) -> dt.datetime:
    """The article's date as the generator formats it: a date written without a zone is a
    wall-clock time in the site's zone (all three read it so); one written with an offset is
    shown in the site's zone, or in its own offset for Hugo (``own_offset``)."""
    text = str(doc.get("date_text") or "")
    if text:
        try:
            written = dt.datetime.fromisoformat(text)
        except ValueError:
            written = None
        if written is not None:
            if written.tzinfo is None or own_offset:
                return written
            return written.astimezone(site.timezone)
    date = doc.get("date")
    if isinstance(date, dt.datetime):
        return date.astimezone(site.timezone) if date.tzinfo else date
    raise _CannotExpand("no date")


def _zone(name: Any, where: str) -> dt.tzinfo | None:
    from .articles import zone

    if not name:
        return None
    try:
        return zone(str(name))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


# -- Hexo -------------------------------------------------------------------------------------

_HEXO_SPECIAL = re.compile(r"""[\s~`!@#$%^&*()\-_+=\[\]{}|\\;:"'<>,.?/]+""")
_HEXO_PARAM = re.compile(r":(\w*[^_\W])")


def hexo_slugize(text: str, lower: bool = False) -> str:
    """hexo-util's slugize: ASCII punctuation and spaces become one ``-``; CJK stays as it is.
    (Its diacritic folding is approximated by Unicode decomposition.)"""
    text = "".join(_latin_base(ch) for ch in text)
    text = re.sub(r"[\x00-\x1f]", "", text)
    text = re.sub(r"-{2,}", "-", _HEXO_SPECIAL.sub("-", text)).strip("-")
    return text.lower() if lower else text


def _latin_base(ch: str) -> str:
    """é -> e, Å -> A (hexo-util's escapeDiacritic covers Latin letters); CJK, kana and
    Hangul stay whole."""
    parts = unicodedata.normalize("NFD", ch)
    if len(parts) > 1 and parts[0] < "\u0250" and all(unicodedata.combining(p) for p in parts[1:]):
        return parts[0]
    return ch


def _hexo_post_slug(site: Site, rel: str) -> dict[str, str]:
    """hexo/lib/plugins/processor/post.js parseFilename: ``new_post_name`` (default
    ``:title.md``) read back from the path under ``_posts``, without the extension."""
    rule = str(site.options.get("new_post_name") or ":title.md")
    rule = rule[: len(rule) - len(PurePosixPath(rule).suffix)]
    path = rel[: len(rel) - len(PurePosixPath(rel).suffix)]
    segments = {"year": r"(\d{4})", "month": r"(\d{2})", "day": r"(\d{2})", "i_month": r"(\d{1,2})",
                "i_day": r"(\d{1,2})", "hash": r"([0-9a-f]{12})"}
    names: list[str] = []

    def part(m: re.Match[str]) -> str:
        names.append(m.group(1))
        return segments.get(m.group(1), "(.+?)")

    regex = _HEXO_PARAM.sub(part, re.escape(rule).replace("\\:", ":"))
    m = re.fullmatch(regex, path)
    if not m:
        return {"title": hexo_slugize(path)}
    info = dict(zip(names, m.groups(), strict=True))
    info.setdefault("title", hexo_slugize(path))
    return info


def _hexo_path(site: Site, doc: Mapping[str, Any]) -> str:
    posts = str(site.options.get("source_dir") or "source").strip("/") + "/_posts/"
    site_path = _site_path(site, doc)
    if not site_path.startswith(posts):
        raise _CannotExpand("not a post")
    slug = _hexo_post_slug(site, site_path[len(posts):])["title"]
    date = _local_date(site, doc)
    categories = [str(c) for c in doc.get("categories") or ()]
    lower = str(site.options.get("filename_case", 0)) == "1"
    meta = {
        "title": slug, "name": PurePosixPath(slug).name,
        "post_title": hexo_slugize(str(doc.get("title") or ""), lower=True),
        "year": f"{date.year:04d}", "month": f"{date.month:02d}", "day": f"{date.day:02d}",
        "hour": f"{date.hour:02d}", "minute": f"{date.minute:02d}", "second": f"{date.second:02d}",
        "i_month": str(date.month), "i_day": str(date.day),
        "timestamp": str(int(date.timestamp())),
        # a list of categories is one nested category in Hexo: its slug is the whole chain
        "category": "/".join(hexo_slugize(c, lower) for c in categories) if categories
        else str(site.options.get("default_category") or "uncategorized"),
        "hash": sha1((slug + str(int(date.timestamp()))).encode()).hexdigest()[:12],
    }

    def value(m: re.Match[str]) -> str:
        if m.group(1) not in meta:
            raise _CannotExpand(m.group(0))
        return meta[m.group(1)]

    return _HEXO_PARAM.sub(value, site.pattern)


# -- Jekyll ------------------------------------------------------------------------------------

_JEKYLL_DATED = re.compile(r"^(\d{2,4}-\d{1,2}-\d{1,2})-(.*)$")
_JEKYLL_PRETTY_KEEP = set("._~!$&'()+,;=@")


def jekyll_slugify(text: str, mode: str = "default", cased: bool = False) -> str:
    """Jekyll::Utils.slugify for the ``default`` and ``pretty`` modes: each run of characters
    other than letters, marks and decimal digits (and ``._~!$&'()+,;=@`` when pretty) becomes
    one ``-``; hyphens at either end go."""
    out: list[str] = []
    in_run = False
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in "LM" or cat == "Nd" or (mode == "pretty" and ch in _JEKYLL_PRETTY_KEEP):
            out.append(ch)
            in_run = False
        elif not in_run:
            out.append("-")
            in_run = True
    slug = re.sub(r"^-|-$", "", "".join(out))
    return slug if cased else slug.lower()


def _jekyll_expand(site: Site, doc: Mapping[str, Any], template: str) -> str:
    site_path = _site_path(site, doc)
    parts = site_path.split("/")
    if "_posts" not in parts:
        raise _CannotExpand("not a post")
    at = parts.index("_posts")
    stem = PurePosixPath(parts[-1]).stem
    dated = _JEKYLL_DATED.match(stem)
    file_slug = re.sub(r"\.+$", "", dated.group(2) if dated else stem)
    slug = str(doc.get("slug") or "") or file_slug
    categories: list[str] = []
    for c in [*parts[:at], *(str(c) for c in doc.get("categories") or ())]:
        if c.lower() not in categories:
            categories.append(c.lower())
    date = _local_date(site, doc)
    values = {
        "collection": "posts", "output_ext": ".html",
        "path": "/".join([*parts[at + 1:-1], stem]),
        "name": jekyll_slugify(stem), "title": jekyll_slugify(slug, "pretty", cased=True),
        "slug": jekyll_slugify(slug), "categories": "/".join(categories),
        "slugified_categories": "/".join(dict.fromkeys(jekyll_slugify(c) for c in categories)),
        "year": date.strftime("%Y"), "month": date.strftime("%m"), "day": date.strftime("%d"),
        "hour": date.strftime("%H"), "minute": date.strftime("%M"), "second": date.strftime("%S"),
        "i_day": str(date.day), "i_month": str(date.month), "short_month": date.strftime("%b"),
        "long_month": date.strftime("%B"), "short_year": date.strftime("%y"), "w_year": date.strftime("%G"),
        "week": date.strftime("%V"), "w_day": date.strftime("%u"), "short_day": date.strftime("%a"),
        "long_day": date.strftime("%A"), "y_day": date.strftime("%j"),
    }

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        for key in (name, name[:-1]) if name.endswith("_") else (name,):
            if key in values:
                return values[key] + m.group(0)[1 + len(key):]
        raise _CannotExpand(m.group(0))

    url = re.sub(r":([a-z_]+)", value, JEKYLL_STYLES.get(template, template))
    url = ("/" + url).replace("..", "/").replace("./", "")      # Jekyll::URL#sanitize_url
    return re.sub(r"/{2,}", "/", url)


def _jekyll_path(site: Site, doc: Mapping[str, Any]) -> str:
    return _jekyll_expand(site, doc, site.pattern)


# -- Hugo ------------------------------------------------------------------------------------

def hugo_urlize(text: str, lower: bool = True) -> str:
    """Hugo's URLize (helpers.UnicodeSanitize, then lower case): letters, digits, marks and
    ``./\\_#+~-@`` stay, a run of spaces becomes one ``-``, everything else is dropped."""
    out: list[str] = []
    pending = was_hyphen = False
    for ch in text.strip():
        cat = unicodedata.category(ch)
        if ch in "./\\_#+~-@%" or cat[0] in "LM" or cat == "Nd":
            was_hyphen = ch == "-"
            if pending and not was_hyphen:
                out.append("-")
            pending = False
            out.append(ch)
        elif out and not was_hyphen and ch.isspace():
            pending = True
    slug = "".join(out)
    return slug.lower() if lower else slug


def _hugo_path(site: Site, doc: Mapping[str, Any]) -> str:
    content = str(site.options.get("content_dir") or "content").strip("/") + "/"
    site_path = _site_path(site, doc)
    if not site_path.startswith(content):
        raise _CannotExpand("not content")
    rel = PurePosixPath(site_path[len(content):])
    dirs = list(rel.parent.parts)
    name = rel.stem
    if name in ("index", "_index"):              # a page bundle: the folder names the page
        name = dirs[-1] if dirs and name == "index" else ""
        dirs = dirs[:-1] if name else dirs
    section = dirs[0] if dirs else ""
    lower = not site.options.get("disable_path_to_lower")
    slug = str(doc.get("slug") or "")
    permalinks = site.options.get("permalinks") or {}
    pattern = site.pattern or (permalinks.get(section) if isinstance(permalinks, Mapping) else "") or ""
    if not pattern:             # Hugo's default: the content path, the slug replacing the file name
        last = hugo_urlize(slug, lower) if slug else name
        return hugo_urlize("/".join([*dirs, last]), lower) + "/"

    def value(m: re.Match[str]) -> str:
        key = m.group(1)
        if key in ("title", "slug", "filename", "slugorfilename"):
            title = hugo_urlize(str(doc.get("title") or ""), lower)
            filename = hugo_urlize(name, lower)
            return {"title": title, "filename": filename,
                    "slug": hugo_urlize(slug, lower) if slug else title,
                    "slugorfilename": hugo_urlize(slug, lower) if slug else filename}[key]
        if key == "section":
            return section
        if key == "sections":
            return "/".join(dirs)
        date = _local_date(site, doc, own_offset=True)
        dates = {"year": str(date.year), "month": f"{date.month:02d}", "monthname": date.strftime("%B"),
                 "day": f"{date.day:02d}", "weekday": str((date.weekday() + 1) % 7),
                 "weekdayname": date.strftime("%A"), "yearday": str(date.timetuple().tm_yday)}
        if key not in dates:
            raise _CannotExpand(m.group(0))
        return dates[key]

    return re.sub(r":(\w+)", value, pattern)


_EXPANDERS = {"hexo": _hexo_path, "jekyll": _jekyll_path, "hugo": _hugo_path}


def _site_path(site: Site, doc: Mapping[str, Any]) -> str:
    return str(PurePosixPath(site.articles_at) / str(doc["id"])) if site.articles_at else str(doc["id"])


# -- reading the site's configuration ------------------------------------------------------------

@dataclass(frozen=True)
class _Found:
    generator: str
    root: Path
    config_file: Path | None
    config: Mapping[str, Any]


def _read_config(path: Path, strict: bool = True) -> Mapping[str, Any]:
    """The config as a dict; a file that does not parse is an error only when the articles
    sit where its site would keep them (``strict``), else it is someone else's file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        if not strict:
            return {}
        raise ConfigError(f"{path}: cannot read the site's config ({type(exc).__name__}: {exc})") from None
    return data if isinstance(data, dict) else {}


def _looks_like_hexo(folder: Path, config: Mapping[str, Any]) -> bool:
    package = folder / "package.json"
    try:
        if package.is_file() and '"hexo"' in package.read_text(encoding="utf-8", errors="replace"):
            return True
    except OSError:
        pass
    return (folder / "scaffolds").is_dir() or "new_post_name" in config or "source_dir" in config \
        or (folder / "source" / "_posts").is_dir()


def find_site(articles: Path, generator: str = "auto") -> _Found | None:
    """The site config above (or in) the articles folder, up to SEARCH_UP levels. A config
    counts only when the articles sit where that generator keeps posts (a ``config.yaml`` or
    ``_config.yml`` of something else higher up is not a site)."""
    folder = articles
    for _ in range(SEARCH_UP + 1):
        hugo = next((folder / n for n in HUGO_CONFIGS if (folder / n).is_file()), None)
        if hugo is not None and generator in ("auto", "hugo"):
            config = _lower_keys(_read_config(hugo, strict=_inside(articles, folder / "content")))
            if _inside(articles, folder / str(config.get("contentdir") or "content")):
                return _Found("hugo", folder, hugo, config)
        yml = folder / "_config.yml"
        if yml.is_file() and generator in ("auto", "hexo", "jekyll"):
            strict = _inside(articles, folder / "source") or "_posts" in articles.parts
            config = _read_config(yml, strict=strict)
            kind = generator if generator != "auto" else ("hexo" if _looks_like_hexo(folder, config) else "jekyll")
            posts = folder / str(config.get("source_dir") or "source") if kind == "hexo" else folder
            if _inside(articles, posts) and (kind == "hexo" or "_posts" in articles.relative_to(folder).parts
                                             or (articles / "_posts").is_dir()):
                return _Found(kind, folder, yml, config)
        if folder.parent == folder:
            break
        folder = folder.parent
    return None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _lower_keys(config: Mapping[str, Any]) -> dict[str, Any]:
    """Hugo's config keys are case-insensitive (baseURL = baseurl)."""
    return {str(k).lower(): (_lower_keys(v) if isinstance(v, Mapping) and str(k).lower() != "permalinks" else v)
            for k, v in config.items()}


def _guess_articles_at(generator: str, articles: Path) -> str:
    """Without a site folder, where the articles folder sits in a site of this kind, from its
    own path: a folder named ``_posts`` is the posts folder, ``content/...`` Hugo's content."""
    parts = articles.parts
    if generator in ("hexo", "jekyll"):
        tail = list(parts[parts.index("_posts") + 1:]) if "_posts" in parts else []
        return "/".join([*(["source"] if generator == "hexo" else []), "_posts", *tail])
    if generator == "hugo":
        return "/".join(parts[len(parts) - parts[::-1].index("content") - 1:]) if "content" in parts else "content"
    return ""


def check_settings(settings: Any) -> tuple[str, str]:
    """(generator, site_url) from the settings, or a ConfigError naming the bad one."""
    generator = (settings.generator or "auto").strip().lower()
    if generator not in GENERATORS:
        raise ConfigError(f"generator must be one of {', '.join(GENERATORS)}, not {settings.generator!r}")
    site_url = settings.site_url.strip().rstrip("/")
    if site_url and not re.fullmatch(r"(?i)https?://[^/\s?#]+(/[^\s?#]*)?", site_url):
        raise ConfigError(f"site_url must be an http(s) address such as https://blog.example.org, not {site_url!r}")
    return generator, site_url


def load_site(settings: Any, articles_root: str | None) -> Site:
    """Settings first, then the site's own config file, then each generator's defaults."""
    generator, site_url = check_settings(settings)
    fallback_zone = _zone(settings.timezone, "timezone") or dt.UTC
    if generator == "none":
        return Site("none", site_url, "", fallback_zone)
    articles = Path(articles_root).expanduser().resolve() if articles_root else None
    found = find_site(articles, generator) if articles is not None and articles.is_dir() else None
    if found is None:
        if generator == "auto":
            return Site("none", site_url, "", fallback_zone)
        at = _guess_articles_at(generator, articles) if articles is not None else ""
        return Site(generator, site_url, settings.permalink or DEFAULT_PATTERN.get(generator, ""),
                    fallback_zone, at)
    config, kind = found.config, found.generator
    at = articles.relative_to(found.root).as_posix() if articles is not None else ""
    at = "" if at == "." else at
    where = str(found.config_file)
    if kind == "hexo":
        base = _config_url(config.get("url"), "")
        zone = _zone(config.get("timezone"), where)
        pattern = str(config.get("permalink") or DEFAULT_PATTERN["hexo"])
        options = {k: config.get(k) for k in ("new_post_name", "source_dir", "default_category", "filename_case")}
    elif kind == "jekyll":
        base = _config_url(config.get("url"), config.get("baseurl"))
        zone = _zone(config.get("timezone"), where)
        collections = config.get("collections")
        posts = collections.get("posts") if isinstance(collections, Mapping) else None
        pattern = str((posts or {}).get("permalink") if isinstance(posts, Mapping) and posts.get("permalink")
                      else config.get("permalink") or DEFAULT_PATTERN["jekyll"])
        options = {}
    else:
        base = _config_url(config.get("baseurl"), "")
        zone = _zone(config.get("timezone"), where)
        permalinks = config.get("permalinks") or {}
        if isinstance(permalinks, Mapping) and isinstance(permalinks.get("page"), Mapping):
            permalinks = permalinks["page"]               # Hugo 0.114+: [permalinks.page]
        pattern = ""
        options = {"permalinks": dict(permalinks) if isinstance(permalinks, Mapping) else {},
                   "content_dir": config.get("contentdir"),
                   "disable_path_to_lower": config.get("disablepathtolower")}
    return Site(kind, site_url or base, settings.permalink or pattern, zone or fallback_zone, at, where, options)


def _config_url(url: Any, baseurl: Any) -> str:
    """``url`` (+ Jekyll's ``baseurl``) from a site config, when it is an http(s) address."""
    text = str(url or "").strip().rstrip("/")
    if not re.match(r"(?i)https?://[^/\s]+", text) or urlsplit(text).scheme.lower() not in ("http", "https"):
        return ""
    base = str(baseurl or "").strip().strip("/")
    return text + ("/" + base if base else "")
