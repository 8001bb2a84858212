"""The read side of Meilisearch's HTTP API over sou's engine, so that Meilisearch clients (the
``meilisearch`` JS client, instant-meilisearch with InstantSearch widgets, docs-searchbar and
the themes built on them) search a sou index unchanged.

Like sou's own JSON API, each route parses its parameters into one ``SearchRequest`` and
renders the engine's ``SearchResults``; there is no second search path. The articles are one
index (``Settings.meili_index``, ``articles`` by default) whose documents have the fields of
``meili_format.DISPLAYED`` and the primary key ``id`` (the article's path). sou indexes a
folder, so every write route (documents, settings, indexes, keys, tasks, ...) answers a
Meilisearch-shaped error that says so; nothing is silently accepted.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from flask import Flask, Response, jsonify, request

from search import SearchRequest, Settings
from search.filter_syntax import parse_filter
from search.filters import Condition, FilterError
from search.models import SearchResults

from . import meili_format, meili_params
from .holder import engine, settings
from .meili_errors import MeiliError, bad, meili_response
from .meili_params import MeiliQuery

# The roots of Meilisearch's routes; every path under them answers in Meilisearch's shape.
ROOTS = ("health", "version", "stats", "indexes", "multi-search", "tasks", "batches", "keys", "dumps", "snapshots",
         "swap-indexes", "experimental-features", "metrics", "logs", "network", "webhooks", "export", "chats",
         "dynamic-search-rules", "render-template")
# Document attributes a filter may name -> sou's filter fields (search/filters.py).
FILTERABLE = {"categories": "category", "tags": "tag", "author": "author", "year": "year", "date": "date",
              "timestamp": "timestamp", "id": "id"}
# Attributes with a facet distribution -> the key of SearchResults.facets.
FACETS = {"author": "authors", "categories": "categories", "tags": "tags", "year": "years"}
SORTABLE = {"date": "date", "timestamp": "date"}
MAX_VALUES_PER_FACET = 100          # Meilisearch's default faceting.maxValuesPerFacet
API_VERSION = "1.50.0"              # the Meilisearch release whose API this imitates
WRITE_MESSAGE = ("sou serves a folder of Markdown articles and is read-only over HTTP: {action} is not possible "
                 "here. Add, change or remove files in the articles folder, then run `sou reindex PATH` (or keep "
                 "`sou watch PATH` running); settings are sou's own (sou.toml).")


def is_meili_path(path: str) -> bool:
    root = path.strip("/").split("/", 1)[0]
    return root in ROOTS


# -- routes ----------------------------------------------------------------------------------------

def health() -> Response:
    """Public, as Meilisearch's is: it says the server is up, not that an index exists."""
    return jsonify({"status": "available"})


def version() -> Response:
    try:
        sou_version = metadata.version("sou")
    except metadata.PackageNotFoundError:
        sou_version = "dev"
    return jsonify({"commitSha": f"sou-{sou_version}", "commitDate": "", "pkgVersion": API_VERSION})


def stats() -> Response:
    info = _index_stats()
    return jsonify({"databaseSize": info["rawDocumentDbSize"], "usedDatabaseSize": info["rawDocumentDbSize"],
                    "lastUpdate": engine().health()["updated_at"], "indexes": {settings().meili_index: info}})


def list_indexes() -> Response:
    offset = _uint_arg("offset", 0, "invalid_index_offset")
    limit = _uint_arg("limit", 20, "invalid_index_limit")
    _only_args("offset", "limit")
    everything = [_index_object()]
    return jsonify({"results": everything[offset:offset + limit], "offset": offset, "limit": limit,
                    "total": len(everything)})


def get_index(uid: str) -> Response:
    _check_index(uid)
    return jsonify(_index_object())


def index_stats(uid: str) -> Response:
    _check_index(uid)
    return jsonify(_index_stats())


def get_document(uid: str, doc_id: str) -> Response:
    _check_index(uid)
    _only_args("fields", "retrieveVectors")
    if request.args.get("retrieveVectors", "false") not in ("false", "true"):
        raise bad("invalid_document_retrieve_vectors", "Invalid value in parameter `retrieveVectors`: could not "
                  f"parse `{request.args['retrieveVectors']}` as a boolean, expected either `true` or `false`")
    results = engine().search(SearchRequest(filter=Condition("id", "=", (doc_id,)), per_page=1, highlight=False,
                                            facets=False, bodies=True))
    if not results.hits:
        raise MeiliError(404, "document_not_found", f"Document `{doc_id}` not found.")
    doc = meili_format.document(results.hits[0])
    fields = request.args.get("fields")
    if fields is not None:
        wanted = [f.strip() for f in fields.split(",")]
        if "*" not in wanted:
            doc = {k: v for k, v in doc.items() if k in wanted}
    return jsonify(doc)


def search(uid: str) -> Response:
    query = meili_params.from_json(_json_body()) if request.method == "POST" else meili_params.from_args(request.args)
    _check_index(uid)
    return jsonify(run(query))


def multi_search() -> Response:
    body = _json_body()
    if not isinstance(body, dict):
        raise bad("bad_request", f"Invalid value type: expected an object, but found {meili_params.describe(body)}")
    unknown = set(body) - {"queries", "federation"}
    if unknown:
        raise bad("bad_request", f"Unknown field `{sorted(unknown)[0]}`: expected one of `queries`, `federation`")
    if body.get("federation") is not None:
        raise meili_params.refuse_multi("sou does not merge federated multi-search results: send `queries` "
                                        "without `federation`.")
    queries = body.get("queries")
    if not isinstance(queries, list):
        raise bad("bad_request", "Missing field `queries`" if queries is None
                  else "Invalid value type at `.queries`: expected an array")
    results = []
    for i, raw in enumerate(queries):
        where = f".queries[{i}]"
        try:
            if isinstance(raw, dict) and raw.get("federationOptions") is not None:
                raise meili_params.refuse_multi("`federationOptions` only make sense with `federation`, which sou "
                                                "does not support.")
            query = meili_params.from_json(raw, extra=("indexUid", "federationOptions"), where=where)
            uid = raw.get("indexUid")
            if not isinstance(uid, str):
                raise bad("missing_index_uid", f"Missing field `indexUid` inside `{where}`")
            _check_index(uid)
            results.append({"indexUid": uid, **run(query)})
        except MeiliError as exc:
            raise exc.within(f"Inside `{where}`: ") from None
    return jsonify({"results": results})


def refuse() -> Response:
    """Everything else under Meilisearch's paths: writes are refused with the reason, reads of
    things sou does not have (tasks, keys, settings, ...) are 404."""
    path = request.path
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        resp = meili_response(405, "bad_request", WRITE_MESSAGE.format(action=f"`{request.method} {path}`"))
        resp.headers["Allow"] = "GET, HEAD, OPTIONS"
        return resp
    return meili_response(404, "bad_request", f"sou's Meilisearch-compatible API does not serve `GET {path}`. It serves "
                                           "/health, /version, /stats, /indexes, /indexes/{uid}, /indexes/{uid}/stats, "
                                           "/indexes/{uid}/documents/{id}, /indexes/{uid}/search and /multi-search.")


# -- search ----------------------------------------------------------------------------------------

def run(query: MeiliQuery) -> dict[str, Any]:
    """One search, parameters to response: the request the engine runs, then its rendering."""
    cfg = settings()
    plan = _plan(query, cfg)
    results = engine().search(plan.request)
    return _render(query, plan, results, cfg)


@dataclass(frozen=True)
class _Plan:
    """The SearchRequest for a MeiliQuery, and what rendering needs to remember about it."""

    request: SearchRequest
    offset: int
    limit: int
    hits_per_page: int
    page: int
    facets: list[str]
    formatting: meili_format.Formatting
    retrieve: tuple[str, ...]


def _plan(query: MeiliQuery, cfg: Settings) -> _Plan:
    if len(query.q) > cfg.max_query_length:
        raise bad("invalid_search_q", f"`q` is {len(query.q)} characters long; sou's limit is {cfg.max_query_length} "
                                      "(max_query_length)")
    # Like Meilisearch: results past the maximum total hits (max_results) are never served, and
    # paging past them gives no hits rather than an error; sou also caps one page at max_per_page.
    hits_per_page = min(query.hits_per_page if query.hits_per_page is not None else meili_params.DEFAULT_LIMIT,
                        cfg.max_per_page)
    page = query.page if query.page is not None else 1
    if query.finite:
        offset, limit = ((page - 1) * hits_per_page, hits_per_page) if page and hits_per_page else (0, 0)
    else:
        offset, limit = query.offset, min(query.limit, cfg.max_per_page)
    offset = min(offset, cfg.max_results)
    limit = min(limit, cfg.max_results - offset)
    try:
        node = parse_filter(query.filter, FILTERABLE)
    except FilterError as exc:
        raise bad("invalid_search_filter", str(exc)) from None
    facets = _facet_names(query.facets)
    req = SearchRequest(
        q=query.q, page=1, per_page=max(limit, 1), offset=offset if limit else 0, filter=node,
        sort=_sort(query.sort), highlight=bool(query.q.strip()), facets=bool(facets),
        facet_size=MAX_VALUES_PER_FACET, matching="all" if query.matching_strategy == "all" else "last", bodies=True,
    )
    retrieve = _attributes(query.attributes_to_retrieve, default_all=True)
    formatting = meili_format.Formatting(
        highlight=frozenset(_attributes(query.attributes_to_highlight)),
        crop=_crop(query.attributes_to_crop, query.crop_length),
        retrieve=retrieve, pre_tag=query.highlight_pre_tag, post_tag=query.highlight_post_tag,
        marker=query.crop_marker,
    )
    return _Plan(req, offset, limit, hits_per_page, page, facets, formatting, retrieve)


def _render(query: MeiliQuery, plan: _Plan, results: SearchResults, cfg: Settings) -> dict[str, Any]:
    total = min(results.total, cfg.max_results)
    hits = [_hit(hit, query, plan, results.top_score) for hit in (results.hits if plan.limit else ())]
    out: dict[str, Any] = {"hits": hits, "query": query.q, "processingTimeMs": int(round(results.took_ms))}
    if query.finite:
        hpp = plan.hits_per_page
        out |= {"hitsPerPage": hpp, "page": plan.page, "totalPages": -(-total // hpp) if hpp else 0,
                "totalHits": total}
    else:
        out |= {"limit": plan.limit, "offset": plan.offset, "estimatedTotalHits": total}
    if plan.facets:
        distribution: dict[str, dict[str, int]] = {}
        stats: dict[str, dict[str, float]] = {}
        for name in plan.facets:
            values = sorted(results.facets.get(FACETS[name], ()), key=lambda v: v.value)
            distribution[name] = {v.value: v.count for v in values if v.count}
            if name == "year" and distribution[name]:
                years = [int(v) for v in distribution[name]]
                stats[name] = {"min": min(years), "max": max(years)}
        out["facetDistribution"] = distribution
        out["facetStats"] = stats
    return out


def _hit(hit, query: MeiliQuery, plan: _Plan, top_score: float) -> dict[str, Any]:
    doc = meili_format.document(hit)
    out = {name: doc[name] for name in plan.retrieve}
    if plan.formatting.wanted:
        out["_formatted"] = meili_format.formatted(hit, doc, plan.formatting)
    if query.show_matches_position:
        out["_matchesPosition"] = meili_format.matches_position(hit, doc)
    if query.show_ranking_score:
        out["_rankingScore"] = round(hit.score / top_score, 6) if top_score > 0 else 1.0
    return out


def _attributes(names: list[str] | None, default_all: bool = False) -> tuple[str, ...]:
    """Known attributes among ``names`` (``*`` = all), in document order; unknown names are
    left out, as Meilisearch leaves out attributes a document does not have."""
    if names is None:
        return meili_format.DISPLAYED if default_all else ()
    if "*" in names:
        return meili_format.DISPLAYED
    return tuple(a for a in meili_format.DISPLAYED if a in names)


def _crop(entries: list[str] | None, length: int) -> dict[str, int]:
    if not entries:
        return {}
    wanted = meili_params.crop_fields(entries, length)
    every = wanted.pop("*", None)
    out = dict.fromkeys(meili_format.DISPLAYED, every) if every is not None else {}
    out.update({k: v for k, v in wanted.items() if k in meili_format.DISPLAYED})
    return out


def _facet_names(names: list[str] | None) -> list[str]:
    if not names:
        return []
    if "*" in names:
        return sorted(FACETS)
    for name in names:
        if name not in FACETS:
            known = ", ".join(sorted(FACETS))
            if name in FILTERABLE:
                raise bad("invalid_search_facets", f"Invalid facet distribution: sou counts facet values of `{known}`, "
                                                   f"not of `{name}`.")
            raise bad("invalid_search_facets", f"Invalid facet distribution: Pattern `{name}` is not filterable. "
                                               f"Available filterable attributes patterns are: `{known}`.")
    return list(dict.fromkeys(names))


def _sort(rules: list[str] | None) -> str:
    if not rules:
        return "relevance"
    parsed = meili_params.sort_rules(rules)
    for attr, _ in parsed:
        if attr not in SORTABLE:
            raise bad("invalid_search_sort", f"Index `{settings().meili_index}`: Attribute `{attr}` is not sortable. "
                                             f"Available sortable attributes are: `{', '.join(sorted(SORTABLE))}`.")
    if len({direction for _, direction in parsed}) > 1:
        raise bad("invalid_search_sort", "sou sorts by the article's date in one direction: "
                                         f"`{', '.join(rules)}` asks for both.")
    return "newest" if parsed[0][1] == "desc" else "oldest"


# -- index ------------------------------------------------------------------------------------------

def _check_index(uid: str) -> None:
    if uid != settings().meili_index:
        raise MeiliError(404, "index_not_found", f"Index `{uid}` not found.")


def _index_object() -> dict[str, Any]:
    info = engine().health()
    return {"uid": settings().meili_index, "createdAt": info["built_at"], "updatedAt": info["updated_at"],
            "primaryKey": meili_format.PRIMARY_KEY}


def _index_stats() -> dict[str, Any]:
    eng = engine()
    count = eng.document_count()
    size = _folder_size(eng.health()["index_dir"])
    return {"numberOfDocuments": count, "rawDocumentDbSize": size, "avgDocumentSize": size // count if count else 0,
            "isIndexing": False, "numberOfEmbeddings": 0, "numberOfEmbeddedDocuments": 0,
            "fieldDistribution": dict.fromkeys(meili_format.DISPLAYED, count)}


def _folder_size(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


# -- request helpers ---------------------------------------------------------------------------------

def _json_body() -> Any:
    """The JSON body, with Meilisearch's errors for a missing or wrong content type, a missing
    body and malformed JSON."""
    ctype = request.headers.get("Content-Type")
    if not ctype:
        raise MeiliError(415, "missing_content_type", "A Content-Type header is missing. Accepted values for the "
                                                      "Content-Type header are: `application/json`")
    if request.mimetype != "application/json":
        raise MeiliError(415, "invalid_content_type", f"The Content-Type `{ctype}` is invalid. Accepted values for "
                                                      "the Content-Type header are: `application/json`")
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise bad("missing_payload", "A json payload is missing.")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise bad("malformed_payload", f"The json payload provided is malformed. `{exc}`.") from None


def _uint_arg(name: str, default: int, code: str) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise bad(code, f"Invalid value in parameter `{name}`: could not parse `{raw}` as a positive integer")
    return int(raw)


def _only_args(*names: str) -> None:
    for key in request.args:
        if key not in names:
            expected = ", ".join(f"`{n}`" for n in names)
            raise bad("bad_request", f"Unknown parameter `{key}`: expected one of {expected}")


def register(app: Flask) -> None:
    app.add_url_rule("/health", "meili_health", health)
    app.add_url_rule("/version", "meili_version", version)
    app.add_url_rule("/stats", "meili_stats", stats)
    app.add_url_rule("/indexes", "meili_indexes", list_indexes)
    app.add_url_rule("/indexes/<uid>", "meili_index", get_index)
    app.add_url_rule("/indexes/<uid>/stats", "meili_index_stats", index_stats)
    app.add_url_rule("/indexes/<uid>/documents/<path:doc_id>", "meili_document", get_document)
    app.add_url_rule("/indexes/<uid>/search", "meili_search", search, methods=["GET", "POST"])
    app.add_url_rule("/multi-search", "meili_multi_search", multi_search, methods=["POST"])
    every = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    for root in ROOTS:
        app.add_url_rule(f"/{root}", f"meili_refuse_{root}", refuse, methods=every)
        app.add_url_rule(f"/{root}/<path:rest>", f"meili_refuse_{root}_rest", lambda rest: refuse(), methods=every)
