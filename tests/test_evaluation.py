"""The scorer is the yardstick for every ranking change, so it is pinned to the README's own
worked example and to each parsing rule that a naive reader gets wrong (spaces in doc ids,
ties, duplicates, the 100-result cut)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest
from helpers import SHARED

from search.evaluation import (
    METRICS,
    EvalReport,
    QueryScore,
    Topic,
    evaluate,
    format_run,
    gain,
    load_groups,
    load_qrels,
    load_topics,
    main,
    read_run,
    score_ranking,
    unjudged_top10,
)

# The README's worked example: A = {a1, a2} grade 2, B = {b} grade 1, C = {c} grade 0,
# D = {d} grade 2; ranking a1, a2, c, b, z (z unjudged).
EXAMPLE_QRELS = {"a1": 2, "a2": 2, "b": 1, "c": 0, "d": 2}
EXAMPLE_GROUPS = {"a1": "g:A", "a2": "g:A", "b": "g:B", "c": "g:C", "d": "g:D"}
EXAMPLE_RANKING = ["a1", "a2", "c", "b", "z"]


def run_lines(qid: str, docids: list[str], tag: str = "t") -> list[str]:
    """Consistent run lines: rank i, score decreasing with i."""
    return [f"{qid} Q0 {doc} {i} {1000 - i} {tag}" for i, doc in enumerate(docids, start=1)]


# --------------------------------------------------------------------------- worked example


def test_readme_worked_example() -> None:
    score = score_ranking(EXAMPLE_RANKING, EXAMPLE_QRELS, EXAMPLE_GROUPS)
    dcg = 3 / math.log2(2) + 1 / math.log2(5)
    idcg = 3 / math.log2(2) + 3 / math.log2(3) + 1 / math.log2(4)
    assert round(dcg, 5) == 3.43068
    assert round(idcg, 5) == 5.39279
    assert round(score.ndcg10, 5) == 0.63616
    assert score.ndcg10 == pytest.approx(dcg / idcg)
    assert score.mrr10 == 1.0
    assert score.p10 == pytest.approx(0.2)
    assert score.recall100 == pytest.approx(2 / 3)
    assert score.judged10 == pytest.approx(0.4)


def test_worked_example_through_the_file_readers() -> None:
    qrels = load_qrels([f"q1 0 {doc} {grade}\n" for doc, grade in EXAMPLE_QRELS.items()])
    groups = load_groups([f"{doc}\t{group}\n" for doc, group in EXAMPLE_GROUPS.items()])
    runs = read_run(run_lines("q1", EXAMPLE_RANKING))
    report = evaluate(runs, qrels, groups, None)
    assert round(report.overall["ndcg10"], 5) == 0.63616
    assert report.overall["recall100"] == pytest.approx(2 / 3)
    assert report.by_type == {"unknown": report.overall}


def test_docs_missing_from_groups_are_their_own_group() -> None:
    only_a = {"a1": "g:A", "a2": "g:A"}
    score = score_ranking(EXAMPLE_RANKING, EXAMPLE_QRELS, only_a)
    assert score == score_ranking(EXAMPLE_RANKING, EXAMPLE_QRELS, EXAMPLE_GROUPS)
    # With no groups at all a2 is new information, so it earns its grade.
    assert score_ranking(EXAMPLE_RANKING, EXAMPLE_QRELS, {}).p10 == pytest.approx(0.3)


def test_gains() -> None:
    assert [gain(g) for g in (0, 1, 2)] == [0.0, 1.0, 3.0]


def test_group_grade_is_the_max_over_its_docs() -> None:
    # A stub member listed with grade 0 does not make its relevant group irrelevant.
    qrels = {"full": 2, "stub": 0}
    groups = {"stub": "g:x", "full": "g:x"}
    score = score_ranking(["stub"], qrels, groups)
    assert score.ndcg10 == pytest.approx(1.0)
    assert score.recall100 == 1.0


def test_revision_of_a_shown_group_takes_a_rank_but_earns_nothing() -> None:
    # a2 itself is not in the qrels, but its group is: it counts as judged.
    qrels = {"a1": 2, "b": 2}
    groups = {"a1": "g:A", "a2": "g:A"}
    score = score_ranking(["a1", "a2", "b"], qrels, groups)
    assert score.p10 == pytest.approx(0.2)
    idcg = 3 + 3 / math.log2(3)
    assert score.ndcg10 == pytest.approx((3 + 3 / math.log2(4)) / idcg)
    assert score.judged10 == pytest.approx(0.3)


# --------------------------------------------------------------------------- parsing


def test_doc_ids_with_single_and_double_spaces() -> None:
    spaced = "Hexo post ｜ 光復香港 時代革命？ 🎉.md"
    double = "Doonsec's feed  某 标题.md"
    single = "Doonsec's feed 某 标题.md"
    qrels = load_qrels(
        [
            f"q1 0 {spaced} 2\n",
            f"q1 0 {double} 1\n",
            "q1 0 article_1.md 0\r\n",
        ]
    )
    assert qrels == {"q1": {spaced: 2, double: 1, "article_1.md": 0}}
    runs = read_run(
        [
            f"q1 Q0 {single} 1 9.5 tag\n",
            f"q1 Q0 {double} 2 9.0 tag\n",
            f"q1 Q0 {spaced} 3 8.5 tag\n",
        ]
    )
    assert runs == {"q1": [single, double, spaced]}
    score = score_ranking(runs["q1"], qrels["q1"], {})
    # The single-space twin is a different (unjudged) doc: relevant docs sit at ranks 2 and 3.
    assert score.mrr10 == pytest.approx(0.5)
    assert score.judged10 == pytest.approx(0.2)
    assert score.recall100 == 1.0


def test_groups_and_topics_readers() -> None:
    groups = load_groups(["a b  c.md\tg:a b  c.md\n", "article_2.md\tg:article_1.md\n"])
    assert groups == {"a b  c.md": "g:a b  c.md", "article_2.md": "g:article_1.md"}
    topics = load_topics(
        [
            "q01\ttopic_trad\t強積金 對沖\tMPF offsetting.\t\n",
            "q02\tknown_item\t一篇文章\tOne article.\tarticle_7.md\n",
            "q03\tphrase\t\"黃色經濟圈\"\tYellow economic circle.\n",
        ]
    )
    assert topics == [
        Topic("q01", "topic_trad", "強積金 對沖", "MPF offsetting.", ""),
        Topic("q02", "known_item", "一篇文章", "One article.", "article_7.md"),
        Topic("q03", "phrase", '"黃色經濟圈"', "Yellow economic circle.", ""),
    ]


def test_malformed_lines_are_reported_with_their_line_number() -> None:
    with pytest.raises(ValueError, match="run line 2"):
        read_run(["q1 Q0 a 1 1.0 t\n", "q1 Q0 a 1.0 t\n"])
    with pytest.raises(ValueError, match="run line 1"):
        read_run(["q1 Q0 a one 1.0 t\n"])
    with pytest.raises(ValueError, match="qrels line 1"):
        load_qrels(["q1 0 a two\n"])


def test_ties_broken_by_rank_then_line_order() -> None:
    runs = read_run(
        [
            "q1 Q0 low 1 1.0 t",
            "q1 Q0 tie-rank3 3 5.0 t",
            "q1 Q0 tie-rank2-first 2 5.0 t",
            "q1 Q0 tie-rank2-second 2 5.0 t",
            "q1 Q0 best 9 7.5 t",
        ]
    )
    # Score first (even against the rank column), then rank, then line order.
    assert runs["q1"] == ["best", "tie-rank2-first", "tie-rank2-second", "tie-rank3", "low"]


def test_scores_compare_as_numbers_not_strings() -> None:
    runs = read_run(["q1 Q0 small 1 9.5 t", "q1 Q0 big 2 10.25 t", "q1 Q0 neg 3 -1e3 t"])
    assert runs["q1"] == ["big", "small", "neg"]


def test_duplicate_docids_keep_their_best_occurrence() -> None:
    runs = read_run(
        [
            "q1 Q0 x 1 10 t",
            "q1 Q0 dup 2 9 t",
            "q1 Q0 dup 3 8 t",
            "q1 Q0 rel 4 7 t",
            "q1 Q0 late 5 1 t",
            "q1 Q0 late 6 7.5 t",
        ]
    )
    assert runs["q1"] == ["x", "dup", "late", "rel"]
    # The repeat does not take a rank position: "rel" is 4th, not 5th.
    assert score_ranking(runs["q1"], {"rel": 1}, {}).mrr10 == pytest.approx(1 / 4)
    # score_ranking applies the same rule to a ranking that did not come from read_run.
    assert score_ranking(["x", "x", "rel"], {"rel": 1}, {}).mrr10 == pytest.approx(1 / 2)


def test_run_is_read_per_query() -> None:
    runs = read_run(["q2 Q0 b 1 3 t", "q1 Q0 a 1 3 t", "q2 Q0 c 2 2 t"])
    assert runs == {"q2": ["b", "c"], "q1": ["a"]}


# --------------------------------------------------------------------------- metrics edge cases


def test_missing_query_scores_zero_but_counts_in_the_mean() -> None:
    qrels = {"q1": {"a": 2}, "q2": {"b": 2}}
    runs = {"q1": ["a"], "q3": ["b"]}  # q3 is not in the qrels: ignored
    report = evaluate(runs, qrels, {}, None)
    assert report.per_query["q2"] == QueryScore(0.0, 0.0, 0.0, 0.0, 0.0)
    assert set(report.per_query) == {"q1", "q2"}
    assert report.overall["ndcg10"] == pytest.approx(0.5)
    assert report.overall["mrr10"] == pytest.approx(0.5)
    assert report.overall["recall100"] == pytest.approx(0.5)
    assert report.overall["p10"] == pytest.approx(0.05)


def test_query_without_relevant_group_scores_zero() -> None:
    qrels = {"a": 0, "b": 0}
    score = score_ranking(["a", "b"], qrels, {})
    assert score.ndcg10 == 0.0
    assert score.mrr10 == 0.0
    assert score.p10 == 0.0
    assert score.recall100 == 0.0
    assert score.judged10 == pytest.approx(0.2)  # grade-0 judgments still count as judged


def test_precision_divides_by_ten_even_for_short_runs() -> None:
    score = score_ranking(["a"], {"a": 1}, {})
    assert score.p10 == pytest.approx(0.1)
    assert score.ndcg10 == pytest.approx(1.0)
    assert score.judged10 == pytest.approx(0.1)


def test_only_the_top_ten_count_for_the_at_10_metrics() -> None:
    ranking = [f"n{i}" for i in range(10)] + ["rel"]
    score = score_ranking(ranking, {"rel": 2}, {})
    assert (score.ndcg10, score.mrr10, score.p10) == (0.0, 0.0, 0.0)
    assert score.recall100 == 1.0


def test_recall_stops_at_100_results() -> None:
    filler = [f"article_{i}.md" for i in range(99)]
    at_100 = run_lines("q1", [*filler, "rel.md", "other.md"])
    at_101 = run_lines("q1", [*filler, "other.md", "rel.md"])
    qrels = {"rel.md": 1}
    assert len(read_run(at_100)["q1"]) == 100
    assert score_ranking(read_run(at_100)["q1"], qrels, {}).recall100 == 1.0
    assert score_ranking(read_run(at_101)["q1"], qrels, {}).recall100 == 0.0
    # score_ranking applies the cut itself as well.
    assert score_ranking([*filler, "other.md", "rel.md"], qrels, {}).recall100 == 0.0
    # Repeats are dropped before the cut, so they do not push a result out.
    with_repeat = run_lines("q1", [*filler[:50], filler[0], *filler[50:], "rel.md"])
    assert score_ranking(read_run(with_repeat)["q1"], qrels, {}).recall100 == 1.0


def test_per_type_averages() -> None:
    topics = [
        Topic("q1", "short", "貓", "cats", ""),
        Topic("q2", "english", "cats", "cats", ""),
        Topic("q3", "short", "狗", "dogs", ""),
    ]
    qrels = {"q1": {"a": 2}, "q2": {"b": 2}, "q3": {"c": 2}, "q4": {"d": 2}}
    runs = {"q1": ["a"], "q2": ["x", "b"], "q3": [], "q4": ["d"]}
    report = evaluate(runs, qrels, {}, topics)
    assert list(report.by_type) == ["short", "english", "unknown"]
    assert report.by_type["short"]["mrr10"] == pytest.approx(0.5)
    assert report.by_type["english"]["mrr10"] == pytest.approx(0.5)
    assert report.by_type["unknown"]["mrr10"] == pytest.approx(1.0)
    assert report.overall["mrr10"] == pytest.approx(2.5 / 4)
    assert report.type_counts() == {"short": 2, "english": 1, "unknown": 1}


def test_report_dict_and_table() -> None:
    topics = [Topic("q1", "short", "貓", "cats", "")]
    report = evaluate({"q1": EXAMPLE_RANKING}, {"q1": EXAMPLE_QRELS}, EXAMPLE_GROUPS, topics)
    data = report.to_dict()
    json.dumps(data)
    assert data["overall"] == {
        "n": 1, "ndcg10": 0.6362, "mrr10": 1.0, "p10": 0.2, "recall100": 0.6667, "judged10": 0.4,
    }
    assert data["by_type"]["short"]["n"] == 1
    assert data["per_query"]["q1"]["type"] == "short"
    table = report.table()
    lines = table.splitlines()
    assert lines[0].split() == ["type", "n", "nDCG@10", "MRR@10", "P@10", "R@100", "judged@10"]
    assert lines[-1].split() == ["all", "1", "0.6362", "1.0000", "0.2000", "0.6667", "0.4000"]
    assert any(line.split()[:2] == ["short", "1"] for line in lines)
    assert len({len(line) for line in lines}) == 1  # fixed width


def test_empty_report() -> None:
    report = evaluate({}, {}, {}, None)
    assert report.overall == {name: 0.0 for name in METRICS}
    assert isinstance(report, EvalReport)
    assert "all" in report.table()


def test_unjudged_top10() -> None:
    qrels = {"q1": EXAMPLE_QRELS, "q2": {"x": 1}, "q3": {"y": 1}}
    groups = {**EXAMPLE_GROUPS, "a3": "g:A"}
    runs = {"q1": ["a1", "a3", "z", "c", *[f"n{i}" for i in range(10)]], "q2": ["x"]}
    # a3 is unjudged itself but its group is judged; only the top 10 are listed.
    assert unjudged_top10(runs, qrels, groups) == {
        "q1": ["z", *[f"n{i}" for i in range(6)]],
    }


# --------------------------------------------------------------------------- writing runs


def test_format_run_round_trip() -> None:
    ranked = [
        ("article_1.md", 12.5),
        ("Doonsec's feed  两个空格.md", 12.5),
        ("post with spaces ｜ emoji 🎉.md", 13.0),  # out of order: must not move up
        ("article_2.md", 3.25),
        ("article_3.md", 3.2500001),
        ("article_4.md", -math.inf),
    ]
    lines = format_run("q07", ranked, "sou")
    assert lines[0] == "q07 Q0 article_1.md 1 12.500000 sou"
    ranks = [int(line.rsplit(" ", 3)[1]) for line in lines]
    scores = [float(line.rsplit(" ", 3)[2]) for line in lines]
    assert ranks == list(range(1, len(ranked) + 1))
    assert all(a >= b for a, b in itertools.pairwise(scores))
    assert read_run(lines) == {"q07": [doc for doc, _ in ranked]}


def test_format_run_rejects_what_cannot_be_read_back() -> None:
    with pytest.raises(ValueError):
        format_run("q1", [("a\tb", 1.0)], "t")
    with pytest.raises(ValueError):
        format_run("q1", [("a", 1.0)], "two words")
    with pytest.raises(ValueError):
        format_run("q 1", [("a", 1.0)], "t")
    with pytest.raises(ValueError):
        format_run("q1", [("a", math.nan)], "t")


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("".join(f"q1 0 {d} {g}\n" for d, g in EXAMPLE_QRELS.items()), "utf-8")
    groups = tmp_path / "groups.tsv"
    groups.write_text("".join(f"{d}\t{g}\n" for d, g in EXAMPLE_GROUPS.items()), "utf-8")
    topics = tmp_path / "topics.tsv"
    topics.write_text("q1\tshort\t貓\tcats\t\n", "utf-8")
    run = tmp_path / "run.txt"
    run.write_text("\n".join(run_lines("q1", EXAMPLE_RANKING)) + "\n", "utf-8")
    base = ["--qrels", str(qrels), "--groups", str(groups), "--topics", str(topics), str(run)]

    assert main(base) == 0
    out = capsys.readouterr().out
    assert "0.6362" in out and "short" in out

    assert main([*base, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["overall"]["ndcg10"] == 0.6362
    assert data["unjudged_top10"] == {"q1": ["z"]}

    assert main(["--qrels", str(tmp_path / "missing"), "--groups", str(groups), str(run)]) == 2
    assert "error" in capsys.readouterr().err


# --------------------------------------------------------------------------- real dev sets


@pytest.mark.corpus
@pytest.mark.parametrize("folder", ["eval", "eval_zh"])
def test_shared_dev_set(tmp_path: Path, folder: str) -> None:
    """The shared judged dev sets load and hang together (their sizes change as judging goes
    on, so what is checked is their shape, not line counts)."""
    base = SHARED / folder
    if not (base / "dev_qrels.tsv").is_file():
        pytest.skip(f"shared evaluation data not found at {base} (set SOU_SHARED_DIR to the shared folder)")
    topics = load_topics(base / "dev_topics.tsv")
    qrels = load_qrels(base / "dev_qrels.tsv")
    groups = load_groups(base / "groups.tsv")

    qids = [topic.qid for topic in topics]
    assert topics and len(qids) == len(set(qids))
    assert qrels and set(qrels) <= set(qids)                  # every judged query is a dev topic
    assert all(grade in (0, 1, 2) for judged in qrels.values() for grade in judged.values())
    assert groups and all(doc in groups for judged in qrels.values() for doc in judged)
    for topic in topics:
        assert (topic.type == "known_item") == bool(topic.target)
        if topic.target:
            assert qrels[topic.qid][topic.target] == 2          # a known item is judged perfect

    # The ideal run: one doc per judged group, best grade first, written and read back as a
    # run file.  Its DCG is the IDCG by construction, so every query scores 1.0.
    lines: list[str] = []
    for qid, judged in qrels.items():
        best: dict[str, tuple[int, str]] = {}
        for doc, grade in judged.items():
            group = groups[doc]
            if group not in best or grade > best[group][0]:
                best[group] = (grade, doc)
        ordered = sorted(best.values(), key=lambda item: -item[0])
        lines += format_run(qid, [(doc, float(grade)) for grade, doc in ordered], "ideal")
    run_file = tmp_path / "ideal.txt"
    run_file.write_text("\n".join(lines) + "\n", "utf-8")
    report = evaluate(read_run(run_file), qrels, groups, topics)

    for qid, score in report.per_query.items():
        assert any(grade >= 1 for grade in qrels[qid].values()), qid
        assert score.ndcg10 == pytest.approx(1.0), qid
        assert score.mrr10 == 1.0, qid
        assert score.recall100 == 1.0, qid
        assert score.judged10 == pytest.approx(min(len(set(map(groups.get, qrels[qid]))), 10) / 10)
    assert set(report.by_type) == {topic.type for topic in topics}
    assert report.overall["ndcg10"] == pytest.approx(1.0)

    # The empty run scores 0 everywhere and still averages over every query.
    empty = evaluate({}, qrels, groups, topics)
    assert empty.overall == {name: 0.0 for name in METRICS}
    assert len(empty.per_query) == len(topics)
