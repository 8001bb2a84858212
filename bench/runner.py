"""Plumbing shared by sou's benchmarks (index_bench, query_bench, combined_bench): child processes,
whole-process measurements, symlink folders, the index's recorded segmenter, result files.

Why child processes: ``ru_maxrss`` is a high-water mark that never goes down, so a figure for
"the build" or "the searching process" is only honest when that work runs in a process of its
own. Each measured step therefore runs as ``python -m bench.<script> --child ...``, which prints
one result line prefixed with `RESULT_MARK`; everything else a child prints (jieba, warnings)
passes through untouched.

Why symlink folders: sou indexes a folder, the benchmarks need a fixed *list* of files (a slice,
or the corpus with one file edited), and the corpus itself must never be modified. A folder with
one symlink per post gives sou exactly that list; editing "one file" means replacing one symlink
by a real copy, and putting the symlink back restores the corpus view.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.common import MB, REPO_ROOT, data_dir, peak_rss_mb

RESULT_MARK = "@@BENCH-RESULT "
RESULTS_DIR = REPO_ROOT / "bench" / "results"


def default_index_dir(corpus: str) -> Path:
    """The whole-corpus sou index both benchmarks (and bench/eval_dev.py) share."""
    return data_dir() / f"index-{corpus}"


def default_links_dir(corpus: str) -> Path:
    """The symlink view of the whole corpus that the full build, noop and one-change runs index."""
    return data_dir() / f"links-{corpus}"


def sync_links(paths: Iterable[Path], links_dir: Path) -> dict[str, int]:
    """Make `links_dir` hold exactly one symlink per path (same file name), and nothing else.

    Idempotent, so the folder is created once and reused. It also repairs what an interrupted
    one-changed-file run may have left (a real file where a symlink belongs) and drops links to
    posts that are gone, so the folder always mirrors the corpus list it was given.
    """
    links_dir.mkdir(parents=True, exist_ok=True)
    wanted = {p.name: p.resolve() for p in paths}
    counts = {"created": 0, "repaired": 0, "removed": 0, "kept": 0}
    present = {entry.name: entry for entry in os.scandir(links_dir)}
    for name, entry in present.items():
        target = wanted.get(name)
        if target is None:
            Path(entry.path).unlink()
            counts["removed"] += 1
        elif not entry.is_symlink() or os.readlink(entry.path) != str(target):
            Path(entry.path).unlink()
            os.symlink(target, entry.path)
            counts["repaired"] += 1
        else:
            counts["kept"] += 1
    for name, target in wanted.items():
        if name not in present:
            os.symlink(target, links_dir / name)
            counts["created"] += 1
    return counts


def warm_page_cache(paths: Iterable[Path]) -> float:
    """Read every file once so that no build pays for cold disk reads that another did not.

    Returns the seconds taken (reported, not part of any timed figure).
    """
    started = time.perf_counter()
    for path in paths:
        try:
            with open(path, "rb") as fh:
                while fh.read(1 << 20):
                    pass
        except OSError:
            continue
    return round(time.perf_counter() - started, 2)


def sou_meta(index_dir: Path) -> dict[str, Any]:
    """The index's ``sou.json`` (segmenter, root, documents…), or {} when there is none."""
    try:
        return json.loads((Path(index_dir) / "sou.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def run_child(module: str, args: list[str]) -> tuple[dict[str, Any], float]:
    """Run ``python -m <module> --child ...`` from the repository root; return (result, wall s).

    The wall time is measured around the whole process (interpreter start and imports included),
    which is what a user typing the command waits for. A child that fails or prints no result
    raises, with its exit code, rather than leaving a hole in the report.
    """
    cmd = [sys.executable, "-m", module, "--child", *args]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - started
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK):])
        elif line.strip():
            print(line, file=sys.stderr)
    if proc.returncode != 0 or result is None:
        raise RuntimeError(f"benchmark child failed (exit {proc.returncode}): {' '.join(cmd)}")
    return result, round(wall, 3)


def parse_result(stdout: str) -> dict[str, Any] | None:
    """The marked result line of a child's output (the last one), or None."""
    result = None
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK):])
    return result


def measure_whole(cmd: list[str], what: str):
    """Run `cmd` as a whole process under bench.proctree's sampler; fail loudly on a non-zero
    exit (with the command's last lines of stderr) instead of reporting a figure of a failed run.

    Returns the ProcessRun; its stderr is passed through (jieba's and sou's warnings stay visible).
    """
    from bench.proctree import measure

    run = measure(cmd, cwd=REPO_ROOT)
    for line in run.stderr.splitlines():
        if line.strip():
            print(line, file=sys.stderr)
    if run.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {run.returncode}): {' '.join(cmd)}")
    return run


def step_load(step: dict[str, Any], edge: str) -> None:
    """Record and log the machine's load at the start or end of a step (``uptime``)."""
    from bench.common import uptime

    line = uptime()
    step[f"uptime_{edge}"] = line
    log(f"    uptime at {edge}: {line}")


def _own_rss_mb(key: str = "VmHWM") -> float | None:
    """This process's peak RSS since its last exec (VmHWM; ``VmRSS`` for the current RSS), or
    None where /proc is missing.

    ``ru_maxrss`` is no good for a child started by a big parent: Linux carries the parent's
    high-water mark over fork and exec, so a fresh ``python -m ...`` reports at least the size of
    the benchmark process that started it. VmHWM belongs to the address space, which exec
    replaces, so it counts this program alone.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return round(int(line.split()[1]) * 1024 / MB, 1)
    except (OSError, ValueError):
        return None
    return None


def emit_child_result(result: dict[str, Any]) -> None:
    """The child's half of `run_child`: one marked JSON line, with this process's peak RSS.

    ``self`` is the child's own peak (see `_own_rss_mb`); ``children`` is the largest of its
    waited-for worker processes (``RUSAGE_CHILDREN``), which is where sou's parallel build runs.
    ``rss_after_mb`` is the RSS at the end (after a query loop: what a server keeps holding).
    """
    rss = peak_rss_mb()
    own = _own_rss_mb()
    if own is not None:
        rss["self"] = own
    result["rss_mb"] = rss
    result["peak_rss_mb"] = max(rss["self"], rss["children"])
    result["rss_after_mb"] = _own_rss_mb("VmRSS")
    print(RESULT_MARK + json.dumps(result, ensure_ascii=False, default=str), flush=True)


def save_results(name: str, report: Any) -> Path:
    """Write `report` to bench/results/<name>.json (a git-ignored folder) and return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def log(message: str) -> None:
    """Progress lines go to stderr so that ``--json`` output on stdout stays parseable."""
    print(message, file=sys.stderr, flush=True)


def run_corpora(name: str, args, bench_corpus, print_report) -> int:
    """The parent side shared by both benchmarks: each chosen corpus in turn, its report saved
    to bench/results/<name>-<corpus>.json, then printed as tables (or all as JSON)."""
    from bench.common import CORPUS_NAMES, dump_json

    corpora = list(CORPUS_NAMES) if args.corpus == "both" else [args.corpus]
    reports = {}
    for corpus in corpora:
        report = bench_corpus(corpus, args)
        path = save_results(f"{name}-{corpus}" + ("-quick" if args.quick else ""), report)
        log(f"[{corpus}] saved {path}")
        reports[corpus] = report
        if not args.json:
            print_report(report)
    if args.json:
        dump_json(reports[corpora[0]] if len(corpora) == 1 else reports)
    return 0
