"""An optional key for private collections (a team's knowledge base): when ``api_key`` is set,
nothing but the static files, the sign-in form and Meilisearch's ``/health`` is served without it.

- APIs (sou's ``/api/*`` and the Meilisearch routes) take ``Authorization: Bearer KEY``, the
  header the Meilisearch clients send. sou's API refuses with 401 in its own error shape;
  the Meilisearch routes answer as Meilisearch does (401 ``missing_authorization_header``,
  403 ``invalid_api_key``), so its clients report the error they know.
- Pages ask for the key once, with a form that works without JavaScript, and keep a cookie
  (HttpOnly, SameSite=Strict, Secure over https) holding an HMAC of the key, never the key
  itself: changing the key signs everybody out. The cookie also lets the page's own scripts
  call the API on the same origin; SameSite=Strict keeps other sites from using it, and the
  sign-in POST checks Origin as well.

Keys and cookies are compared with ``hmac.compare_digest`` (constant time).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, redirect, render_template, request

from search import Settings
from search.errors import ConfigError

from .holder import settings
from .meili import is_meili_path
from .meili_errors import meili_response

COOKIE = "sou_session"
COOKIE_DAYS = 30
SIGNIN = "/signin"
SIGNOUT = "/signout"
_PUBLIC = ("/static/", SIGNIN, "/health", "/favicon.ico")


def check_key(settings: Settings) -> None:
    """The key travels in an HTTP header, which only carries printable ASCII."""
    key = settings.api_key
    if key and (not key.isascii() or not key.isprintable() or any(ch.isspace() for ch in key)):
        raise ConfigError("api_key must be printable ASCII without spaces: clients send it in the header "
                          "`Authorization: Bearer KEY`")


def session_token(key: str) -> str:
    """What the cookie holds: an HMAC of the key, so the key never sits in a browser."""
    return hmac.new(key.encode("utf-8"), b"sou web session v1", hashlib.sha256).hexdigest()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authorized(key: str) -> bool:
    token = bearer_token()
    if token is not None and _same(token, key):
        return True
    cookie = request.cookies.get(COOKIE)
    return cookie is not None and _same(cookie, session_token(key))


def _guard() -> Response | None:
    key = settings().api_key
    if not key or request.method == "OPTIONS":       # CORS preflights never carry credentials
        return None
    path = request.path
    if any(path == p or (p.endswith("/") and path.startswith(p)) for p in _PUBLIC) or authorized(key):
        return None
    if is_meili_path(path):
        if bearer_token() is None:
            return meili_response(401, "missing_authorization_header",
                                  "The Authorization header is missing. It must use the bearer authorization method.")
        return meili_response(403, "invalid_api_key", "The provided API key is invalid.")
    if path.startswith("/api/") or path == "/api":
        message = ("this sou needs a key: send `Authorization: Bearer KEY`" if bearer_token() is None
                   else "the key in the Authorization header is not this sou's key")
        resp = jsonify({"error": {"code": "unauthorized", "message": message}})
        resp.status_code = 401
        resp.headers["WWW-Authenticate"] = 'Bearer realm="sou"'
        return resp
    return _signin_page(request.full_path if request.query_string else request.path, status=401)


def _signin_page(next_url: str, *, status: int = 200, wrong: bool = False) -> Response:
    body = render_template("signin.html", next_url=_safe_next(next_url), wrong=wrong, signin_url=SIGNIN)
    resp = Response(body, status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never ``//other.site`` or ``https://other.site``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def _same_origin() -> bool:
    """The form was posted from this site (Origin, else Referer). A request with neither comes
    from a client that is not a browser, so it cannot be a forgery riding on a visitor's browser.
    Hosts are compared, not schemes: behind a TLS proxy the app itself sees plain http."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if source is None:
        return True
    return source != "null" and urlsplit(source).netloc == request.host


def signin() -> Response:
    key = settings().api_key
    if request.method == "GET":
        return _signin_page(request.args.get("next", "/"))
    if not _same_origin():
        return _signin_page("/", status=403)
    target = _safe_next(request.form.get("next"))
    if not key:
        return redirect(target, code=303)
    if not _same(request.form.get("key", ""), key):
        return _signin_page(target, status=401, wrong=True)
    resp = redirect(target, code=303)
    secure = request.is_secure or request.headers.get("X-Forwarded-Proto", "") == "https"
    resp.set_cookie(COOKIE, session_token(key), max_age=COOKIE_DAYS * 86400, httponly=True, samesite="Strict",
                    secure=secure, path="/")
    return resp


def signout() -> Response:
    if not _same_origin():
        return _signin_page("/", status=403)
    resp = redirect("/", code=303)
    resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")
    return resp


def register(app: Flask) -> None:
    app.add_url_rule(SIGNIN, "signin", signin, methods=["GET", "POST"])
    app.add_url_rule(SIGNOUT, "signout", signout, methods=["POST"])
    app.before_request(_guard)
