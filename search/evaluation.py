"""Relevance scorer for the shared dev sets (``shared/eval``, ``shared/eval_zh``).

The project's README defines the metrics and they differ from ``trec_eval`` on purpose: a
revision of an article already shown earns nothing (the *group rule*), and the ideal ranking
has one entry per judged group.  This module implements those definitions exactly so that
numbers reported during development match the ones the hidden set is scored with.

It is pure standard library and imports nothing else from ``sou``: the scorer must stay
trustworthy while the engine changes, and a run file written by any engine can be scored.

Doc ids contain spaces (single and, in the second corpus, double ones), so every reader here
splits from both ends and never collapses whitespace inside an id.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CUTOFF",
    "MAX_RESULTS",
    "METRICS",
    "METRIC_LABELS",
    "UNKNOWN_TYPE",
    "EvalReport",
    "QueryScore",
    "Topic",
    "evaluate",
    "format_run",
    "gain",
    "load_groups",
    "load_qrels",
    "load_topics",
    "main",
    "read_run",
    "score_ranking",
    "unjudged_top10",
]

#: Only this many results per query are read from a run (and Recall@100 looks no deeper).
MAX_RESULTS = 100
#: Depth of nDCG, MRR, P and judged.
CUTOFF = 10
#: Type given to a query whose topic is not known, so it still shows up in the per-type table.
UNKNOWN_TYPE = "unknown"

#: Metric keys, in the order they are reported.
METRICS: tuple[str, ...] = ("ndcg10", "mrr10", "p10", "recall100", "judged10")
METRIC_LABELS: dict[str, str] = {
    "ndcg10": "nDCG@10",
    "mrr10": "MRR@10",
    "p10": "P@10",
    "recall100": "R@100",
    "judged10": "judged@10",
}

PathLike = str | os.PathLike[str]


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Topic:
    """One query of ``dev_topics.tsv``; ``target`` is only set for ``known_item`` queries."""

    qid: str
    type: str
    query: str
    description: str
    target: str = ""


@dataclass(frozen=True)
class QueryScore:
    """The README's five numbers for one query; all 0.0 when the run has nothing for it."""

    ndcg10: float = 0.0
    mrr10: float = 0.0
    p10: float = 0.0
    recall100: float = 0.0
    judged10: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in METRICS}


@dataclass
class EvalReport:
    """Scores of one run: per query, averaged over every judged query, and per query type.

    ``query_types`` is kept so the table can show how many queries each average rests on
    (the dev sets have 1-4 queries per type, and such averages are noisy).
    """

    per_query: dict[str, QueryScore]
    overall: dict[str, float]
    by_type: dict[str, dict[str, float]]
    query_types: dict[str, str] = field(default_factory=dict)

    def type_counts(self) -> dict[str, int]:
        counts = {qtype: 0 for qtype in self.by_type}
        for qid in self.per_query:
            qtype = self.query_types.get(qid, UNKNOWN_TYPE)
            counts[qtype] = counts.get(qtype, 0) + 1
        return counts

    def to_dict(self) -> dict[str, object]:
        """JSON-ready; rounded to 4 places because more digits only suggest false precision."""
        counts = self.type_counts()
        return {
            "overall": {"n": len(self.per_query), **_rounded(self.overall)},
            "by_type": {
                qtype: {"n": counts.get(qtype, 0), **_rounded(means)}
                for qtype, means in self.by_type.items()
            },
            "per_query": {
                qid: {"type": self.query_types.get(qid, UNKNOWN_TYPE), **_rounded(score.as_dict())}
                for qid, score in self.per_query.items()
            },
        }

    def table(self) -> str:
        """Fixed-width text, one row per type and a final "all" row, for a terminal or a note."""
        counts = self.type_counts()
        rows: list[tuple[str, int, dict[str, float]]] = [
            (qtype, counts.get(qtype, 0), means) for qtype, means in self.by_type.items()
        ]
        rows.append(("all", len(self.per_query), self.overall))
        name_width = max([len("type"), *(len(name) for name, _, _ in rows)])
        widths = [max(len(METRIC_LABELS[m]), 6) for m in METRICS]
        header = f"{'type':<{name_width}}  {'n':>3}  " + "  ".join(
            f"{METRIC_LABELS[m]:>{w}}" for m, w in zip(METRICS, widths, strict=True)
        )
        lines = [header, "-" * len(header)]
        for index, (name, n, means) in enumerate(rows):
            if index == len(rows) - 1 and len(rows) > 1:
                lines.append("-" * len(header))
            cells = "  ".join(
                f"{means.get(m, 0.0):>{w}.4f}" for m, w in zip(METRICS, widths, strict=True)
            )
            lines.append(f"{name:<{name_width}}  {n:>3}  {cells}")
        return "\n".join(lines)


def _rounded(values: Mapping[str, float]) -> dict[str, float]:
    return {key: round(value, 4) for key, value in values.items()}


# --------------------------------------------------------------------------- readers


def _lines(source: PathLike | Iterable[str]) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` without the line ending, skipping blank lines.

    Files are split on ``\\n`` only (not on the other characters ``str.splitlines`` treats as
    line breaks), so an exotic character inside a doc id can never cut a line in two; a
    trailing ``\\r`` from a Windows-edited file is dropped, and so is a UTF-8 BOM.
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, encoding="utf-8-sig", newline="\n") as handle:
            yield from _numbered(handle)
    else:
        yield from _numbered(source)


def _numbered(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if line.strip():
            yield number, line


def load_topics(path: PathLike | Iterable[str]) -> list[Topic]:
    """Read ``qid<TAB>type<TAB>query<TAB>description[<TAB>target]``.

    The trailing target column is empty for most queries and editors tend to strip a trailing
    tab, so a missing fifth column is accepted as an empty target.
    """
    topics: list[Topic] = []
    for number, line in _lines(path):
        fields = line.split("\t")
        if not 4 <= len(fields) <= 5:
            raise ValueError(
                f"topics line {number}: expected 4 or 5 tab-separated fields, got {len(fields)}"
            )
        qid, qtype, query, description = fields[:4]
        target = fields[4].strip() if len(fields) == 5 else ""
        topics.append(Topic(qid.strip(), qtype.strip(), query, description, target))
    return topics


def load_qrels(path: PathLike | Iterable[str]) -> dict[str, dict[str, int]]:
    """Read TREC qrels ``qid iter docid grade`` where docid may contain (double) spaces.

    The id is everything between the second field and the last one, taken verbatim.  If a doc
    is listed twice for a query the higher grade wins, matching "the max over the group's docs".
    """
    qrels: dict[str, dict[str, int]] = {}
    for number, line in _lines(path):
        head = line.split(" ", 2)
        if len(head) != 3:
            raise ValueError(f"qrels line {number}: expected 'qid iter docid grade': {line!r}")
        qid, _iteration, rest = head
        docid, sep, grade_text = rest.rpartition(" ")
        if not sep or not docid:
            raise ValueError(f"qrels line {number}: expected 'qid iter docid grade': {line!r}")
        try:
            grade = int(grade_text)
        except ValueError:
            message = f"qrels line {number}: grade is not an integer: {grade_text!r}"
            raise ValueError(message) from None
        judged = qrels.setdefault(qid, {})
        judged[docid] = max(grade, judged.get(docid, grade))
    return qrels


def load_groups(path: PathLike | Iterable[str]) -> dict[str, str]:
    """Read ``docid<TAB>group``; the ids are taken verbatim because a space may be significant."""
    groups: dict[str, str] = {}
    for number, line in _lines(path):
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0] or not fields[1]:
            raise ValueError(f"groups line {number}: expected 'docid<TAB>group': {line!r}")
        groups[fields[0]] = fields[1]
    return groups


def read_run(path_or_lines: PathLike | Iterable[str]) -> dict[str, list[str]]:
    """Read a TREC run into ``qid -> docids``, best first, as the README says it is read.

    Order is score descending, then rank ascending, then line order, so a run whose scores and
    ranks disagree is still read deterministically.  A repeated docid keeps only its best
    position (it would otherwise take two rank slots for one document), and only the first
    ``MAX_RESULTS`` of the resulting ranking are kept.
    """
    entries: dict[str, list[tuple[float, int, int, str]]] = {}
    for number, line in _lines(path_or_lines):
        head = line.split(" ", 2)
        tail = head[2].rsplit(" ", 3) if len(head) == 3 else []
        if len(tail) != 4:
            raise ValueError(f"run line {number}: expected 'qid Q0 docid rank score tag': {line!r}")
        qid = head[0]
        docid, rank_text, score_text, _tag = tail
        try:
            rank = int(rank_text)
            score = float(score_text)
        except ValueError:
            message = f"run line {number}: rank or score is not a number: {line!r}"
            raise ValueError(message) from None
        if math.isnan(score):
            raise ValueError(f"run line {number}: score is NaN: {line!r}")
        # Negating the score lets one ascending sort apply all three keys.
        entries.setdefault(qid, []).append((-score, rank, number, docid))

    runs: dict[str, list[str]] = {}
    for qid, rows in entries.items():
        rows.sort()
        ranking: list[str] = []
        seen: set[str] = set()
        for _neg_score, _rank, _number, docid in rows:
            if docid in seen:
                continue
            seen.add(docid)
            ranking.append(docid)
            if len(ranking) == MAX_RESULTS:
                break
        runs[qid] = ranking
    return runs


def format_run(qid: str, ranked: Sequence[tuple[str, float]], tag: str) -> list[str]:
    """Write one query's ranking so that ``read_run`` gives back exactly the order given.

    The reader sorts by score first, so an engine whose scores are not monotone in its own
    order (re-ranking, boosts applied after scoring) would be silently reordered.  Scores are
    therefore clamped to be non-increasing; ranks 1..n then break the remaining ties.  Rounding
    to six decimals is monotone, so it cannot reorder anything either.
    """
    for label, value in (("qid", qid), ("tag", tag)):
        if not value or any(ch.isspace() for ch in value):
            raise ValueError(f"{label} must be one non-empty word: {value!r}")
    lines: list[str] = []
    ceiling = math.inf
    for rank, (docid, score) in enumerate(ranked, start=1):
        if not docid or any(ch in docid for ch in "\t\n\r"):
            raise ValueError(f"doc id cannot be written to a run file: {docid!r}")
        if math.isnan(score):
            raise ValueError(f"score of {docid!r} is NaN")
        ceiling = min(ceiling, float(score))
        lines.append(f"{qid} Q0 {docid} {rank} {ceiling:.6f} {tag}")
    return lines


# --------------------------------------------------------------------------- metrics


def gain(grade: int) -> float:
    """0 / 1 / 3 for grades 0 / 1 / 2 (i.e. 2**grade - 1, so a grade 2 is worth three 1s)."""
    return float(2**grade - 1) if grade > 0 else 0.0


def _group_of(docid: str, groups: Mapping[str, str]) -> str:
    """A doc missing from ``groups.tsv`` is its own group, so it can never merge with another."""
    return groups.get(docid, docid)


def _group_grades(judged: Mapping[str, int], groups: Mapping[str, str]) -> dict[str, int]:
    """Judgments are per group; a group's grade is the max over its judged docs.

    The max matters in the second corpus, where stub members of a relevant group are listed
    with grade 0 but the group itself is relevant.
    """
    grades: dict[str, int] = {}
    for docid, grade in judged.items():
        group = _group_of(docid, groups)
        grades[group] = max(grade, grades.get(group, grade))
    return grades


def _dcg(grades: Iterable[int]) -> float:
    return sum(
        gain(grade) / math.log2(position + 1) for position, grade in enumerate(grades, start=1)
    )


def score_ranking(
    ranking: Sequence[str], judged: Mapping[str, int], groups: Mapping[str, str]
) -> QueryScore:
    """Score one query with the group rule: a second revision of a shown group earns nothing.

    The ranking is cut at ``MAX_RESULTS`` and repeated docids are dropped here too, so the
    scores are the README's even for a ranking that did not come from ``read_run``.
    """
    group_grades = _group_grades(judged, groups)
    relevant = {group for group, grade in group_grades.items() if grade >= 1}

    effective: list[int] = []      # effective grade per position
    judged_flags: list[bool] = []  # group has any judgment, per position
    seen_docs: set[str] = set()
    seen_groups: set[str] = set()
    found: set[str] = set()        # relevant groups retrieved within MAX_RESULTS
    for docid in ranking:
        if docid in seen_docs:
            continue
        seen_docs.add(docid)
        group = _group_of(docid, groups)
        judged_flags.append(group in group_grades)
        effective.append(0 if group in seen_groups else group_grades.get(group, 0))
        seen_groups.add(group)
        if group in relevant:
            found.add(group)
        if len(effective) == MAX_RESULTS:
            break

    top = effective[:CUTOFF]
    ideal = _dcg(sorted(group_grades.values(), reverse=True)[:CUTOFF])
    ndcg = _dcg(top) / ideal if relevant and ideal > 0 else 0.0
    mrr = next((1.0 / position for position, grade in enumerate(top, start=1) if grade >= 1), 0.0)
    precision = sum(1 for grade in top if grade >= 1) / CUTOFF
    recall = len(found) / len(relevant) if relevant else 0.0
    judged_share = sum(judged_flags[:CUTOFF]) / CUTOFF
    return QueryScore(ndcg, mrr, precision, recall, judged_share)


def _mean(scores: Sequence[QueryScore]) -> dict[str, float]:
    if not scores:
        return {name: 0.0 for name in METRICS}
    return {name: sum(getattr(s, name) for s in scores) / len(scores) for name in METRICS}


def evaluate(
    runs: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Mapping[str, int]],
    groups: Mapping[str, str],
    topics: Sequence[Topic] | None = None,
) -> EvalReport:
    """Score a run over every query of the qrels.

    Averaging over the qrels (not over the run) means an engine cannot raise its mean by
    returning nothing for hard queries; queries the run has but the qrels lack are ignored.
    Types come in the order the topics list them, then ``unknown`` for untyped queries.
    """
    type_of = {topic.qid: topic.type for topic in topics or ()}
    per_query = {
        qid: score_ranking(runs.get(qid, []), judged, groups) for qid, judged in qrels.items()
    }
    query_types = {qid: type_of.get(qid, UNKNOWN_TYPE) for qid in per_query}

    order = list(dict.fromkeys(topic.type for topic in topics or () if topic.qid in per_query))
    if UNKNOWN_TYPE in query_types.values() and UNKNOWN_TYPE not in order:
        order.append(UNKNOWN_TYPE)
    by_type = {
        qtype: _mean([score for qid, score in per_query.items() if query_types[qid] == qtype])
        for qtype in order
    }
    return EvalReport(per_query, _mean(list(per_query.values())), by_type, query_types)


def unjudged_top10(
    runs: Mapping[str, Sequence[str]],
    qrels: Mapping[str, Mapping[str, int]],
    groups: Mapping[str, str],
) -> dict[str, list[str]]:
    """Top-10 docs whose group nobody judged, per query: the list to send back for judging.

    Unjudged docs count as not relevant, so a good engine that leaves the baselines' pool is
    under-scored until these are judged.  Only queries of the qrels with at least one such doc
    are returned.
    """
    result: dict[str, list[str]] = {}
    for qid, judged in qrels.items():
        judged_groups = set(_group_grades(judged, groups))
        top = list(dict.fromkeys(runs.get(qid, [])))[:CUTOFF]
        missing = [docid for docid in top if _group_of(docid, groups) not in judged_groups]
        if missing:
            result[qid] = missing
    return result


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m search.evaluation --qrels Q --groups G [--topics T] RUN [--json]``."""
    parser = argparse.ArgumentParser(
        prog="python -m search.evaluation",
        description="Score a TREC run with the group-aware metrics of shared/eval/README.md.",
    )
    parser.add_argument("--qrels", required=True, type=Path, help="dev_qrels.tsv")
    parser.add_argument("--groups", required=True, type=Path, help="groups.tsv")
    parser.add_argument("--topics", type=Path, help="dev_topics.tsv (for per-type averages)")
    parser.add_argument("run", type=Path, help="run file: qid Q0 docid rank score tag")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    try:
        qrels = load_qrels(args.qrels)
        groups = load_groups(args.groups)
        topics = load_topics(args.topics) if args.topics else None
        runs = read_run(args.run)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    report = evaluate(runs, qrels, groups, topics)
    unjudged = unjudged_top10(runs, qrels, groups)
    if args.json:
        payload = report.to_dict()
        payload["unjudged_top10"] = unjudged
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(report.table())
        count = sum(len(docs) for docs in unjudged.values())
        if count:
            print(f"\n{count} top-10 results over {len(unjudged)} queries are unjudged "
                  "(use --json to list them).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
