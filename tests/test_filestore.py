"""Positional reads of index files: forked processes that inherited one open file, and threads
sharing one, each read the bytes at the position they asked for (Whoosh's own seek-then-read
through one kernel file offset mixes them up)."""

from __future__ import annotations

import os
import random
import struct
import threading
from pathlib import Path

import pytest

from search import SearchRequest
from search.engine import Engine
from search.store import IndexStore, PositionalStorage

WORDS = 200_000


@pytest.fixture
def numbered(tmp_path: Path) -> PositionalStorage:
    """A file of big-endian 32-bit words, each holding its own index: any misplaced read shows."""
    (tmp_path / "numbers.bin").write_bytes(b"".join(struct.pack(">I", i) for i in range(WORDS)))
    return PositionalStorage(str(tmp_path))


def misreads(f, seed: int, rounds: int = 20_000) -> int:
    rng = random.Random(seed)
    bad = 0
    for _ in range(rounds):
        i = rng.randrange(WORDS - 4)
        if rng.random() < 0.5:
            bad += f.get(i * 4, 8) != struct.pack(">II", i, i + 1)
        else:
            bad += list(f.get_array(i * 4, "I", 3)) != [i, i + 1, i + 2]
    return bad


def test_forked_processes_sharing_an_open_file_read_their_own_positions(numbered) -> None:
    f = numbered.open_file("numbers.bin")
    pids = []
    for seed in (1, 2):
        pid = os.fork()
        if pid == 0:                       # pragma: no cover - the child reports through its exit code
            try:
                os._exit(min(misreads(f, seed), 100))
            finally:
                os._exit(101)
        pids.append(pid)
    mine = misreads(f, 3)
    theirs = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    f.close()
    assert (mine, theirs) == (0, [0, 0])


def test_threads_sharing_an_open_file_read_their_own_positions(numbered) -> None:
    f = numbered.open_file("numbers.bin")
    results: list[int] = []
    threads = [threading.Thread(target=lambda s=s: results.append(misreads(f, s, 5_000))) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    f.close()
    assert results == [0, 0, 0, 0]


def test_sequential_reads_still_work(numbered) -> None:
    """Whoosh reads headers with seek + read; the position is this file object's own."""
    f = numbered.open_file("numbers.bin")
    f.seek(40)
    assert f.read_uint() == 10 and f.read_uint() == 11
    assert f.tell() == 48
    f.seek(-4, os.SEEK_END)
    assert f.read_uint() == WORDS - 1
    assert f.get(8, 4) == struct.pack(">I", 2) and f.tell() == WORDS * 4    # get() leaves the position alone
    f.close()
    assert f.is_closed


def test_an_engine_opened_before_fork_serves_the_same_results_in_the_children(demo_index, demo_settings) -> None:
    """What ``sou serve --processes N`` does: open once, fork, search in every process at once."""
    queries = ["貓", "国安法", "COVID-19 疫苗", "Python 3.6.3", "黃色經濟圈", "咖啡", "douyin", "記者"]
    engine = Engine.open(demo_settings.replace(posting_cache_mb=0))    # every search reads the files
    try:
        def answers() -> list[tuple[int, list[str]]]:
            out = []
            for q in queries:
                res = engine.search(SearchRequest(q=q, per_page=20))
                out.append((res.total, [h.id for h in res.hits]))
            return out

        expected = answers()
        assert sum(total for total, _ in expected) > 10
        pids = []
        for _ in range(2):
            pid = os.fork()
            if pid == 0:                   # pragma: no cover - the child reports through its exit code
                try:
                    os._exit(sum(answers() != expected for _ in range(20)))
                finally:
                    os._exit(101)
            pids.append(pid)
        mine = sum(answers() != expected for _ in range(20))
        theirs = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    finally:
        engine.close()
    assert (mine, theirs) == (0, [0, 0])


def open_index_files(index_dir: str) -> list[str]:
    """The files of ``index_dir`` this process holds open."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(index_dir + os.sep):
            out.append(target)
    return out


def first_reads(barrier: threading.Barrier, leaves: list) -> None:
    barrier.wait()
    for leaf in leaves:
        leaf.stored_fields(0)
        leaf.doc_field_length(0, "body")


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to list open files")
def test_threads_first_reading_a_fresh_segment_leave_no_file_open_after_close(demo_index, demo_settings) -> None:
    """The first stored-field and length reads of a new snapshot come from several requests at
    once: each must not open its own copy of a column file that the close then misses (an
    unclosed file, reported later as a ResourceWarning, and a leaked descriptor per refresh)."""
    store = IndexStore(demo_settings)
    index_dir = os.path.realpath(demo_settings.index_dir)
    before = len(open_index_files(index_dir))
    for _ in range(40):
        _, ix = store.open()
        reader = ix.reader()
        leaves = [r for r, _ in reader.leaf_readers()]
        barrier = threading.Barrier(8)
        threads = [threading.Thread(target=first_reads, args=(barrier, leaves)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        reader.close()
    assert len(open_index_files(index_dir)) == before
