"""The plain data that crosses module boundaries: no Whoosh objects ever leave the engine.

Highlights are data (text + character ranges); HTML is produced only here, escaped, at the edge.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .filters import FilterNode


@dataclass(frozen=True)
class Article:
    """One parsed Markdown file, ready to index."""

    id: str                      # path relative to the articles root, POSIX
    title: str
    body: str                    # plain text, paragraphs separated by blank lines
    excerpt: str = ""
    excerpt_written: bool = False     # the excerpt is the front matter's description, not the body's start
    date: datetime | None = None      # aware, UTC
    updated: datetime | None = None   # aware, UTC
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    author: str = ""
    url: str = ""
    group: str = ""              # revisions of one article share it
    # What a static-site generator builds the article's link from (search/permalink.py):
    slug: str = ""               # front matter `slug`
    permalink: str = ""          # front matter `permalink` as written (a path or a Jekyll pattern)
    date_text: str = ""          # the date as written, ISO 8601: naive when it named no zone
    content_hash: str = ""
    size: int = 0
    mtime: float = 0.0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Marked:
    """A piece of text with highlight ranges ``[start, end)`` into ``text``."""

    text: str
    ranges: tuple[tuple[int, int], ...] = ()

    def to_html(self) -> str:
        out: list[str] = []
        pos = 0
        for start, end in self.ranges:
            out.append(escape(self.text[pos:start], quote=True))
            out.append("<mark>" + escape(self.text[start:end], quote=True) + "</mark>")
            pos = end
        out.append(escape(self.text[pos:], quote=True))
        return "".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "html": self.to_html(), "ranges": [list(r) for r in self.ranges]}


Snippet = Marked


@dataclass(frozen=True)
class Hit:
    id: str
    title: Marked
    url: str
    date: datetime | None
    author: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    score: float
    snippets: tuple[Marked, ...] = ()
    versions: int = 1
    version_ids: tuple[str, ...] = ()
    body: Marked | None = None           # the whole body, marked, when SearchRequest.bodies asks for it
    excerpt: str = ""                    # front matter's description, with body

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title.text,
            "title_html": self.title.to_html(),
            "url": self.url,
            "date": _iso(self.date),
            "author": self.author,
            "categories": list(self.categories),
            "tags": list(self.tags),
            "score": round(self.score, 4),
            "snippets": [s.to_dict() for s in self.snippets],
            "versions": self.versions,
            "version_ids": list(self.version_ids),
        }


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    selected: bool = False

    def to_dict(self) -> dict[str, Any]:
        # not dataclasses.asdict: its deep copy took 5 % of an API search
        return {"value": self.value, "count": self.count, "selected": self.selected}


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    page: int = 1
    per_page: int | None = None          # None: Settings.per_page
    filters: dict[str, list[str]] = field(default_factory=dict)   # category, tag, author, year
    sort: str = "relevance"              # relevance | newest | oldest
    date_from: str | None = None         # YYYY, YYYY-MM or YYYY-MM-DD, inclusive
    date_to: str | None = None
    highlight: bool = True
    facets: bool = True
    explain: bool = False
    filter: FilterNode | None = None     # a structured filter (search/filters.py), ANDed with the rest
    offset: int | None = None            # where the hits start in the results; overrides page
    matching: str = "last"               # "all": only articles with every word, no relaxed top-up
    facet_size: int | None = None        # values per facet; None: Settings.facet_size
    bodies: bool = False                 # hits also carry their whole marked body and excerpt


SORTS = ("relevance", "newest", "oldest")
MATCHING = ("last", "all")
#: The facets, each with its plural name in SearchResults.facets: the one list the engine, the
#: web page, the JSON API and the document facts of each segment (doctable.py) go by.
FACET_LABELS = {"category": "categories", "tag": "tags", "author": "authors", "year": "years"}
#: The facets taken from articles' keywords (the year facet comes from their dates).
FACET_NAMES = ("category", "tag", "author")
FILTER_FIELDS = tuple(FACET_LABELS)


@dataclass(frozen=True)
class SearchResults:
    query: str
    total: int
    page: int
    per_page: int
    took_ms: float
    hits: tuple[Hit, ...]
    facets: dict[str, tuple[FacetValue, ...]]
    suggestion: str | None = None
    warnings: tuple[str, ...] = ()
    expanded: tuple[str, ...] = ()       # how the query was widened (pinyin, synonyms, fallbacks)
    sort: str = "relevance"
    filters: dict[str, list[str]] = field(default_factory=dict)
    explain: dict[str, Any] | None = None
    top_score: float = 0.0               # the best score of all the results, to scale scores to 0..1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page)) if self.per_page else 1

    def to_dict(self) -> dict[str, Any]:
        out = {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "sort": self.sort,
            "filters": {k: list(v) for k, v in self.filters.items()},
            "took_ms": round(self.took_ms, 2),
            "hits": [h.to_dict() for h in self.hits],
            "facets": {name: [v.to_dict() for v in values] for name, values in self.facets.items()},
            "suggestion": self.suggestion,
            "warnings": list(self.warnings),
            "expanded": list(self.expanded),
        }
        if self.explain is not None:
            out["explain"] = self.explain
        return out


@dataclass(frozen=True)
class ArticleDetail:
    """An indexed article as the article page and ``/api/articles/<id>`` show it."""

    id: str
    title: Marked
    body: Marked
    url: str
    date: datetime | None
    updated: datetime | None
    author: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    versions: tuple[str, ...] = ()
    body_offset: int = 0                 # where ``body`` starts in the whole text (long articles come in parts)
    body_chars: int = 0                  # length of the whole text, in characters
    next_offset: int | None = None       # where the next part starts; None: body runs to the end

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title.text,
            "title_html": self.title.to_html(),
            "body": self.body.text,
            "body_html": self.body.to_html(),
            "body_offset": self.body_offset,
            "body_chars": self.body_chars,
            "next_offset": self.next_offset,
            "url": self.url,
            "date": _iso(self.date),
            "updated": _iso(self.updated),
            "author": self.author,
            "categories": list(self.categories),
            "tags": list(self.tags),
            "versions": list(self.versions),
        }


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str
    kind: str                     # short key to group skips: bad_encoding, unreadable, ...


@dataclass
class ReindexSummary:
    root: str
    index_dir: str
    full: bool
    indexed: int = 0              # new articles
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    kept: int = 0                 # broken now, previous entry kept
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    documents: int = 0            # documents in the index afterwards
    reason: str = ""              # why a full rebuild happened, when it was not asked for
    phases: dict[str, float] = field(default_factory=dict)     # seconds per step of the reindex

    def skipped_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for s in self.skipped:
            counts[s.kind] = counts.get(s.kind, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def warnings_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for w in self.warnings:
            kind = warning_kind(w)
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "index_dir": self.index_dir,
            "full": self.full,
            "reason": self.reason,
            "indexed": self.indexed,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "kept": self.kept,
            "skipped": len(self.skipped),
            "skipped_by_reason": self.skipped_by_reason(),
            "skips": [asdict(s) for s in self.skipped],
            "warnings": list(self.warnings),
            "warnings_by_kind": self.warnings_by_kind(),
            "documents": self.documents,
            "seconds": round(self.seconds, 3),
            "phases": dict(self.phases),
        }


# What a reindex warning (``"path: text"``) is about, from the fixed words of the messages that
# search/articles.py and the indexer write; the first match wins.
WARNING_KINDS = (
    ("skipped, a draft", "draft"),
    ("read line by line", "front_matter"),
    ("decoded as GB18030", "gb18030"),
    ("unreadable date", "date"),
    ("cannot list the folder", "unreadable_folder"),
    ("cannot read", "unreadable"),
)


def warning_kind(warning: str) -> str:
    """A short key to group reindex warnings by (``other`` for a message not listed above)."""
    for words, kind in WARNING_KINDS:
        if words in warning:
            return kind
    return "other"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
