"""Query-time synonyms from a Solr-style file, re-read whenever the file changes (no reindex).

    新冠, COVID-19, 武汉肺炎        # equivalent: any of them finds all of them
    手机 => 手机, 智能手机           # one-way: the left side is searched as the right side
    # comments and blank lines are ignored

Terms are folded like the index (Traditional/Simplified, case, width), so 新冠 also serves 新冠.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from . import analysis
from .query import AllOf, AnyOf, Node, Not, Phrase, Words


@dataclass
class Synonyms:
    rules: dict[str, tuple[str, ...]] = field(default_factory=dict)   # folded term -> alternatives (originals)
    fold: Callable[[str], str] = analysis.fold       # the index's folding

    @classmethod
    def parse(cls, text: str, fold: Callable[[str], str] = analysis.fold) -> Synonyms:
        rules: dict[str, tuple[str, ...]] = {}
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if "=>" in line:
                left, right = line.split("=>", 1)
                targets = _terms(right)
                for term in _terms(left):
                    if targets:
                        rules[fold(term)] = _merge(rules.get(fold(term), ()), targets)
            else:
                group = _terms(line)
                for term in group:
                    rules[fold(term)] = _merge(rules.get(fold(term), ()), group)
        return cls(rules, fold)

    def expand(self, node: Node | None, notes: list[str]) -> Node | None:
        """The query tree with each word that has synonyms replaced by (word OR synonyms)."""
        if node is None or not self.rules:
            return node
        if isinstance(node, Words) and node.field in (None, "title"):
            fold = self.fold
            alternatives = self.rules.get(fold(node.text).strip())
            if alternatives:
                others = [a for a in alternatives if fold(a) != fold(node.text)]
                if others:
                    notes.append(f"also searched {', '.join(others)} for {node.text}")
                    keep_self = fold(node.text) in {fold(a) for a in alternatives}
                    options = ([node] if keep_self else []) + [_as_node(a, node.field) for a in others]
                    return AnyOf(tuple(options)) if len(options) > 1 else options[0]
            return node
        if isinstance(node, Not):
            return node
        if isinstance(node, (AnyOf, AllOf)):
            return type(node)(tuple(self.expand(n, notes) or n for n in node.nodes))
        return node


def _as_node(term: str, field_name: str | None) -> Node:
    return Phrase(term, field_name) if " " in term.strip() else Words(term, field_name)


def _terms(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.replace("，", ",").split(",") if t.strip())


def _merge(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a + b))


class SynonymsFile:
    """The synonyms file, re-read when its mtime changes; a missing file means no synonyms."""

    def __init__(self, path: str, fold: Callable[[str], str] = analysis.fold) -> None:
        self.path = path
        self.fold = fold
        self._stamp: tuple[float, int] | None = None
        self._value = Synonyms(fold=fold)
        self._lock = threading.Lock()

    def get(self) -> Synonyms:
        if not self.path:
            return self._value
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime, st.st_size)
        except OSError:
            return Synonyms(fold=self.fold)
        with self._lock:
            if stamp != self._stamp:
                try:
                    with open(self.path, encoding="utf-8-sig") as fh:
                        self._value = Synonyms.parse(fh.read(), self.fold)
                except (OSError, UnicodeDecodeError):
                    self._value = Synonyms(fold=self.fold)
                self._stamp = stamp
            return self._value
