"""bench/segmenter_diff.py: how two segmentations of the same text are compared."""

from __future__ import annotations

from collections import Counter

from bench.segmenter_diff import compare, diff_regions, spans, word_differences


def test_spans_follow_the_words():
    assert spans(["南京市", "长江大桥"]) == [(0, 3), (3, 7)]


def test_one_disagreement_is_one_region_between_shared_boundaries():
    a = ["我们", "在", "南京市", "长江大桥", "上"]
    b = ["我们", "在", "南京", "市长", "江大桥", "上"]
    assert diff_regions(a, b) == [("南京市/长江大桥", "南京/市长/江大桥")]
    assert diff_regions(a, a) == []


def test_two_separate_disagreements_are_two_regions():
    a = ["佢", "哋", "今日", "嘅", "人"]
    b = ["佢哋", "今日", "嘅人"]
    assert diff_regions(a, b) == [("佢/哋", "佢哋"), ("嘅/人", "嘅人")]


def test_word_differences_by_position_and_by_multiset():
    a = ["研究", "生命", "研究"]
    b = ["研究生", "命", "研究"]
    # by position: 研究 (0-2) and 生命 (2-4) have no twin in b; the last 研究 has
    assert word_differences(a, b)[0] == 2
    # as multisets: one 研究 and 生命 are missing from b
    assert word_differences(a, b)[1] == 2
    assert word_differences(a, a) == (0, 0)


def test_compare_weights_runs_by_their_occurrences():
    base = {"南京市长江大桥": ["南京市", "长江大桥"], "今天": ["今天"]}
    other = {"南京市长江大桥": ["南京", "市长", "江大桥"], "今天": ["今天"]}
    res = compare(base, other, Counter({"南京市长江大桥": 1, "今天": 3}))
    assert res["distinct_runs"] == 2
    assert res["run_occurrences"] == 4
    assert res["runs_differ_pct"] == 25.0
    assert res["distinct_runs_differ_pct"] == 50.0
    assert res["jieba_words"] == 2 + 3
    assert res["words_differ_aligned_pct"] == 40.0   # both words of the one differing run
    assert res["top_differences"] == [{"jieba": "南京市/长江大桥", "other": "南京/市长/江大桥", "count": 1}]
    assert res["text_mismatch_runs"] == 0
