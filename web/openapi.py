"""The OpenAPI 3.1 description of the JSON API, as a Python dict.

Its schemas are JSON Schema 2020-12 and deliberately strict (``additionalProperties: false``):
the tests validate real responses of every endpoint against them, so a field added to a model
without being documented here fails the build.
"""

from __future__ import annotations

from typing import Any

from search import Settings
from search.models import SORTS

REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _obj(props: dict[str, Any], *, optional: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props,
            "required": [k for k in props if k not in optional], "additionalProperties": False, **extra}


STR = {"type": "string"}
STRS = {"type": "array", "items": STR}
INT = {"type": "integer"}
DATE = {"type": ["string", "null"], "format": "date-time", "description": "ISO 8601 with offset (UTC), or null."}
# empty = not given (the page's date form sends `from=&to=` when left blank)
DATE_PARAM = {"type": "string", "maxLength": 32, "pattern": "^([0-9]{4}([-/.][0-9]{1,2}([-/.][0-9]{1,2})?)?)?$"}
SUGGEST_FORMATS = ("json", "opensearch")

SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": _obj({
        "code": {**STR, "description": "Machine-readable kind: bad_parameter (400), unauthorized (401), "
                                       "not_found (404), index_missing, index_outdated, index_locked (503), "
                                       "internal (500)."},
        "message": {**STR, "description": "One line for humans."},
    })}, description="The one error shape of every endpoint and status."),
    "Marked": _obj({
        "text": STR,
        "html": {**STR, "description": "text, HTML-escaped, with <mark> around the ranges."},
        "ranges": {"type": "array", "items": {"type": "array", "items": INT, "minItems": 2, "maxItems": 2},
                   "description": "[start, end) character offsets into text."},
    }, description="A piece of text with highlight ranges."),
    "Hit": _obj({
        "id": {**STR, "description": "Article id: its path relative to the articles folder."},
        "title": STR,
        "title_html": {**STR, "description": "Title, escaped, with the query terms in <mark>."},
        "url": {**STR, "description": "The link to show: the article on its own site (front matter url, or the "
                                     "site's permalink pattern), else sou's article page. Absolute over HTTP."},
        "date": DATE,
        "author": STR,
        "categories": STRS,
        "tags": STRS,
        "score": {"type": "number"},
        "snippets": {"type": "array", "items": _ref("Marked")},
        "versions": {**INT, "minimum": 1, "description": "Saved revisions collapsed into this hit."},
        "version_ids": STRS,
    }),
    "FacetValue": _obj({"value": STR, "count": {**INT, "minimum": 0}, "selected": {"type": "boolean"}}),
    "SearchResults": _obj({
        "query": STR,
        "total": {**INT, "minimum": 0},
        "page": {**INT, "minimum": 1},
        "per_page": {**INT, "minimum": 1},
        "pages": {**INT, "minimum": 1},
        "sort": {"enum": list(SORTS)},
        "filters": {"type": "object", "additionalProperties": STRS,
                    "description": "The filters applied, by parameter name (category, tag, author, year, from, to)."},
        "took_ms": {"type": "number"},
        "hits": {"type": "array", "items": _ref("Hit")},
        "facets": {"type": "object", "additionalProperties": {"type": "array", "items": _ref("FacetValue")},
                   "description": "category, tag, author, year -> values with counts."},
        "suggestion": {"type": ["string", "null"], "description": "'Did you mean' query, or null."},
        "warnings": {**STRS, "description": "What the lenient query parser had to ignore or fix."},
        "expanded": {**STRS, "description": "How the query was widened (pinyin, synonyms, fallbacks)."},
        "explain": {"type": "object"},
    }, optional=("explain",)),
    "ArticleDetail": _obj({
        "id": STR, "title": STR, "title_html": STR,
        "body": {**STR, "description": "Plain text; paragraphs separated by blank lines. A long article "
                                       "comes in parts: this is the part from body_offset."},
        "body_html": {**STR, "description": "body, escaped, with the terms of q in <mark>."},
        "body_offset": {**INT, "minimum": 0, "description": "Where body starts in the whole text, in characters."},
        "body_chars": {**INT, "minimum": 0, "description": "Length of the whole text, in characters."},
        "next_offset": {"type": ["integer", "null"], "minimum": 1,
                        "description": "The offset of the next part, or null when body runs to the end."},
        "url": {**STR, "description": "The same link as a hit's url."}, "date": DATE, "updated": DATE, "author": STR,
        "categories": STRS, "tags": STRS,
        "versions": {**STRS, "description": "Ids of the other saved revisions of this article."},
    }),
    "Suggestions": _obj({"query": STR, "suggestions": STRS}),
    # [query, [completions]]: two items, a string then an array of strings. Written without
    # prefixItems, which Schemathesis rewrites to the old `items: [...]` form that a 2020-12
    # validator rejects; the tests check the order.
    "OpenSearchSuggestions": {
        "type": "array", "items": {"anyOf": [STR, STRS]}, "minItems": 2, "maxItems": 2,
        "description": "OpenSearch suggestions format: [query, [completions]].",
    },
    "Related": _obj({"id": STR, "hits": {"type": "array", "items": _ref("Hit")}}),
    "Health": _obj({
        "status": {"const": "ok"},
        "documents": {**INT, "minimum": 0},
        "built_at": {"type": ["string", "null"], "description": "When the last full build ended."},
        "updated_at": {"type": ["string", "null"], "description": "When the last (incremental) reindex ended."},
        "analyzer_version": STR,
        "schema_version": INT,
        "index_dir": {**STR, "description": "The index folder (only with the health_paths setting)."},
        "root": {**STR, "description": "The articles folder the index was built from (only with health_paths)."},
    }, optional=("index_dir", "root")),
    "OpenAPI": {"type": "object", "required": ["openapi", "info", "paths"]},
}


def _param(name: str, description: str, schema: dict[str, Any], *, repeat: bool = False,
           where: str = "query", required: bool = False) -> dict[str, Any]:
    p: dict[str, Any] = {"name": name, "in": where, "description": description, "required": required or where == "path"}
    if repeat:
        p.update(schema={"type": "array", "items": schema}, style="form", explode=True)
    else:
        p["schema"] = schema
    return p


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {400: "A parameter that cannot be served (bad_parameter): wrong type or size, out of range "
                 "(page=0, per_page too big, paging past max_results), unknown value (sort, format, date).",
            401: "Only on a server with an api_key: the request has no valid `Authorization: Bearer KEY` "
                 "header (or sign-in cookie).",
            404: "No such article.",
            503: "No usable index yet: run `sou reindex PATH`.",
            500: "Unexpected server error (logged)."}
    return {str(s): _json("Error", text[s]) for s in statuses}


def _get(summary: str, params: list[dict[str, Any]], ok: dict[str, Any], *errors: int) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": params,
                    "responses": {"200": ok, **_errors(401, *errors, 500)}}}


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The document for this server's settings (the bounds it states are the ones enforced)."""
    q = _param("q", f"The query (at most {settings.max_query_length} characters; longer is a 400, not a "
                    "truncation). Syntax: words (all must match), \"exact phrase\", -exclude, OR, "
                    "( ), title: category: tag: author:, date:2021, date:2021-03..2021-06.",
               {"type": "string", "maxLength": settings.max_query_length})
    article_id = _param("id", "Article id (its path relative to the articles folder), URL-quoted.", STR, where="path")
    q_article = {**q, "description": "Highlight the terms of this query in title_html and body_html."}
    part = [_param("offset", "Start of the part of the body to return, in characters (next_offset of "
                             "the previous part).", {"type": "integer", "minimum": 0, "default": 0}),
            _param("limit", "Characters of the body to return; a part ends at a paragraph break.",
                   {"type": "integer", "minimum": 1, "maximum": settings.article_chars,
                    "default": settings.article_chars})]
    search_params = [
        q,
        _param("page", "1-based page number.", {"type": "integer", "minimum": 1, "default": 1}),
        _param("per_page", f"Hits per page; page * per_page may not exceed {settings.max_results}.",
               {"type": "integer", "minimum": 1, "maximum": settings.max_per_page, "default": settings.per_page}),
        _param("sort", "Order of the hits.", {"enum": list(SORTS), "default": "relevance"}),
        _param("category", "Only these categories (OR within a field, AND across fields).", STR, repeat=True),
        _param("tag", "Only these tags.", STR, repeat=True),
        _param("author", "Only these authors.", STR, repeat=True),
        _param("year", "Only these years (any four digits; 0000 matches nothing; empty is ignored).",
               {"type": "string", "pattern": "^([0-9]{4})?$"}, repeat=True),
        _param("from", "Earliest date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD.", DATE_PARAM),
        _param("to", "Latest date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD.", DATE_PARAM),
    ]
    suggest_ok = {"description": "Completions for the prefix.", "content": {
        "application/json": {"schema": _ref("Suggestions")},
        "application/x-suggestions+json": {"schema": _ref("OpenSearchSuggestions")},
    }}
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "sou 搜 JSON API",
            "version": "1",
            "description": "Chinese-aware full-text search over a folder of Markdown articles. Every error, "
                           "whatever its status, has the shape of the Error schema.",
        },
        "paths": {
            "/api/search": _get("Search the articles", search_params, _json("SearchResults", "One page of results."),
                                400, 503),
            "/api/suggest": _get("Search-as-you-type completions", [
                _param("q", "What has been typed so far.", {"type": "string",
                                                             "maxLength": settings.max_query_length}),
                _param("format", "`opensearch` for the browsers' [query, [completions]] format.",
                       {"enum": list(SUGGEST_FORMATS), "default": "json"}),
            ], suggest_ok, 400, 503),
            "/api/articles/{id}": _get("One article", [article_id, q_article, *part],
                                       _json("ArticleDetail", "The article's text and metadata."), 400, 404, 503),
            "/api/related/{id}": _get("Articles like this one", [article_id],
                                      _json("Related", "Up to 5 related articles."), 404, 503),
            "/api/health": _get("Index status", [], _json("Health", "The index is open and searchable."), 503),
            "/api/openapi.json": _get("This document", [], _json("OpenAPI", "The OpenAPI 3.1 description.")),
        },
        "components": {"schemas": SCHEMAS},
    }
