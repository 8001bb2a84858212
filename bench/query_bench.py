"""Query benchmark: sou's search latency and memory against the classic Whoosh + jieba recipe.

Issue 3 asks for p50/p95 latency of the mixed queries of bench/queries.py (short, long, phrase,
filtered, traditional, simplified, English…) with 10 highlighted hits and facets, over an index
of the whole corpus, with the classic recipe (``jieba.analyse.ChineseAnalyzer``, Whoosh's default
highlighting) timed on the same corpus in the same run, their ratio, and the peak RSS of the
searching process. Targets: p50 ≤ 20 ms, p95 ≤ 80 ms, ≥ 5× faster than the recipe at p50,
RSS ≤ 400 MB.

Each system searches in a child process of its own (``--child sou`` / ``--child classic``) so
that its ``ru_maxrss`` is that of a searching process alone, not of this one, which may have just
built an index. Both open their index once, run one untimed warm-up pass (page cache, lazy
state, the hit counts) and then ``--repeat`` timed passes over all queries.

Indexes are reused when present, since building them is most of the cost:
sou's at /tmp/sou-bench/index-<corpus> (shared with bench/index_bench.py and bench/eval_dev.py;
built over the symlink folder /tmp/sou-bench/links-<corpus> when missing), the recipe's at
/tmp/sou-bench/classic-<corpus> (one process, about 30 minutes for 49k posts when missing).
``--classic-slice N`` uses an N-post slice for both systems instead, when time is short; the
report says which scope was measured.

    python bench/query_bench.py [--corpus corpus|corpus_zh|both] [--repeat 3] [--json]
                                [--classic-slice N] [--quick]

The classic recipe has no filters: it searches filtered queries unfiltered (they are marked).
JSON goes to bench/results/query_bench-<corpus>.json (``-quick`` appended for --quick runs).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/query_bench.py` works as well as `-m`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CORPUS_NAMES,
    corpus_paths,
    data_dir,
    find_corpus,
    latency_summary,
    machine_load,
    percentile,
    print_table,
)
from bench.queries import KINDS, queries_for
from bench.runner import (
    default_index_dir,
    default_links_dir,
    emit_child_result,
    log,
    run_child,
    run_corpora,
    sou_meta,
    sync_links,
)

MODULE = "bench.query_bench"
TARGETS = {"p50_ms_max": 20, "p95_ms_max": 80, "ratio_p50_min": 5, "rss_mb_max": 400}
QUICK_SLICE_POSTS = 300
PER_PAGE = 10
KIND_COLUMNS = ["kind", "queries", "sou_p50_ms", "classic_p50_ms", "ratio", "sou_zero", "classic_zero"]
SYSTEM_COLUMNS = ["system", "queries", "timed", "p50_ms", "p95_ms", "mean_ms", "first_p50_ms", "first_p95_ms",
                  "zero_hit", "peak_rss_mb", "open_s"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Options of the benchmark, plus the hidden ``--child`` ones its subprocesses use."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="corpus", choices=[*CORPUS_NAMES, "both"])
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the queries (after one warm-up)")
    parser.add_argument("--json", action="store_true", help="print the JSON report instead of tables")
    parser.add_argument("--index-dir", type=Path, help="sou index (default /tmp/sou-bench/index-<corpus>)")
    parser.add_argument("--classic-dir", type=Path, help="classic index (default /tmp/sou-bench/classic-<corpus>)")
    parser.add_argument("--classic-slice", type=int, default=0,
                        help="index only an N-post slice for BOTH systems (reused under /tmp/sou-bench)")
    parser.add_argument("--no-classic", action="store_true", help="time sou alone")
    parser.add_argument("--queries", type=int, default=0, help="use only the first N queries (0 = all)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK_SLICE_POSTS}-post slice in temporary folders, one query per kind, "
                             "repeat 1")
    # internal: one system's search loop in a process of its own
    parser.add_argument("--child", choices=["sou", "classic"], help=argparse.SUPPRESS)
    parser.add_argument("--queries-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.corpus == "both" and (args.index_dir or args.classic_dir):
        parser.error("--index-dir / --classic-dir need a single --corpus")
    if args.quick:
        args.classic_slice = args.classic_slice or QUICK_SLICE_POSTS
        args.repeat = 1
    return args


# --- children -----------------------------------------------------------------------------------

def child_sou(args: argparse.Namespace) -> None:
    """sou's search loop: Engine.search with 10 highlighted hits and facets (the defaults)."""
    from search import SearchRequest, Settings, SouError
    from search.engine import Engine

    queries = json.loads(args.queries_file.read_text(encoding="utf-8"))
    started = time.perf_counter()
    engine = Engine.open(Settings.load({"index_dir": str(args.index_dir)}))
    open_s = time.perf_counter() - started
    requests = [SearchRequest(q=q["q"], per_page=PER_PAGE, filters=q.get("filters") or {}) for q in queries]
    per_query: list[dict[str, Any]] = [{"q": q["q"], "hits": 0, "shown": 0, "ms": [], "error": None} for q in queries]
    first_pass: list[float] = []
    for entry, request in zip(per_query, requests, strict=True):   # warm-up, and the hit counts
        t = time.perf_counter()
        try:
            res = engine.search(request)
        except SouError as exc:
            entry["error"] = str(exc)
            continue
        first_pass.append((time.perf_counter() - t) * 1000)
        entry["hits"], entry["shown"] = res.total, len(res.hits)
    latencies: list[float] = []
    for _ in range(args.repeat):
        for entry, request in zip(per_query, requests, strict=True):
            if entry["error"]:
                continue
            t = time.perf_counter()
            engine.search(request)
            ms = (time.perf_counter() - t) * 1000
            latencies.append(ms)
            entry["ms"].append(ms)
    engine.close()
    for entry in per_query:
        entry["ms"] = round(statistics.median(entry["ms"]), 3) if entry["ms"] else None
    emit_child_result({
        **latency_summary(latencies),
        "with_hits": latency_summary([e["ms"] for e in per_query if e["hits"] and e["ms"] is not None]),
        "open_s": round(open_s, 3),
        "first_pass": latency_summary(first_pass),
        "per_query": per_query,
    })


def child_classic(args: argparse.Namespace) -> None:
    """The recipe's search loop (bench.classic.search_classic): parse, search, hit.highlights."""
    queries = json.loads(args.queries_file.read_text(encoding="utf-8"))
    started = time.perf_counter()
    from bench.classic import search_classic, setup_jieba

    setup_jieba()   # the recipe's start-up (jieba.analyse import + dictionary), reported as open_s
    open_s = time.perf_counter() - started
    res = search_classic(args.index_dir, [q["q"] for q in queries], limit=PER_PAGE, repeat=args.repeat)
    res.pop("latencies_ms", None)
    res["open_s"] = round(open_s, 3)
    emit_child_result(res)


# --- indexes ------------------------------------------------------------------------------------

def ensure_sou_index(index_dir: Path, paths: list[Path], links: Path) -> dict[str, Any]:
    """Reuse the sou index at `index_dir` when it opens; otherwise build it over `links`."""
    from search import Settings, SouError
    from search.engine import Engine
    from search.indexer import reindex

    settings = Settings.load({"index_dir": str(index_dir)})
    try:
        Engine.open(settings).close()
        meta = sou_meta(index_dir)
        log(f"  sou: reusing {index_dir} ({meta.get('documents')} documents, root {meta.get('root')})")
        return {"built": False, "index_dir": str(index_dir), "documents": meta.get("documents"),
                "root": meta.get("root")}
    except SouError:
        pass
    sync_links(paths, links)
    log(f"  sou: building {index_dir} over {len(paths):,} posts")
    summary = reindex(settings, links, full=True)
    return {"built": True, "index_dir": str(index_dir), "documents": summary.documents, "root": str(links),
            "build_s": round(summary.seconds, 1)}


def ensure_classic_index(index_dir: Path, paths: list[Path]) -> dict[str, Any]:
    """Reuse the classic index at `index_dir` when Whoosh finds one; otherwise build it (one process).

    The build's figures are kept in a JSON file beside the index so a reusing run can still say
    what it searches.
    """
    from whoosh import index

    marker = index_dir.with_name(index_dir.name + ".build.json")
    if index_dir.is_dir() and index.exists_in(str(index_dir)):
        ix = index.open_dir(str(index_dir))
        with ix.searcher() as searcher:
            docs = searcher.doc_count()
        ix.close()
        log(f"  classic: reusing {index_dir} ({docs:,} documents)")
        info: dict[str, Any] = {"built": False, "index_dir": str(index_dir), "documents": docs}
        if marker.is_file():
            info["build"] = json.loads(marker.read_text(encoding="utf-8"))
        return info
    from bench.classic import build_classic_index

    minutes = len(paths) / 48 / 60   # DESIGN.md: the recipe indexes ~48 docs/s with one process
    log(f"  classic: building {index_dir} over {len(paths):,} posts with ONE process — slow, "
        f"about {minutes:.0f} min (use --classic-slice N when time is short)")
    build = build_classic_index(paths, index_dir, procs=1)
    marker.write_text(json.dumps(build, ensure_ascii=False, indent=2), encoding="utf-8")
    return {"built": True, "index_dir": str(index_dir), "documents": build["docs"], "build": build}


# --- report -------------------------------------------------------------------------------------

def pick_queries(corpus: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The corpus's queries: all, the first --queries N, or one per kind for --quick."""
    queries = queries_for(corpus)
    if args.quick:
        first: dict[str, dict[str, Any]] = {}
        for q in queries:
            first.setdefault(q["kind"], q)
        queries = list(first.values())
    if args.queries:
        queries = queries[: args.queries]
    return queries


def per_kind(queries: list[dict[str, Any]], sou: dict[str, Any], classic: dict[str, Any] | None) -> list[dict[str, Any]]:
    """p50 by query shape for both systems: one overall figure hides where the two differ."""
    rows = []
    for kind in [*KINDS, "all"]:
        idx = [i for i, q in enumerate(queries) if kind == "all" or q["kind"] == kind]
        if not idx:
            continue
        s_ms = [sou["per_query"][i]["ms"] for i in idx if sou["per_query"][i]["ms"] is not None]
        row: dict[str, Any] = {"kind": kind, "queries": len(idx),
                               "sou_p50_ms": round(percentile(s_ms, 50), 2) if s_ms else None,
                               "sou_zero": sum(1 for i in idx if not sou["per_query"][i]["hits"])}
        if classic:
            c_ms = [classic["per_query"][i]["ms"] for i in idx if classic["per_query"][i]["ms"] is not None]
            row["classic_p50_ms"] = round(percentile(c_ms, 50), 2) if c_ms else None
            row["classic_zero"] = sum(1 for i in idx if not classic["per_query"][i]["hits"])
            if row["sou_p50_ms"] and row["classic_p50_ms"]:
                row["ratio"] = round(row["classic_p50_ms"] / row["sou_p50_ms"], 1)
        rows.append(row)
    return rows


def system_summary(name: str, res: dict[str, Any], process_wall: float) -> dict[str, Any]:
    """The per-system block of the report (per-query figures are merged into one list elsewhere)."""
    return {
        "system": name,
        "queries": len(res["per_query"]),
        "timed": res["n"],
        "p50_ms": res["p50_ms"],
        "p95_ms": res["p95_ms"],
        "mean_ms": res["mean_ms"],
        "with_hits": res["with_hits"],
        # The untimed warm-up pass: each query's first run after the index opened, before the
        # posting cache holds its words (sou only; the recipe has no such cache).
        "first_p50_ms": res.get("first_pass", {}).get("p50_ms"),
        "first_p95_ms": res.get("first_pass", {}).get("p95_ms"),
        "zero_hit": sum(1 for e in res["per_query"] if not e["hits"]),
        "zero_hit_queries": [e["q"] for e in res["per_query"] if not e["hits"]],
        "peak_rss_mb": res["peak_rss_mb"],
        "rss_after_mb": res.get("rss_after_mb"),
        "rss_mb": res["rss_mb"],
        "open_s": res["open_s"],
        "process_wall_s": process_wall,
    }


def bench_corpus(corpus: str, args: argparse.Namespace) -> dict[str, Any]:
    """Indexes, both search loops, the comparison; temporary folders are removed whatever happens."""
    started = time.perf_counter()
    report: dict[str, Any] = {"benchmark": "query_bench", "corpus": corpus, "quick": args.quick,
                              "repeat": args.repeat, "per_page": PER_PAGE, "machine": {"before": machine_load()}}
    posts = find_corpus(corpus)
    scratch = Path(tempfile.mkdtemp(prefix=f"sou-bench-query-{corpus}-"))
    try:
        n = args.classic_slice
        paths = corpus_paths(posts, limit=n or None)
        if args.quick:
            base, tag = scratch, ""
        else:
            base, tag = data_dir(), (f"-slice{n}" if n else "")
        sou_dir = args.index_dir or (base / f"index-{corpus}{tag}" if n else default_index_dir(corpus))
        links = base / f"links-{corpus}{tag}" if n else default_links_dir(corpus)
        classic_dir = args.classic_dir or base / f"classic-{corpus}{tag}"
        report["scope"] = f"slice of {len(paths):,} posts" if n else f"whole corpus ({len(paths):,} posts)"
        log(f"[{corpus}] {report['scope']}")
        report["sou_index"] = ensure_sou_index(sou_dir, paths, links)
        report["segmenter"] = sou_meta(sou_dir).get("segmenter")
        if not args.no_classic:
            report["classic_index"] = ensure_classic_index(classic_dir, paths)

        queries = pick_queries(corpus, args)
        log(f"  {len(queries)} queries for {corpus}, {args.repeat} timed pass(es) after one warm-up")
        qfile = scratch / "queries.json"
        qfile.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
        common = ["--queries-file", str(qfile), "--repeat", str(args.repeat)]
        log("  searching with sou")
        sou, sou_wall = run_child(MODULE, ["sou", "--index-dir", str(sou_dir), *common])
        classic = None
        if not args.no_classic:
            log("  searching with the classic recipe")
            classic, classic_wall = run_child(MODULE, ["classic", "--index-dir", str(classic_dir), *common])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    report["queries"] = len(queries)
    report["systems"] = {"sou": system_summary("sou", sou, sou_wall)}
    if classic:
        report["systems"]["classic"] = system_summary("classic", classic, classic_wall)
        report["ratio_p50"] = round(classic["p50_ms"] / sou["p50_ms"], 2) if sou["p50_ms"] else None
        report["ratio_p95"] = round(classic["p95_ms"] / sou["p95_ms"], 2) if sou["p95_ms"] else None
        # the recipe answers a query it finds nothing for in ~1 ms: also compare where both found something
        both = [(s["ms"], c["ms"]) for s, c in zip(sou["per_query"], classic["per_query"], strict=True)
                if s["hits"] and c["hits"] and s["ms"] is not None and c["ms"] is not None]
        if both:
            s50, c50 = percentile([b[0] for b in both], 50), percentile([b[1] for b in both], 50)
            report["both_found"] = {"queries": len(both), "sou_p50_ms": round(s50, 3), "classic_p50_ms": round(c50, 3),
                                    "ratio_p50": round(c50 / s50, 2) if s50 else None}
    report["per_kind"] = per_kind(queries, sou, classic)
    report["per_query"] = [
        {"q": q["q"], "kind": q["kind"], "filters": q.get("filters"),
         "sou_hits": s["hits"], "sou_ms": s["ms"], "sou_error": s["error"],
         **({"classic_hits": c["hits"], "classic_ms": c["ms"]} if c else {})}
        for q, s, c in zip(queries, sou["per_query"], classic["per_query"] if classic else [None] * len(queries),
                           strict=True)
    ]
    report["targets"] = TARGETS
    report["met"] = {
        "p50_ms_max": sou["p50_ms"] is not None and sou["p50_ms"] <= TARGETS["p50_ms_max"],
        "p95_ms_max": sou["p95_ms"] is not None and sou["p95_ms"] <= TARGETS["p95_ms_max"],
        "ratio_p50_min": (report["ratio_p50"] >= TARGETS["ratio_p50_min"]) if report.get("ratio_p50") else None,
        "rss_mb_max": sou["peak_rss_mb"] <= TARGETS["rss_mb_max"],
    }
    report["machine"]["after"] = machine_load()
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    return report


def print_report(report: dict[str, Any]) -> None:
    """The human half: per system, per kind, zero-hit queries, targets."""
    title = f"query + {PER_PAGE} highlighted hits + facets — {report['corpus']}, {report['scope']}, " \
            f"{report['queries']} queries × {report['repeat']}, segmenter {report['segmenter']}"
    print_table(list(report["systems"].values()), SYSTEM_COLUMNS, title)
    print_table(report["per_kind"], KIND_COLUMNS, "p50 by kind (classic: filters ignored)")
    for name, system in report["systems"].items():
        if system["zero_hit_queries"]:
            print(f"{name} zero-hit: {', '.join(system['zero_hit_queries'])}")
    sou = report["systems"]["sou"]
    values = {"p50_ms_max": sou["p50_ms"], "p95_ms_max": sou["p95_ms"], "ratio_p50_min": report.get("ratio_p50"),
              "rss_mb_max": sou["peak_rss_mb"]}
    rows = [{"target": k, "limit": v, "value": values[k], "met": report["met"][k]} for k, v in TARGETS.items()]
    print_table(rows, ["target", "limit", "value", "met"], "targets")
    if report.get("both_found"):
        b = report["both_found"]
        print(f"queries both found something for ({b['queries']}): sou p50 {b['sou_p50_ms']} ms, "
              f"classic p50 {b['classic_p50_ms']} ms, ratio {b['ratio_p50']}")
    print(f"machine before {report['machine']['before']}, after {report['machine']['after']}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or one child search loop); returns the exit code."""
    args = parse_args(argv)
    if args.child == "sou":
        child_sou(args)
        return 0
    if args.child == "classic":
        child_classic(args)
        return 0
    return run_corpora("query_bench", args, bench_corpus, print_report)


if __name__ == "__main__":
    raise SystemExit(main())
