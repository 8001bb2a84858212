"""HTML pages, and the one request parser both the page and ``/api/search`` go through.

``search_request()`` turns query-string arguments into a SearchRequest and ``run_search()``
turns that into SearchResults; ``/`` renders the object with Jinja and ``/api/search`` with
``to_dict()``, so the page and its JSON twin can never disagree (datasette's habit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from search import ArticleDetail, Hit, QueryError, SearchRequest, SearchResults, Settings, permalink
from search.models import FACET_LABELS, FILTER_FIELDS, FacetValue
from search.requests import MAX_DATE_CHARS, validate

from . import text
from .holder import engine, settings

# SearchResults.facets is keyed by plural names; links filter on the singular parameter names
FACETS = tuple((label, name, label.capitalize()) for name, label in FACET_LABELS.items())
SORT_LABELS = {"relevance": "Relevance", "newest": "Newest", "oldest": "Oldest"}


# -- parsing ---------------------------------------------------------------------------------

def int_arg(args: MultiDict, name: str, default: int) -> int:
    """A whole-number parameter; absent is the default, present but empty (``page=``) is a 400
    like any other value that is not a number."""
    if name not in args:
        return default
    raw = args.get(name, "").strip()
    if not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 9:
        raise QueryError(f"{name} must be a whole number, not {raw[:40]!r}")
    return int(raw)


def _text_arg(args: MultiDict, name: str, limit: int, *, strip: bool = True) -> str:
    value = args.get(name, "")
    value = value.strip() if strip else value
    if len(value) > limit:
        raise QueryError(f"{name} is {len(value)} characters long; the limit is {limit}")
    return value


def query_text(args: MultiDict, cfg: Settings, *, strip: bool = True) -> str:
    """``q``, bounded: an over-long query is a 400, not a silently truncated search."""
    return _text_arg(args, "q", cfg.max_query_length, strip=strip)


def search_request(args: MultiDict, cfg: Settings) -> SearchRequest:
    """The query string as a SearchRequest, checked by the library's one rule
    (``search.requests.validate``): any parameter that cannot be served is a QueryError, which
    the error handlers turn into 400 ``bad_parameter`` naming the parameter."""
    filters: dict[str, list[str]] = {}
    for name in FILTER_FIELDS:
        values = list(dict.fromkeys(v.strip() for v in args.getlist(name) if v.strip()))
        if values:
            filters[name] = values
    req = SearchRequest(q=query_text(args, cfg), page=int_arg(args, "page", 1),
                        per_page=int_arg(args, "per_page", cfg.per_page), filters=filters,
                        sort=args.get("sort", "relevance").strip(),
                        date_from=_text_arg(args, "from", MAX_DATE_CHARS) or None,
                        date_to=_text_arg(args, "to", MAX_DATE_CHARS) or None)
    return validate(req, cfg)


def run_search(req: SearchRequest) -> SearchResults:
    """The one handler that builds SearchResults, for the page and the API alike."""
    return engine().search(req)


def is_search(req: SearchRequest) -> bool:
    return bool(req.q or req.filters or req.date_from or req.date_to)


# -- links -----------------------------------------------------------------------------------

def _current_args() -> dict[str, list[str]]:
    return {k: [v for v in request.args.getlist(k) if v.strip()] for k in request.args}


def search_url(endpoint: str = "index", **changes: Any) -> str:
    """The current search with some parameters changed (None removes one); any change other
    than ``page`` goes back to page 1, since the old page number means nothing any more."""
    params = _current_args()
    if "page" not in changes:
        params.pop("page", None)
    for key, value in changes.items():
        key = {"from_": "from"}.get(key, key)
        if value is None or value == [] or value == "":
            params.pop(key, None)
        else:
            params[key] = value if isinstance(value, list) else [str(value)]
    if params.get("page") == ["1"]:
        params.pop("page")
    if params.get("sort") == ["relevance"]:
        params.pop("sort")
    return url_for(endpoint, **{k: v for k, v in params.items() if v})


def toggle_url(field: str, value: str) -> str:
    """Add a filter value, or remove it when it is already on (facet links toggle)."""
    current = [v for v in request.args.getlist(field) if v.strip()]
    new = [v for v in current if v != value] if value in current else [*current, value]
    return search_url(**{field: new})


def article_url(id: str, q: str = "", offset: int = 0) -> str:
    # url_for quotes the id (spaces, %, #, ?, quotes, emoji); the id is never a file path
    return url_for("article", id=id, q=q or None, offset=offset or None)


def original_link(item: Hit | ArticleDetail) -> str | None:
    """The article's page on its own site, when its ``url`` is that and not sou's own page:
    sou's pages keep linking to sou's article page (highlights, related articles) and show
    this one beside it."""
    if item.url == permalink.article_page(item.id):
        return None
    return text.safe_link(item.url)


# -- pages -----------------------------------------------------------------------------------

def index() -> str:
    cfg = settings()
    req = search_request(request.args, cfg)
    results = run_search(req) if is_search(req) else None
    documents = None if results is not None else engine().health().get("documents")
    return render_template("index.html", req=req, results=results, documents=documents,
                           api_url=search_url("api_search", page=request.args.get("page")),
                           facet_groups=facet_groups(results), sorts=SORT_LABELS,
                           page_links=_page_links(results, cfg) if results else [])


def article_part(args: MultiDict, cfg: Settings) -> tuple[int, int]:
    """``offset`` and ``limit`` (characters of the body) of an article request: a long article
    is read in parts of at most ``article_chars`` characters."""
    offset = int_arg(args, "offset", 0)
    limit = int_arg(args, "limit", cfg.article_chars)
    if offset < 0:
        raise QueryError(f"offset must be 0 or more, not {offset}")
    if not 1 <= limit <= cfg.article_chars:
        raise QueryError(f"limit must be between 1 and {cfg.article_chars}, not {limit}")
    return offset, limit


def article(id: str) -> str:
    cfg = settings()
    q = query_text(request.args, cfg)
    offset, limit = article_part(request.args, cfg)
    eng = engine()
    detail = eng.article(id, q=q, offset=offset, limit=limit)
    related = eng.related(id, n=5)
    return render_template("article.html", detail=detail, q=q, related=related,
                           paragraphs=text.paragraphs(detail.body),
                           api_url=url_for("api_article", id=id, q=q or None, offset=offset or None))


def opensearch() -> Response:
    body = render_template("opensearch.xml", base=url_for("index", _external=True),
                           suggest=url_for("api_suggest", _external=True),
                           self_url=url_for("opensearch", _external=True))
    return Response(body, mimetype="application/opensearchdescription+xml")


@dataclass(frozen=True)
class FacetGroup:
    field: str                          # the query parameter its links toggle
    label: str
    values: tuple[FacetValue, ...]


def facet_groups(results: SearchResults | None) -> list[FacetGroup]:
    """The non-empty facets in a fixed order, each with the filter parameter it toggles."""
    if results is None:
        return []
    groups = []
    for key, field, label in FACETS:
        values = results.facets.get(key) or results.facets.get(field)
        if values:
            groups.append(FacetGroup(field, label, tuple(values)))
    return groups


def _page_links(results: SearchResults, cfg: Settings) -> list[int | None]:
    """Page numbers to show: first, last, and two either side of the current one; None is a gap.
    Pages past ``max_results`` are left out because the server would refuse them."""
    last = min(results.pages, max(1, cfg.max_results // max(1, results.per_page)))
    if last <= 1:
        return []
    shown = sorted({1, last, *range(max(1, results.page - 2), min(last, results.page + 2) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


def _template_helpers() -> dict[str, Any]:
    cfg = settings()
    return {
        "search_url": search_url,
        "toggle_url": toggle_url,
        "article_url": article_url,
        "original_link": original_link,
        "lang_of": text.lang_of,
        "safe_link": text.safe_link,
        "short_url": text.short_url,
        "local_date": lambda d: text.local_date(d, cfg.timezone),
        "current_q": request.args.get("q", "")[: cfg.max_query_length],
        "max_query_length": cfg.max_query_length,
    }


def register(app: Flask) -> None:
    app.add_url_rule("/", "index", index)
    app.add_url_rule("/articles/<path:id>", "article", article)
    app.add_url_rule("/opensearch.xml", "opensearch", opensearch)
    app.context_processor(_template_helpers)
