"""Response headers: a strict CSP and friends on every response, CORS only on the APIs (``/api/*``
and the Meilisearch-compatible routes, which browsers call from other sites: InstantSearch
widgets, docs-searchbar).

The CSP forbids inline script and style, which is why every byte of JS and CSS lives in
``web/static/``: a query or an article that smuggled markup past escaping still could not run.
"""

from __future__ import annotations

from flask import Flask, Response, request

from .holder import holder
from .meili import is_meili_path

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # same-origin: the query sits in our URLs, so it must not leak to the article's source site
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def allowed_origin(origin: str | None, configured: str) -> str | None:
    """The value for Access-Control-Allow-Origin, or None when CORS must stay off."""
    allowed = [o.strip().rstrip("/") for o in configured.split(",") if o.strip()]
    if not allowed:
        return None
    if "*" in allowed:
        return "*"
    if origin and origin.rstrip("/") in allowed:
        return origin
    return None


# What a Meilisearch client sends: the key, a JSON body, and its agent header.
MEILI_HEADERS = "Authorization, Content-Type, X-Meilisearch-Client"


def _add_headers(resp: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        resp.headers.setdefault(name, value)
    meili = is_meili_path(request.path)
    if request.path.startswith("/api/") or meili:
        configured = holder().settings.cors_origins
        if configured.strip() and "*" not in configured:
            resp.vary.add("Origin")
        value = allowed_origin(request.headers.get("Origin"), configured)
        if value:
            resp.headers["Access-Control-Allow-Origin"] = value
            resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS" if meili else "GET, OPTIONS"
            # echo what a preflight asks for (clients may add headers of their own), as
            # Meilisearch's permissive CORS does; no cookies cross-site, so no credentials
            asked = request.headers.get("Access-Control-Request-Headers")
            resp.headers["Access-Control-Allow-Headers"] = asked or (MEILI_HEADERS if meili else "Authorization")
            resp.headers["Access-Control-Max-Age"] = "600"
        if request.path in ("/api/health", "/health"):
            resp.headers["Cache-Control"] = "no-store"
    return resp


def register(app: Flask) -> None:
    app.after_request(_add_headers)
