"""sou (搜): Chinese-aware full-text search over a folder of Markdown articles.

``from search import Engine, reindex`` is the library's front door. The two are imported on
first use, so ``import search`` (the CLI's start-up) does not load Whoosh, numpy and jieba.
"""

from typing import TYPE_CHECKING, Any

from .config import Settings
from .errors import (
    ArticleError,
    ConfigError,
    IndexLocked,
    IndexMissing,
    IndexOutdated,
    IndexUnwritable,
    NotFound,
    QueryError,
    SouError,
)
from .models import Article, ArticleDetail, FacetValue, Hit, ReindexSummary, SearchRequest, SearchResults, Snippet

if TYPE_CHECKING:
    from .engine import Engine
    from .indexer import reindex

__all__ = [
    "Settings", "SearchRequest", "SearchResults", "Hit", "Snippet", "FacetValue", "Article", "ArticleDetail",
    "ReindexSummary", "SouError", "ConfigError", "ArticleError", "IndexMissing", "IndexLocked", "IndexOutdated",
    "IndexUnwritable", "QueryError", "NotFound", "Engine", "reindex",
]


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from .engine import Engine

        return Engine
    if name == "reindex":
        from .indexer import reindex

        return reindex
    raise AttributeError(f"module 'search' has no attribute {name!r}")
