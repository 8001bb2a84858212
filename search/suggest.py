""""Did you mean": spelling corrections that are offered only when they find clearly more.

Latin words go through Whoosh's corrector over the body vocabulary (guarded: it raises on
multi-token Chinese input). Chinese input-method homophones (抖因 -> 抖音) go through the pinyin
vocabulary built at reindex time (see pinyin.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import analysis

if TYPE_CHECKING:
    from .engine import Engine

_LATIN_RE = re.compile(r"^[a-z][a-z'\-]{2,}$")


def correct_words(engine: Engine, searcher, words: list[str], total: int, count: Callable[[Any], int]) -> str | None:
    """``count(query)``: how many articles a query finds under the request's filters."""
    reader = searcher.reader()
    changed = False
    corrected: list[str] = []
    for word in words:
        new = word
        folded = analysis.fold(word)
        if _LATIN_RE.match(folded) and ("body", folded) not in reader and ("title", folded) not in reader:
            try:
                options = searcher.corrector("body").suggest(folded, limit=1, maxdist=1 if len(folded) <= 5 else 2, prefix=1)
            except Exception:  # noqa: BLE001 - Whoosh's corrector fails on odd input; no suggestion then
                options = []
            if options and options[0] != folded:
                new = options[0]
        elif analysis._HAN_RE.search(folded):
            homophone = engine_homophone(engine, folded, reader)
            if homophone:
                new = homophone
        if new != word:
            changed = True
        corrected.append(new)
    if not changed:
        return None
    candidate = " ".join(corrected)
    from .query import parse

    compiled = engine.compiler().compile(parse(candidate))
    if compiled.strict is None:
        return None
    found = count(compiled.strict)
    if found >= 2 * total + 1:     # clearly more: at least one more than twice as many
        return candidate
    return None


def engine_homophone(engine: Engine, word: str, reader) -> str | None:
    vocab = getattr(engine, "pinyin", None)
    if vocab is None:
        return None
    if ("body", word) in reader and reader.doc_frequency("body", word) >= 3:
        return None
    return vocab.homophone(word)
