"""Helpers shared by sou's benchmarks and the classic baseline.

Every benchmark must compare sou with the baseline on the *same* files in the *same* run, so the
selection of files (`corpus_paths`), the statistics (`percentile`), the memory figure
(`peak_rss_mb`) and the output (`dump_json`, `print_table`) live here once instead of drifting
apart between scripts.

Sizes are in MB = 2**20 bytes everywhere (the unit ``ru_maxrss`` figures are usually quoted in).
"""

from __future__ import annotations

import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

MB = 1024 * 1024

#: Where `find_corpus` unpacks archives when /tmp/<name> is absent (override: SOU_BENCH_DATA).
DEFAULT_DATA_DIR = Path("/tmp/sou-bench")

#: Repository root (…/main) and the shared folder beside it that holds the corpora archives.
REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"

CORPUS_NAMES = ("corpus", "corpus_zh")
POST_SUFFIXES = (".md", ".markdown")


def data_dir() -> Path:
    """The scratch folder for unpacked corpora and caches; env SOU_BENCH_DATA wins.

    Kept outside the repository so a benchmark run never leaves corpus text where it could be
    committed.
    """
    return Path(os.environ.get("SOU_BENCH_DATA") or DEFAULT_DATA_DIR)


def find_corpus(name: str) -> Path:
    """Return the ``posts`` folder of corpus `name` ("corpus" or "corpus_zh"), unpacking if needed.

    Uses /tmp/<name>/posts when someone already unpacked it (the usual dev set-up, and it saves
    a minute of xz); otherwise `unpack_corpus`.
    """
    if name not in CORPUS_NAMES:
        raise ValueError(f"unknown corpus {name!r}; expected one of {CORPUS_NAMES}")
    unpacked = Path("/tmp") / name / "posts"
    if unpacked.is_dir():
        return unpacked
    return unpack_corpus(name)


def unpack_corpus(name: str) -> Path:
    """Extract ../shared/<name>/articles.tar.xz once into $SOU_BENCH_DATA/<name>; return its posts.

    Extraction goes to a temporary sibling folder that is renamed at the end, so an interrupted
    run never leaves a half-unpacked corpus that a later run would take for complete.
    """
    if name not in CORPUS_NAMES:
        raise ValueError(f"unknown corpus {name!r}; expected one of {CORPUS_NAMES}")
    target = data_dir() / name
    posts = target / "posts"
    if posts.is_dir():
        return posts
    archive = SHARED_DIR / name / "articles.tar.xz"
    if not archive.is_file():
        raise FileNotFoundError(f"corpus {name!r}: neither /tmp/{name}/posts nor {archive} exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        with tarfile.open(archive, "r:xz") as tar:
            tar.extractall(staging, filter="data")
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return posts


def corpus_paths(root: Path, limit: int | None = None, seed: int = 0) -> list[Path]:
    """A deterministic list of the posts under `root`, optionally cut to `limit` files.

    Benchmarks of two engines are only comparable on the same files, so the slice depends on
    nothing but (root's file names, limit, seed). Paths are sorted by name first (os.scandir
    order varies by file system). With ``seed=0`` the slice is evenly spaced over the sorted list,
    which spreads it over the whole id range (and so over years, categories and the odd posts at
    the ends); any other seed draws a seeded random sample, for checking that a figure is not an
    artefact of one slice. The result is sorted either way.
    """
    paths = sorted(p for p in Path(root).iterdir() if p.suffix in POST_SUFFIXES and p.is_file())
    if limit is None or limit >= len(paths):
        return paths
    if limit <= 0:
        return []
    if seed == 0:
        step = len(paths) / limit
        return [paths[int(i * step)] for i in range(limit)]
    picked = random.Random(seed).sample(range(len(paths)), limit)
    return [paths[i] for i in sorted(picked)]


def total_bytes(paths: Iterable[Path]) -> int:
    """Sum of file sizes: the input volume behind every MB/s figure."""
    return sum(p.stat().st_size for p in paths)


def dir_size_mb(path: Path) -> float:
    """Size of all files under `path` in MB (an index's footprint on disk)."""
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / MB


def percentile(values: Sequence[float], p: float) -> float:
    """The `p`-th percentile (0-100) with linear interpolation, like numpy's default.

    Pure Python so the benchmarks need no numpy; NaN for an empty sequence rather than an
    exception, so one empty run does not hide the other figures.
    """
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, Any]:
    """p50/p95/mean/n of per-query latencies, the shape every query benchmark reports.

    Figures are None (JSON null, unlike NaN) when there is nothing to summarise.
    """
    n = len(latencies_ms)
    if not n:
        return {"p50_ms": None, "p95_ms": None, "mean_ms": None, "n": 0}
    return {
        "p50_ms": round(percentile(latencies_ms, 50), 3),
        "p95_ms": round(percentile(latencies_ms, 95), 3),
        "mean_ms": round(sum(latencies_ms) / n, 3),
        "n": n,
    }


def peak_rss_mb() -> dict[str, float]:
    """Peak resident memory in MB of this process and of its largest waited-for child.

    Whoosh's ``procs>1`` writer and sou's worker pool do their segmentation in children, whose
    memory ``RUSAGE_SELF`` does not see; ``RUSAGE_CHILDREN`` reports the largest terminated,
    waited-for descendant (not a sum). Linux reports KiB, macOS bytes.
    """
    scale = 1 if sys.platform == "darwin" else 1024
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
    return {"self": round(me / MB, 1), "children": round(kids / MB, 1)}


def cpu_seconds() -> float:
    """User + system CPU time of this process and its waited-for children so far.

    Reported beside wall time: if CPU time per document stays put while wall time grows, the
    machine was busy with something else (these are shared 2-core machines), not the engine.
    """
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def machine_load() -> dict[str, Any]:
    """Load averages and core count, printed with each run so noisy runs can be recognised."""
    one, five, fifteen = os.getloadavg()
    return {"cpus": os.cpu_count(), "loadavg": [round(one, 2), round(five, 2), round(fifteen, 2)]}


def uptime() -> str:
    """What ``uptime`` prints (load averages; who else is busy), or the load averages alone.

    Printed at the start and end of every benchmark step: on a shared 2-core machine a figure
    means little without the load it was measured under.
    """
    try:
        out = subprocess.run(["uptime"], capture_output=True, text=True, timeout=5, check=True).stdout.strip()
        if out:
            return out
    except (OSError, subprocess.SubprocessError):
        pass
    one, five, fifteen = os.getloadavg()
    return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f}"


def dump_json(obj: Any) -> None:
    """Print `obj` as JSON on stdout: the machine-readable half of every benchmark's output.

    ``ensure_ascii=False`` keeps Chinese queries readable; ``default=str`` turns Paths and the
    like into strings instead of failing at the end of a long run.
    """
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str), flush=True)


def _display_width(text: str) -> int:
    """Terminal columns `text` takes: CJK characters are two columns wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(0, width - _display_width(text))
    return fill + text if right else text + fill


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if abs(value) >= 100:
            return f"{value:,.1f}"
        return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def print_table(rows: list[dict[str, Any]], columns: list[str], title: str) -> None:
    """Print `rows` (missing keys left blank) as a table of `columns`, the human half.

    Uses rich on a terminal; plain fixed-width text when stdout is a pipe or file, so logs and
    CI output stay greppable and free of escape codes. Numbers are right-aligned, and widths
    count CJK characters as two columns so the plain table lines up with Chinese queries in it.
    """
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    numeric = [
        all(isinstance(row.get(col), int | float) for row in rows if row.get(col) is not None) for col in columns
    ]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for col, right in zip(columns, numeric, strict=True):
            table.add_column(col, justify="right" if right else "left")
        for line in cells:
            table.add_row(*line)
        Console().print(table)
        return
    widths = [max([_display_width(col)] + [_display_width(line[i]) for line in cells]) for i, col in enumerate(columns)]
    print(title)
    print("  ".join(_pad(c, w, r) for c, w, r in zip(columns, widths, numeric, strict=True)))
    print("  ".join("-" * w for w in widths))
    for line in cells:
        print("  ".join(_pad(c, w, r) for c, w, r in zip(line, widths, numeric, strict=True)))
    print(flush=True)
