"""The Whoosh schema, its field names and SCHEMA_VERSION.

Text fields accept either a string (analysed here, the usual Whoosh way) or a ``PreAnalyzed``
value whose postings were computed in a worker process: the parallel full build segments in
worker processes and this process only writes postings.
"""

from __future__ import annotations

from dataclasses import dataclass

from whoosh import fields
from whoosh.formats import Characters, Positions

from .analysis import ngram_analyzer, word_analyzer
from .codec import SouCodec, pack_ints, unpack_ints  # noqa: F401 - SouCodec: segments of version-4 indexes pickled it from here

SCHEMA_VERSION = 6     # 6: slug, permalink, date_text stored for links (search/permalink.py)

# Each n-gram field is the character sequence of one word field's text: a word of that field
# is a run of its characters in a row.
NGRAM_SOURCES = {"ngram": "body", "title_ngram": "title"}

FACET_FIELDS = {"category": "category_facet", "tag": "tag_facet", "author": "author_facet"}
FOLDED_FIELDS = {"category": "categories", "tag": "tags", "author": "author_key"}


@dataclass(frozen=True)
class PreAnalyzed:
    """Postings of one field of one document: (term bytes, freq, weight, encoded value)."""

    items: tuple[tuple[bytes, int, float, bytes], ...]
    length: int


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


class CompactCharacters(Characters):
    """(position, start char, end char) triples as a machine array; see CompactPositions."""

    def encode(self, poslist) -> bytes:
        flat: list[int] = []
        for pos, start, end in poslist:
            flat += (pos, start, end)
        return pack_ints(flat)

    def decode_characters(self, valuestring: bytes) -> list[tuple[int, int, int]]:
        flat = unpack_ints(valuestring)
        return list(zip(flat[0::3], flat[1::3], flat[2::3], strict=True))

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return list(unpack_ints(valuestring)[0::3])

    def decode_frequency(self, valuestring: bytes) -> int:
        return (len(valuestring) - 1) // (6 if valuestring[:1] == b"H" else 12)

    def decode_weight(self, valuestring: bytes) -> float:
        return self.decode_frequency(valuestring) * self.field_boost

    def decode_position_boosts(self, valuestring: bytes) -> list[tuple[int, float]]:
        return [(pos, 1) for pos in self.decode_positions(valuestring)]


class SouText(fields.TEXT):
    """TEXT that also takes PreAnalyzed postings, stored in the compact formats above."""

    def __init__(self, *args, chars: bool = False, **kwargs) -> None:
        super().__init__(*args, chars=chars, **kwargs)
        boost = self.format.field_boost
        self.format = CompactCharacters(field_boost=boost) if chars else CompactPositions(field_boost=boost)

    def index(self, value, **kwargs):
        if isinstance(value, PreAnalyzed):
            return iter(value.items)
        return super().index(value, **kwargs)


# Segments are written as separate files, never as Whoosh "compound" files: reading a
# compound file copies each of its parts into memory (BytesIO over the mmap), which made a
# searcher of the 49k-post corpus hold 2 GB of postings. The block layout is in codec.py.


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
        slug=fields.STORED(),
        permalink=fields.STORED(),
        date_text=fields.STORED(),
        excerpt=fields.STORED(),
        group=fields.ID(stored=True, sortable=True),
        body_key=fields.ID(stored=True, sortable=True),
        content_hash=fields.ID(stored=True, sortable=True),
        mtime=fields.NUMERIC(int, bits=64, stored=True, sortable=True),   # microseconds
        size=fields.NUMERIC(int, bits=64, stored=True, sortable=True),
        empty=fields.BOOLEAN(stored=False),
    )
    # Characters on title/body so highlights need no re-segmentation.
    assert isinstance(schema["body"].format, CompactCharacters)
    assert isinstance(schema["ngram"].format, CompactPositions)
    return schema
