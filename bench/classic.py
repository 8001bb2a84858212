"""The "classic recipe" baseline: Chinese search the way the Whoosh + jieba tutorials do it.

sou claims to be faster and better than what people get by copying the usual recipe
(python-frontmatter, ``jieba.analyse.ChineseAnalyzer`` on TEXT fields, ``MultifieldParser``,
``hit.highlights()``). A claim like that is only honest if the recipe is measured on the same
machine, the same files and in the same run as sou, so every benchmark imports this module
instead of quoting old numbers. It deliberately keeps the recipe's known flaws (character
offsets as token positions, so phrase queries miss; Porter stemming; highlights that
re-segment each hit's stored body): fixing them here would make the bar lower than what users
actually have.

It is benchmark code, not part of sou: the only module of the repository allowed to use
``jieba.analyse``.
"""

from __future__ import annotations

import collections
import logging
import shutil
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import frontmatter
import jieba
from whoosh import index
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import MultifieldParser

from bench.common import MB, cpu_seconds, data_dir, dir_size_mb, latency_summary, total_bytes

with warnings.catch_warnings():
    # jieba.analyse pulls in jieba's TF-IDF/TextRank data (+0.4 s, +80 MB): that is part of the
    # recipe's cost, so it is imported as the tutorials do. Some setuptools versions warn about
    # jieba's `import pkg_resources`, which would abort a `-W error` run for no reason of ours.
    warnings.simplefilter("ignore")
    from jieba.analyse import ChineseAnalyzer

#: Front-matter failures by exception type, across all `parse_classic` calls of this process:
#: the recipe has no fallback, so these files are simply missing from its index.
PARSE_FAILURES: collections.Counter[str] = collections.Counter()

_JIEBA_READY = False


def setup_jieba() -> float:
    """Silence jieba and keep its dictionary cache under our scratch dir; return seconds taken.

    jieba logs every dictionary load at DEBUG to stderr (noise in benchmark output) and writes
    its cache to /tmp/jieba.cache, shared with anything else on the machine. Loading the
    dictionary (~0.5 s) is done here, outside the timed build, so that the procs=1 and procs=2
    builds of one run pay the same start-up; the time is returned so it can still be reported.
    """
    global _JIEBA_READY
    if _JIEBA_READY:
        return 0.0
    jieba.setLogLevel(logging.WARNING)
    cache_dir = data_dir() / "jieba-cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    jieba.dt.tmp_dir = str(cache_dir)
    started = time.perf_counter()
    jieba.initialize()
    _JIEBA_READY = True
    return time.perf_counter() - started


def classic_schema() -> Schema:
    """The tutorial schema: both text fields stored and analysed by jieba's ChineseAnalyzer."""
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(stored=True, analyzer=ChineseAnalyzer()),
        body=TEXT(stored=True, analyzer=ChineseAnalyzer()),
        date=ID(stored=True),
    )


def parse_classic(path: Path) -> dict[str, str] | None:
    """Read one post as the tutorials do: ``frontmatter.load``, values forced to str.

    No BOM handling, no control-character cleaning, no HTML stripping, no fallback: a file whose
    YAML does not parse is skipped (None) and counted in PARSE_FAILURES, which is exactly the
    recall the recipe loses on these corpora.
    """
    try:
        post = frontmatter.load(path)
        title = post.get("title")
        date = post.get("date")
        return {
            "id": path.name,
            "title": "" if title is None else str(title),
            "date": "" if date is None else str(date),
            "body": str(post.content),
        }
    except Exception as exc:  # noqa: BLE001 - the recipe's only error handling is "skip it"
        PARSE_FAILURES[type(exc).__name__] += 1
        return None


def _prepare_index_dir(index_dir: Path) -> None:
    """Empty `index_dir` for a fresh build, refusing to wipe a folder that is not a Whoosh index.

    Benchmarks rebuild into fixed paths; a typo in a path must not delete someone's files.
    """
    index_dir = Path(index_dir)
    if index_dir.exists():
        entries = list(index_dir.iterdir())
        if entries and not any(e.name.endswith(".toc") for e in entries):
            raise ValueError(f"{index_dir} is not empty and holds no Whoosh index; not wiping it")
        shutil.rmtree(index_dir)
    index_dir.mkdir(parents=True)


def build_classic_index(paths: list[Path], index_dir: Path, procs: int = 1) -> dict[str, Any]:
    """Index `paths` into a fresh classic index at `index_dir`; return throughput figures.

    ``procs > 1`` uses Whoosh's own multiprocessing writer (``ix.writer(procs=n)``), the
    recipe's only answer to jieba's speed; parsing stays in this process, as it does there.
    The wall time covers parsing, ``add_document`` and ``commit`` (for the multiprocess writer
    most segmentation happens in the children before commit returns); jieba's dictionary load is
    excluded and reported as ``jieba_init_s``. ``cpu_seconds`` adds this process's and the
    writer children's CPU time, to tell a slow engine from a busy machine. ``docs`` counts what
    the committed index holds, read back from it, so a document lost by the multiprocess writer
    would show.
    """
    jieba_init_s = setup_jieba()
    index_dir = Path(index_dir)
    _prepare_index_dir(index_dir)
    input_bytes = total_bytes(paths)
    failures_before = PARSE_FAILURES.copy()

    cpu_started = cpu_seconds()
    started = time.perf_counter()
    ix = index.create_in(str(index_dir), classic_schema())
    writer = ix.writer(procs=procs) if procs > 1 else ix.writer()
    parse_s = 0.0
    failed = 0
    for path in paths:
        t = time.perf_counter()
        doc = parse_classic(path)
        parse_s += time.perf_counter() - t
        if doc is None:
            failed += 1
            continue
        writer.add_document(**doc)
    commit_started = time.perf_counter()
    writer.commit()
    seconds = time.perf_counter() - started
    commit_s = time.perf_counter() - commit_started
    cpu_s = cpu_seconds() - cpu_started

    with ix.searcher() as searcher:
        docs = searcher.doc_count()
    ix.close()
    return {
        "docs": docs,
        "files": len(paths),
        "failed": failed,
        "failed_by_type": dict(PARSE_FAILURES - failures_before),
        "procs": procs,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_s, 3),
        "docs_per_s": round(docs / seconds, 2),
        "mb_per_s": round(input_bytes / MB / seconds, 4),
        "input_mb": round(input_bytes / MB, 2),
        "parse_seconds": round(parse_s, 3),
        "commit_seconds": round(commit_s, 3),
        "jieba_init_s": round(jieba_init_s, 3),
        "index_mb": round(dir_size_mb(index_dir), 2),
        "lost_docs": len(paths) - failed - docs,
    }


def search_classic(index_dir: Path, queries: list[str], limit: int = 10, repeat: int = 1) -> dict[str, Any]:
    """Time the recipe's query path end to end: parse + search + ``hit.highlights("body")``.

    One index and one searcher are opened for the whole run (what a long-running app would do),
    so the figures are per-query costs, not start-up. One untimed warm-up pass first fills the
    OS page cache and Whoosh's/jieba's lazy state, and records each query's total hit count
    (counting all matches costs a second pass over the postings, so it is kept out of the timed
    passes). Then `repeat` timed passes: ``latencies_ms`` holds every timed query, in order.
    Whoosh's default highlighting re-segments each hit's stored body, which is most of the
    recipe's latency, so it is included as the tutorials show it. A query that finds nothing
    costs the recipe ~1 ms, so ``with_hits`` summarises only the queries that found something
    (median per query over the passes): compare that with an engine that does find them.
    """
    setup_jieba()
    ix = index.open_dir(str(index_dir))
    parser = MultifieldParser(["title", "body"], ix.schema)
    latencies: list[float] = []
    per_query: list[dict[str, Any]] = [{"q": q, "hits": 0, "ms": []} for q in queries]
    try:
        with ix.searcher() as searcher:
            for entry in per_query:
                results = searcher.search(parser.parse(entry["q"]), limit=limit)
                for hit in results:
                    hit.highlights("body")
                entry["hits"] = len(results)
            for _ in range(repeat):
                for entry in per_query:
                    started = time.perf_counter()
                    results = searcher.search(parser.parse(entry["q"]), limit=limit)
                    for hit in results:
                        hit.highlights("body")
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    latencies.append(elapsed_ms)
                    entry["ms"].append(elapsed_ms)
    finally:
        ix.close()
    for entry in per_query:
        entry["ms"] = round(statistics.median(entry["ms"]), 3) if entry["ms"] else None
    answered = [e["ms"] for e in per_query if e["hits"] and e["ms"] is not None]
    return {
        **latency_summary(latencies),
        "with_hits": latency_summary(answered),
        "latencies_ms": [round(ms, 3) for ms in latencies],
        "zero_hit_queries": [e["q"] for e in per_query if e["hits"] == 0],
        "per_query": per_query,
    }
