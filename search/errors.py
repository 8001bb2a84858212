"""Every error sou raises on purpose is a SouError, so the CLI and the web layer can turn it
into a one-line message (and an exit code or HTTP status) without ever showing a traceback."""

from __future__ import annotations


class SouError(Exception):
    """Base class; ``code`` is the machine-readable kind used by the JSON API."""

    code = "error"
    exit_code = 1
    http_status = 500


class ConfigError(SouError):
    code = "bad_config"
    exit_code = 2
    http_status = 500


class ArticleError(SouError):
    """One article could not be read; the reindex reports it and goes on."""

    code = "bad_article"

    def __init__(self, path: str, reason: str, kind: str = "unreadable") -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.kind = kind


class IndexMissing(SouError):
    code = "index_missing"
    exit_code = 3
    http_status = 503


class IndexLocked(SouError):
    code = "index_locked"
    exit_code = 4
    http_status = 503


class IndexOutdated(SouError):
    code = "index_outdated"
    exit_code = 5
    http_status = 503


class IndexUnwritable(SouError):
    code = "index_unwritable"
    exit_code = 6
    http_status = 503


class QueryError(SouError):
    """A request parameter that cannot be served (wrong type or size, a page out of range, an
    unknown sort, filter or date): exit 2 in the CLI, 400 ``bad_parameter`` on the web, one rule
    for every parameter. Odd query syntax is never a QueryError: it becomes a warning."""

    code = "bad_parameter"
    exit_code = 2
    http_status = 400


class NotFound(SouError):
    code = "not_found"
    exit_code = 1
    http_status = 404
