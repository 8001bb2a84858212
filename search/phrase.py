"""Exact phrases (consecutive positions) without Whoosh's generic span machinery.

Whoosh runs every phrase through SpanNear2, which builds span objects for each candidate in
pure Python; a quoted phrase of common characters ("香港電台") took most of a second on the
49k-post corpus. Here the term matchers leapfrog to a common document, and the phrase holds
when the position sets, shifted by each word's place in the phrase, intersect.

Searches evaluate ``Adjacent`` in search/scoring.py over whole posting lists; this matcher keeps
every compiled query runnable by Whoosh itself, which the tests use as the reference ranking.
"""

from __future__ import annotations

from whoosh import query as wq
from whoosh.matching import mcore


class Adjacent(wq.Phrase):
    """A Phrase with slop 1 (words in a row); scores as the sum of its words' scores.

    ``offsets`` place the words otherwise: (0, 0) asks for two words at the SAME position, which
    is where the parts of one written token sit (iphone and 15 of `iPhone15`, covid and 19 of
    `COVID-19`)."""

    def __init__(self, fieldname: str, words: list[str], boost: float = 1.0,
                 offsets: tuple[int, ...] | None = None) -> None:
        super().__init__(fieldname, words, slop=1, boost=boost)
        self.offsets = tuple(offsets) if offsets is not None else tuple(range(len(words)))

    @property
    def in_a_row(self) -> bool:
        return self.offsets == tuple(range(len(self.words)))

    def __eq__(self, other) -> bool:
        return super().__eq__(other) and getattr(other, "offsets", None) == self.offsets

    def __hash__(self) -> int:
        return super().__hash__() ^ hash(self.offsets)

    def __repr__(self) -> str:
        shown = super().__repr__()
        return shown if self.in_a_row else f"{shown[:-1]}, offsets={self.offsets})"

    def matcher(self, searcher, context=None):
        field = searcher.schema[self.fieldname] if self.fieldname in searcher.schema else None
        if field is None or not field.format or not field.format.supports("positions"):
            return mcore.NullMatcher()
        children = []
        for word in self.words:
            m = wq.Term(self.fieldname, word, boost=self.boost).matcher(searcher, context)
            if not m.is_active():
                return mcore.NullMatcher()
            children.append(m)
        if len(children) == 1:
            return children[0]
        return AdjacentMatcher(children, list(self.offsets))


class AdjacentMatcher(mcore.Matcher):
    def __init__(self, children: list, offsets: list[int]) -> None:
        self._children = children
        self._offsets = offsets
        self._active = all(c.is_active() for c in children)
        self._freq = 0
        if self._active:
            self._find()

    # -- the search -------------------------------------------------------------------------
    def _align(self) -> bool:
        children = self._children
        while True:
            target = max(c.id() for c in children)
            moved = False
            for c in children:
                if c.id() < target:
                    c.skip_to(target)
                    if not c.is_active():
                        return False
                    moved = True
            if not moved:
                return True

    def _adjacent(self) -> bool:
        starts: set[int] | None = None
        for child, offset in zip(self._children, self._offsets, strict=True):
            here = {p - offset for p in child.value_as("positions")}
            starts = here if starts is None else starts & here
            if not starts:
                return False
        self._freq = len(starts)
        return True

    def _find(self) -> None:
        while self._active:
            if not self._align():
                self._active = False
                return
            if self._adjacent():
                return
            first = self._children[0]
            first.next()
            if not first.is_active():
                self._active = False

    # -- the Matcher interface ----------------------------------------------------------------
    def is_active(self) -> bool:
        return self._active

    def id(self) -> int:
        return self._children[0].id()

    def next(self) -> None:
        first = self._children[0]
        first.next()
        self._active = first.is_active()
        self._find()

    def skip_to(self, target: int) -> None:
        if not self._active:
            return
        for c in self._children:
            if c.id() < target:
                c.skip_to(target)
                if not c.is_active():
                    self._active = False
                    return
        self._find()

    def score(self) -> float:
        return sum(c.score() for c in self._children)

    def weight(self) -> float:
        return float(self._freq)

    def supports(self, astype: str) -> bool:
        return False

    def supports_block_quality(self) -> bool:
        return False

    def max_quality(self) -> float:
        return sum(c.max_quality() for c in self._children)

    def copy(self) -> AdjacentMatcher:
        return AdjacentMatcher([c.copy() for c in self._children], list(self._offsets))

    def children(self) -> list:
        return list(self._children)

    def term_matchers(self):
        for c in self._children:
            yield from c.term_matchers()

    def reset(self) -> None:
        for c in self._children:
            c.reset()
        self._active = all(c.is_active() for c in self._children)
        if self._active:
            self._find()
