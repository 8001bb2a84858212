"""The Flask app factory: the web layer is a thin rendering of ``search.engine.Engine``.

Nothing here reads configuration or opens the index at import time, so tests and the CLI can
build as many apps as they like, each with its own Settings (the Flask tutorial's habit).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from search import Settings
from search.permalink import check_settings

from . import api, auth, compression, embed, errors, headers, meili, proxy, views
from .holder import EngineHolder, holder


def create_app(settings: Settings | None = None, engine: Any = None) -> Flask:
    """Build the app. ``engine`` lets tests inject a ready engine; otherwise one is opened on
    the first request that needs it, so a server started before the first reindex still
    answers (503 with the command to run) and recovers without a restart."""
    settings = settings if settings is not None else Settings.load()
    check_settings(settings)           # a wrong site_url or generator stops `sou serve` at once
    auth.check_key(settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024     # only search bodies and the sign-in form: refuse big ones early
    app.json.ensure_ascii = False      # type: ignore[attr-defined]  # readable Chinese in the JSON
    app.json.sort_keys = False         # type: ignore[attr-defined]  # keep the models' field order
    # Werkzeug answers `//` in a path with an HTML redirect to the merged path; an article id
    # may hold anything, and every /api/ answer must be JSON: `/api/articles/%2Fetc%2Fpasswd`
    # is then an unknown article (404 JSON), not a 308 to another URL.
    app.url_map.merge_slashes = False
    app.extensions["sou"] = EngineHolder(settings, engine)
    proxy.register(app, settings.proxy_headers)
    views.register(app)
    api.register(app)
    embed.register(app)
    meili.register(app)
    auth.register(app)
    errors.register(app)
    headers.register(app)
    compression.register(app)
    return app


def close_app(app: Flask) -> None:
    """Close the engine the app opened (the server calls this when it stops)."""
    holder(app).close()


__all__ = ["create_app", "close_app"]
