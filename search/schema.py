"""The Whoosh schema, its field names and SCHEMA_VERSION.

Text fields accept either a string (analysed here, the usual Whoosh way) or a ``PreAnalyzed``
value whose postings were computed in a worker process: the parallel full build segments in
worker processes and this process only writes postings.
"""

from __future__ import annotations

from dataclasses import dataclass

from whoosh import fields
from whoosh.codec.whoosh3 import W3Codec
from whoosh.formats import Characters, Positions

from .analysis import ngram_analyzer, word_analyzer

SCHEMA_VERSION = 3

# Field boosts at query time (BM25F field weights): title > tags/categories > body.
FIELD_WEIGHTS = {"title": 4.0, "meta": 2.0, "body": 1.0, "title_ngram": 1.2, "ngram": 0.35}

FACET_FIELDS = {"category": "category_facet", "tag": "tag_facet", "author": "author_facet"}
FOLDED_FIELDS = {"category": "categories", "tag": "tags", "author": "author_key"}


@dataclass(frozen=True)
class PreAnalyzed:
    """Postings of one field of one document: (term bytes, freq, weight, encoded value)."""

    items: tuple[tuple[bytes, int, float, bytes], ...]
    length: int


class SouText(fields.TEXT):
    """TEXT that also takes PreAnalyzed postings."""

    def index(self, value, **kwargs):
        if isinstance(value, PreAnalyzed):
            return iter(value.items)
        return super().index(value, **kwargs)


class SouCodec(W3Codec):
    """Whoosh's codec without per-block length statistics (they cost a column look-up per
    posting at commit and only tighten block skipping) and with light compression."""

    length_stats = False

    def __init__(self, blocklimit: int = 128, compression: int = 1, inlinelimit: int = 1) -> None:
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)


def build_schema() -> fields.Schema:
    words = word_analyzer()
    grams = ngram_analyzer()
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True, sortable=True),
        title=SouText(analyzer=words, stored=True, phrase=True, chars=True),
        body=SouText(analyzer=words, stored=True, phrase=True, chars=True),
        meta=SouText(analyzer=words, phrase=True),           # categories + tags + author as text
        title_ngram=SouText(analyzer=grams, phrase=True),
        ngram=SouText(analyzer=grams, phrase=True),
        # Keywords: folded values for matching (國安法 = 国安法), raw values for facets/filters.
        categories=fields.KEYWORD(stored=True, commas=True, scorable=False),
        tags=fields.KEYWORD(stored=True, commas=True, scorable=False),
        author=fields.STORED(),
        author_key=fields.ID(),
        category_facet=fields.KEYWORD(commas=True),
        tag_facet=fields.KEYWORD(commas=True),
        author_facet=fields.ID(),
        date=fields.DATETIME(stored=True, sortable=True),
        updated=fields.STORED(),
        url=fields.STORED(),
        excerpt=fields.STORED(),
        group=fields.ID(stored=True, sortable=True),
        body_key=fields.ID(stored=True, sortable=True),
        content_hash=fields.ID(stored=True, sortable=True),
        mtime=fields.NUMERIC(int, bits=64, stored=True, sortable=True),   # microseconds
        size=fields.NUMERIC(int, bits=64, stored=True, sortable=True),
        empty=fields.BOOLEAN(stored=False),
    )
    # Whoosh's stock formats, with chars on title/body so highlights need no re-segmentation.
    assert isinstance(schema["body"].format, Characters)
    assert isinstance(schema["ngram"].format, Positions)
    return schema
