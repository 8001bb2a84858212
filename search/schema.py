"""The Whoosh schema, its field names and SCHEMA_VERSION.

Text fields accept either a string (analysed here, the usual Whoosh way) or a ``PreAnalyzed``
value computed in a build worker: the full build segments in worker processes, and each worker
writes its own segments (search/writer.py, search/pool.py).

What each field keeps is what queries use, and nothing more (issue 14: the index was 4-5x the
posts' bytes): the body keeps term frequencies only (ranking needs them; phrases are matched on
the n-gram field and highlights are found in the stored text), titles, tags and n-grams keep
positions (phrases, the title adjacency bonus) but no character offsets, and bookkeeping values
(group keys, hashes, sizes, times) live in columns only, not also in the stored fields.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh import columns, fields
from whoosh.formats import Positions

from .analysis import ngram_analyzer, word_analyzer
from .codec import SouCodec, pack_ints, unpack_ints  # noqa: F401 - SouCodec: older segments pickled it from here

SCHEMA_VERSION = 7     # 6: compact postings (codec.py), document facts per segment, stored link fields; 7: varint term infos

# Each n-gram field is the character sequence of one word field's text: a word of that field
# is a run of its characters in a row.
NGRAM_SOURCES = {"ngram": "body", "title_ngram": "title"}

FOLDED_FIELDS = {"category": "categories", "tag": "tags", "author": "author_key"}


@dataclass(frozen=True)
class PreAnalyzed:
    """One field of one document, analysed in a build worker.

    ``words``: every occurrence of every word (in text order); ``positions``: each word's
    position, for positional fields (None: a frequency-only field); ``chars``/``char_positions``:
    n-gram fields' CJK characters as code points with their positions (no string per character);
    ``length``: the field length BM25 normalises by."""

    words: list[str]
    positions: list[int] | None
    length: int
    chars: np.ndarray | None = None
    char_positions: np.ndarray | None = None


class CompactPositions(Positions):
    """Positions as a machine array (2 bytes per position when they fit) instead of Whoosh's
    pickled delta lists: faster to write and to read, and smaller."""

    def encode(self, poslist) -> bytes:
        return pack_ints(list(poslist))

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return list(unpack_ints(valuestring))

    def decode_frequency(self, valuestring: bytes) -> int:
        return (len(valuestring) - 1) // (2 if valuestring[:1] == b"H" else 4)

    def decode_weight(self, valuestring: bytes) -> float:
        return self.decode_frequency(valuestring) * self.field_boost

    def decode_position_boosts(self, valuestring: bytes) -> list[tuple[int, float]]:
        return [(pos, 1) for pos in self.decode_positions(valuestring)]


class SouText(fields.TEXT):
    """TEXT that also takes PreAnalyzed values; positional fields store positions compactly."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.format.supports("positions"):
            self.format = CompactPositions(field_boost=self.format.field_boost)

    def index(self, value, **kwargs):
        if isinstance(value, PreAnalyzed):
            raise TypeError("pre-analysed values go to sou's posting pool (search/writer.py), not to Whoosh")
        return super().index(value, **kwargs)


class TextColumn(fields.COLUMN):
    """A string kept only as a column (UTF-8 bytes): neither indexed nor stored, read whole for
    every document by incremental reindexes."""

    def __init__(self) -> None:
        super().__init__(columns.VarBytesColumn())

    def to_column_value(self, value):
        return value.encode("utf-8") if isinstance(value, str) else value


# Segments are written as separate files, never as Whoosh "compound" files: reading a
# compound file copies each of its parts into memory (BytesIO over the mmap), which made a
# searcher of the 49k-post corpus hold 2 GB of postings. The block layout is in codec.py.


def build_schema() -> fields.Schema:
    words = word_analyzer()
    grams = ngram_analyzer()
    return fields.Schema(
        id=fields.ID(unique=True, sortable=True),
        title=SouText(analyzer=words, stored=True, phrase=True),
        body=SouText(analyzer=words, stored=True, phrase=False),
        meta=SouText(analyzer=words, phrase=True),           # categories + tags + author as text
        title_ngram=SouText(analyzer=grams, phrase=True),
        ngram=SouText(analyzer=grams, phrase=True),
        # Keywords: folded values for matching (國安法 = 国安法), raw values for facets/filters.
        categories=fields.KEYWORD(stored=True, commas=True, scorable=False),
        tags=fields.KEYWORD(stored=True, commas=True, scorable=False),
        author=fields.STORED(),
        author_key=fields.ID(),
        updated=fields.STORED(),
        url=fields.STORED(),
        slug=fields.STORED(),
        permalink=fields.STORED(),
        date_text=fields.STORED(),
        excerpt=fields.STORED(),
        group=TextColumn(),
        body_key=TextColumn(),
        content_hash=TextColumn(),
        mtime=fields.COLUMN(columns.NumericColumn("q")),        # microseconds
        size=fields.COLUMN(columns.NumericColumn("q")),
    )
