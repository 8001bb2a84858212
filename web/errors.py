"""Every failure becomes one JSON shape (API) or one friendly page (HTML); never a traceback.

The shape is ``{"error": {"code": "...", "message": "..."}}`` for every status, so API clients
need one error branch. ``/api/*`` paths get JSON, the Meilisearch-compatible paths get
Meilisearch's own error shape (``meili_errors.py``), everything else gets ``error.html``.

One status rule: a request parameter that cannot be served, whatever is wrong with it (type,
size, range, unknown value), is 400 ``bad_parameter`` (``search.QueryError``); an unknown
article or route is 404, no usable index is 503.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from search import IndexLocked, IndexMissing, IndexOutdated, NotFound, SouError

from .meili import is_meili_path
from .meili_errors import MeiliError, meili_response

log = logging.getLogger("sou.web")


_INDEX_ERRORS = (IndexMissing, IndexOutdated, IndexLocked)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def error_response(status: int, code: str, message: str, *, hint: str = "") -> Response:
    if wants_json():
        resp = jsonify({"error": {"code": code, "message": message}})
    else:
        resp = Response(render_template("error.html", status=status, code=code, message=message, hint=hint),
                        mimetype="text/html")
    resp.status_code = status
    return resp


def _sou_error(exc: SouError) -> Response:
    status = exc.http_status
    if status >= 500:
        log.warning("%s %s -> %s %s: %s", request.method, request.path, status, exc.code, exc)
    if is_meili_path(request.path):
        return _meili_sou_error(exc)
    hint = ""
    if isinstance(exc, _INDEX_ERRORS):
        hint = "The search index is not ready. Build it with `sou reindex PATH`, then reload this page."
    resp = error_response(status, exc.code, str(exc) or exc.code, hint=hint)
    if isinstance(exc, _INDEX_ERRORS):
        resp.headers["Retry-After"] = "30"
    return resp


def _meili_sou_error(exc: SouError) -> Response:
    """sou's errors under the Meilisearch paths, with the nearest Meilisearch code: no index
    yet reads as an index that does not exist; an outdated or locked one as a state to fix."""
    if isinstance(exc, IndexMissing):
        resp = meili_response(404, "index_not_found", str(exc))
    elif isinstance(exc, _INDEX_ERRORS):
        resp = meili_response(503, "invalid_state", str(exc))
        resp.headers["Retry-After"] = "30"
    elif isinstance(exc, NotFound):
        resp = meili_response(404, "document_not_found", str(exc))
    elif exc.http_status >= 500:
        resp = meili_response(500, "internal", str(exc) or exc.code)
    else:
        resp = meili_response(400, "bad_request", str(exc) or exc.code)
    return resp


def _meili_error(exc: MeiliError) -> Response:
    return meili_response(exc.status, exc.code, exc.message)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if is_meili_path(request.path):
        code = {413: "payload_too_large", 404: "bad_request", 405: "bad_request"}.get(status, "bad_request")
        message = exc.description or exc.name or "error"
        if status == 413:
            message = ("The provided payload reached the size limit. The maximum accepted payload size is "
                       f"{(request.max_content_length or 0) // 1024} KiB.")
        return meili_response(status, code, message)
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, (exc.name or "error").lower().replace(" ", "_"))
    message = exc.description or exc.name or "error"
    if status == 404:
        message = "no such page" if not wants_json() else f"no API endpoint at {request.path}"
    resp = error_response(status, code, message)
    if status == 405 and "Allow" in exc.get_response().headers:
        resp.headers["Allow"] = exc.get_response().headers["Allow"]
    return resp


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    if is_meili_path(request.path):
        return meili_response(500, "internal", "something went wrong on the server; it has been logged")
    return error_response(500, "internal", "something went wrong on the server; it has been logged")


def register(app: Flask) -> None:
    app.register_error_handler(MeiliError, _meili_error)
    app.register_error_handler(SouError, _sou_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
