"""bench/proctree.py: a command's memory summed over its whole process tree, measured from outside."""

from __future__ import annotations

import sys
import textwrap

import pytest

from bench.common import MB
from bench.proctree import ProcSample, measure, summarize


def test_summarize_takes_the_peak_of_the_sums_not_the_sum_of_the_peaks():
    samples = [
        [ProcSample(1, 100 * MB, 60 * MB, 100 * MB)],
        [ProcSample(1, 80 * MB, 50 * MB, 120 * MB), ProcSample(2, 90 * MB, 70 * MB, 90 * MB)],
        [ProcSample(1, 150 * MB, 150 * MB, 150 * MB)],
    ]
    mem = summarize(samples)
    assert mem.peak_rss_sum_mb == 170.0        # 80 + 90, not 150 + 90
    assert mem.peak_pss_sum_mb == 150.0
    assert mem.largest_process_mb == 150.0
    assert mem.max_processes == 2
    assert mem.samples == 3


def test_summarize_without_pss_says_so():
    mem = summarize([[ProcSample(1, 10 * MB, None, None)]])
    assert mem.peak_pss_sum_mb is None
    assert mem.largest_process_mb == 10.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_measure_counts_the_memory_of_worker_processes():
    script = textwrap.dedent("""
        import multiprocessing, time
        def hold(_):
            block = bytearray(60 * 2**20)
            time.sleep(1.0)
            return len(block)
        if __name__ == "__main__":
            with multiprocessing.get_context("fork").Pool(2) as pool:
                print(sum(pool.map(hold, [1, 2])))
    """)
    run = measure([sys.executable, "-c", script], interval=0.1)
    assert run.returncode == 0
    assert run.stdout.strip() == str(2 * 60 * 2**20)
    assert run.memory.max_processes >= 3
    assert run.memory.peak_rss_sum_mb >= 120          # both workers' blocks at once
    assert run.memory.largest_process_mb < run.memory.peak_rss_sum_mb
    assert run.wall_s >= 1.0
