"""Structured filters: a tree of conditions on an article's metadata, evaluated as one boolean
array over every document of the index.

sou's own query string filters with ``category:``/``tag:``/``date:`` words and the JSON API with
repeatable parameters; clients of other engines send whole boolean expressions (Meilisearch's
``tags = 猫 AND (year >= 2021 OR NOT categories = tech)``). Those are parsed elsewhere (see
``filter_syntax.py``) into this tree, which any API can build and which the engine ANDs with
its other filters. It is evaluated on the per-document table the engine already holds
(``DocTable``: facet (document, value) pairs, dates, the live mask), so a filter costs a few
array operations and never a query against the index.

Keyword values are compared after sou's folding (``analysis.fold``), the way the index matches
words: ``tag = 猫`` matches the tag 貓, ``category = TECH`` matches ``tech``.
"""

from __future__ import annotations

import math
import re
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from . import analysis
from .doctable import DocTable, FacetIndex
from .errors import QueryError
from .models import FACET_NAMES
from .query import parse_date_range

KEYWORD_FIELDS = FACET_NAMES
FIELDS = (*KEYWORD_FIELDS, "year", "date", "timestamp", "id")
COMPARISONS = ("=", "!=", ">", ">=", "<", "<=")
OPERATORS = (*COMPARISONS, "TO", "IN", "EXISTS", "IS NULL", "IS EMPTY")
_ARITY = {"TO": 2, "EXISTS": 0, "IS NULL": 0, "IS EMPTY": 0}    # IN takes one or more, the rest one


class FilterError(QueryError):
    """A filter the engine cannot evaluate: unknown field or operator, a value of the wrong kind."""

    code = "bad_filter"
    http_status = 400


@dataclass(frozen=True)
class Condition:
    """``field op values``: ``Condition("tag", "IN", ("猫", "狗"))``, ``Condition("year", "TO",
    ("2019", "2021"))`` (both ends included), ``Condition("date", ">=", ("2021-03",))``.

    ``year`` and ``timestamp`` (Unix seconds) take numbers. ``date`` takes a day, month or year
    (``2021-03-05``, ``2021-03``, ``2021``: the whole period, in UTC), an ISO 8601 instant or
    Unix seconds; ``date > 2021-03`` is after March, ``date <= 2021-03`` up to its end."""

    field: str
    op: str
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise FilterError(f"unknown filter field {self.field!r} (use {', '.join(FIELDS)})")
        if self.op not in OPERATORS:
            raise FilterError(f"unknown filter operator {self.op!r} (use {', '.join(OPERATORS)})")
        want = _ARITY.get(self.op, 1)
        if (len(self.values) != want) if self.op != "IN" else not self.values:
            raise FilterError(f"`{self.op}` takes {'one or more values' if self.op == 'IN' else want} "
                              f"value{'s' if want != 1 else ''}, not {len(self.values)}")
        for value in self.values:
            problem = value_problem(self.field, value)
            if problem:
                raise FilterError(problem)


@dataclass(frozen=True)
class AllOfFilters:
    nodes: tuple[FilterNode, ...]


@dataclass(frozen=True)
class AnyOfFilters:
    nodes: tuple[FilterNode, ...]


@dataclass(frozen=True)
class NotFilter:
    node: FilterNode


FilterNode = Condition | AllOfFilters | AnyOfFilters | NotFilter


def value_problem(field: str, value: str) -> str | None:
    """Why ``value`` cannot be compared with ``field`` (None when it can); parsers call this to
    point at the offending value in their own error messages."""
    if field in ("year", "timestamp"):
        if _number(value) is None:
            return f"`{field}` is compared with numbers, not `{value}`"
    elif field == "date" and _date_bounds(value) is None:
        return (f"`date` is compared with dates such as 2021, 2021-03, 2021-03-05, "
                f"2021-03-05T08:00:00Z or Unix seconds, not `{value}`")
    return None


def mask(node: FilterNode, table: DocTable) -> np.ndarray:
    """The live documents ``node`` accepts, as a boolean array indexed by document number."""
    return _eval(node, table) & table.live


# -- evaluation --------------------------------------------------------------------------------

def _eval(node: FilterNode, table: DocTable) -> np.ndarray:
    if isinstance(node, Condition):
        return _condition(node, table)
    if isinstance(node, NotFilter):
        return ~_eval(node.node, table)
    if isinstance(node, (AllOfFilters, AnyOfFilters)):
        every = isinstance(node, AllOfFilters)
        out = np.full(len(table.ids), every, dtype=bool)
        for child in node.nodes:
            out = (out & _eval(child, table)) if every else (out | _eval(child, table))
        return out
    raise FilterError(f"not a filter node: {node!r}")


def _condition(cond: Condition, table: DocTable) -> np.ndarray:
    n = len(table.ids)
    if cond.op == "EXISTS":            # every article has every field (possibly empty or null)
        return np.ones(n, dtype=bool)
    if cond.op == "!=":
        return ~_condition(Condition(cond.field, "=", cond.values), table)
    if cond.op == "IN":
        out = np.zeros(n, dtype=bool)
        for value in cond.values:
            out |= _condition(Condition(cond.field, "=", (value,)), table)
        return out
    if cond.field in ("year", "date", "timestamp"):
        return _numeric(cond, table)
    if cond.op == "IS NULL":           # keyword fields are lists or strings, never null
        return np.zeros(n, dtype=bool)
    if cond.field == "id":
        return _ids(cond, table)
    index = table.facet_index[cond.field]
    if cond.op == "IS EMPTY":
        out = np.ones(n, dtype=bool)
        out[index.docs] = False
        return out
    return _docs_with(index, _matching_codes(cond, _folded(index)), n)


def _ids(cond: Condition, table: DocTable) -> np.ndarray:
    out = np.zeros(len(table.ids), dtype=bool)
    if cond.op == "IS EMPTY":
        return out
    if cond.op == "=":
        docnum = table.by_id.get(cond.values[0])
        if docnum is not None:
            out[docnum] = True
        return out
    test = _string_test(cond.op, cond.values)
    out[[d for i, d in table.by_id.items() if test(i)]] = True
    return out


def _matching_codes(cond: Condition, folded: _FoldedValues) -> np.ndarray:
    """Codes (indexes into the facet's values) of the values ``cond`` accepts."""
    if cond.op == "=":
        return np.array(folded.codes_of.get(analysis.fold(cond.values[0].strip()), []), dtype=np.int64)
    test = _string_test(cond.op, tuple(analysis.fold(v.strip()) for v in cond.values))
    return np.array([code for code, value in enumerate(folded.values) if test(value)], dtype=np.int64)


def _string_test(op: str, values: tuple[str, ...]):
    """Lexicographic comparisons, as Meilisearch compares strings."""
    a = values[0]
    b = values[-1]
    return {
        "=": lambda v: v == a,
        ">": lambda v: v > a,
        ">=": lambda v: v >= a,
        "<": lambda v: v < a,
        "<=": lambda v: v <= a,
        "TO": lambda v: a <= v <= b,
    }[op]


def _docs_with(index: FacetIndex, codes: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    if len(codes):
        wanted = np.zeros(len(index.values), dtype=bool)
        wanted[codes] = True
        out[index.docs[wanted[index.codes]]] = True
    return out


def _numeric(cond: Condition, table: DocTable) -> np.ndarray:
    """year, date and timestamp are all read from the article's date (seconds since the epoch,
    NaN when undated): a condition becomes a half-open interval of seconds."""
    seconds = table.date_seconds
    if cond.op == "IS NULL":
        return np.isnan(seconds)
    if cond.op == "IS EMPTY":
        return np.zeros(len(seconds), dtype=bool)
    if cond.field == "year":
        values = _years(table)
        bounds = [(x, math.nextafter(x, math.inf)) for x in (_number(v) for v in cond.values)]
    else:
        values = seconds
        bounds = [_date_bounds(v) if cond.field == "date" else _instant(_number(v)) for v in cond.values]
    lo, hi = bounds[0]
    with np.errstate(invalid="ignore"):          # NaN (undated) compares False everywhere
        if cond.op == "=":
            return (values >= lo) & (values < hi)
        if cond.op == ">":
            return values >= hi
        if cond.op == ">=":
            return values >= lo
        if cond.op == "<":
            return values < lo
        if cond.op == "<=":
            return values < hi
        return (values >= lo) & (values < bounds[1][1])          # TO: both ends included


def _years(table: DocTable) -> np.ndarray:
    """Each document's year as the year facet reads it (NaN when undated)."""
    index = table.facet_index["year"]
    years = np.full(len(table.ids), np.nan)
    years[index.docs] = np.array([float(v) for v in index.values], dtype=np.float64)[index.codes]
    return years


_NUMBER_RE = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def _number(text: str) -> float | None:
    text = text.strip()
    return float(text) if _NUMBER_RE.fullmatch(text) else None


def _instant(seconds: float | None) -> tuple[float, float] | None:
    # one millisecond wide: dates are stored to the microsecond but compared as float seconds
    return None if seconds is None else (seconds, seconds + 0.001)


def _date_bounds(text: str) -> tuple[float, float] | None:
    """[start, end) in seconds for a day, month or year (UTC), an ISO instant or Unix seconds."""
    text = text.strip()
    if ".." not in text:
        rng = parse_date_range(text)
        if rng is not None and rng.start is not None and rng.end is not None:
            return rng.start.timestamp(), rng.end.timestamp()
    if _NUMBER_RE.fullmatch(text):
        return _instant(float(text))
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return _instant(when.timestamp())


# -- folded keyword values, once per facet index -------------------------------------------------

@dataclass
class _FoldedValues:
    values: list[str]                       # folded, by code
    codes_of: dict[str, list[int]]          # folded value -> codes (春 and 春 in two scripts fold together)


_FOLDED: dict[int, tuple[weakref.ref, _FoldedValues]] = {}


def _folded(index: FacetIndex) -> _FoldedValues:
    """The facet's values folded; kept as long as the index generation's table lives, since a
    tag facet may hold thousands of values and every filter on it needs them."""
    entry = _FOLDED.get(id(index))
    if entry is not None and entry[0]() is index:
        return entry[1]
    values = [analysis.fold(v.strip()) for v in index.values]
    codes_of: dict[str, list[int]] = {}
    for code, value in enumerate(values):
        codes_of.setdefault(value, []).append(code)
    folded = _FoldedValues(values, codes_of)
    key = id(index)
    _FOLDED[key] = (weakref.ref(index, lambda _ref: _FOLDED.pop(key, None)), folded)
    return folded
