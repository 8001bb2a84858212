"""Measure the classic Whoosh + jieba recipe alone: the bar sou's benchmarks must beat.

sou's own benchmarks print these figures beside theirs in the same run; this runner exists to
measure the bar by itself (for instance after a machine or dependency change) without building
a sou index. It builds the classic index over the 2,000-post slice with one process and with
Whoosh's two-process writer, then times the corpus's queries (filters ignored: the recipe has
none) with ten highlighted hits each. JSON first (for scripts), then tables (for people).

    python -m bench.classic_baseline [--corpus corpus] [--limit 2000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/classic_baseline.py` works as well as `-m`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.classic import build_classic_index, search_classic
from bench.common import (
    corpus_paths,
    dump_json,
    find_corpus,
    machine_load,
    peak_rss_mb,
    percentile,
    print_table,
)
from bench.queries import KINDS, queries_for

BUILD_COLUMNS = ["procs", "files", "docs", "failed", "seconds", "cpu_seconds", "docs_per_s", "mb_per_s", "index_mb"]
QUERY_COLUMNS = ["kind", "queries", "zero_hit", "p50_ms", "p95_ms", "mean_ms"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; the defaults reproduce the figures quoted in DESIGN.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="corpus", choices=["corpus", "corpus_zh"])
    parser.add_argument("--limit", type=int, default=2000, help="posts in the slice (0 = all)")
    parser.add_argument("--seed", type=int, default=0, help="0 = evenly spaced slice")
    parser.add_argument("--repeat", type=int, default=1, help="timed passes over the queries")
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/classic_slice_index"))
    parser.add_argument("--no-procs2", action="store_true", help="skip the procs=2 build")
    return parser.parse_args(argv)


def per_kind_rows(per_query: list[dict[str, Any]], kinds: dict[str, str]) -> list[dict[str, Any]]:
    """Latency and zero-hit counts by query shape.

    One mean over mixed shapes hides that phrases or 1-character queries behave differently, which
    is where sou and the recipe differ most.
    """
    rows = []
    for kind in [*KINDS, "all"]:
        group = [e for e in per_query if kind == "all" or kinds[e["q"]] == kind]
        if not group:
            continue
        ms = [e["ms"] for e in group]
        rows.append(
            {
                "kind": kind,
                "queries": len(group),
                "zero_hit": sum(1 for e in group if e["hits"] == 0),
                "p50_ms": round(percentile(ms, 50), 1),
                "p95_ms": round(percentile(ms, 95), 1),
                "mean_ms": round(statistics.fmean(ms), 1),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Build, search, print; returns the process exit code."""
    args = parse_args(argv)
    started = time.perf_counter()
    load_before = machine_load()
    paths = corpus_paths(find_corpus(args.corpus), limit=args.limit or None, seed=args.seed)
    queries = queries_for(args.corpus)
    kinds = {q["q"]: q["kind"] for q in queries}

    builds = [build_classic_index(paths, args.index_dir, procs=1)]
    if not args.no_procs2:
        p2_dir = args.index_dir.with_name(args.index_dir.name + "_p2")
        builds.append(build_classic_index(paths, p2_dir, procs=2))
    search = search_classic(args.index_dir, [q["q"] for q in queries], repeat=args.repeat)

    report = {
        "benchmark": "classic_baseline",
        "engine": "whoosh + jieba.analyse.ChineseAnalyzer (classic recipe)",
        "corpus": args.corpus,
        "slice": {"limit": args.limit, "seed": args.seed, "files": len(paths)},
        "builds": builds,
        "search": search,
        "peak_rss_mb": peak_rss_mb(),
        "machine": {"before": load_before, "after": machine_load()},
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    dump_json(report)
    print_table(builds, BUILD_COLUMNS, f"classic index build ({args.corpus}, {len(paths)} posts)")
    print_table(
        per_kind_rows(search["per_query"], kinds),
        QUERY_COLUMNS,
        f"classic query + 10 highlights (repeat={args.repeat}; filters ignored)",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
