"""The JSON API: the same objects as the pages, rendered with ``to_dict()``.

Every response shape is described in ``web/openapi.py``; tests validate real responses
against that document, so the two cannot drift apart.
"""

from __future__ import annotations

import re

from flask import Flask, Response, jsonify, request

from search import QueryError

from .holder import engine, settings
from .openapi import SUGGEST_FORMATS, openapi_document
from .views import article_part, query_text, run_search, search_request


def api_search() -> Response:
    return jsonify(run_search(search_request(request.args, settings())).to_dict())


_LAST_WORD = re.compile(r"^(?P<head>.*?)(?P<lead>(?:\w+:)?[-(\"\u201c]*)(?P<word>[^\s\"()\u201c\u201d]+)$", re.S)


def complete(q: str, n: int = 8) -> list[str]:
    """Whole-query completions: the engine completes one word, so complete the last word of
    ``q`` and keep what comes before it (``python ipho`` -> ``python iPhone``), including a
    field prefix or minus sign on that word (``tag:COV`` -> ``tag:COVID-19``)."""
    match = _LAST_WORD.match(q)
    if not match or q[-1:].isspace():
        return []
    head, lead, word = match["head"], match["lead"], match["word"]
    out = []
    for s in engine().complete(word, n=n):
        if " " in s and lead.endswith(":"):
            s = f'"{s}"'
        out.append(head + lead + s)
    return list(dict.fromkeys(out))


def api_suggest() -> Response:
    """Completions for the search box. ``format=opensearch`` answers in the OpenSearch
    suggestions format (``[query, [completions]]``) that browsers' address bars read."""
    q = query_text(request.args, settings(), strip=False)   # a trailing space means "next word"
    fmt = request.args.get("format", "json")
    if fmt not in SUGGEST_FORMATS:
        raise QueryError(f"format must be one of {', '.join(SUGGEST_FORMATS)}, not {fmt[:40]!r}")
    suggestions = complete(q) if q.strip() else []
    if fmt == "opensearch":
        resp = jsonify([q, suggestions])
        resp.mimetype = "application/x-suggestions+json"
        return resp
    return jsonify({"query": q, "suggestions": suggestions})


def api_article(id: str) -> Response:
    cfg = settings()
    q = query_text(request.args, cfg)
    offset, limit = article_part(request.args, cfg)
    return jsonify(engine().article(id, q=q, offset=offset, limit=limit).to_dict())


def api_related(id: str) -> Response:
    return jsonify({"id": id, "hits": [hit.to_dict() for hit in engine().related(id, n=5)]})


def api_health() -> Response:
    """Index status for monitors; the absolute server paths only when ``health_paths`` is on
    (they tell a stranger how the server's disk is laid out)."""
    health = {"status": "ok", **engine().health()}
    if not settings().health_paths:
        health.pop("index_dir", None)
        health.pop("root", None)
    return jsonify(health)


def api_openapi() -> Response:
    # the paths are relative to where sou is served, path prefix and forwarded host included
    return jsonify({**openapi_document(settings()), "servers": [{"url": request.url_root.rstrip("/")}]})


def register(app: Flask) -> None:
    app.add_url_rule("/api/search", "api_search", api_search)
    app.add_url_rule("/api/suggest", "api_suggest", api_suggest)
    app.add_url_rule("/api/articles/<path:id>", "api_article", api_article)
    app.add_url_rule("/api/related/<path:id>", "api_related", api_related)
    app.add_url_rule("/api/health", "api_health", api_health)
    app.add_url_rule("/api/openapi.json", "api_openapi", api_openapi)
