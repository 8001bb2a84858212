"""A number typed after a Latin word belongs to it: `iPhone 15`, `Windows 11`, `GPT 4`, `COVID 19`.

Each query word is a clause of its own, so `iPhone 15 发布` matched any article with iPhone, with
a 15 anywhere (15 亿部, iOS 15) and with 发布, and ranked the iPhone 16 and 17 launches first.
Here each such pair becomes a condition the article must meet to rank first: the two words side
by side (iPhone 15 Pro), or as the parts of one written token (iPhone15, COVID-19, which the
index keeps at one position). Articles with both words apart still match, in a tier below.

Titles and tags keep word positions; bodies keep none (search/schema.py), so in a body the pair
is found in the n-gram field, which holds each Latin token whole and in order: ``iphone`` ``15``
side by side, or the written token ``iphone15`` / ``covid-19`` itself.
"""

from __future__ import annotations

import re

from whoosh import query as wq

from .analysis import Analyzer
from .phrase import Adjacent
from .weights import FIELD_WEIGHTS

_LATIN_WORD_RE = re.compile(r"^[a-z][a-z0-9]*(?:[\-_.][a-z0-9]+)*$")
_NUMBER_RE = re.compile(r"^\d+(?:\.\d+)*$")
#: Word fields with positions: a pair may be written in any of them (and in the body, see above).
FIELDS = ("title", "meta")


def held_pairs(texts: list[str | None], analyzer: Analyzer) -> wq.Query | None:
    """The condition that every number of the query sits right after the Latin word typed
    before it, for the clause texts of one AND (None for a clause that is not plain words), or
    None when the query has no such pair. It scores like the pair's words in each field, so the
    pair in a title counts most."""
    folded = [analyzer.fold(t).strip() if t is not None else None for t in texts]
    conditions = []
    for word, number in zip(folded, folded[1:], strict=False):
        if word and number and _LATIN_WORD_RE.match(word) and _NUMBER_RE.match(number):
            body = FIELD_WEIGHTS["body"]
            conditions.append(wq.Or([Adjacent(f, [word, number], boost=FIELD_WEIGHTS[f], offsets=offsets)
                                     for f in FIELDS for offsets in ((0, 1), (0, 0))]
                                    + [Adjacent("ngram", [word, number], boost=body),
                                       wq.Term("ngram", word + number, boost=body),
                                       wq.Term("ngram", f"{word}-{number}", boost=body)]))
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else wq.And(conditions)
