"""``sou serve``: the app under waitress, a production WSGI server (never Flask's dev server).

The engine is opened before the first request so nobody waits for jieba's dictionary; with no
index yet the server still starts, answers 503 with the command to run, and picks the index up
as soon as ``sou reindex`` has built it (each request refreshes the engine).
"""

from __future__ import annotations

import logging

import waitress

from search import Settings, SouError

from . import close_app, create_app
from .holder import holder

log = logging.getLogger("sou.web")


def serve(settings: Settings) -> None:
    app = create_app(settings)
    try:
        holder(app).get()
    except SouError as exc:
        log.warning("%s; serving 503 until the index is ready", exc)
        print(f"sou: {exc} (the server answers 503 until then)")
    try:
        waitress.serve(app, host=settings.host, port=settings.port, threads=settings.threads, ident="sou")
    finally:
        close_app(app)
