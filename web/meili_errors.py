"""Errors of the Meilisearch-compatible API, in Meilisearch's shape and with its codes.

Every error under the Meilisearch paths is ``{"message", "code", "type", "link"}``, the object
the ``meilisearch`` JS client turns into a ``MeilisearchApiError`` (``error.cause.code``), so a
client written for Meilisearch handles sou's errors with the code it already has.
"""

from __future__ import annotations

from flask import Response, jsonify

# Codes whose type is not "invalid_request" (meilisearch-types/src/error.rs).
_TYPES = {"missing_authorization_header": "auth", "invalid_api_key": "auth", "internal": "internal",
          "invalid_state": "internal"}


class MeiliError(Exception):
    """A request the Meilisearch-compatible API refuses: HTTP status, Meilisearch code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def within(self, prefix: str) -> MeiliError:
        """The same error about one query of a multi-search (``Inside `.queries[1]`: ...``)."""
        return MeiliError(self.status, self.code, f"{prefix}{self.message}")


def meili_response(status: int, code: str, message: str) -> Response:
    resp = jsonify({
        "message": message,
        "code": code,
        "type": _TYPES.get(code, "invalid_request"),
        "link": f"https://docs.meilisearch.com/errors#{code}",
    })
    resp.status_code = status
    return resp


def bad(code: str, message: str) -> MeiliError:
    return MeiliError(400, code, message)
