"""``/embed.js``: the one-tag search box other sites include (the script is web/static/embed.js).

Served at the root so the snippet in the README stays short, and with the headers a script
needs to run on another origin: a JavaScript content type (``nosniff`` is on), and
``Cross-Origin-Resource-Policy: cross-origin`` so a page with COEP may load it. The script
itself calls the JSON API, which answers other origins only when ``cors_origins`` allows them.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, send_from_directory

EMBED_FILE = "embed.js"


def embed_js() -> Response:
    resp = send_from_directory(current_app.static_folder or "static", EMBED_FILE,
                               mimetype="text/javascript", max_age=3600)
    resp.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    resp.headers["Access-Control-Allow-Origin"] = "*"     # a public script; lets <script crossorigin> load it
    return resp


def register(app: Flask) -> None:
    app.add_url_rule("/embed.js", "embed_js", embed_js)
