"""Meilisearch's filter expressions -> a ``search.filters`` tree.

The syntax is Meilisearch's (``tags = 猫 AND (year >= 2021 OR NOT categories IN [tech, notes])``,
``year 2019 TO 2021``, ``date >= 2021-03``, ``author IS EMPTY``; or the array form, a list
ANDed whose nested lists are ORed), parsed the way its ``filter-parser`` crate does: the same
precedence (NOT > AND > OR), reserved words, quoting and escapes, and error messages that end
with the ``start:end`` columns of the offending text and the whole filter, so clients written
against Meilisearch show users the same diagnostics. It lives in the library rather than in
the web layer because nothing in it is HTTP: the Meilisearch routes use it today, and sou's own
API or CLI can take the same expressions tomorrow.

Hand-written recursive descent (about the size of a grammar for a parser library, and no
dependency); geo and vector filters, CONTAINS and STARTS WITH are refused with a clear message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .filters import (
    FIELDS,
    AllOfFilters,
    AnyOfFilters,
    Condition,
    FilterError,
    FilterNode,
    NotFilter,
    value_problem,
)

KEYWORDS = frozenset({"AND", "OR", "IN", "NOT", "TO", "EXISTS", "IS", "NULL", "EMPTY", "CONTAINS", "STARTS",
                      "WITH", "_geoRadius", "_geoBoundingBox"})
MAX_DEPTH = 150
_WORD = re.compile(r"[\w.\-]+")
_SYNTAX = re.compile(r"[\s()=<>!]")
_OPERATORS = ("<=", ">=", "!=", "<", ">", "=")
_GEO = ("_geoRadius", "_geoBoundingBox", "_geoPolygon", "_geoPoint", "_geoDistance", "_geo")
_EXPECTED_OPERATION = ("Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, "
                       "`NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `_geoRadius`, "
                       "`_geoBoundingBox` or `_geoPolygon`")


class FilterSyntaxError(FilterError):
    """A filter that does not parse, or names a field or value sou cannot filter on. The
    message ends like Meilisearch's: ``\\n{start}:{end} {filter}`` with 1-based columns."""

    def __init__(self, message: str, source: str = "", start: int = 0, end: int = 0) -> None:
        super().__init__(f"{message}\n{start + 1}:{end + 1} {source}" if source else message)


def parse_filter(value: Any, attributes: Mapping[str, str] | None = None) -> FilterNode | None:
    """A filter in either of Meilisearch's forms: a string, or an array whose strings are ANDed
    and whose nested arrays of strings are ORed. ``attributes`` maps the names a client may use
    to sou's filter fields (default: the fields' own names). None when there is nothing to filter."""
    names = dict(attributes) if attributes is not None else {f: f for f in FIELDS}
    if value is None:
        return None
    if isinstance(value, str):
        return _Parser(value, names).parse()
    if not isinstance(value, list):
        raise FilterError(_array_error(("String", "Array"), value))
    for item in value:              # every type first, as Meilisearch checks them before parsing
        if isinstance(item, list):
            for inner in item:
                if not isinstance(inner, str):
                    raise FilterError(_array_error(("String",), inner))
        elif not isinstance(item, str):
            raise FilterError(_array_error(("String", "[String]"), item))
    ands: list[FilterNode] = []
    for item in value:
        group = [item] if isinstance(item, str) else item
        ors = [node for node in (_Parser(text, names).parse() for text in group) if node is not None]
        if ors:
            ands.append(ors[0] if len(ors) == 1 else AnyOfFilters(tuple(ors)))
    if not ands:
        return None
    return ands[0] if len(ands) == 1 else AllOfFilters(tuple(ands))


def _array_error(expected: tuple[str, ...], found: Any) -> str:
    shown = json.dumps(found, ensure_ascii=False, separators=(",", ":"))
    return f"Invalid syntax for the filter parameter: `expected {', '.join(expected)}, found: {shown}`."


@dataclass(frozen=True)
class _Token:
    text: str          # unquoted and unescaped
    start: int         # span in the source, inside the quotes for a quoted value
    end: int
    quoted: bool


class _Soft(Exception):
    """A failed alternative; the caller may try another (nom's Error, as opposed to Failure)."""

    def __init__(self, message: str, start: int, end: int, keyword: bool = False) -> None:
        super().__init__(message)
        self.message, self.start, self.end, self.keyword = message, start, end, keyword


class _Parser:
    def __init__(self, source: str, attributes: dict[str, str]) -> None:
        self.src = source
        self.pos = 0
        self.attributes = attributes

    def parse(self) -> FilterNode | None:
        if not self.src.strip():
            return None
        try:
            node = self._or(0)
        except _Soft as exc:
            raise self._error(exc.message, exc.start, exc.end) from None
        self._ws()
        if self.pos < len(self.src):
            rest = self.src[self.pos:]
            raise self._error(f"Found unexpected characters at the end of the filter: `{_shown(rest)}`. "
                              "You probably forgot an `OR` or an `AND` rule.", self.pos, len(self.src))
        return node

    # -- errors --------------------------------------------------------------------------------
    def _error(self, message: str, start: int, end: int) -> FilterSyntaxError:
        return FilterSyntaxError(message, self.src, start, end)

    def _hard(self, exc: _Soft) -> FilterSyntaxError:
        return self._error(exc.message, exc.start, exc.end)

    # -- lexing --------------------------------------------------------------------------------
    def _ws(self) -> None:
        while self.pos < len(self.src) and self.src[self.pos].isspace():
            self.pos += 1

    def _peek_word(self) -> str | None:
        m = _WORD.match(self.src, self.pos)
        return m.group() if m else None

    def _take_word(self, word: str) -> bool:
        """Consume ``word`` (and the spaces after it) when it is the next whole word."""
        if self._peek_word() == word:
            self.pos += len(word)
            self._ws()
            return True
        return False

    def _value(self) -> _Token:
        self._ws()
        start = self.pos
        src = self.src
        if start < len(src) and src[start] in "'\"":
            quote = src[start]
            i = start + 1
            while i < len(src) and src[i] != quote:
                i += 2 if src[i] == "\\" else 1
            if i >= len(src):
                raise self._error(f"Expression `{_shown(src[start:])}` is missing the following closing "
                                  f"delimiter: `{quote}`.", start, len(src))
            token = _Token(_unescape(src[start + 1:i]), start + 1, i, True)
            self.pos = i + 1
        else:
            m = _WORD.match(src, start)
            if not m:
                stop = _SYNTAX.search(src, start)
                end = stop.start() if stop else len(src)
                got = src[start:end]
                message = (f"Was expecting a value but instead got `{_shown(got)}`." if got.strip()
                           else "Was expecting a value but instead got nothing.")
                raise _Soft(message, start, end)
            word = m.group()
            if word in _GEO or word.startswith("_geo"):
                raise self._error(f"`{word}`: sou's articles have no geographic coordinates, so geo filters "
                                  "are not supported.", start, m.end())
            if word in KEYWORDS:
                raise _Soft(f"Was expecting a value but instead got `{word}`, which is a reserved keyword. To use "
                            f"`{word}` as a field name or a value, surround it by quotes.", start, m.end(),
                            keyword=True)
            token = _Token(word, start, m.end(), False)
            self.pos = m.end()
        self._ws()
        return token

    def _value_cut(self) -> _Token:
        try:
            return self._value()
        except _Soft as exc:
            raise self._hard(exc) from None

    # -- grammar ----------------------------------------------------------------------------------
    def _check_depth(self, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self._error("The filter exceeded the maximum depth limit. Try rewriting the filter so that "
                              "it contains fewer nested conditions.", self.pos, len(self.src))

    def _or(self, depth: int) -> FilterNode:
        self._check_depth(depth)
        nodes = [self._and(depth + 1)]
        while self._take_word("OR"):
            nodes.append(self._cut(lambda: self._and(depth + 1)))
        return nodes[0] if len(nodes) == 1 else AnyOfFilters(tuple(nodes))

    def _and(self, depth: int) -> FilterNode:
        self._check_depth(depth)
        nodes = [self._not(depth + 1)]
        while self._take_word("AND"):
            nodes.append(self._cut(lambda: self._not(depth + 1)))
        return nodes[0] if len(nodes) == 1 else AllOfFilters(tuple(nodes))

    def _not(self, depth: int) -> FilterNode:
        self._check_depth(depth)
        self._ws()
        if self._take_word("NOT"):
            inner = self._cut(lambda: self._not(depth + 1))
            return inner.node if isinstance(inner, NotFilter) else NotFilter(inner)
        return self._primary(depth + 1)

    def _cut(self, parse):
        try:
            return parse()
        except _Soft as exc:
            raise self._hard(exc) from None

    def _primary(self, depth: int) -> FilterNode:
        self._check_depth(depth)
        self._ws()
        start = self.pos
        src = self.src
        if start < len(src) and src[start] == "(":
            self.pos += 1
            node = self._cut(lambda: self._or(depth + 1))
            self._ws()
            if self.pos >= len(src) or src[self.pos] != ")":
                raise self._error(f"Expression `{_shown(src[start:])}` is missing the following closing "
                                  "delimiter: `)`.", start, len(src))
            self.pos += 1
            self._ws()
            return node
        try:
            fid = self._value()
        except _Soft as exc:
            if exc.keyword:
                raise self._hard(exc) from None
            raise _Soft(self._invalid_primary(start), start, len(src)) from None
        for op in _OPERATORS:
            if src.startswith(op, self.pos):
                self.pos += len(op)
                return self._condition(fid, op, [self._value_cut()])
        if self._take_word("IN"):
            return self._in(fid)
        if self._peek_word() in ("CONTAINS", "STARTS"):
            raise self._unsupported(self._peek_word() or "")
        mark = self.pos
        if self._take_word("NOT"):
            if self._take_word("IN"):
                return NotFilter(self._in(fid))
            if self._take_word("EXISTS"):
                return NotFilter(self._condition(fid, "EXISTS", []))
            if self._peek_word() in ("CONTAINS", "STARTS"):
                raise self._unsupported(self._peek_word() or "")
            self.pos = mark
        if self._take_word("IS"):
            negated = self._take_word("NOT")
            for word, op in (("NULL", "IS NULL"), ("EMPTY", "IS EMPTY")):
                if self._take_word(word):
                    node = self._condition(fid, op, [])
                    return NotFilter(node) if negated else node
            self.pos = mark
        if self._take_word("EXISTS"):
            return self._condition(fid, "EXISTS", [])
        try:                                   # value value TO value
            low = self._value()
        except _Soft:
            raise _Soft(self._invalid_primary(start), start, len(src)) from None
        if self._take_word("TO"):
            return self._condition(fid, "TO", [low, self._value_cut()])
        raise _Soft(self._invalid_primary(start), start, len(src))

    def _invalid_primary(self, start: int) -> str:
        rest = self.src[start:]
        return f"{_EXPECTED_OPERATION} " + (f"at `{_shown(rest)}`." if rest.strip() else "but instead got nothing.")

    def _unsupported(self, word: str) -> FilterSyntaxError:
        name = "STARTS WITH" if word == "STARTS" else word
        return self._error(f"sou does not support `{name}` filters; use `=`, `!=`, `IN`, comparisons or `TO`.",
                           self.pos, self.pos + len(word))

    def _in(self, fid: _Token) -> FilterNode:
        src = self.src
        if self.pos >= len(src) or src[self.pos] != "[":
            raise self._error("Expected `[` after `IN` keyword.", self.pos, len(src))
        self.pos += 1
        values: list[_Token] = []
        try:
            values.append(self._value())
        except _Soft:
            pass
        while values:
            mark = self.pos
            self._ws()
            if self.pos < len(src) and src[self.pos] == ",":
                self.pos += 1
                try:
                    values.append(self._value())
                    continue
                except _Soft:
                    pass
            self.pos = mark
            break
        self._ws()
        if self.pos < len(src) and src[self.pos] == ",":
            self.pos += 1
            self._ws()
        if self.pos >= len(src):
            raise self._error("Expected matching `]` after the list of field names given to `IN[`", self.pos,
                              self.pos)
        if src[self.pos] != "]":
            rest = src[self.pos:]
            word = self._peek_word()
            hint = (f", which is a keyword. To use `{_shown(rest)}` as a field name or a value, surround it by quotes."
                    if word in KEYWORDS else ".")
            raise self._error(f"Expected only comma-separated field names inside `IN[..]` but instead found "
                              f"`{_shown(rest)}`{hint}", self.pos, len(src))
        self.pos += 1
        self._ws()
        field = self._field(fid)
        if not values:
            return AnyOfFilters(())
        self._check_values(field, values)
        return Condition(field, "IN", tuple(v.text for v in values))

    def _condition(self, fid: _Token, op: str, values: list[_Token]) -> Condition:
        field = self._field(fid)
        self._check_values(field, values)
        return Condition(field, op, tuple(v.text for v in values))

    def _field(self, fid: _Token) -> str:
        field = self.attributes.get(fid.text)
        if field is None:
            known = ", ".join(sorted(self.attributes))
            raise self._error(f"Attribute `{fid.text}` is not filterable. Available filterable attribute "
                              f"patterns are: `{known}`.", fid.start, fid.end)
        return field

    def _check_values(self, field: str, values: list[_Token]) -> None:
        for value in values:
            problem = value_problem(field, value.text)
            if problem:
                raise self._error(problem[:1].upper() + problem[1:] + ".", value.start, value.end)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}


def _unescape(raw: str) -> str:
    """Backslash escapes inside quotes: ``\\"``, ``\\'``, ``\\\\`` and the usual ``\\n \\t \\r``."""
    if "\\" not in raw:
        return raw
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _shown(text: str) -> str:
    """As Rust's ``escape_debug`` shows the input in messages: control characters escaped."""
    return "".join(c.encode("unicode_escape").decode("ascii") if ord(c) < 32 else c for c in text)
