""""Did you mean": spelling corrections that are offered only when they find clearly more.

Latin words go through Whoosh's corrector over the body vocabulary (guarded: it raises on
multi-token Chinese input). Chinese input-method homophones (抖因 -> 抖音) go through the pinyin
vocabulary built at reindex time (see pinyin.py). (Completions as you type are
``Engine.complete``; this module only corrects.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .analysis import Analyzer, has_han
from .pinyin import PinyinVocabulary
from .weights import HOMOPHONE_TYPED_MAX_DF, SPELLING_BELOW

_LATIN_RE = re.compile(r"^[a-z][a-z'\-]{2,}$")


def did_you_mean(words: list[str], total: int, *, searcher, analyzer: Analyzer, pinyin: PinyinVocabulary | None,
                 compile_query: Callable[[str], Any], count: Callable[[Any], int]) -> str | None:
    """A corrected query for ``words`` (the query's words, as typed), or None.

    ``compile_query(text)`` is the strict query of a query string; ``count(query)`` how many
    articles it finds under the request's filters; ``total`` how many the original query found.
    Latin words are corrected only when the query finds almost nothing. A Chinese homophone
    (抖因) is corrected whatever the total: its characters are found one by one all over a large
    index (抖 and 因 are words too), so what the correction must beat is the number of articles
    with the typed word as written."""
    if not words:
        return None
    reader = searcher.reader()
    latin = total < SPELLING_BELOW
    corrected: list[str] = []
    homophones: set[int] = set()
    for i, word in enumerate(words):
        new = word
        folded = analyzer.fold(word)
        if _LATIN_RE.match(folded):
            if latin and ("body", folded) not in reader and ("title", folded) not in reader:
                try:
                    options = searcher.corrector("body").suggest(folded, limit=1, maxdist=1 if len(folded) <= 5 else 2,
                                                                 prefix=1)
                except Exception:  # noqa: BLE001 - Whoosh's corrector fails on odd input; no suggestion then
                    options = []
                if options and options[0] != folded:
                    new = options[0]
        elif has_han(folded) and pinyin is not None:
            homophone = _homophone(pinyin, folded, reader)
            if homophone:
                new = homophone
                homophones.add(i)
        corrected.append(new)
    if corrected == list(words):
        return None
    candidate = " ".join(corrected)
    query = compile_query(candidate)
    if query is None:
        return None
    baseline = total
    if homophones:
        typed = compile_query(" ".join(f'"{w}"' if i in homophones else w for i, w in enumerate(words)))
        baseline = count(typed) if typed is not None else 0
    if count(query) >= 2 * baseline + 1:     # clearly more: at least one more than twice as many
        return candidate
    return None


def _homophone(pinyin: PinyinVocabulary, word: str, reader) -> str | None:
    if ("body", word) in reader and reader.doc_frequency("body", word) >= HOMOPHONE_TYPED_MAX_DF:
        return None
    return pinyin.homophone(word)
