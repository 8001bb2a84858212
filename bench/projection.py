"""Project build time, index size and memory to 1M posts from the sizes measured.

README's Limits must say what 1M articles would cost, from measured growth rather than hope
(issue 14: the 2k slices, the 49k and 81k corpora, the 130k combined index). This fits each
figure against the number of posts three ways and prints the projection of each:

- linear, y = a + b·n: what an engine whose cost per post is constant would do;
- n·log n, y = a + b·n·ln n: the growth of sorting and merging (segment merges, term
  dictionaries), the honest worst case for build time;
- a power law, y = c·n^k, whose exponent k says by itself how the figure grows (k ≈ 1 linear,
  k > 1 faster than linear; 0 for a constant).

All are least squares on the measured points; with points from two corpora whose posts differ
in size, the spread around the line is reported (the largest relative residual) so that a
projection resting on a poor fit is visible as such.

Points come from the results the benchmarks saved (bench/results/index_bench-<corpus>.json:
the slice and the whole corpus; combined_bench.json) and/or ``--point``:

    python bench/projection.py [--results bench/results] [--point posts=2000,seconds=15.3,index_bytes=5e7,rss_mb=400]
                               [--to 1000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/projection.py` works as well as `-m`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import MB, dump_json, print_table

METRICS = ("seconds", "index_bytes", "rss_mb", "search_rss_mb")
TARGET_POSTS = 1_000_000


@dataclass(frozen=True)
class Point:
    """One measured size: posts, and whatever figures were measured at it (None: not measured)."""

    posts: int
    seconds: float | None = None
    index_bytes: float | None = None
    rss_mb: float | None = None
    search_rss_mb: float | None = None
    source: str = ""


@dataclass(frozen=True)
class Fit:
    """y = a + b·f(n) (linear, nlogn) or y = a·n^b (power), with its worst relative residual."""

    kind: str
    a: float
    b: float
    max_rel_residual: float

    def at(self, n: float) -> float:
        if self.kind == "linear":
            return self.a + self.b * n
        if self.kind == "nlogn":
            return self.a + self.b * n * math.log(n)
        return self.a * n ** self.b


def _least_squares(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Intercept and slope of the least-squares line through (xs, ys)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        raise ValueError("need points at two different sizes at least")
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return my - slope * mx, slope


def _residual(fit: Fit, ns: Sequence[float], ys: Sequence[float]) -> Fit:
    worst = max((abs(fit.at(n) - y) / abs(y) for n, y in zip(ns, ys, strict=True) if y), default=0.0)
    return Fit(fit.kind, fit.a, fit.b, round(worst, 4))


def fit_linear(ns: Sequence[float], ys: Sequence[float]) -> Fit:
    a, b = _least_squares(ns, ys)
    return _residual(Fit("linear", a, b, 0.0), ns, ys)


def fit_nlogn(ns: Sequence[float], ys: Sequence[float]) -> Fit:
    a, b = _least_squares([n * math.log(n) for n in ns], ys)
    return _residual(Fit("nlogn", a, b, 0.0), ns, ys)


def fit_power(ns: Sequence[float], ys: Sequence[float]) -> Fit:
    """y = c·n^k by least squares on logs; needs positive figures."""
    if any(y <= 0 for y in ys) or any(n <= 0 for n in ns):
        raise ValueError("a power law needs positive figures")
    log_c, k = _least_squares([math.log(n) for n in ns], [math.log(y) for y in ys])
    return _residual(Fit("power", math.exp(log_c), k, 0.0), ns, ys)


def project(points: Sequence[Point], to: int = TARGET_POSTS) -> dict[str, Any]:
    """For each metric with measured points at ≥ 2 sizes: the fits and their value at `to` posts."""
    out: dict[str, Any] = {}
    for metric in METRICS:
        pts = sorted((p.posts, getattr(p, metric)) for p in points if getattr(p, metric) is not None)
        if len({n for n, _ in pts}) < 2:
            out[metric] = {"points": len(pts), "status": "needs points at two sizes at least"}
            continue
        ns = [float(n) for n, _ in pts]
        ys = [float(y) for _, y in pts]
        fits = [fit_linear(ns, ys), fit_nlogn(ns, ys)]
        try:
            fits.append(fit_power(ns, ys))
        except ValueError:
            pass
        out[metric] = {
            "points": len(pts),
            "measured": [[int(n), y] for n, y in pts],
            "fits": {f.kind: {**asdict(f), "at_target": f.at(to)} for f in fits},
            "to": to,
        }
    return out


def parse_point(text: str) -> Point:
    """``posts=2000,seconds=15.3,index_bytes=5e7,rss_mb=400`` -> Point."""
    fields: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in {"posts", *METRICS}:
            raise ValueError(f"bad --point part {part!r}: expected posts=N and any of {', '.join(METRICS)}")
        fields[key] = int(float(value)) if key == "posts" else float(value)
    if "posts" not in fields:
        raise ValueError(f"--point {text!r} has no posts=N")
    return Point(source="--point", **fields)


def points_from_results(results: dict[str, dict[str, Any]]) -> list[Point]:
    """Points from saved benchmark reports (file stem -> report); quick runs are ignored."""
    points: list[Point] = []
    for stem, rep in sorted(results.items()):
        if rep.get("quick"):
            continue
        if rep.get("benchmark") == "index_bench":
            sl = rep.get("slice") or {}
            if sl.get("sou"):
                points.append(Point(sl["posts"], sl["sou"].get("process_wall_s"), sl["sou"].get("index_bytes"),
                                    sl["sou"].get("rss_sum_mb"), None, f"{stem} slice"))
            full = rep.get("full")
            if full and not full.get("limited"):
                b = full["build"]
                points.append(Point(full["posts"], b.get("process_wall_s"), b.get("index_bytes"), b.get("rss_sum_mb"),
                                    None, f"{stem} full"))
        elif rep.get("benchmark") == "combined_bench" and rep.get("point"):
            p = rep["point"]
            points.append(Point(p["posts"], p.get("seconds"), p.get("index_bytes"), p.get("rss_mb"),
                                p.get("search_rss_mb"), stem))
        elif rep.get("benchmark") == "query_bench" and not str(rep.get("scope", "")).startswith("slice"):
            sou = rep.get("systems", {}).get("sou", {})
            posts = rep.get("sou_index", {}).get("documents")
            if posts and sou.get("rss_after_mb") is not None:
                points.append(Point(posts, search_rss_mb=sou["rss_after_mb"], source=stem))
    return points


def load_results(folder: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(Path(folder).glob("*.json")):
        try:
            out[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return out


def _human(metric: str, value: float) -> str:
    if metric == "seconds":
        return f"{value / 60:,.1f} min"
    if metric == "index_bytes":
        return f"{value / MB / 1024:,.2f} GB"
    return f"{value:,.0f} MB"


def print_projection(proj: dict[str, Any], points: Sequence[Point]) -> None:
    print_table([{"source": p.source, "posts": p.posts, "seconds": p.seconds,
                  "index_mb": round(p.index_bytes / MB, 1) if p.index_bytes else None,
                  "rss_mb": p.rss_mb, "search_rss_mb": p.search_rss_mb} for p in points],
                ["source", "posts", "seconds", "index_mb", "rss_mb", "search_rss_mb"], "measured points")
    rows = []
    for metric, res in proj.items():
        if "fits" not in res:
            rows.append({"metric": metric, "points": res["points"], "note": res["status"]})
            continue
        for kind, f in res["fits"].items():
            rows.append({"metric": metric, "points": res["points"], "fit": kind,
                         "b_or_k": round(f["b"], 6) if kind != "power" else round(f["b"], 3),
                         "worst_residual_%": round(100 * f["max_rel_residual"], 1),
                         f"at_{res['to']:,}": _human(metric, f["at_target"])})
    to = next((r["to"] for r in proj.values() if "to" in r), TARGET_POSTS)
    print_table(rows, ["metric", "points", "fit", "b_or_k", "worst_residual_%", f"at_{to:,}", "note"],
                "projection (power: k is the growth exponent; seconds = whole-process build, rss = summed over "
                "the build's processes, search_rss = the searching process)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--point", action="append", default=[], help="posts=N,seconds=S,index_bytes=B,rss_mb=M")
    parser.add_argument("--no-results", action="store_true", help="use the --point figures only")
    parser.add_argument("--to", type=int, default=TARGET_POSTS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        points = [parse_point(p) for p in args.point]
    except ValueError as exc:
        parser.error(str(exc))
    if not args.no_results:
        points += points_from_results(load_results(args.results))
    proj = project(points, args.to)
    if args.json:
        dump_json({"points": [asdict(p) for p in points], "projection": proj})
    else:
        print_projection(proj, points)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
