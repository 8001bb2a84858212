"""How far the faster segmenters' words are from jieba's, on the real corpora.

sou may only switch its default segmenter with the token differences measured (issue 14), as
was once done for jieba_fast. This script measures jieba_fast (jieba's algorithm in C) and
rjieba (jieba-rs, Rust) against jieba 0.42.1 on the text sou would cut:

1. Posts: N per corpus, drawn with a fixed seed (``--posts N``; ``--all`` takes every post), read
   with sou's article parser (title and body), folded with ``Analyzer.default().fold`` and cut
   into CJK runs by ``search.analysis.SCAN_RE`` (the ``cjk`` group), as sou's analyzer does.
2. Each distinct run is cut once by each segmenter (HMM on, as sou cuts), and every figure is
   weighted by how often the run occurs, so "% of runs" means of run *occurrences* in the text.
   Distinct-run figures are given too.
3. Differences: a run differs when the word lists differ. Words are compared two ways:
   by position (a jieba word whose character span the other segmenter does not also produce)
   and as multisets (jieba's words minus the other's, per run). The regions where the two
   disagree (between boundaries both share) are counted, and the 20 most frequent printed.
4. Speed: characters per second cutting the distinct runs (one thread, the same runs for all,
   in interleaved chunks so that the machine's other load falls on all of them alike);
   load time and memory: each segmenter imported and loaded in a fresh process, its RSS
   growth read from /proc.
5. Dictionary: whether rjieba knows exactly jieba's words (``has_word`` on every word of
   jieba's dictionary and on every prefix jieba stores with frequency 0), whether jieba_fast's
   frequency table equals jieba's, and whether ``add_word`` (user dictionaries) behaves alike:
   K word pairs that jieba cuts apart are added to each segmenter, and the runs holding them
   are cut again.

Results go to bench/results/segmenter_diff.json (``-quick`` appended for --quick) and a table.

    python -m bench.segmenter_diff [--corpus both] [--posts 3000 | --all] [--quick]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/segmenter_diff.py` works as well as `-m`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import CORPUS_NAMES, corpus_paths, data_dir, find_corpus, machine_load, print_table
from bench.runner import log, save_results

SEED = 14
DEFAULT_POSTS = 3000
QUICK_POSTS = 200
USER_WORDS = 200
USER_WORD_RUNS = 200_000   # distinct runs (random) the add_word check draws its words and runs from
TOP = 20
SEGMENTERS = ("jieba", "jieba_fast", "rjieba")

Cut = Callable[[str], list[str]]


# --- pure helpers (unit-tested) --------------------------------------------------------------

def spans(words: Sequence[str]) -> list[tuple[int, int]]:
    """Character spans (start, end) of consecutive words."""
    out = []
    pos = 0
    for w in words:
        out.append((pos, pos + len(w)))
        pos += len(w)
    return out


def diff_regions(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, str]]:
    """The stretches where two segmentations of one text disagree, as ("w1/w2", "w1/w2").

    The text is split at the boundaries both segmentations share; each piece that is not one
    and the same word in both is a region. ``南京市/长江大桥`` against ``南京/市长/江大桥`` is one
    region; two separate disagreements in one run are two.
    """
    if list(a) == list(b):
        return []
    bounds_a = {e for _, e in spans(a)}
    bounds_b = {e for _, e in spans(b)}
    common = sorted(bounds_a & bounds_b)
    out = []
    ia = ib = 0
    sa, sb = spans(a), spans(b)
    for end in common:
        pa: list[str] = []
        pb: list[str] = []
        while ia < len(a) and sa[ia][1] <= end:
            pa.append(a[ia])
            ia += 1
        while ib < len(b) and sb[ib][1] <= end:
            pb.append(b[ib])
            ib += 1
        if pa != pb:
            out.append(("/".join(pa), "/".join(pb)))
    if ia < len(a) or ib < len(b):   # texts of different lengths: the rest is one region
        out.append(("/".join(a[ia:]), "/".join(b[ib:])))
    return out


def word_differences(a: Sequence[str], b: Sequence[str]) -> tuple[int, int]:
    """(position-aligned, multiset) counts of `a`'s words that `b` does not have.

    Position-aligned: words of `a` whose span `b` does not produce. Multiset: what is left of
    `a`'s words after removing `b`'s, counting repeats.
    """
    if list(a) == list(b):
        return 0, 0
    sb = set(spans(b))
    aligned = sum(1 for s in spans(a) if s not in sb)
    multiset = sum((Counter(a) - Counter(b)).values())
    return aligned, multiset


class Comparison:
    """Running figures of one segmenter against jieba, run by run (weighted by occurrences),
    so that a whole corpus can be compared without keeping every cut in memory."""

    def __init__(self) -> None:
        self.runs = self.occurrences = self.differ_runs = self.differ_occ = 0
        self.words = self.aligned = self.multiset = self.text_mismatch = 0
        self.regions: Counter[tuple[str, str]] = Counter()

    def add(self, run: str, n: int, a: Sequence[str], b: Sequence[str]) -> None:
        """One distinct run occurring `n` times, cut as `a` by jieba and `b` by the other."""
        self.runs += 1
        self.occurrences += n
        self.words += n * len(a)
        if a == b:
            return
        self.differ_runs += 1
        self.differ_occ += n
        if "".join(b) != run:
            self.text_mismatch += 1
        aligned, multiset = word_differences(a, b)
        self.aligned += n * aligned
        self.multiset += n * multiset
        for region in diff_regions(a, b):
            self.regions[region] += n

    def result(self, top: int = TOP) -> dict[str, Any]:
        def pct(x: int, d: int) -> float | None:
            return round(100 * x / d, 3) if d else None

        return {
            "distinct_runs": self.runs,
            "run_occurrences": self.occurrences,
            "jieba_words": self.words,
            "runs_differ_pct": pct(self.differ_occ, self.occurrences),
            "distinct_runs_differ_pct": pct(self.differ_runs, self.runs),
            "words_differ_aligned_pct": pct(self.aligned, self.words),
            "words_differ_multiset_pct": pct(self.multiset, self.words),
            "text_mismatch_runs": self.text_mismatch,
            "regions": sum(self.regions.values()),
            "distinct_regions": len(self.regions),
            "top_differences": [{"jieba": a, "other": b, "count": c} for (a, b), c in self.regions.most_common(top)],
        }


def compare(base: dict[str, list[str]], other: dict[str, list[str]], counts: Counter[str],
            top: int = TOP) -> dict[str, Any]:
    """Figures of `other` against `base` over the distinct runs, weighted by `counts`."""
    comparison = Comparison()
    for run, n in counts.items():
        comparison.add(run, n, base[run], other[run])
    return comparison.result(top)


# --- segmenters --------------------------------------------------------------------------------

def _quiet_import(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = __import__(name)
    if hasattr(module, "setLogLevel"):
        module.setLogLevel(logging.WARNING)
    return module


def load(name: str):
    """A fresh segmenter object with its default dictionary loaded (jieba's cache kept in our
    scratch folder)."""
    if name == "rjieba":
        return _quiet_import("rjieba").Jieba()
    module = _quiet_import(name)
    tk = module.Tokenizer()
    cache = data_dir() / "jieba-cache"
    cache.mkdir(parents=True, exist_ok=True)
    tk.tmp_dir = str(cache)
    tk.cache_file = f"{name}.cache"
    tk.initialize()
    return tk


def cutter(name: str, seg) -> Cut:
    """``cut(run)`` -> list of words, HMM on (as sou cuts)."""
    if name == "rjieba":
        return lambda run: seg.cut(run, hmm=True)
    return lambda run: list(seg.cut(run, HMM=True))


def add_word(name: str, seg, word: str, freq: int | None) -> None:
    if name == "rjieba":
        seg.add_word(word, freq, None)
    else:
        seg.add_word(word, freq)


_LOAD_PROBE = r"""
import json, sys, time, warnings, logging
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) * 1024
before = rss()
t = time.perf_counter()
sys.path.insert(0, sys.argv[2])
from bench.segmenter_diff import load, cutter
seg = load(sys.argv[1])
cutter(sys.argv[1], seg)("我们在南京市长江大桥上看到了搜索引擎")
print(json.dumps({"load_s": time.perf_counter() - t, "rss_mb": (rss() - before) / 2**20}))
"""


def load_cost(name: str) -> dict[str, Any]:
    """Import + dictionary load + first cut in a fresh process: seconds and RSS growth (MB).
    Best of 3 runs, so that one busy moment of a shared machine does not count."""
    best: dict[str, Any] | None = None
    root = str(Path(__file__).resolve().parents[1])
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", _LOAD_PROBE, name, root], capture_output=True, text=True,
                             check=True).stdout
        res = json.loads(out.strip().splitlines()[-1])
        if best is None or res["load_s"] < best["load_s"]:
            best = res
    assert best is not None
    return {"load_s": round(best["load_s"], 3), "rss_mb": round(best["rss_mb"], 1)}


# --- corpus ------------------------------------------------------------------------------------

def collect_runs(paths: Iterable[Path]) -> tuple[Counter[str], dict[str, Any]]:
    """Occurrences of each CJK run in the folded title and body of each post."""
    from search.analysis import SCAN_RE, Analyzer
    from search.articles import parse_bytes
    from search.errors import ArticleError

    fold = Analyzer.default().fold
    counts: Counter[str] = Counter()
    posts = skipped = 0
    started = time.perf_counter()
    for path in paths:
        try:
            article = parse_bytes(path.read_bytes(), path.name)
        except (ArticleError, OSError):
            skipped += 1
            continue
        posts += 1
        for text in (article.title, article.body):
            for m in SCAN_RE.finditer(fold(text)):
                if m.lastgroup == "cjk":
                    counts[m.group()] += 1
    return counts, {"posts": posts, "skipped": skipped, "parse_s": round(time.perf_counter() - started, 1)}


def cut_chunks(segs: dict[str, Any], runs: list[str], seconds: dict[str, float], chunk_chars: int = 100_000,
               bulk: dict[str, float] | None = None) -> Iterator[tuple[list[str], dict[str, list[list[str]]]]]:
    """Cut the runs chunk by chunk (about `chunk_chars` characters); yield each chunk with every
    segmenter's words for it, adding each segmenter's time to `seconds`.

    Every segmenter cuts each chunk in turn (first one first, then rotating), so that a busy
    spell of this shared machine slows all of them alike instead of whichever ran then. With
    `bulk`, each also cuts the chunk as ONE text (runs joined by newlines) and its time is added
    there: the segmenter's own speed, without the cost of one call per run that sou pays.
    """
    cutters = {name: cutter(name, seg) for name, seg in segs.items()}
    names = list(segs)
    turn = 0
    start = 0
    while start < len(runs):
        end, size = start, 0
        while end < len(runs) and size < chunk_chars:
            size += len(runs[end])
            end += 1
        chunk = runs[start:end]
        start = end
        order = names[turn % len(names):] + names[:turn % len(names)]
        turn += 1
        out: dict[str, list[list[str]]] = {}
        for name in order:
            cut = cutters[name]
            began = time.perf_counter()
            out[name] = [cut(run) for run in chunk]
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - began
            if bulk is not None:
                text = "\n".join(chunk)
                began = time.perf_counter()
                cut(text)
                bulk[name] = bulk.get(name, 0.0) + time.perf_counter() - began
        yield chunk, out


def user_word_check(runs: list[str], cuts: dict[str, list[str]], k: int, seed: int,
                    freq: int | None) -> dict[str, Any]:
    """Add `k` invented dictionary words (adjacent jieba word pairs, ≥ 3 characters, found in
    the runs) to a fresh segmenter of each kind and cut the runs holding them again.

    Reports per segmenter how many occurrences of the added words come out whole, and how the
    others' cuts of those runs compare with jieba's after the same additions.
    """
    pairs: set[str] = set()
    for run in runs:
        words = cuts[run]
        for a, b in zip(words, words[1:], strict=False):
            if len(a) + len(b) >= 3 and len(a) + len(b) <= 6:
                pairs.add(a + b)
    chosen = sorted(random.Random(seed).sample(sorted(pairs), min(k, len(pairs))))
    pattern = re.compile("|".join(map(re.escape, chosen))) if chosen else None
    holding = [r for r in runs if pattern and pattern.search(r)][:20000]
    result: dict[str, Any] = {"words": len(chosen), "freq": freq, "runs": len(holding), "examples": chosen[:10]}
    recut: dict[str, dict[str, list[str]]] = {}
    for name in SEGMENTERS:
        seg = load(name)
        for w in chosen:
            add_word(name, seg, w, freq)
        cut = cutter(name, seg)
        recut[name] = {r: cut(r) for r in holding}
        whole = found = 0
        for r in holding:
            words = recut[name][r]
            for w in chosen:
                n = r.count(w)
                if n:
                    found += n
                    whole += min(n, words.count(w))
        result[name] = {"added_whole_pct": round(100 * whole / found, 2) if found else None,
                        "occurrences": found}
    ones = Counter(dict.fromkeys(holding, 1))
    for name in SEGMENTERS[1:]:
        diff = compare(recut["jieba"], recut[name], ones, top=5)
        result[name]["runs_differ_from_jieba_pct"] = diff["runs_differ_pct"]
        result[name]["top_differences"] = diff["top_differences"]
    return result


def user_dict_probes(words: list[str], new_words: list[str]) -> dict[str, Any]:
    """jieba and rjieba side by side on what a user dictionary does besides adding a word:
    the frequency each suggests to keep a string whole (jieba's add_word without a frequency
    uses it), a word removed with frequency 0, and ``has_word`` afterwards (sou's analyzer treats
    a frequency of 0 as "not a word")."""
    jt, rj = load("jieba"), load("rjieba")

    def gaps(strings: list[str]) -> list[int]:
        return [abs(jt.suggest_freq(w, False) - rj.suggest_freq(w)) for w in strings]

    known, new = gaps(words), gaps(new_words)
    removed = "长江大桥"
    sentence = "我们在南京市长江大桥上看到了"
    jt.add_word(removed, 0)
    rj.add_word(removed, 0, None)
    return {
        "suggest_freq_same_known": sum(1 for g in known if not g),
        "suggest_freq_known": len(known),
        "suggest_freq_max_gap_known": max(known, default=0),
        "suggest_freq_same_new": sum(1 for g in new if not g),
        "suggest_freq_new": len(new),
        "suggest_freq_max_gap_new": max(new, default=0),
        "freq0_cut_jieba": "/".join(jt.cut(sentence, HMM=True)),
        "freq0_cut_rjieba": "/".join(rj.cut(sentence, hmm=True)),
        "freq0_word_in_jieba_table": bool(jt.FREQ.get(removed)),
        "freq0_rjieba_has_word": rj.has_word(removed),
    }


def dictionary_check(jieba_tk, fast_tk, rj) -> dict[str, Any]:
    """Does rjieba know the same words as jieba (has_word), does jieba_fast share jieba's table?"""
    freq = jieba_tk.FREQ
    words = [w for w, f in freq.items() if f]
    prefixes = [w for w, f in freq.items() if not f]
    missing = [w for w in words if not rj.has_word(w)]
    extra = [w for w in prefixes if rj.has_word(w)]
    fast_freq = fast_tk.FREQ
    return {
        "jieba_words": len(words),
        "jieba_prefix_entries": len(prefixes),
        "rjieba_missing_words": len(missing),
        "rjieba_missing_examples": missing[:10],
        "rjieba_prefixes_taken_for_words": len(extra),
        "rjieba_prefix_examples": extra[:10],
        "jieba_fast_same_table": fast_freq == freq,
        "jieba_fast_table_differences": sum(1 for w, f in freq.items() if fast_freq.get(w) != f)
        + sum(1 for w in fast_freq if w not in freq),
        "total": {"jieba": jieba_tk.total, "jieba_fast": fast_tk.total},
    }


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("jieba", "jieba_fast", "rjieba"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def bench_corpus(corpus: str, args: argparse.Namespace, segs: dict[str, Any]) -> dict[str, Any]:
    posts_dir = find_corpus(corpus)
    paths = corpus_paths(posts_dir) if args.all else corpus_paths(posts_dir, limit=args.posts, seed=SEED)
    log(f"[{corpus}] {len(paths):,} posts: parsing and collecting CJK runs")
    counts, info = collect_runs(paths)
    runs = sorted(counts)
    chars = sum(len(r) for r in runs)
    log(f"[{corpus}] {len(runs):,} distinct runs ({chars:,} characters); cutting with {', '.join(SEGMENTERS)}")
    random.Random(SEED).shuffle(runs)   # chunks mix short and long runs (sorted order groups prefixes)
    seconds: dict[str, float] = {}
    bulk: dict[str, float] = {}
    comparisons = {name: Comparison() for name in SEGMENTERS[1:]}
    sample: dict[str, list[str]] = {}     # jieba's words of the first runs, for the add_word check
    for chunk, cut in cut_chunks({name: segs[name] for name in SEGMENTERS}, runs, seconds, bulk=bulk):
        for i, run in enumerate(chunk):
            for name, comparison in comparisons.items():
                comparison.add(run, counts[run], cut["jieba"][i], cut[name][i])
        if len(sample) < USER_WORD_RUNS:
            sample.update(zip(chunk, cut["jieba"], strict=True))
    speed = {name: {"seconds": round(s, 2), "chars_per_s": round(chars / s) if s else None,
                    "bulk_seconds": round(bulk[name], 2), "bulk_chars_per_s": round(chars / bulk[name]) if bulk[name] else None}
             for name, s in seconds.items()}
    report: dict[str, Any] = {
        "corpus": corpus, **info, "sample": "all" if args.all else f"{args.posts} posts, seed {SEED}",
        "distinct_runs": len(runs), "distinct_run_chars": chars,
        "run_occurrences": sum(counts.values()),
        "speed": speed,
        "vs_jieba": {name: comparison.result() for name, comparison in comparisons.items()},
    }
    log(f"[{corpus}] user words: {args.user_words} added to each segmenter")
    report["user_words"] = {
        "default_freq": user_word_check(list(sample), sample, args.user_words, SEED, None),
        "freq_10": user_word_check(list(sample), sample, args.user_words, SEED + 1, 10),
    }
    return report


def print_report(report: dict[str, Any]) -> None:
    rows = []
    for corpus, rep in report["corpora"].items():
        rows.append({"corpus": corpus, "segmenter": "jieba", "chars_per_s": rep["speed"]["jieba"]["chars_per_s"],
                     "bulk_chars_per_s": rep["speed"]["jieba"]["bulk_chars_per_s"],
                     "load_s": report["load"]["jieba"]["load_s"], "load_rss_mb": report["load"]["jieba"]["rss_mb"]})
        for name in SEGMENTERS[1:]:
            d = rep["vs_jieba"][name]
            rows.append({"corpus": corpus, "segmenter": name,
                         "runs_differ_%": d["runs_differ_pct"], "distinct_differ_%": d["distinct_runs_differ_pct"],
                         "words_aligned_%": d["words_differ_aligned_pct"],
                         "words_multiset_%": d["words_differ_multiset_pct"],
                         "chars_per_s": rep["speed"][name]["chars_per_s"],
                         "x_jieba": round(rep["speed"][name]["chars_per_s"] / rep["speed"]["jieba"]["chars_per_s"], 1),
                         "bulk_chars_per_s": rep["speed"][name]["bulk_chars_per_s"],
                         "bulk_x": round(rep["speed"][name]["bulk_chars_per_s"]
                                         / rep["speed"]["jieba"]["bulk_chars_per_s"], 1),
                         "load_s": report["load"][name]["load_s"], "load_rss_mb": report["load"][name]["rss_mb"]})
    print_table(rows, ["corpus", "segmenter", "runs_differ_%", "distinct_differ_%", "words_aligned_%",
                       "words_multiset_%", "chars_per_s", "x_jieba", "bulk_chars_per_s", "bulk_x", "load_s",
                       "load_rss_mb"],
                "segmenters against jieba (runs weighted by occurrences; HMM on; chars_per_s: one call per run "
                "as sou cuts; bulk: one call per 100k characters)")
    for corpus, rep in report["corpora"].items():
        for name in SEGMENTERS[1:]:
            top = rep["vs_jieba"][name]["top_differences"]
            print_table([{"jieba": t["jieba"], name: t["other"], "count": t["count"]} for t in top],
                        ["jieba", name, "count"], f"{corpus}: most frequent differences, {name}")
        uw = []
        for variant, res in rep["user_words"].items():
            for name in SEGMENTERS:
                uw.append({"user words": f"{res['words']} ({variant})", "segmenter": name,
                           "added_whole_%": res[name]["added_whole_pct"],
                           "runs_differ_from_jieba_%": res[name].get("runs_differ_from_jieba_pct")})
        print_table(uw, ["user words", "segmenter", "added_whole_%", "runs_differ_from_jieba_%"],
                    f"{corpus}: add_word, then the runs holding the words cut again")
    d = report["dictionary"]
    print(f"dictionary: rjieba misses {d['rjieba_missing_words']:,} of jieba's {d['jieba_words']:,} words "
          f"and takes {d['rjieba_prefixes_taken_for_words']:,} of {d['jieba_prefix_entries']:,} prefix entries for words; "
          f"jieba_fast's table {'equals' if d['jieba_fast_same_table'] else 'differs from'} jieba's "
          f"({d['jieba_fast_table_differences']} entries differ)")
    u = d["user_dict"]
    print(f"user dictionaries: rjieba's suggest_freq equals jieba's for {u['suggest_freq_same_new']:,} of "
          f"{u['suggest_freq_new']:,} new words (largest gap {u['suggest_freq_max_gap_new']}) and for "
          f"{u['suggest_freq_same_known']:,} of {u['suggest_freq_known']:,} dictionary words (largest gap "
          f"{u['suggest_freq_max_gap_known']}); a word added with frequency 0 cuts as {u['freq0_cut_jieba']} (jieba) / "
          f"{u['freq0_cut_rjieba']} (rjieba); has_word afterwards: jieba table {u['freq0_word_in_jieba_table']}, "
          f"rjieba {u['freq0_rjieba_has_word']}")
    print(f"versions {report['versions']}; machine before {report['machine']['before']}, "
          f"after {report['machine']['after']}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="both", choices=[*CORPUS_NAMES, "both"])
    parser.add_argument("--posts", type=int, default=DEFAULT_POSTS, help="posts per corpus (seeded sample)")
    parser.add_argument("--all", action="store_true", help="every post of each corpus")
    parser.add_argument("--user-words", type=int, default=USER_WORDS, help="words added in the add_word check")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_POSTS} posts per corpus")
    parser.add_argument("--json", action="store_true", help="print the JSON report instead of tables")
    args = parser.parse_args(argv)
    if args.quick:
        args.posts, args.all = QUICK_POSTS, False
    started = time.perf_counter()
    report: dict[str, Any] = {"benchmark": "segmenter_diff", "versions": versions(), "quick": args.quick,
                              "machine": {"before": machine_load()}}
    log("loading the segmenters (load time and memory each in a fresh process)")
    report["load"] = {name: load_cost(name) for name in SEGMENTERS}
    segs = {name: load(name) for name in SEGMENTERS}
    report["dictionary"] = dictionary_check(segs["jieba"], segs["jieba_fast"], segs["rjieba"])
    probe_words = sorted(random.Random(SEED).sample(sorted(w for w, f in segs["jieba"].FREQ.items() if f), 2000))
    new_words = [a + b for a, b in zip(probe_words[::2], probe_words[1::2], strict=True)]   # what users add
    report["dictionary"]["user_dict"] = user_dict_probes(probe_words, new_words)
    corpora = list(CORPUS_NAMES) if args.corpus == "both" else [args.corpus]
    report["corpora"] = {c: bench_corpus(c, args, segs) for c in corpora}
    report["machine"]["after"] = machine_load()
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    path = save_results("segmenter_diff" + ("-quick" if args.quick else ""), report)
    log(f"saved {path}")
    if args.json:
        from bench.common import dump_json

        dump_json(report)
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
