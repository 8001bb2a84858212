"""sou (搜): Chinese-aware full-text search over a folder of Markdown articles."""

from .config import Settings
from .errors import (
    ArticleError,
    IndexLocked,
    IndexMissing,
    IndexOutdated,
    NotFound,
    QueryError,
    SouError,
)
from .models import Article, ArticleDetail, FacetValue, Hit, ReindexSummary, SearchRequest, SearchResults, Snippet

__all__ = [
    "Settings", "SearchRequest", "SearchResults", "Hit", "Snippet", "FacetValue", "Article", "ArticleDetail",
    "ReindexSummary", "SouError", "ArticleError", "IndexMissing", "IndexLocked", "IndexOutdated", "QueryError",
    "NotFound",
]
