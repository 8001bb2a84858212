"""Articles as Meilisearch documents, and their ``_formatted`` twins (highlights and crops).

Highlights come from sou's own matches, never from a substring search of the query: the title
and body ranges the engine found (so 國安法 in the text lights up for a query 国安法, and a
word jieba cut differently still lights up), and, for the other string fields, the same matched
words found again with sou's folding (``highlight.exact_ranges``). Like Meilisearch, the tags
are inserted as given, without HTML escaping: InstantSearch escapes the text itself around its
own placeholder tags, and a page that asks for ``<em>`` must escape the rest on its own.

``cropLength`` counts words as sou segments them: a Latin word, a number, or a Chinese word
as jieba cuts it (so 10 words of Chinese are about 15-20 characters, much as Meilisearch's
own jieba-based tokenizer counts them).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from search import analysis, highlight
from search.models import Hit, Marked

# The fields of a document, in the order they are shown.
DISPLAYED = ("id", "title", "body", "excerpt", "url", "date", "timestamp", "year", "author", "categories", "tags")
PRIMARY_KEY = "id"
_HAN_CHARS_PER_WORD = 1.7      # only to pick which cluster of matches to crop around
_LATIN_CHARS_PER_WORD = 6.0
MAX_CROP_WORDS = 1000          # a longer crop would segment whole transcripts for every hit
_HAN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def document(hit: Hit) -> dict[str, Any]:
    """A hit as the document a Meilisearch client expects: the article's fields, plus its date
    as Unix seconds and its year (numbers, for filters and facet stats)."""
    date = hit.date
    return {
        "id": hit.id,
        "title": hit.title.text,
        "body": hit.body.text if hit.body is not None else "",
        "excerpt": hit.excerpt,
        "url": hit.url,
        "date": date.isoformat() if date else None,
        "timestamp": int(date.timestamp()) if date else None,
        "year": date.year if date else None,
        "author": hit.author,
        "categories": list(hit.categories),
        "tags": list(hit.tags),
    }


@dataclass(frozen=True)
class Formatting:
    """What to put in ``_formatted``: fields to highlight, fields to crop (with their length),
    the fields retrieved (copied as they are), and the tags and marker to use."""

    highlight: frozenset[str]
    crop: dict[str, int]
    retrieve: tuple[str, ...]
    pre_tag: str = "<em>"
    post_tag: str = "</em>"
    marker: str = "…"

    @property
    def wanted(self) -> bool:
        return bool(self.highlight or self.crop)


def formatted(hit: Hit, doc: dict[str, Any], fmt: Formatting) -> dict[str, Any]:
    """The ``_formatted`` object of one hit: the highlighted and cropped fields plus every
    retrieved field, in document order; numbers become strings, as Meilisearch does."""
    needles = _matched_words(hit)
    out: dict[str, Any] = {}
    for name in DISPLAYED:
        if name not in fmt.highlight and name not in fmt.crop and name not in fmt.retrieve:
            continue
        value = doc[name]
        if isinstance(value, list):
            out[name] = [_format_text(hit, name, str(v), needles, fmt) for v in value]
        elif value is None or isinstance(value, bool):
            out[name] = value
        else:
            out[name] = _format_text(hit, name, str(value), needles, fmt)
    return out


def _format_text(hit: Hit, name: str, text: str, needles: list[str], fmt: Formatting) -> str:
    if name not in fmt.highlight and name not in fmt.crop:
        return text
    marked = _marked(hit, name, text, needles)
    if name in fmt.crop:
        marked = crop(marked, fmt.crop[name], fmt.marker)
    if name not in fmt.highlight:
        return marked.text
    return tag(marked, fmt.pre_tag, fmt.post_tag)


def _marked(hit: Hit, name: str, text: str, needles: list[str]) -> Marked:
    if name == "title":
        return hit.title
    if name == "body" and hit.body is not None:
        return hit.body
    return Marked(text, highlight.merge(highlight.exact_ranges(text, needles)) if needles else ())


def _matched_words(hit: Hit) -> list[str]:
    """The words the engine matched in the title and body, to light up in the other fields."""
    seen: dict[str, None] = {}
    for marked in (hit.title, hit.body or Marked("")):
        for start, end in marked.ranges:
            seen.setdefault(marked.text[start:end], None)
    return list(seen)


def tag(marked: Marked, pre: str, post: str) -> str:
    """The text with ``pre``/``post`` around each range, unescaped (as Meilisearch does)."""
    out: list[str] = []
    pos = 0
    for start, end in marked.ranges:
        out += [marked.text[pos:start], pre, marked.text[start:end], post]
        pos = end
    out.append(marked.text[pos:])
    return "".join(out)


def crop(marked: Marked, words: int, marker: str) -> Marked:
    """About ``words`` words of ``marked`` around its best cluster of matches (the opening when
    nothing matched), cut at word boundaries, with ``marker`` where text was left out."""
    text = marked.text
    if not text:
        return marked
    words = min(words, MAX_CROP_WORDS)
    if words <= 0:
        return Marked(marker if text.strip() else "")
    span = _best_cluster(text, marked.ranges, words) if marked.ranges else (0, 0)
    margin = words * 8 + 8
    lo, hi = max(0, span[0] - margin), min(len(text), span[1] + margin)
    tokens = [(lo + t.start, lo + t.end) for t in analysis.tokenize(text[lo:hi], "query")]
    # a word touching the window's edge may be cut in half: leave it out
    while tokens and lo > 0 and tokens[0][0] == lo:
        tokens.pop(0)
    while tokens and hi < len(text) and tokens[-1][1] == hi:
        tokens.pop()
    if not tokens:
        return marked
    inside = [i for i, (a, b) in enumerate(tokens) if b > span[0] and a < span[1]] if span[1] > span[0] else []
    first, last = (inside[0], inside[-1]) if inside else (0, -1)
    if last - first + 1 >= words:
        last = first + words - 1
    else:
        spare = words - (last - first + 1)
        before = min(first, (spare + 1) // 2)       # an odd word goes before, as Meilisearch crops
        after = min(len(tokens) - 1 - last, spare - before)
        before = min(first, spare - after)
        first, last = first - before, last + after
    start, end = tokens[first][0], tokens[last][1]
    if lo == 0 and first == 0:                      # nothing left out before: keep leading punctuation
        start = 0
    if hi == len(text) and last == len(tokens) - 1:
        end = len(text)
    prefix = marker if start > 0 else ""
    suffix = marker if end < len(text) else ""
    shift = len(prefix) - start
    ranges = tuple((max(a, start) + shift, min(b, end) + shift) for a, b in marked.ranges if b > start and a < end)
    return Marked(prefix + text[start:end] + suffix, ranges)


def _best_cluster(text: str, ranges: tuple[tuple[int, int], ...], words: int) -> tuple[int, int]:
    """[start, end) of the run of matches that fits in about ``words`` words with the most
    distinct matched words (then the most matches, then the earliest)."""
    keys = [text[a:b].casefold() for a, b in ranges]     # as highlight.snippets counts them
    ends = [b for _, b in ranges]                    # ranges are merged: sorted, disjoint
    best: tuple[int, int, int] | None = None
    best_span = ranges[0]
    for i, (start, _end) in enumerate(ranges[:200]):
        per_word = _HAN_CHARS_PER_WORD if _HAN.match(text[start]) else _LATIN_CHARS_PER_WORD
        stop = max(i + 1, bisect.bisect_right(ends, start + words * per_word))
        key = (len(set(keys[i:stop])), stop - i, -i)
        if best is None or key > best:
            best, best_span = key, (start, ends[stop - 1])
    return best_span


def matches_position(hit: Hit, doc: dict[str, Any]) -> dict[str, list[dict[str, int]]]:
    """``_matchesPosition``: where the matches are in each field's full text, as Meilisearch
    gives them, in UTF-8 bytes (``indices`` says which element of a list)."""
    needles = _matched_words(hit)
    out: dict[str, list[dict[str, int]]] = {}
    for name in DISPLAYED:
        value = doc[name]
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        found: list[dict[str, int]] = []
        for index, item in items:
            if not isinstance(item, str | int) or isinstance(item, bool):
                continue
            text = str(item)
            for start, end in _marked(hit, name, text, needles).ranges:
                where = {"start": len(text[:start].encode("utf-8")), "length": len(text[start:end].encode("utf-8"))}
                if index is not None:
                    where["indices"] = [index]
                found.append(where)
        if found:
            out[name] = found
    return out
