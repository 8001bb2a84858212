"""bench/projection.py: the fits behind README's projection to 1M posts."""

from __future__ import annotations

import math

import pytest

from bench.projection import Point, fit_linear, fit_nlogn, fit_power, parse_point, points_from_results, project


def test_linear_fit_recovers_a_constant_cost_per_post():
    ns = [2000, 49147, 81537, 130000]
    fit = fit_linear(ns, [3.0 + 0.006 * n for n in ns])
    assert fit.a == pytest.approx(3.0)
    assert fit.b == pytest.approx(0.006)
    assert fit.at(1_000_000) == pytest.approx(6003.0)
    assert fit.max_rel_residual == pytest.approx(0.0, abs=1e-9)


def test_nlogn_fit_recovers_sorting_growth_and_linear_fit_shows_its_misfit():
    ns = [2000, 49147, 81537, 130000]
    ys = [0.0001 * n * math.log(n) for n in ns]
    nlogn = fit_nlogn(ns, ys)
    assert nlogn.b == pytest.approx(0.0001)
    assert nlogn.at(1_000_000) == pytest.approx(0.0001 * 1e6 * math.log(1e6), rel=1e-6)
    linear = fit_linear(ns, ys)
    assert linear.max_rel_residual > 0.05           # a straight line does not go through them
    assert linear.at(1_000_000) < nlogn.at(1_000_000)


def test_power_fit_gives_the_growth_exponent():
    ns = [2000, 49147, 130000]
    fit = fit_power(ns, [5.0 * n ** 0.75 for n in ns])
    assert fit.b == pytest.approx(0.75)
    assert fit.a == pytest.approx(5.0)
    with pytest.raises(ValueError):
        fit_power(ns, [1.0, 0.0, 2.0])


def test_project_skips_metrics_measured_at_one_size_only():
    points = [Point(2000, seconds=15.0, index_bytes=5e7, rss_mb=400),
              Point(49147, seconds=300.0, index_bytes=1.3e9),
              Point(2000, seconds=16.0, rss_mb=410)]
    proj = project(points, to=1_000_000)
    assert set(proj["seconds"]["fits"]) == {"linear", "nlogn", "power"}
    assert proj["seconds"]["points"] == 3
    assert proj["rss_mb"] == {"points": 2, "status": "needs points at two sizes at least"}
    assert "fits" not in proj["search_rss_mb"]
    assert proj["index_bytes"]["fits"]["linear"]["at_target"] > 1.3e9


def test_parse_point_reads_named_figures_and_rejects_unknown_ones():
    p = parse_point("posts=2000,seconds=15.3,index_bytes=5.1e7,rss_mb=400")
    assert (p.posts, p.seconds, p.index_bytes, p.rss_mb, p.search_rss_mb) == (2000, 15.3, 5.1e7, 400.0, None)
    with pytest.raises(ValueError, match="bad --point"):
        parse_point("posts=2000,minutes=3")
    with pytest.raises(ValueError, match="no posts"):
        parse_point("seconds=3")


def test_points_come_from_saved_reports_and_quick_runs_are_left_out():
    build = {"process_wall_s": 310.0, "index_bytes": 1.3e9, "rss_sum_mb": 4200.0}
    results = {
        "index_bench-corpus": {"benchmark": "index_bench", "quick": False,
                               "slice": {"posts": 2000, "sou": {"process_wall_s": 15.3, "index_bytes": 5e7,
                                                                "rss_sum_mb": 400.0}},
                               "full": {"posts": 49147, "limited": False, "build": build}},
        "index_bench-corpus-quick": {"benchmark": "index_bench", "quick": True,
                                     "slice": {"posts": 300, "sou": {"process_wall_s": 9.0}}},
        "combined_bench": {"benchmark": "combined_bench", "quick": False,
                           "point": {"posts": 130684, "seconds": 900.0, "index_bytes": 3.4e9, "rss_mb": 5000.0,
                                     "search_rss_mb": 380.0}},
    }
    points = points_from_results(results)
    assert sorted(p.posts for p in points) == [2000, 49147, 130684]
    combined = next(p for p in points if p.posts == 130684)
    assert combined.search_rss_mb == 380.0
    assert next(p for p in points if p.posts == 49147).rss_mb == 4200.0
