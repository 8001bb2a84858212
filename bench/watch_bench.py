"""Live-update benchmark: how soon a save is searchable while ``watch()`` runs (issue 15).

A watcher (``search.watch.watch``, the library function behind ``sou watch`` and
``sou serve --watch``) runs in a thread over a scratch copy of a folder. Then:

- **saves**: ``--saves`` times (default 50), one file is saved, alternating a new article, an
  edit of an existing one and an editor-style atomic save (write a temp file, rename it over
  the article), each with a word of its own; an engine (as a server holds it) is refreshed and
  searched every 10 ms until the word is found. Reported: save -> indexed (the watcher's
  commit) and save -> searchable (a refreshed engine finds it), median, p90 and worst.
  Target: searchable within 2 s.
- **burst**: ``--burst`` new files (default 1,000) written as fast as possible (a ``git pull``);
  reported: time until all are searchable, how many update batches the watcher made and
  their sizes, and that none was a full rebuild.

Folders: the demo articles (examples/articles), and with ``--slice N`` (default 2,000; 0 = off)
N posts of the shared corpus copied to a scratch folder (never into the repository).

    python bench/watch_bench.py [--saves 50] [--burst 1000] [--slice 2000] [--corpus corpus]

JSON on stdout and in bench/results/watch_bench.json, then a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/watch_bench.py` works as well as `-m`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CORPUS_NAMES,
    REPO_ROOT,
    corpus_paths,
    dump_json,
    find_corpus,
    machine_load,
    percentile,
    print_table,
)
from search import SearchRequest, Settings
from search.engine import Engine
from search.indexer import indexed_state, reindex
from search.models import ReindexSummary
from search.store import IndexStore
from search.watch import watch

RESULTS = REPO_ROOT / "bench" / "results" / "watch_bench.json"
TARGET_S = 2.0
POLL_S = 0.01
LIMIT_S = 120.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def article(title: str, body: str) -> str:
    return f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\ndate: 2024-05-01\n---\n\n{body}\n"


class Run:
    """A watcher thread over ``root`` and an engine that polls the index like a server."""

    def __init__(self, settings: Settings, root: Path) -> None:
        self.settings = settings
        self.updates: list[tuple[float, ReindexSummary]] = []
        self.stop = threading.Event()
        ready = threading.Event()
        self.thread = threading.Thread(target=watch, args=(settings, root), daemon=True, kwargs={
            "on_update": lambda s: self.updates.append((time.monotonic(), s)), "stop_event": self.stop,
            "ready": ready})
        self.thread.start()
        if not ready.wait(LIMIT_S):
            raise RuntimeError("the watcher did not start")
        self.engine = Engine.open(settings)

    def total(self, q: str) -> int:
        self.engine.refresh()
        return self.engine.search(SearchRequest(q=q, per_page=1, highlight=False, facets=False)).total

    def wait_total(self, q: str, want: int) -> float:
        deadline = time.monotonic() + LIMIT_S
        while time.monotonic() < deadline:
            if self.total(q) == want:
                return time.monotonic()
            time.sleep(POLL_S)
        raise RuntimeError(f"{q!r} did not reach {want} hits within {LIMIT_S:.0f} s")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(LIMIT_S)
        self.engine.close()


def save(root: Path, i: int, existing: list[Path]) -> tuple[str, str]:
    """Save number ``i``: a new file, an edit, or an atomic rename save; returns (kind, word)."""
    word = f"qxw{i:03d}save"
    body = f"第 {i} 次存檔的測試段落，關鍵字 {word}，其餘內容是隨手寫的：今天的天氣很好，適合散步。"
    kind = ("new", "edit", "rename")[i % 3]
    if kind == "new":
        (root / "bench-saves").mkdir(exist_ok=True)
        (root / "bench-saves" / f"save-{i:03d}.md").write_text(article(f"存檔 {i}", body), encoding="utf-8")
    else:
        target = existing[i % len(existing)]
        text = target.read_text(encoding="utf-8", errors="replace") + f"\n\n{body}\n"
        if kind == "edit":
            target.write_text(text, encoding="utf-8")
        else:
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, target)
    return kind, word


def bench_folder(name: str, source_files: list[Path], source_root: Path, args: argparse.Namespace,
                 scratch: Path) -> dict[str, Any]:
    root = scratch / name / "posts"
    for path in source_files:
        target = root / path.relative_to(source_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    settings = Settings(index_dir=str(scratch / name / "index"), cache_dir=str(scratch / "jieba"), workers=2)
    started = time.monotonic()
    reindex(settings, root)
    log(f"{name}: {len(source_files)} files indexed in {time.monotonic() - started:.1f} s")
    _, ix = IndexStore(settings).open()
    existing = [root / doc_id for doc_id in sorted(indexed_state(ix))[:30]]     # articles the index holds
    report: dict[str, Any] = {"folder": name, "files": len(source_files), "machine": {"before": machine_load()}}
    run = Run(settings, root)
    try:
        indexed_s, searchable_s, kinds = [], [], []
        for i in range(args.saves):
            before = len(run.updates)
            t0 = time.monotonic()
            kind, word = save(root, i, existing)
            found = run.wait_total(word, 1)
            deadline = time.monotonic() + LIMIT_S
            while len(run.updates) == before and time.monotonic() < deadline:
                time.sleep(POLL_S)
            indexed_s.append(run.updates[before][0] - t0)
            searchable_s.append(found - t0)
            kinds.append(kind)
            time.sleep(0.3)                   # a person saves now and then, not in a burst
        report["saves"] = {
            "n": args.saves, "kinds": {k: kinds.count(k) for k in set(kinds)},
            "indexed_s": summary(indexed_s), "searchable_s": summary(searchable_s),
            "within_target": sum(s <= TARGET_S for s in searchable_s),
        }
        log(f"{name}: {args.saves} saves, searchable after median {report['saves']['searchable_s']['median']} s, "
            f"worst {report['saves']['searchable_s']['max']} s")
        before = len(run.updates)
        t0 = time.monotonic()
        for i in range(args.burst):
            folder = root / "bench-burst" / f"{i // 100:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"b{i:04d}.md").write_text(
                article(f"批次 {i}", f"批量寫入的第 {i} 篇，共同關鍵字 zburstmark，編號 {i * 37 % 1000}。"),
                encoding="utf-8")
        written = time.monotonic() - t0
        done = run.wait_total("zburstmark", args.burst) - t0
        time.sleep(1.0)
        batches = [s for _, s in run.updates[before:]]
        report["burst"] = {
            "files": args.burst, "write_s": round(written, 2), "all_searchable_s": round(done, 2),
            "batches": len(batches), "batch_sizes": [s.indexed + s.updated for s in batches],
            "batch_seconds": [round(s.seconds, 2) for s in batches], "full_rebuilds": sum(s.full for s in batches),
        }
        log(f"{name}: burst of {args.burst} searchable after {done:.2f} s in {len(batches)} batches")
    finally:
        run.close()
    report["machine"]["after"] = machine_load()
    return report


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "p90": round(percentile(values, 90), 3),
            "max": round(max(values), 3), "min": round(min(values), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=50)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--slice", type=int, default=2000, help="corpus posts to copy (0 = demo articles only)")
    parser.add_argument("--corpus", default="corpus", choices=CORPUS_NAMES)
    parser.add_argument("--json-out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="sou-watch-bench-"))
    reports = []
    try:
        examples = REPO_ROOT / "examples" / "articles"
        reports.append(bench_folder("demo", sorted(examples.rglob("*.md")), examples, args, scratch))
        if args.slice:
            posts = find_corpus(args.corpus)
            reports.append(bench_folder(f"{args.corpus}-{args.slice}", corpus_paths(posts, args.slice), posts,
                                        args, scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out = {"benchmark": "watch_bench", "target_s": TARGET_S, "runs": reports}
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
    dump_json(out)
    print_table([{
        "folder": r["folder"], "files": r["files"], "saves": r["saves"]["n"],
        "indexed p50 s": r["saves"]["indexed_s"]["median"], "searchable p50 s": r["saves"]["searchable_s"]["median"],
        "searchable max s": r["saves"]["searchable_s"]["max"], f"<= {TARGET_S:g} s": r["saves"]["within_target"],
        "burst": r["burst"]["files"], "burst s": r["burst"]["all_searchable_s"], "batches": r["burst"]["batches"],
        "rebuilds": r["burst"]["full_rebuilds"], "load": r["machine"]["before"]["loadavg"][0],
    } for r in reports], ["folder", "files", "saves", "indexed p50 s", "searchable p50 s", "searchable max s",
                          f"<= {TARGET_S:g} s", "burst", "burst s", "batches", "rebuilds", "load"],
        title="save -> searchable while watching")
    log(f"saved {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
