"""Meilisearch search parameters -> one validated ``MeiliQuery``.

The same parameters arrive as a JSON body (``POST /indexes/{uid}/search``, each query of
``/multi-search``) or as a query string (``GET``, lists comma-separated, ``filter`` a string
or JSON). Each is checked the way Meilisearch checks it, with its error code and message
(``invalid_search_limit``: "Invalid value type at `.limit`: expected a positive integer, but
found a string: `"ten"`"); an unknown parameter is ``bad_request``, and a parameter sou
recognises but cannot honour (vectors, hybrid search, ...) is refused by name, never ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .meili_errors import MeiliError, bad

DEFAULT_LIMIT = 20
DEFAULT_CROP_LENGTH = 10


@dataclass
class MeiliQuery:
    q: str = ""
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    page: int | None = None
    hits_per_page: int | None = None
    filter: Any = None
    facets: list[str] | None = None
    attributes_to_retrieve: list[str] | None = None
    attributes_to_highlight: list[str] | None = None
    attributes_to_crop: list[str] | None = None
    crop_length: int = DEFAULT_CROP_LENGTH
    crop_marker: str = "…"
    highlight_pre_tag: str = "<em>"
    highlight_post_tag: str = "</em>"
    sort: list[str] | None = None
    show_ranking_score: bool = False
    show_matches_position: bool = False
    matching_strategy: str = "last"

    @property
    def finite(self) -> bool:
        """page/hitsPerPage pagination (exact totalHits, totalPages) rather than offset/limit."""
        return self.page is not None or self.hits_per_page is not None


# name -> (attribute, kind, may be null). Kinds: uint, str, bool, strs (list of strings), any.
_PARAMS: dict[str, tuple[str, str, bool]] = {
    "q": ("q", "str", True),
    "offset": ("offset", "uint", False),
    "limit": ("limit", "uint", False),
    "page": ("page", "uint", True),
    "hitsPerPage": ("hits_per_page", "uint", True),
    "filter": ("filter", "any", True),
    "facets": ("facets", "strs", True),
    "attributesToRetrieve": ("attributes_to_retrieve", "strs", True),
    "attributesToHighlight": ("attributes_to_highlight", "strs", True),
    "attributesToCrop": ("attributes_to_crop", "strs", True),
    "cropLength": ("crop_length", "uint", False),
    "cropMarker": ("crop_marker", "str", False),
    "highlightPreTag": ("highlight_pre_tag", "str", False),
    "highlightPostTag": ("highlight_post_tag", "str", False),
    "sort": ("sort", "strs", True),
    "showRankingScore": ("show_ranking_score", "bool", False),
    "showMatchesPosition": ("show_matches_position", "bool", False),
    "matchingStrategy": ("matching_strategy", "str", False),
}

# Meilisearch parameters sou knows but cannot honour: refused unless given their neutral value.
_NEUTRAL: dict[str, tuple[Any, ...]] = {
    "vector": (None,), "hybrid": (None,), "retrieveVectors": (False, "false"),
    "attributesToSearchOn": (None, ["*"], "*"), "showRankingScoreDetails": (False, "false"),
    "showPerformanceDetails": (False, "false"), "rankingScoreThreshold": (None,), "distinct": (None,),
    "locales": (), "personalize": (None,), "media": (None,), "useNetwork": (None, False, "false"),
    "hybridEmbedder": (None,), "hybridSemanticRatio": (None,),
}
_UNSUPPORTED_WHY = {
    "vector": "sou has no vector store", "hybrid": "sou has no vector store", "retrieveVectors": "sou has no vectors",
    "hybridEmbedder": "sou has no vector store", "hybridSemanticRatio": "sou has no vector store",
    "attributesToSearchOn": "sou searches the title, body, categories, tags and author together "
                            "(use `title:word` in `q` for the title only)",
    "showRankingScoreDetails": "sou's scores are BM25F, not Meilisearch's ranking rules",
    "showPerformanceDetails": "sou does not break a search down by ranking rule",
    "rankingScoreThreshold": "sou's scores are relative to the best hit of each query",
    "distinct": "sou already collapses revisions of one article into one hit",
    "personalize": "sou has no personalization service", "media": "sou has no multimodal embedders",
    "useNetwork": "sou is a single instance",
}
_CODES = {
    "q": "invalid_search_q", "offset": "invalid_search_offset", "limit": "invalid_search_limit",
    "page": "invalid_search_page", "hitsPerPage": "invalid_search_hits_per_page",
    "filter": "invalid_search_filter", "facets": "invalid_search_facets",
    "attributesToRetrieve": "invalid_search_attributes_to_retrieve",
    "attributesToHighlight": "invalid_search_attributes_to_highlight",
    "attributesToCrop": "invalid_search_attributes_to_crop", "cropLength": "invalid_search_crop_length",
    "cropMarker": "invalid_search_crop_marker", "highlightPreTag": "invalid_search_highlight_pre_tag",
    "highlightPostTag": "invalid_search_highlight_post_tag", "sort": "invalid_search_sort",
    "showRankingScore": "invalid_search_show_ranking_score",
    "showMatchesPosition": "invalid_search_show_matches_position",
    "matchingStrategy": "invalid_search_matching_strategy", "vector": "invalid_search_vectors",
    "hybrid": "invalid_search_hybrid_query", "retrieveVectors": "invalid_search_retrieve_vectors",
    "attributesToSearchOn": "invalid_search_attributes_to_search_on",
    "showRankingScoreDetails": "invalid_search_show_ranking_score_details",
    "showPerformanceDetails": "invalid_search_show_performance_details",
    "rankingScoreThreshold": "invalid_search_ranking_score_threshold", "distinct": "invalid_search_distinct",
    "locales": "invalid_search_locales", "personalize": "invalid_search_personalize",
    "media": "invalid_search_media", "useNetwork": "invalid_search_use_network",
    "hybridEmbedder": "invalid_search_embedder", "hybridSemanticRatio": "invalid_search_semantic_ratio",
}
MATCHING_STRATEGIES = ("last", "all", "frequency")
_ALL_NAMES = (*_PARAMS, *_NEUTRAL)


def from_json(body: Any, *, extra: tuple[str, ...] = (), where: str = "") -> MeiliQuery:
    """A JSON search body. ``extra`` names keys the caller handles itself (``indexUid`` in a
    multi-search query); ``where`` prefixes paths in messages (``.queries[0]``)."""
    if not isinstance(body, dict):
        raise bad("bad_request", f"Invalid value type{_at(where)}: expected an object, but found {describe(body)}")
    query = MeiliQuery()
    for key, value in body.items():
        if key in extra:
            continue
        if key not in _PARAMS:
            _refuse(key, value, json_body=True, where=where)
            continue
        attr, kind, nullable = _PARAMS[key]
        path = f"{where}.{key}"
        if value is None and nullable:
            continue
        setattr(query, attr, _json_value(key, kind, value, path))
    _check_matching(query.matching_strategy, f"at `{where}.matchingStrategy`")
    return query


def from_args(args: Mapping[str, str]) -> MeiliQuery:
    """A GET query string: lists are comma-separated, ``filter`` is a string or JSON."""
    query = MeiliQuery()
    for key, raw in args.items():
        if key not in _PARAMS:
            _refuse(key, raw, json_body=False)
            continue
        attr, kind, _ = _PARAMS[key]
        if kind == "uint":
            if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
                raise bad(_CODES[key], f"Invalid value in parameter `{key}`: could not parse `{raw}` as a positive integer")
            value: Any = int(raw)
        elif kind == "bool":
            if raw not in ("true", "false"):
                raise bad(_CODES[key], f"Invalid value in parameter `{key}`: could not parse `{raw}` as a boolean, "
                                       "expected either `true` or `false`")
            value = raw == "true"
        elif kind == "strs":
            value = [part.strip() for part in raw.split(",")]
        elif key == "filter":
            value = _filter_from_text(raw)
        else:
            value = raw
        setattr(query, attr, value)
    _check_matching(query.matching_strategy, "for parameter `matchingStrategy`")
    return query


def _filter_from_text(raw: str) -> Any:
    """Meilisearch reads a GET filter as JSON when it is JSON (an array), else as a string."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, list | str) else raw


def _json_value(key: str, kind: str, value: Any, path: str) -> Any:
    ok = {
        "uint": isinstance(value, int) and not isinstance(value, bool) and value >= 0,
        "str": isinstance(value, str),
        "bool": isinstance(value, bool),
        "strs": isinstance(value, list),
        "any": True,
    }[kind]
    if not ok:
        want = {"uint": "a positive integer", "str": "a string", "bool": "a boolean", "strs": "an array"}[kind]
        raise bad(_CODES[key], f"Invalid value type at `{path}`: expected {want}, but found {describe(value)}")
    if kind == "strs":
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise bad(_CODES[key], f"Invalid value type at `{path}[{i}]`: expected a string, but found "
                                       f"{describe(item)}")
    return value


def _check_matching(value: str, where: str) -> None:
    if value not in MATCHING_STRATEGIES:
        raise bad("invalid_search_matching_strategy",
                  f"Unknown value `{value}` {where}: expected one of `last`, `all`, `frequency`")


def _refuse(key: str, value: Any, *, json_body: bool, where: str = "") -> None:
    """An unknown parameter is a bad request; a known one sou cannot honour is refused by name
    unless it asks for nothing (``"vector": null``, ``"retrieveVectors": false``)."""
    if key not in _NEUTRAL:
        expected = ", ".join(f"`{name}`" for name in _ALL_NAMES)
        kind = "field" if json_body else "parameter"
        raise bad("bad_request", f"Unknown {kind} `{key}`{_at(where)}: expected one of {expected}")
    if key == "locales" or value in _NEUTRAL[key]:
        return          # locales only hint at the language; sou detects Chinese and Latin by itself
    raise bad(_CODES[key], f"sou does not support `{key}`: {_UNSUPPORTED_WHY[key]}.")


def _at(where: str) -> str:
    return f" inside `{where}`" if where else ""


def describe(value: Any) -> str:
    """As Meilisearch (deserr) names a JSON value in its messages: kind, then the value."""
    shown = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if value is None:
        kind = "null"
    elif isinstance(value, bool):
        kind = "a boolean"
    elif isinstance(value, int):
        kind = "a positive integer" if value >= 0 else "a negative integer"
    elif isinstance(value, float):
        kind = "a number"
    elif isinstance(value, str):
        kind = "a string"
    elif isinstance(value, list):
        kind = "an array"
    else:
        kind = "an object"
    return f"{kind}: `{shown}`"


_SORT_RULE = re.compile(r"^(?P<attr>.+):(?P<dir>asc|desc)$")


def sort_rules(rules: list[str]) -> list[tuple[str, str]]:
    """``["date:desc"]`` -> ``[("date", "desc")]``, with Meilisearch's message for a rule that
    does not end in ``:asc`` or ``:desc``."""
    out = []
    for rule in rules:
        m = _SORT_RULE.match(rule.strip())
        if not m:
            raise bad("invalid_search_sort", "Invalid syntax for the sort parameter: expected expression ending by "
                                             f"`:asc` or `:desc`, found `{rule}`.")
        out.append((m["attr"], m["dir"]))
    return out


def crop_fields(entries: list[str], default_length: int) -> dict[str, int]:
    """``attributesToCrop`` entries are ``name`` or ``name:length`` (InstantSearch's
    ``attributesToSnippet`` syntax, which instant-meilisearch passes through)."""
    out: dict[str, int] = {}
    for entry in entries:
        name, _, length = entry.rpartition(":")
        if name and length.isascii() and length.isdigit():
            out[name] = int(length)
        else:
            out[entry] = default_length
    return out


def refuse_multi(message: str) -> MeiliError:
    return bad("invalid_multi_search_federated", message)
