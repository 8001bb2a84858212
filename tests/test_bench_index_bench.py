"""bench/index_bench.py: which figure each target is judged on, and how rounds are reduced."""

from __future__ import annotations

from bench.index_bench import fastest, target_values, targets_met


def _report(corpus: str, minutes: float, noop_updated: int = 0) -> dict:
    build = {"minutes": minutes, "rss_sum_mb": 550.0, "wall_s": minutes * 60}
    return {
        "corpus": corpus,
        "slice": {"speedup_vs_tantivy": 1.6, "ratio_docs_per_s": 2.5, "size": {"ratio": 1.9}},
        "full": {"build": build, "size": {"ratio": 2.4},
                 "noop": {"wall_s": 3.0, "updated": noop_updated}, "one_changed": {"wall_s": 1.0, "updated": 1}},
    }


def test_each_target_is_judged_on_its_figure():
    report = _report("corpus", minutes=2.5)
    values = target_values(report)
    assert values["slice_vs_tantivy_min"] == 1.6
    assert values["full_rss_sum_mb_max"] == 550.0
    met = targets_met(report)
    assert met["slice_vs_tantivy_min"] is True
    assert met["slice_vs_classic_min"] is False            # 2.5 < 3
    assert met["slice_index_ratio_max"] is True
    assert met["full_index_ratio_max"] is False            # 2.4 > 2.0
    assert met["full_minutes_max"] is True
    assert met["full_rss_sum_mb_max"] is True
    assert met["noop_s_max"] is True and met["one_changed_s_max"] is True


def test_the_minutes_target_is_the_49k_corpus_one_and_a_noop_must_write_nothing():
    met = targets_met(_report("corpus_zh", minutes=5.0, noop_updated=3))
    assert met["full_minutes_max"] is None
    assert met["noop_s_max"] is False


def test_skipped_steps_leave_their_targets_open():
    met = targets_met({"corpus": "corpus", "slice": {"size": {"ratio": 5.2}}})
    assert met["slice_index_ratio_max"] is False
    assert met["slice_vs_tantivy_min"] is None
    assert met["full_minutes_max"] is None


def test_fastest_round_is_reported_with_every_round_beside_it():
    best = fastest([{"process_wall_s": 17.5, "cpu_s": 18.0}, {"process_wall_s": 12.25, "cpu_s": 17.0},
                    {"process_wall_s": 30.0, "cpu_s": 19.0}])
    assert best["process_wall_s"] == 12.25 and best["cpu_s"] == 17.0
    assert best["rounds_process_wall_s"] == [17.5, 12.25, 30.0]
