"""Live updates: ``indexer.update_files`` (a targeted incremental update) and ``watch.watch``
(a watcher thread that keeps an index in step with a folder), then ``sou watch`` as a user runs
it. Every change is checked in real search results; waits are bounded polls, never timing
assertions."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import write_article

from search import IndexOutdated, SearchRequest
from search.articles import discover, is_article_path, is_folder_path
from search.engine import Engine
from search.indexer import reindex, update_files
from search.models import ReindexSummary
from search.watch import describe, watch

WAIT_S = 60.0          # generous: the machine may be busy; a passing run takes a second or two


def wait_for(check: Callable[[], bool], what: str, limit: float = WAIT_S) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {limit:.0f} s: {what}")


def seed(root: Path) -> None:
    """A small folder of original articles: Traditional, Simplified, English, nested folders."""
    write_article(root, "garden/茶花.md", "山茶花開了", "後院的山茶花今年開得特別早，鄰居都來看。", date="2023-01-05")
    write_article(root, "garden/bamboo.md", "种竹子的笔记", "竹子长得很快，三个月就高过了围墙。", date="2023-02-11")
    write_article(root, "travel/ferry.md", "Star Ferry at dusk", "The Star Ferry crossing took nine minutes; 渡輪上很多遊客。",
                  date="2022-11-30")
    write_article(root, "travel/2021/tram.md", "叮叮車遊記", "坐叮叮車由西環到筲箕灣，車費很便宜。", date="2021-06-01")


class Searcher:
    """An engine over the watched index, refreshed before every search (as a server does)."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.engine: Engine | None = None

    def ids(self, q: str) -> set[str]:
        if self.engine is None:
            self.engine = Engine.open(self.settings)
        self.engine.refresh()
        res = self.engine.search(SearchRequest(q=q, per_page=100, highlight=False, facets=False))
        return {h.id for h in res.hits}

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()


class Watcher:
    """``watch()`` in a thread with a stop event; collects the summaries it reports."""

    def __init__(self, settings, root: Path) -> None:
        self.updates: list[ReindexSummary] = []
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(settings, root), daemon=True)
        self.thread.start()
        if not self.ready.wait(WAIT_S):
            raise AssertionError(f"the watcher did not start: {self.error!r}")

    def _run(self, settings, root: Path) -> None:
        try:
            watch(settings, root, on_update=self.updates.append, stop_event=self.stop, ready=self.ready)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
            self.ready.set()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(WAIT_S)
        assert not self.thread.is_alive(), "the watcher did not stop"
        assert self.error is None, self.error


@pytest.fixture
def live(settings_factory, tmp_path: Path) -> Iterator[tuple[object, Path, Watcher, Searcher]]:
    root = tmp_path / "posts"
    seed(root)
    settings = settings_factory(workers=2)
    watcher = Watcher(settings, root)        # no index yet: the watcher builds it first
    searcher = Searcher(settings)
    try:
        yield settings, root, watcher, searcher
    finally:
        watcher.close()
        searcher.close()


# -- the watcher ----------------------------------------------------------------------------------

def test_the_watcher_builds_a_missing_index_first(live) -> None:
    settings, root, watcher, searcher = live
    assert watcher.updates[0].full and watcher.updates[0].indexed == 4
    assert searcher.ids("山茶花") == {"garden/茶花.md"}
    assert searcher.ids("叮叮车") == {"travel/2021/tram.md"}        # simplified finds traditional


def test_a_saved_file_becomes_searchable_and_an_edit_replaces_it(live) -> None:
    settings, root, watcher, searcher = live
    write_article(root, "garden/orchid.md", "蘭花換盆", "蘭花要用樹皮和水苔換盆，不能用泥土。")
    wait_for(lambda: searcher.ids("水苔") == {"garden/orchid.md"}, "the new article is found")
    write_article(root, "garden/orchid.md", "蘭花換盆", "蘭花改用椰殼纖維換盆，效果更好。")
    wait_for(lambda: searcher.ids("椰殼") == {"garden/orchid.md"}, "the edit is found")
    assert searcher.ids("水苔") == set()
    # the watcher reports an update after its commit, which a search can already see
    wait_for(lambda: any(u.updated == 1 and not u.full for u in watcher.updates), "the edit is reported as an update")


def test_an_atomic_save_by_rename_is_indexed_once(live) -> None:
    """Editors write a temp file and rename it over the article: the final content counts."""
    settings, root, watcher, searcher = live
    target = root / "garden/bamboo.md"
    tmp = root / "garden/.bamboo.md.tmp"
    tmp.write_text("---\ntitle: 种竹子的笔记\n---\n\n竹笋春天冒出来，可以炒肉丝。\n", encoding="utf-8")
    os.replace(tmp, target)
    wait_for(lambda: searcher.ids("竹笋") == {"garden/bamboo.md"}, "the renamed content is found")
    assert searcher.ids("围墙") == set()
    assert all(".bamboo.md.tmp" not in s.path for u in watcher.updates for s in u.skipped)


def test_deleting_a_file_removes_it(live) -> None:
    settings, root, watcher, searcher = live
    (root / "travel/ferry.md").unlink()
    wait_for(lambda: searcher.ids("Star Ferry") == set(), "the deleted article is gone")
    assert searcher.ids("山茶花") == {"garden/茶花.md"}


def test_moving_a_folder_renames_its_articles(live) -> None:
    settings, root, watcher, searcher = live
    (root / "travel").rename(root / "trips")
    wait_for(lambda: searcher.ids("叮叮車") == {"trips/2021/tram.md"}, "the moved article has its new id")
    assert searcher.ids("ferry") == {"trips/ferry.md"}


def test_a_folder_moved_out_and_back_in(live, tmp_path: Path) -> None:
    settings, root, watcher, searcher = live
    outside = tmp_path / "elsewhere"
    shutil.move(root / "garden", outside)
    wait_for(lambda: searcher.ids("山茶花") == set(), "articles moved away are gone")
    shutil.move(outside, root / "garden-2023")
    wait_for(lambda: searcher.ids("山茶花") == {"garden-2023/茶花.md"}, "articles moved in are found")
    assert searcher.ids("竹子") == {"garden-2023/bamboo.md"}


def test_deleting_a_folder_removes_everything_under_it(live) -> None:
    settings, root, watcher, searcher = live
    shutil.rmtree(root / "travel")
    wait_for(lambda: searcher.ids("叮叮車") == set() and searcher.ids("ferry") == set(), "the folder's articles are gone")
    assert searcher.ids("竹子") == {"garden/bamboo.md"}


def test_hidden_draft_and_editor_temp_files_are_ignored(live) -> None:
    settings, root, watcher, searcher = live
    body = "---\ntitle: 暫存\n---\n\n鯨魚擱淺在石澳海灘。\n"
    for name in (".hidden.md", "garden/.茶花.md.swp", "garden/茶花.md~", "garden/.#茶花.md", "garden/4913",
                 "_drafts/idea.md", ".git/objects/note.md", "garden/photo.jpg"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body, encoding="utf-8")
    write_article(root, "garden/whale.md", "鯨魚", "一條座頭鯨游進了維多利亞港。")
    wait_for(lambda: searcher.ids("座頭鯨") == {"garden/whale.md"}, "the real article is found")
    assert searcher.ids("擱淺") == set()
    assert not any(u.skipped for u in watcher.updates)


def test_a_burst_of_a_thousand_files_is_batched(live) -> None:
    settings, root, watcher, searcher = live
    before = len(watcher.updates)
    for i in range(1000):
        (root / "burst" / f"{i // 100:02d}").mkdir(parents=True, exist_ok=True)
        write_article(root, f"burst/{i // 100:02d}/note-{i:04d}.md", f"潮汐紀錄 {i}",
                      f"第 {i} 號觀測站記錄到潮汐異常，tide gauge reading {i * 7 % 113} cm。")
    wait_for(lambda: len(searcher.ids("潮汐")) == 100 and _count(searcher, "潮汐") == 1000, "all 1,000 are found")
    wait_for(lambda: sum(u.indexed for u in watcher.updates[before:]) == 1000, "every batch is reported")
    batches = watcher.updates[before:]
    assert max(u.indexed for u in batches) > 1           # batched, not one commit per file
    assert not any(u.full for u in batches)              # never a rebuild for a save


def _count(searcher: Searcher, q: str) -> int:
    assert searcher.engine is not None
    searcher.engine.refresh()
    return searcher.engine.search(SearchRequest(q=q, per_page=1, highlight=False, facets=False)).total


# -- the targeted update itself ---------------------------------------------------------------------

@pytest.fixture
def indexed(settings_factory, tmp_path: Path):
    root = tmp_path / "posts"
    seed(root)
    settings = settings_factory(workers=1)
    reindex(settings, root)
    return settings, root


def test_update_files_touches_only_the_paths_it_is_given(indexed) -> None:
    settings, root = indexed
    write_article(root, "garden/茶花.md", "山茶花謝了", "一場大雨之後，山茶花全部謝了。")
    (root / "travel/ferry.md").unlink()
    summary = update_files(settings, root, [root / "garden/茶花.md"])      # the deletion is not named
    assert (summary.updated, summary.deleted, summary.unchanged) == (1, 0, 0)
    searcher = Searcher(settings)
    try:
        assert searcher.ids("大雨") == {"garden/茶花.md"}
        assert searcher.ids("ferry") == {"travel/ferry.md"}                  # still there until named
        summary = update_files(settings, root, ["travel/ferry.md", "garden/bamboo.md"])
        assert (summary.deleted, summary.unchanged, summary.documents) == (1, 1, 3)
        assert searcher.ids("ferry") == set()
    finally:
        searcher.close()


def test_update_files_deletes_a_gone_folder_and_keeps_a_broken_file(indexed) -> None:
    settings, root = indexed
    shutil.rmtree(root / "travel")
    (root / "garden/bamboo.md").write_bytes(b"\xff\xfe\x00broken \x81\x82\x83" * 3)
    summary = update_files(settings, root, ["travel", "garden/bamboo.md", "../outside.md", ".git"])
    assert summary.deleted == 2 and summary.kept == 1
    assert describe(summary).startswith("deleted 2, skipped 1 (garden/bamboo.md: bad_encoding; 1 kept its previous version) in ")
    searcher = Searcher(settings)
    try:
        assert searcher.ids("竹子") == {"garden/bamboo.md"}       # the previous version serves
        assert searcher.ids("叮叮車") == set()
    finally:
        searcher.close()


def test_update_files_refuses_an_index_built_from_another_folder(indexed, tmp_path: Path) -> None:
    settings, root = indexed
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(IndexOutdated, match="built from"):
        update_files(settings, other, ["a.md"])


def test_the_watch_path_rules_are_the_discover_rules(tmp_path: Path) -> None:
    names = ["a.md", "b.markdown", "C.MD", ".h.md", "x.md~", ".#x.md", "4913", "x.md.swp", "n.txt",
             "_drafts/d.md", "sub/_drafts/d.md", ".git/e.md", "sub/.cache/f.md", "sub/deep/g.md", "_drafts.md"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    for drafts in (False, True):
        listed = {s.id for s in discover(tmp_path, drafts=drafts)}
        assert listed == {n for n in names if is_article_path(n, drafts)}
    assert is_folder_path("sub/deep") and not is_folder_path("sub/.cache") and not is_folder_path("_drafts")
    assert is_folder_path("_drafts", drafts=True)


# -- `sou watch` as a user runs it ----------------------------------------------------------------

def test_sou_watch_updates_until_interrupted(settings_factory, tmp_path: Path) -> None:
    root = tmp_path / "posts"
    seed(root)
    settings = settings_factory()
    env = {**os.environ, "SOU_CACHE_DIR": settings.cache_dir}
    proc = subprocess.Popen([sys.executable, "-m", "search.cli", "watch", str(root), "--index", settings.index_dir],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
                            start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    searcher = Searcher(settings)
    try:
        wait_for(lambda: any("rebuilt (new index): indexed 4" in ln for ln in lines), "the first build")
        write_article(root, "garden/lotus.md", "荷花池", "荷花池裏有一隻白鷺在找魚。")
        wait_for(lambda: searcher.ids("白鷺") == {"garden/lotus.md"}, "the saved article is found")
        wait_for(lambda: any("indexed 1 in" in ln for ln in lines), "one log line for the update")
    finally:
        searcher.close()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=WAIT_S)
        reader.join(WAIT_S)
        err = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert lines[0].startswith(f"sou: watching {root}")
    assert lines[-1].strip() == "sou: stopped watching"
    # the lock was released: another reindex gets it at once
    assert reindex(settings.replace(lock_timeout=0.5), root).unchanged == 5


def test_a_refresh_right_after_a_commit_never_shows_an_article_twice(settings_factory, tmp_path: Path,
                                                                      monkeypatch) -> None:
    """A server may refresh between an update's commit and its ``sou.json`` write; merged-away
    segments must not come back then (whoosh-reloaded's Searcher.refresh() kept them)."""
    root = tmp_path / "posts"
    seed(root)
    settings = settings_factory(workers=1, collapse=False)
    reindex(settings, root)
    engine = Engine.open(settings)
    monkeypatch.setattr("search.store.IndexStore.write_meta", lambda self, meta: None)
    try:
        for version in range(5):
            write_article(root, "garden/茶花.md", "山茶花開了", f"第 {version} 次修改：山茶花開得正好。")
            update_files(settings, root, ["garden/茶花.md"])
            engine.refresh()
            res = engine.search(SearchRequest(q="山茶花", per_page=10, highlight=False, facets=False))
            assert [h.id for h in res.hits] == ["garden/茶花.md"], version
    finally:
        engine.close()
