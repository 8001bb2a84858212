"""Running behind a reverse proxy under a path prefix (``/search/``), and knowing our own address.

Which ``X-Forwarded-*`` headers to believe is a setting (``proxy_headers``, default none): a
header is only trustworthy when a proxy we control sets it, otherwise any client could make
sou print links to another host. Werkzeug's ProxyFix (well kept, and what Flask documents)
applies the trusted ones to the WSGI environ, so ``url_for``, ``request.url_root`` and the
static, OpenSearch and embed URLs all carry the prefix and the public host. A prefix given by
the WSGI server itself (``SCRIPT_NAME``: gunicorn, waitress's ``url_prefix``) needs nothing
from here: Flask reads it already.

``request.url_root`` is also what the engine's links to sou's own article pages start with
(``search.permalink.SOU_ROOT``), so the JSON API's ``url`` is absolute and right behind a proxy.
"""

from __future__ import annotations

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from search.errors import ConfigError
from search.permalink import SOU_ROOT

HEADERS = {"x-forwarded-for": "x_for", "x-forwarded-proto": "x_proto", "x-forwarded-host": "x_host",
           "x-forwarded-port": "x_port", "x-forwarded-prefix": "x_prefix"}


def trusted(value: str) -> dict[str, int]:
    """ProxyFix's arguments for the ``proxy_headers`` setting (one proxy sets each header)."""
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    if "all" in names:
        return dict.fromkeys(HEADERS.values(), 1)
    unknown = [n for n in names if n not in HEADERS]
    if unknown:
        raise ConfigError(f"proxy_headers: unknown header {unknown[0]!r} "
                          f"(use all, or some of {', '.join(HEADERS)})")
    # every count explicitly: ProxyFix trusts X-Forwarded-For and -Proto unless told 0
    return {arg: int(header in names) for header, arg in HEADERS.items()}


def _set_root() -> None:
    g.sou_root_token = SOU_ROOT.set(request.url_root)


def _reset_root(_exc: BaseException | None) -> None:
    token = g.pop("sou_root_token", None)
    if token is not None:
        SOU_ROOT.reset(token)


def register(app: Flask, proxy_headers: str) -> None:
    counts = trusted(proxy_headers)
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)      # type: ignore[method-assign]
    app.before_request(_set_root)
    app.teardown_request(_reset_root)
