"""Files -> Article: discovery, decoding, front matter, dates, keywords, Markdown/HTML -> text.

Real folders are messy (see ../shared/corpus*/README.md): broken YAML, values of the wrong
type, dates in six shapes, BOMs, GB18030, control characters, HTML inside Markdown. The rule is
that parsing never crashes: a file either becomes an Article (with warnings) or an ArticleError
that names the path and the reason.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import html
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import frontmatter
from dateutil import parser as dateparser
from selectolax.lexbor import LexborHTMLParser

from .errors import ArticleError, ConfigError
from .markdown import to_html as markdown_html
from .models import Article

EXTENSIONS = (".md", ".markdown")
MAX_BYTES = 20 * 1024 * 1024   # a "Markdown article" larger than this is not one

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FRONT_RE = re.compile(r"\A(?:[ \t]*\n)*(?P<fence>---|\+\+\+)[ \t]*\n(?P<meta>.*?)(?:\n|\A)[ \t]*(?P=fence)[ \t]*(?:\n|\Z)", re.S)
_KEY_LINE_RE = re.compile(r"^[ \t]*([A-Za-z_][\w\-]*)[ \t]*[:=][ \t]?(.*)$")
# The (?<![ \t]) and the (?!\{\{) / (?!\{%) guards keep these linear: without them every space of a long
# run of spaces, or every `{{<` / `{%` that never closes, rescanned the rest of the line or file (a
# 40 kB file of spaces took 9 s; reliability issue 5, tests/test_reliability_input.py).
_WIKI_ATTR_RE = re.compile(r"(?<![ \t])[ \t]*\{\.[\w\- .]+\}[ \t]*$", re.M)
# Hugo shortcodes and Liquid tags are template syntax, not text: {{< video … >}}, {% raw %}.
_TEMPLATE_RE = re.compile(r"\{\{[<%](?:(?!\{\{).)*?[%>]\}\}|\{%-?(?:(?!\{%).)*?-?%\}", re.S)
# `(.+?)[ \t#]*$` backtracked quadratically on `# a<40,000 spaces>b` (9 s): take the whole rest of the
# line and strip the closing spaces/#s in _heading_text() instead (issue 5).
_HEADING_RE = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(.+)$", re.M)
_LINE_RE = re.compile(r".*\n?")
_SPACE_RE = re.compile(r"[ \t\u00a0\u3000\u2000-\u200a\u202f\u205f]+")
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")   # U+200D too (zero-width joiner)
_BLANKS_RE = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_DATE_IN_NAME_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})-")
_SENTENCE_END = "。！？；.!?;"

_DROP_TAGS = "script, style, noscript, iframe, img, svg, video, audio, object, embed, template, head, map, canvas"
_BLOCK_TAGS = "p, div, h1, h2, h3, h4, h5, h6, blockquote, pre, figure, figcaption, table, section, article, header, footer, ul, ol, hr, details, summary"
_LINE_TAGS = "br, li, tr, dt, dd"

_DATE_KEYS = ("date", "pubDate", "pubdate", "published_at", "publishDate", "created", "created_at")
_UPDATED_KEYS = ("updated", "last_updated", "lastmod", "last_modified", "modified", "updated_at")
_URL_KEYS = ("url", "permalink", "link", "canonical_url", "original_url")
_AUTHOR_KEYS = ("author", "authors", "source", "creator")
_DESCRIPTION_KEYS = ("description", "excerpt", "summary", "descrition", "abstract")


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file found under the articles root. A plain string path and slots: a reindex holds
    one per file (49k of them took 59 MB with a pathlib.Path each)."""

    id: str          # POSIX path relative to the root
    path: str
    size: int
    mtime: float

    def read(self) -> bytes:
        with open(self.path, "rb") as fh:
            return fh.read()


@dataclass(frozen=True)
class DiscoveryProblem:
    """A folder or file that could not be read this time (permissions, I/O)."""

    path: str        # POSIX path relative to the root ("" for the root itself)
    reason: str
    folder: bool


@dataclass(frozen=True)
class Discovery:
    """What ``discover`` found: the Markdown files, and what it could not read. An incremental
    reindex must keep the indexed articles under an unreadable folder, not delete them."""

    files: list[SourceFile]
    problems: list[DiscoveryProblem]

    def __iter__(self) -> Iterator[SourceFile]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def unreadable(self, doc_id: str) -> bool:
        """Whether ``doc_id`` is (or lies under) something that could not be read."""
        for p in self.problems:
            if doc_id == p.path or (p.folder and (not p.path or doc_id.startswith(p.path + "/"))):
                return True
        return False


def discover(root: str | os.PathLike, drafts: bool = False) -> Discovery:
    """Markdown files under ``root`` in a stable order, skipping hidden folders/files and
    ``_drafts`` (unless ``drafts``). A folder or file that cannot be read is reported as a
    problem (a folder that vanished while being listed is simply gone). Plain string paths (no
    pathlib per file): a no-change reindex of 49k files is mostly this walk."""
    base = os.fspath(root)
    prefix = len(base.rstrip(os.sep)) + 1
    stack = [base]
    found: list[SourceFile] = []
    problems: list[DiscoveryProblem] = []

    def relative(path: str) -> str:
        rel = path[prefix:] if len(path) >= prefix else ""
        return rel.replace(os.sep, "/") if os.sep != "/" else rel

    while stack:
        folder = stack.pop()
        try:
            # Streamed, not listed: 81k DirEntry objects with their cached stat results held at
            # once left ~100 MB of fragmented heap behind, which every build worker then inherited.
            listing = os.scandir(folder)
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems.append(DiscoveryProblem(relative(folder), f"cannot list the folder: {exc.strerror or exc}", True))
            continue
        with listing:
            try:
                for entry in listing:
                    _take(entry, found, problems, stack, relative, drafts)
            except OSError as exc:         # the folder failed while being read (I/O error)
                problems.append(DiscoveryProblem(relative(folder), f"cannot list the folder: {exc.strerror or exc}", True))
    found.sort(key=lambda f: f.id)
    problems.sort(key=lambda p: p.path)
    return Discovery(found, problems)


def _take(entry: os.DirEntry, found: list[SourceFile], problems: list[DiscoveryProblem], stack: list[str],
          relative: Callable[[str], str], drafts: bool) -> None:
    """One folder entry: a Markdown file into ``found``, a folder to enter onto ``stack``."""
    name = entry.name
    if name.startswith("."):
        return
    try:
        if entry.is_dir(follow_symlinks=False):
            if name != "_drafts" or drafts:
                stack.append(entry.path)
        elif name.lower().endswith(EXTENSIONS) and entry.is_file():
            st = entry.stat()
            found.append(SourceFile(relative(entry.path), entry.path, st.st_size, st.st_mtime))
    except FileNotFoundError:
        pass
    except OSError as exc:
        problems.append(DiscoveryProblem(relative(entry.path), f"cannot read: {exc.strerror or exc}", False))


def is_folder_path(rel: str, drafts: bool = False) -> bool:
    """Whether ``discover`` would enter the folder ``rel`` (a POSIX path relative to the
    articles root): no hidden part, no ``_drafts`` part unless ``drafts``. A watcher asks this
    (and ``is_article_path``) about every path it hears of, so a save, an editor's temp file
    (``.x.md.swp``, ``x.md~``, ``.#x.md``, ``4913``) or a change under ``.git`` is judged by the
    same rules as a reindex."""
    parts = rel.split("/")
    if any(not part or part.startswith(".") for part in parts):
        return False
    return drafts or "_drafts" not in parts


def is_article_path(rel: str, drafts: bool = False) -> bool:
    """Whether ``discover`` would list ``rel`` as an article, by its name alone (see
    ``is_folder_path``)."""
    folder, _, name = rel.rpartition("/")
    return (not folder or is_folder_path(folder, drafts)) and bool(name) and not name.startswith(".") \
        and name.lower().endswith(EXTENSIONS)


def zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name) if name and name.upper() != "UTC" else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r} (use an IANA name such as Asia/Hong_Kong)") from None


class DraftSkipped(ArticleError):
    """A draft (``draft: true`` / ``published: false``): skipped unless drafts are wanted."""


def parse_file(source: SourceFile, tz: dt.tzinfo = dt.UTC, drafts: bool = False) -> Article:
    """Read and parse one file; raises ArticleError (never anything else) on failure."""
    try:
        if source.size > MAX_BYTES:
            raise ArticleError(source.id, f"file is larger than {MAX_BYTES // (1024 * 1024)} MB", "too_large")
        data = source.read()
    except OSError as exc:
        raise ArticleError(source.id, f"cannot read: {exc.strerror or exc}", "unreadable") from None
    try:
        return parse_bytes(data, source.id, tz=tz, size=len(data), mtime=source.mtime, drafts=drafts)
    except ArticleError:
        raise
    except RecursionError:
        raise ArticleError(source.id, "document nests too deeply to parse", "unparsable") from None
    except Exception as exc:  # noqa: BLE001 - a parser bug must not abort a reindex
        raise ArticleError(source.id, f"cannot parse: {type(exc).__name__}: {exc}", "unparsable") from None


def decode(data: bytes, name: str) -> tuple[str, list[str]]:
    """UTF-8 (with or without BOM), else GB18030 with a warning, else an ArticleError."""
    if b"\x00" in data[:8000] and data.count(b"\x00") > len(data) // 10:
        raise ArticleError(name, "looks like a binary file (NUL bytes)", "binary")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise ArticleError(name, "not valid UTF-8 or GB18030 text", "bad_encoding") from None
    return text, ["decoded as GB18030 (not UTF-8)"]


def parse_bytes(data: bytes, name: str, *, tz: dt.tzinfo = dt.UTC, size: int = 0,
                mtime: float = 0.0, drafts: bool = True) -> Article:
    text, warnings = decode(data, name)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_RE.sub("", text)
    meta, body_md, fm_warnings = split_front_matter(text)
    warnings += fm_warnings
    if not drafts and is_draft(meta):
        raise DraftSkipped(name, "a draft (draft: true / published: false); index it with --drafts", "draft")

    title = _title(meta)
    body_md = _TEMPLATE_RE.sub("", _WIKI_ATTR_RE.sub("", body_md))
    heading = _first_heading(body_md)
    if heading is not None and title and _same_text(heading[1], title):
        body_md = body_md[:heading[0].start()] + body_md[heading[0].end():]
    elif not title:
        title = heading[1] if heading else _title_from_name(name)
    body = markdown_to_text(body_md)
    written = written_date(_first(meta, _DATE_KEYS))
    if written is None and _first(meta, _DATE_KEYS) not in (None, ""):
        warnings.append(f"unreadable date {_first(meta, _DATE_KEYS)!r}")
    if written is None:
        written = _date_from_name(name)
    date = parse_date(written, tz)
    updated = parse_date(_first(meta, _UPDATED_KEYS), tz)
    categories = keywords(meta.get("categories")) + keywords(meta.get("category"))
    tags = keywords(meta.get("tags")) + keywords(meta.get("tag")) + keywords(meta.get("keywords"))
    author = _author(meta)
    url = _clean_str(_first(meta, _URL_KEYS))
    description = _clean_str(_first(meta, _DESCRIPTION_KEYS))
    excerpt = excerpt_of(html.unescape(description) if description else body)
    raw_date = _clean_str(_first(meta, _DATE_KEYS))
    return Article(
        id=name,
        title=title,
        body=body,
        excerpt=excerpt,
        excerpt_written=bool(description),
        date=date,
        updated=updated,
        categories=_unique(categories),
        tags=_unique(tags),
        author=author,
        url=url if re.match(r"(?i)https?://|/", url) else "",
        group=group_key(title, raw_date if raw_date else (date.isoformat() if date else ""), name),
        slug=_clean_str(meta.get("slug")),
        permalink=_clean_str(meta.get("permalink")),
        date_text=written.isoformat() if written else "",
        content_hash=hashlib.sha1(data).hexdigest(),
        size=size or len(data),
        mtime=mtime,
        warnings=tuple(warnings),
    )


def is_draft(meta: dict[str, Any]) -> bool:
    return meta.get("draft") is True or meta.get("published") is False


# -- front matter -----------------------------------------------------------------------------

def split_front_matter(text: str) -> tuple[dict[str, Any], str, list[str]]:
    """(metadata, Markdown body, warnings). YAML ``---`` (leading blank lines allowed) or TOML
    ``+++``; when the block does not parse, its ``key: value`` lines are read one by one."""
    m = _FRONT_RE.match(text)
    if not m:
        return {}, text, []
    raw, body = m.group("meta"), text[m.end():]
    warnings: list[str] = []
    meta: dict[str, Any] | None = None
    try:
        post = frontmatter.loads(text.lstrip("\n \t"))
        meta = dict(post.metadata) if isinstance(post.metadata, dict) else None
    except Exception as exc:  # noqa: BLE001 - yaml/toml raise many types
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        warnings.append(f"front matter does not parse ({type(exc).__name__}: {reason}); read line by line")
    if meta is not None and _oversized(meta):
        # YAML aliases (`b: [*a, *a, ...]`, the "billion laughs") build a tiny object graph that
        # walking expands: 8 lines of front matter took 46 s in keywords() (issue 5).
        warnings.append(f"front matter expands to more than {MAX_META_NODES:,} values; read line by line")
        meta = None
    if meta is None:
        meta = _read_key_lines(raw)
    else:
        lines = _read_key_lines(raw)
        # YAML reads `title: #hashtag` as a comment (null) and `title: 404` as an int: prefer the raw line.
        # Same for `source: 0xBACB` (YAML 1.1 reads it as the int 47819): names are text as written.
        for key in ("title", "source"):
            if not isinstance(meta.get(key), str) and isinstance(lines.get(key), str) and lines[key]:
                meta[key] = lines[key]
    return meta, body, warnings


MAX_META_NODES = 100_000


def _oversized(value: Any, budget: int = MAX_META_NODES) -> bool:
    """True when walking ``value`` visits more than ``budget`` values (shared ones each time)."""
    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > budget:
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend(item)
    return False


def _read_key_lines(raw: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    last_key = None
    for line in raw.split("\n"):
        m = _KEY_LINE_RE.match(line)
        if m and not line.startswith(("  -", " -", "-")):
            key, value = m.group(1), m.group(2).strip()
            meta[key] = _unquote(value)
            last_key = key
        elif last_key and line.strip().startswith("- "):
            item = _unquote(line.strip()[2:].strip())
            prev = meta.get(last_key)
            meta[last_key] = (prev if isinstance(prev, list) else []) + [item]
        elif last_key == "title" and line.strip() and isinstance(meta.get("title"), str):
            meta["title"] = (meta["title"] + " " + _unquote(line.strip())).strip()
    return meta


def _unquote(value: str) -> str:
    value = value.strip()
    while len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1].strip()
    return value.strip("'\"").strip() if value and set(value) <= set("'\"") else value


# -- values -----------------------------------------------------------------------------------

def _first(meta: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in meta and meta[key] not in (None, ""):
            return meta[key]
    for key in keys:
        if key in meta:
            return meta[key]
    return None


def _clean_str(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, (list, tuple)):
        value = ", ".join(_clean_str(v) for v in value if _clean_str(v))
    elif isinstance(value, dict):
        value = value.get("name") or value.get("title") or ""
    elif isinstance(value, dt.datetime):
        value = value.isoformat(sep=" ")
    return _SPACE_RE.sub(" ", _INVISIBLE_RE.sub("", str(value))).strip()


def _title(meta: dict[str, Any]) -> str:
    value = meta.get("title")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return _clean_str(html.unescape(_clean_str(value)))


def _author(meta: dict[str, Any]) -> str:
    for key in _AUTHOR_KEYS:
        value = meta.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and key == "source":
            continue  # YAML read `source: 0xBACB` as a number; it is not a name
        text = _clean_str(value)
        if text:
            return text
    return ""


def keywords(value: Any) -> list[str]:
    """Categories/tags as a flat list: lists, nested lists, comma strings, numbers."""
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, (list, tuple, set)):
        out: list[str] = []
        for item in value:
            out.extend(keywords(item))
        return out
    if isinstance(value, dict):
        return keywords(list(value.values()))
    if isinstance(value, (dt.date, dt.datetime)):
        return [value.isoformat()]
    text = _clean_str(value)
    return [p.strip() for p in re.split(r"[,，、;；]", text) if p.strip()]


def _unique(values: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for v in values:
        v = html.unescape(v).strip()
        if v and v not in seen and len(v) <= 200:
            seen[v] = None
    return tuple(seen)


def parse_date(value: Any, tz: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """Any date shape found in real front matter -> aware UTC datetime; naive times are in ``tz``."""
    parsed = written_date(value)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(dt.UTC)


def written_date(value: Any) -> dt.datetime | None:
    """The date as written: aware when it named a zone or offset, naive when it did not.
    Static-site generators build a post's link from this wall-clock time (search/permalink.py)."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)):
        text = str(int(value))
        if len(text) == 8:
            return written_date(f"{text[:4]}-{text[4:6]}-{text[6:]}")
        if 10 <= len(text) <= 13:  # a Unix timestamp (seconds or milliseconds)
            seconds = int(value) / (1000 if len(text) == 13 else 1)
            return dt.datetime.fromtimestamp(seconds, dt.UTC)
        return None
    else:
        text = _clean_str(value)
        if not text:
            return None
        parsed = None
        if "," in text or re.match(r"[A-Za-z]{3},? ", text):
            try:
                parsed = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                parsed = None
        if parsed is None:
            try:
                parsed = dateparser.isoparse(text)
            except (ValueError, OverflowError):
                try:
                    parsed = dateparser.parse(text, fuzzy=False)
                except (ValueError, OverflowError, TypeError, dateparser.ParserError):
                    return None
    if parsed is None or not 1800 <= parsed.year <= 2200:
        return None
    return parsed


def _date_from_name(name: str) -> dt.datetime | None:
    """Jekyll's canonical date lives in the file name (`2019-04-04-slug.md`); naive."""
    m = _DATE_IN_NAME_RE.match(name.rsplit("/", 1)[-1])
    if not m:
        return None
    try:
        return dt.datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _title_from_name(name: str) -> str:
    stem = name.rsplit("/", 1)[-1]
    for ext in EXTENSIONS:
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
    return _clean_str(stem.replace("_", " ").replace("-", " ")) or stem


def _first_heading(markdown: str) -> tuple[re.Match[str], str] | None:
    for line_match in re.finditer(r"^.*$", markdown, re.M):
        line = line_match.group()
        if not line.strip():
            continue
        m = _HEADING_RE.match(line)
        if m:
            text = _heading_plain_text(_heading_text(m.group(2)))
            # Re-anchor the match to the whole markdown so the caller can cut it out. (The line
            # used to be compiled as a regex of its own: seconds for a 500 kB heading; issue 5.)
            whole = _LINE_RE.match(markdown, line_match.start())
            return (whole, text) if whole and text else None
        return None
    return None


# Heading text made only of characters Markdown leaves alone (CJK, letters, digits, spaces and
# punctuation without * _ ` [ ] < > & \ ! ~ | # + - =), not opening a list item or a code
# block, is its own text: most headings (80k of 102k in the two corpora, every one the same as
# the parser's), and the parser plus the HTML pass took 0.18 ms for each article that has one.
_PLAIN_HEADING_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u3003\u3008-\u3011"
                               "\u3014-\u301f\uff01-\uff5e\u2018\u2019\u201c\u201d\u2014\u2026\u00b7"
                               "A-Za-z0-9 ,.:;?'\"/%()@$^{}]+")
_BLOCK_START_RE = re.compile(r" {4}|\d{1,9}[.)](?: |$)")


def _heading_plain_text(raw: str) -> str:
    if _PLAIN_HEADING_RE.fullmatch(raw) and not _BLOCK_START_RE.match(raw):
        return _SPACE_RE.sub(" ", raw).strip()
    return markdown_to_text(raw).strip()


def _heading_text(raw: str) -> str:
    """What the old ``(.+?)[ \t#]*$`` captured: the text without closing spaces and #s, but at
    least its first character."""
    return raw.rstrip(" \t#") or raw[:1]


def _same_text(a: str, b: str) -> bool:
    def squash(s: str) -> str:
        return re.sub(r"[\s\u3000\u00a0]+", "", html.unescape(s)).casefold()
    return squash(a) == squash(b)


# -- body -------------------------------------------------------------------------------------

def markdown_to_text(markdown: str) -> str:
    """Markdown with inline HTML -> plain text with paragraph breaks; scripts, styles, images
    and embeds dropped, entities decoded, odd spaces normalised, link targets left out."""
    if not markdown.strip():
        return ""
    return html_to_text(markdown_html(markdown))


def html_to_text(markup: str) -> str:
    tree = LexborHTMLParser(markup)
    root = tree.body
    if root is None:
        return ""
    for node in root.css(_DROP_TAGS):
        node.decompose()
    for node in root.css(_BLOCK_TAGS):
        node.insert_after("\n\n")
    for node in root.css(_LINE_TAGS):
        node.insert_after("\n")
    text = root.text(separator="", strip=False)
    text = _INVISIBLE_RE.sub("", text)
    text = _SPACE_RE.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = _BLANKS_RE.sub("\n\n", text)
    return text.strip()


def excerpt_of(text: str, limit: int = 160) -> str:
    """The first ``limit`` characters of ``text`` with its whitespace collapsed, ended at a
    sentence end when one is near. Only a prefix is collapsed when that is enough (a body can be
    megabytes): the answer depends on the first ``limit + 1`` collapsed characters alone."""
    head = text[:8 * limit]
    collapsed = re.sub(r"\s+", " ", head).strip()
    if len(collapsed) <= limit and len(head) < len(text):     # a prefix mostly of blanks
        collapsed = re.sub(r"\s+", " ", text).strip()
    text = collapsed
    if len(text) <= limit:
        return text
    cut = text[:limit]
    best = max(cut.rfind(ch) for ch in _SENTENCE_END)
    if best >= limit // 2:
        return cut[: best + 1]
    return cut.rstrip() + "…"


def group_key(title: str, date: str, name: str) -> str:
    """Revisions of one article (same title + same date string) share a key. Untitled files
    group alone."""
    squashed = re.sub(r"\s+", " ", title).strip()
    if not squashed:
        return "id:" + name
    digest = hashlib.sha1(f"{squashed}\x00{date}".encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return "td:" + digest


def body_key(body: str) -> str:
    """Copies with the same text (whitespace ignored) share this key; short bodies get none."""
    squashed = re.sub(r"\s+", "", body)
    if len(squashed) < 50:
        return ""
    return "b:" + hashlib.sha1(squashed.encode("utf-8", "surrogatepass")).hexdigest()[:16]


