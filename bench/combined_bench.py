"""Both shared corpora in ONE index (about 130k posts): build, size, open, memory, latency.

Issue 14 asks whether sou holds both corpora at once: build time (whole process), index size
against the posts' bytes, open time, the searching process's RSS, and p50/p95 of the benchmark
queries of both corpora (bench/queries.py) against that one index. Targets: p50 ≤ 15 ms,
p95 ≤ 50 ms, open ≤ 2 s, RSS ≤ 400 MB.

Steps:

1. a folder with two real subfolders, ``corpus/`` and ``corpus_zh/``, each holding one symlink
   per post (bench/runner.py's link folders; sou indexes subfolders, and the ids stay unique);
2. ``sou reindex LINKS --full`` measured as a whole process (bench/proctree.py: wall, CPU, RSS
   and PSS summed over the process tree, largest process);
3. bytes per file kind and per field (bench/index_size.py);
4. open: ``Engine.open`` in three fresh processes (the first right after the build), the wall of
   the call and of the whole process (start, imports, open);
5. queries: the sou search loop of bench/query_bench.py in a fresh process over the queries of
   both corpora (one warm-up pass, ``--repeat`` timed passes), p50/p95 over all and per corpus,
   the process's peak RSS and its RSS after the passes.

The whole run builds at /tmp/sou-bench/index-combined (``--no-build`` reuses it); ``--limit N``
(N posts of each corpus) and ``--quick`` work in temporary folders that are removed afterwards.
The figures go to bench/results/combined_bench.json, where bench/projection.py finds them.

    python bench/combined_bench.py [--limit N] [--repeat 3] [--no-build] [--quick] [--json]
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

if __package__ in (None, ""):  # `python bench/combined_bench.py` works as well as `-m`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CORPUS_NAMES,
    MB,
    corpus_paths,
    data_dir,
    dump_json,
    find_corpus,
    machine_load,
    percentile,
    print_table,
    total_bytes,
)
from bench.index_bench import sou_step
from bench.index_size import breakdown, print_breakdown
from bench.proctree import measure, python_command
from bench.queries import queries_for
from bench.runner import REPO_ROOT, log, run_child, save_results, step_load, sync_links, warm_page_cache

TARGETS = {"p50_ms_max": 15, "p95_ms_max": 50, "open_s_max": 2, "rss_mb_max": 400}
QUICK_LIMIT = 150
OPEN_RUNS = 3

_OPEN_PROBE = r"""
import json, sys, time
t = time.perf_counter()
from search import Engine, Settings
engine = Engine.open(Settings.load({"index_dir": sys.argv[1]}))
opened = time.perf_counter() - t
engine.close()
print(json.dumps({"open_s": opened}))
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="posts of EACH corpus (0 = all); temporary folders")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the queries (after one warm-up)")
    parser.add_argument("--index-dir", type=Path, help="default /tmp/sou-bench/index-combined (or temporary)")
    parser.add_argument("--no-build", action="store_true", help="reuse the index at --index-dir as it is")
    parser.add_argument("--workers", type=int, help="sou worker processes (default: sou's setting, 2)")
    parser.add_argument("--no-fields", action="store_true", help="index sizes per file kind only")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK_LIMIT} posts of each corpus, one query per kind, repeat 1")
    parser.add_argument("--json", action="store_true", help="print the JSON report instead of tables")
    args = parser.parse_args(argv)
    if args.quick:
        args.limit = args.limit or QUICK_LIMIT
        args.repeat = 1
    if args.no_build and not args.index_dir and args.limit:
        parser.error("--no-build with --limit needs --index-dir (limited runs build in temporary folders)")
    return args


def combined_queries(quick: bool) -> list[dict[str, Any]]:
    """Both corpora's benchmark queries, each tagged with its corpus (one per kind for --quick)."""
    out = []
    for corpus in CORPUS_NAMES:
        seen: set[str] = set()
        for q in queries_for(corpus):
            if quick and q["kind"] in seen:
                continue
            seen.add(q["kind"])
            out.append({**q, "corpus": corpus})
    return out


def link_both(links: Path, limit: int) -> tuple[list[Path], dict[str, int]]:
    """links/corpus and links/corpus_zh, one symlink per post; returns all the posts."""
    paths: list[Path] = []
    counts = {}
    for corpus in CORPUS_NAMES:
        chosen = corpus_paths(find_corpus(corpus), limit=limit or None)
        sync_links(chosen, links / corpus)
        counts[corpus] = len(chosen)
        paths += chosen
    return paths, counts


def open_times(index_dir: Path) -> dict[str, Any]:
    """Engine.open in `OPEN_RUNS` fresh processes: the call, and the whole process."""
    runs = []
    for _ in range(OPEN_RUNS):
        run = measure(python_command("-c", _OPEN_PROBE, str(index_dir)), cwd=REPO_ROOT)
        if run.returncode != 0:
            raise RuntimeError(f"Engine.open failed: {run.stderr.strip()[-500:]}")
        res = json.loads(run.stdout.strip().splitlines()[-1])
        runs.append({"open_s": round(res["open_s"], 3), "process_wall_s": round(run.wall_s, 3),
                     "rss_sum_mb": run.memory.peak_rss_sum_mb})
    return {"first_open_s": runs[0]["open_s"], "median_open_s": statistics.median(r["open_s"] for r in runs),
            "first_process_wall_s": runs[0]["process_wall_s"], "runs": runs}


def per_corpus_latency(queries: list[dict[str, Any]], per_query: list[dict[str, Any]]) -> dict[str, Any]:
    """p50/p95 of each query's median time, per corpus and over both (zero-hit counts beside)."""
    out = {}
    for corpus in [*CORPUS_NAMES, "both"]:
        group = [pq for q, pq in zip(queries, per_query, strict=True)
                 if (corpus == "both" or q["corpus"] == corpus) and pq["ms"] is not None]
        ms = [pq["ms"] for pq in group]
        out[corpus] = {"queries": len(group), "zero_hit": sum(1 for pq in group if not pq["hits"]),
                       "p50_ms": round(percentile(ms, 50), 2) if ms else None,
                       "p95_ms": round(percentile(ms, 95), 2) if ms else None}
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    report: dict[str, Any] = {"benchmark": "combined_bench", "quick": args.quick, "limit": args.limit,
                              "repeat": args.repeat, "machine": {"before": machine_load()}}
    scratch = Path(tempfile.mkdtemp(prefix="sou-bench-combined-"))
    try:
        temporary = bool(args.limit)
        index_dir = args.index_dir or (scratch / "index" if temporary else data_dir() / "index-combined")
        links = scratch / "links" if temporary else data_dir() / "links-combined"
        paths, counts = link_both(links, args.limit)
        input_bytes = total_bytes(paths)
        report.update({"posts": len(paths), "posts_by_corpus": counts, "input_bytes": input_bytes,
                       "input_mb": round(input_bytes / MB, 1), "index_dir": str(index_dir), "links_dir": str(links)})
        if not args.no_build:
            log(f"[combined] warming the page cache ({len(paths):,} posts, {input_bytes / MB:,.0f} MB)")
            warm_page_cache(paths)
            log(f"[combined] sou reindex --full into {index_dir}")
            build = sou_step(index_dir, links, full=True, files=len(paths), input_bytes=input_bytes,
                             workers=args.workers)
            build.pop("skipped_files")
            build["minutes"] = round(build["process_wall_s"] / 60, 2)
            report["build"] = build
        log("[combined] size per file kind and per field")
        report["size"] = breakdown(index_dir, input_bytes, per_field=not args.no_fields)
        log("[combined] Engine.open in fresh processes")
        step: dict[str, Any] = {}
        step_load(step, "start")
        report["open"] = {**open_times(index_dir)}
        step_load(step, "end")
        report["open"].update(step)

        queries = combined_queries(args.quick)
        qfile = scratch / "queries.json"
        qfile.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
        log(f"[combined] {len(queries)} queries of both corpora, {args.repeat} timed pass(es) after one warm-up")
        step = {}
        step_load(step, "start")
        res, wall = run_child("bench.query_bench", ["sou", "--index-dir", str(index_dir), "--queries-file", str(qfile),
                                                    "--repeat", str(args.repeat)])
        step_load(step, "end")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report["search"] = {
        **{k: res[k] for k in ("p50_ms", "p95_ms", "mean_ms", "n")},
        "open_s": res["open_s"], "first_pass": res["first_pass"], "peak_rss_mb": res["peak_rss_mb"],
        "rss_after_mb": res.get("rss_after_mb"), "process_wall_s": wall,
        "by_corpus": per_corpus_latency(queries, res["per_query"]),
        "zero_hit_queries": [q["q"] for q, pq in zip(queries, res["per_query"], strict=True) if not pq["hits"]],
        "errors": {q["q"]: pq["error"] for q, pq in zip(queries, res["per_query"], strict=True) if pq["error"]},
        **step,
    }
    rss = report["search"]["rss_after_mb"] or report["search"]["peak_rss_mb"]
    report["targets"] = TARGETS
    values = {"p50_ms_max": res["p50_ms"], "p95_ms_max": res["p95_ms"],
              "open_s_max": report["open"]["median_open_s"], "rss_mb_max": rss}
    report["values"] = values
    report["met"] = {k: (None if values[k] is None else values[k] <= v) for k, v in TARGETS.items()}
    build = report.get("build")
    report["point"] = {"posts": report["posts"], "seconds": build["process_wall_s"] if build else None,
                       "index_bytes": report["size"]["index_bytes"], "rss_mb": build["rss_sum_mb"] if build else None,
                       "search_rss_mb": rss}
    report["machine"]["after"] = machine_load()
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    return report


def print_report(report: dict[str, Any]) -> None:
    title = f"combined index — {report['posts']:,} posts ({report['posts_by_corpus']})" + \
            (" (quick)" if report["quick"] else "")
    build = report.get("build")
    if build:
        print_table([build], ["documents", "process_wall_s", "wall_s", "cpu_s", "docs_per_s", "rss_sum_mb",
                              "pss_sum_mb", "largest_mb", "index_mb", "index_x"], f"{title}: build (whole process)")
    s = report["search"]
    rows = [{"corpus": c, **v} for c, v in s["by_corpus"].items()]
    print_table(rows, ["corpus", "queries", "zero_hit", "p50_ms", "p95_ms"],
                f"{title}: per-query medians over {report['repeat']} pass(es) (10 highlighted hits + facets)")
    o = report["open"]
    print(f"open: first {o['first_open_s']} s, median {o['median_open_s']} s of {len(o['runs'])} fresh processes "
          f"(whole process {o['first_process_wall_s']} s); search process RSS peak {s['peak_rss_mb']} MB, "
          f"after the passes {s['rss_after_mb']} MB")
    rows = [{"target": k, "limit": v, "value": report["values"][k], "met": report["met"][k]}
            for k, v in report["targets"].items()]
    print_table(rows, ["target", "limit", "value", "met"], "targets (p50/p95 over all timed queries)")
    print_breakdown(report["size"], "combined index")
    if s["zero_hit_queries"]:
        print(f"zero-hit: {', '.join(s['zero_hit_queries'])}")
    print(f"machine before {report['machine']['before']}, after {report['machine']['after']}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(args)
    path = save_results("combined_bench" + ("-quick" if args.quick else ""), report)
    log(f"[combined] saved {path}")
    if args.json:
        dump_json(report)
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
