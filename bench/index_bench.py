"""Index benchmark: sou's build speed against the classic Whoosh + jieba recipe, measured in one run.

Issue 2 asks for four figures and a baseline beside them, all from the same run on the same
machine, because these are shared 2-core machines whose speed drifts from hour to hour:

- ``slice``: sou and the classic recipe (one process) on the same 2,000-post slice
  (`bench.common.corpus_paths`), and the ratio of their docs/s (target ≥ 3×);
- ``full``: sou over the whole corpus: docs/s, MB/s, wall, CPU, peak RSS, index size, skips
  (target ≤ 6 minutes);
- ``noop``: a reindex right after, with nothing changed (target ≤ 10 s);
- ``one_changed``: a reindex after one file changed (target ≤ 2 s; exactly one update).

Every build runs in a child process (``--child``) so that its peak RSS, worker processes
included, is its own and not the high-water mark of an earlier step. sou indexes folders, so
the slice and the corpus are indexed through folders of symlinks (see bench/runner.py): the
corpus is never modified, and "one file changed" replaces one symlink by an edited copy and
puts it back afterwards. The whole-corpus build, the no-change and the one-change reindex all
index the same symlink folder, because an index whose recorded root changes is rebuilt.

    python bench/index_bench.py [--corpus corpus|corpus_zh|both] [--json] [--no-classic]
                                [--skip-full] [--index-dir DIR] [--quick]

Wall times are those of the ``reindex`` call (what the targets are about); ``process_wall_s``
adds the interpreter start and imports a ``sou reindex`` command also pays. JSON goes to
bench/results/index_bench-<corpus>.json (``-quick`` appended for --quick runs) every time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/index_bench.py` works as well as `-m`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CORPUS_NAMES,
    MB,
    corpus_paths,
    cpu_seconds,
    dir_size_mb,
    find_corpus,
    machine_load,
    print_table,
    total_bytes,
)
from bench.runner import (
    default_index_dir,
    default_links_dir,
    emit_child_result,
    log,
    run_child,
    run_corpora,
    sou_meta,
    sync_links,
    warm_page_cache,
)

MODULE = "bench.index_bench"
TARGETS = {"slice_ratio_min": 3, "full_minutes_max": 6, "noop_s_max": 10, "one_changed_s_max": 2}
SLICE_POSTS = 2000
QUICK_SLICE_POSTS = 150
QUICK_FULL_POSTS = 400
APPENDED_LINE = b"\nsou bench: one line appended to change this file.\n"   # ASCII: valid in any encoding
BUILD_COLUMNS = [
    "phase", "system", "files", "docs", "wall_s", "process_wall_s", "cpu_s", "docs_per_s", "mb_per_s",
    "peak_rss_mb", "index_mb",
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Options of the benchmark, plus the hidden ``--child`` ones its subprocesses use."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="corpus", choices=[*CORPUS_NAMES, "both"])
    parser.add_argument("--json", action="store_true", help="print the JSON report instead of tables")
    parser.add_argument("--no-classic", action="store_true", help="skip the classic recipe on the slice")
    parser.add_argument("--skip-full", action="store_true", help="skip the whole-corpus, noop and one-change runs")
    parser.add_argument("--index-dir", type=Path, help="sou index of the whole corpus (default /tmp/sou-bench/index-<corpus>)")
    parser.add_argument("--slice", type=int, default=SLICE_POSTS, help="posts in the slice shared with the classic recipe")
    parser.add_argument("--full-limit", type=int, default=0,
                        help="index only this many posts as 'full' (0 = whole corpus; a temporary index then)")
    parser.add_argument("--workers", type=int, help="sou worker processes (default: sou's setting, 2)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK_SLICE_POSTS}-post slice, {QUICK_FULL_POSTS}-post 'full', temporary folders")
    # internal: one measured step in a process of its own
    parser.add_argument("--child", choices=["reindex", "classic"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rebuild", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--paths-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.corpus == "both" and args.index_dir:
        parser.error("--index-dir needs a single --corpus")
    if args.quick:
        args.slice = QUICK_SLICE_POSTS
        args.full_limit = args.full_limit or QUICK_FULL_POSTS
    return args


# --- children -----------------------------------------------------------------------------------

def child_reindex(args: argparse.Namespace) -> None:
    """One sou reindex (full with --rebuild) of --root into --index-dir, timed in-process."""
    from search import Settings
    from search.indexer import reindex

    overrides: dict[str, Any] = {"index_dir": str(args.index_dir)}
    if args.workers:
        overrides["workers"] = args.workers
    settings = Settings.load(overrides)
    cpu_started = cpu_seconds()
    started = time.perf_counter()
    summary = reindex(settings, args.root, full=args.rebuild)
    wall = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_started
    emit_child_result({"summary": summary.to_dict(), "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                       "workers": settings.workers})


def child_classic(args: argparse.Namespace) -> None:
    """The classic recipe's build (one process) over the paths listed in --paths-file."""
    from bench.classic import build_classic_index

    paths = [Path(p) for p in json.loads(args.paths_file.read_text(encoding="utf-8"))]
    emit_child_result(build_classic_index(paths, args.index_dir, procs=1))


# --- measured steps -----------------------------------------------------------------------------

def sou_step(index_dir: Path, root: Path, *, full: bool, files: int, input_bytes: int,
             workers: int | None) -> dict[str, Any]:
    """Run one sou reindex in a child process and turn its summary into the report's figures.

    docs/s counts the documents the step wrote (new + updated), over the reindex call's wall time.
    """
    args = ["reindex", "--index-dir", str(index_dir), "--root", str(root)]
    if full:
        args.append("--rebuild")
    if workers:
        args += ["--workers", str(workers)]
    res, process_wall = run_child(MODULE, args)
    summary = res["summary"]
    wall = res["wall_s"]
    written = summary["indexed"] + summary["updated"]
    return {
        "system": "sou",
        "full": summary["full"],
        "reason": summary["reason"],
        "files": files,
        "docs": written,
        "documents": summary["documents"],
        "indexed": summary["indexed"],
        "updated": summary["updated"],
        "deleted": summary["deleted"],
        "unchanged": summary["unchanged"],
        "kept": summary["kept"],
        "skipped": summary["skipped"],
        "skipped_by_reason": summary["skipped_by_reason"],
        "skip_examples": summary["skips"][:5],
        "skipped_files": [Path(s["path"]).name for s in summary["skips"]],
        "warnings": len(summary["warnings"]),
        "wall_s": wall,
        "process_wall_s": process_wall,
        "cpu_s": res["cpu_s"],
        "workers": res["workers"],
        "docs_per_s": round(written / wall, 2) if wall else None,
        "input_mb": round(input_bytes / MB, 2),
        "mb_per_s": round(input_bytes / MB / wall, 3) if wall and full else None,
        "peak_rss_mb": res["peak_rss_mb"],
        "rss_mb": res["rss_mb"],
        "index_mb": round(dir_size_mb(index_dir), 2),
    }


def classic_step(paths: list[Path], index_dir: Path, scratch: Path) -> dict[str, Any]:
    """The classic recipe's one-process build over `paths`, in a child process."""
    paths_file = scratch / "classic-paths.json"
    paths_file.write_text(json.dumps([str(p) for p in paths], ensure_ascii=False), encoding="utf-8")
    res, process_wall = run_child(MODULE, ["classic", "--index-dir", str(index_dir), "--paths-file", str(paths_file)])
    return {
        "system": "classic",
        "files": res["files"],
        "docs": res["docs"],
        "failed": res["failed"],
        "failed_by_type": res["failed_by_type"],
        "wall_s": res["seconds"],
        "process_wall_s": process_wall,
        "cpu_s": res["cpu_seconds"],
        "docs_per_s": res["docs_per_s"],
        "input_mb": res["input_mb"],
        "mb_per_s": res["mb_per_s"],
        "jieba_init_s": res["jieba_init_s"],
        "peak_rss_mb": res["peak_rss_mb"],
        "rss_mb": res["rss_mb"],
        "index_mb": res["index_mb"],
    }


def run_slice(posts: Path, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """sou and the classic recipe on the same slice; each index is deleted with `scratch`."""
    paths = corpus_paths(posts, limit=args.slice)
    links = scratch / "slice-links"
    sync_links(paths, links)
    input_bytes = total_bytes(paths)
    warm_page_cache(paths)
    log(f"  slice: sou over {len(paths):,} posts ({input_bytes / MB:.1f} MB)")
    sou = sou_step(scratch / "slice-sou", links, full=True, files=len(paths), input_bytes=input_bytes, workers=args.workers)
    sou.pop("skipped_files")
    out: dict[str, Any] = {"posts": len(paths), "input_mb": round(input_bytes / MB, 2), "sou": sou,
                           "segmenter": sou_meta(scratch / "slice-sou").get("segmenter")}
    if not args.no_classic:
        log(f"  slice: classic recipe over the same {len(paths):,} posts (one process)")
        classic = classic_step(paths, scratch / "slice-classic", scratch)
        out["classic"] = classic
        out["ratio_docs_per_s"] = round(sou["docs_per_s"] / classic["docs_per_s"], 2) if classic["docs_per_s"] else None
    return out


def pick_changed_file(links: Path, skipped: set[str]) -> Path:
    """A deterministic link to edit: the middle post by name that the full build indexed."""
    names = sorted(name for name in os.listdir(links) if name not in skipped)
    return links / names[len(names) // 2]


def run_full(posts: Path, args: argparse.Namespace, index_dir: Path, links: Path) -> dict[str, Any]:
    """Full build, no-change reindex and one-change reindex, all over the symlink folder `links`."""
    paths = corpus_paths(posts, limit=args.full_limit or None)
    link_counts = sync_links(paths, links)
    input_bytes = total_bytes(paths)
    cache_s = warm_page_cache(paths)
    log(f"  full: sou over {len(paths):,} posts ({input_bytes / MB:.1f} MB) into {index_dir}")
    full = sou_step(index_dir, links, full=True, files=len(paths), input_bytes=input_bytes, workers=args.workers)
    skipped = set(full.pop("skipped_files"))
    full["minutes"] = round(full["wall_s"] / 60, 2)
    log("  noop: reindex with nothing changed")
    noop = sou_step(index_dir, links, full=False, files=len(paths), input_bytes=input_bytes, workers=args.workers)
    noop.pop("skipped_files")

    link = pick_changed_file(links, skipped)
    target = Path(os.readlink(link))
    log(f"  one_changed: {link.name}")
    data = target.read_bytes()
    link.unlink()
    try:
        link.write_bytes(data + (b"" if data.endswith(b"\n") else b"\n") + APPENDED_LINE)
        one = sou_step(index_dir, links, full=False, files=len(paths), input_bytes=len(data), workers=args.workers)
    finally:
        link.unlink(missing_ok=True)
        os.symlink(target, link)
    one.pop("skipped_files")
    one["file"] = link.name
    log("  restore: reindex with the original file back (not timed)")
    restore = sou_step(index_dir, links, full=False, files=len(paths), input_bytes=len(data), workers=args.workers)
    return {
        "posts": len(paths),
        "limited": bool(args.full_limit),
        "links_dir": str(links),
        "links": link_counts,
        "page_cache_warm_s": cache_s,
        "index_dir": str(index_dir),
        "build": full,
        "noop": noop,
        "one_changed": one,
        "restore": {"updated": restore["updated"], "wall_s": restore["wall_s"], "documents": restore["documents"]},
    }


def targets_met(report: dict[str, Any]) -> dict[str, bool | None]:
    """One boolean per target; None when the step was skipped."""
    met: dict[str, bool | None] = {"slice_ratio_min": None, "full_minutes_max": None, "noop_s_max": None,
                                   "one_changed_s_max": None}
    ratio = report.get("slice", {}).get("ratio_docs_per_s")
    if ratio is not None:
        met["slice_ratio_min"] = ratio >= TARGETS["slice_ratio_min"]
    full = report.get("full")
    if full:
        met["full_minutes_max"] = full["build"]["wall_s"] / 60 <= TARGETS["full_minutes_max"]
        met["noop_s_max"] = full["noop"]["wall_s"] <= TARGETS["noop_s_max"] and full["noop"]["updated"] == 0
        one = full["one_changed"]
        met["one_changed_s_max"] = one["wall_s"] <= TARGETS["one_changed_s_max"] and one["updated"] == 1
    return met


def bench_corpus(corpus: str, args: argparse.Namespace) -> dict[str, Any]:
    """All steps for one corpus; temporary folders are removed whatever happens."""
    started = time.perf_counter()
    report: dict[str, Any] = {"benchmark": "index_bench", "corpus": corpus, "quick": args.quick,
                              "machine": {"before": machine_load()}}
    posts = find_corpus(corpus)
    scratch = Path(tempfile.mkdtemp(prefix=f"sou-bench-index-{corpus}-"))
    log(f"[{corpus}] {posts}")
    try:
        report["slice"] = run_slice(posts, args, scratch)
        if not args.skip_full:
            if args.full_limit and not args.index_dir:
                index_dir, links = scratch / "full-sou", scratch / "full-links"
            else:
                index_dir = args.index_dir or default_index_dir(corpus)
                links = default_links_dir(corpus) if not args.full_limit else scratch / "full-links"
            report["full"] = run_full(posts, args, index_dir, links)
            report["segmenter"] = sou_meta(index_dir).get("segmenter")
        else:
            report["segmenter"] = report["slice"]["segmenter"]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report["targets"] = TARGETS
    report["met"] = targets_met(report)
    report["machine"]["after"] = machine_load()
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    return report


def print_report(report: dict[str, Any]) -> None:
    """The human half: builds, then targets."""
    rows = []
    sl = report["slice"]
    rows.append({"phase": "slice", **sl["sou"]})
    if "classic" in sl:
        rows.append({"phase": "slice", **sl["classic"]})
    full = report.get("full")
    if full:
        for phase in ("build", "noop", "one_changed"):
            rows.append({"phase": phase, **full[phase]})
    corpus = report["corpus"]
    print_table(rows, BUILD_COLUMNS, f"index build — {corpus}, segmenter {report.get('segmenter')}"
                                     + (" (quick)" if report["quick"] else ""))
    values = {
        "slice_ratio_min": sl.get("ratio_docs_per_s"),
        "full_minutes_max": full["build"]["minutes"] if full else None,
        "noop_s_max": full["noop"]["wall_s"] if full else None,
        "one_changed_s_max": full["one_changed"]["wall_s"] if full else None,
    }
    target_rows = [{"target": k, "limit": v, "value": values[k], "met": report["met"][k]} for k, v in TARGETS.items()]
    print_table(target_rows, ["target", "limit", "value", "met"], "targets")
    if full:
        b = full["build"]
        print(f"full: {b['documents']:,} documents, skipped {b['skipped_by_reason']}; "
              f"noop unchanged {full['noop']['unchanged']:,}; one_changed updated {full['one_changed']['updated']}")
    print(f"machine before {report['machine']['before']}, after {report['machine']['after']}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or one child step); returns the exit code."""
    args = parse_args(argv)
    if args.child == "reindex":
        child_reindex(args)
        return 0
    if args.child == "classic":
        child_classic(args)
        return 0
    return run_corpora("index_bench", args, bench_corpus, print_report)


if __name__ == "__main__":
    raise SystemExit(main())
