"""`make eval`: relevance of sou on the judged dev queries of both shared corpora.

Builds (or reuses, when up to date) an index of each whole corpus, runs every dev topic through
the same Engine.search the web uses (top 100), writes the TREC runs and prints nDCG@10, MRR@10,
P@10, Recall@100 and judged@10, overall and per query type.

    python bench/eval_dev.py [--corpus corpus|corpus_zh|both] [--json] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from search import Settings
from search.cli import run_topic
from search.engine import Engine
from search.errors import SouError
from search.evaluation import evaluate, format_run, load_groups, load_qrels, load_topics, unjudged_top10
from search.indexer import reindex

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EVAL_DIRS = {"corpus": "eval", "corpus_zh": "eval_zh"}


def corpus_posts(name: str) -> Path:
    from bench.common import find_corpus

    return find_corpus(name)


def ensure_index(name: str, cache: Path, rebuild: bool) -> Settings:
    settings = Settings.load({"index_dir": str(cache / f"index-{name}")})
    posts = corpus_posts(name)
    if rebuild:
        summary = reindex(settings, posts, full=True)
        print(f"[{name}] rebuilt: {summary.documents} documents in {summary.seconds:.0f} s", file=sys.stderr)
        return settings
    try:
        Engine.open(settings).close()
        print(f"[{name}] reusing {settings.index_dir}", file=sys.stderr)
    except SouError:
        summary = reindex(settings, posts)
        print(f"[{name}] indexed: {summary.documents} documents in {summary.seconds:.0f} s", file=sys.stderr)
    return settings


def evaluate_corpus(name: str, settings: Settings, out_dir: Path) -> dict:
    eval_dir = SHARED / EVAL_DIRS[name]
    topics = load_topics(eval_dir / "dev_topics.tsv")
    qrels = load_qrels(eval_dir / "dev_qrels.tsv")
    groups = load_groups(eval_dir / "groups.tsv")
    engine = Engine.open(settings)
    runs: dict[str, list[str]] = {}
    lines: list[str] = []
    for topic in topics:
        ranked = run_topic(engine, topic.query)
        runs[topic.qid] = [doc for doc, _ in ranked]
        lines += format_run(topic.qid, ranked, "sou")
    out_dir.mkdir(parents=True, exist_ok=True)
    run_path = out_dir / f"run-{name}.txt"
    run_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = evaluate(runs, qrels, groups, topics)
    print(f"\n== {name} (dev, {len(topics)} queries) — run written to {run_path}")
    print(report.table())
    unjudged = unjudged_top10(runs, qrels, groups)
    data = report.to_dict()
    data["unjudged_top10"] = unjudged
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=["corpus", "corpus_zh", "both"], default="both")
    parser.add_argument("--cache", default="/tmp/sou-bench", help="where indexes and runs are kept")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the indexes from scratch")
    parser.add_argument("--json", action="store_true", help="also print the reports as JSON")
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(f"no shared evaluation data at {SHARED}", file=sys.stderr)
        return 2
    names = ["corpus", "corpus_zh"] if args.corpus == "both" else [args.corpus]
    cache = Path(args.cache)
    reports = {}
    for name in names:
        settings = ensure_index(name, cache, args.rebuild)
        reports[name] = evaluate_corpus(name, settings, cache / "runs")
    if args.json:
        print(json.dumps(reports, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
