"""The one writer path: full and incremental reindex, broken files, locks, interruptions,
outdated indexes, and the shared sample corpora."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import CORPORA, EXAMPLES, make_synthetic_articles, write_article

from search import IndexLocked, IndexMissing, IndexOutdated, SearchRequest
from search.analysis import Analyzer
from search.articles import discover
from search.engine import Engine
from search.indexer import reindex, stats, to_document
from search.pool import SPILL_PREFIX
from search.store import IndexStore

N_EXAMPLES = sum(1 for _ in discover(EXAMPLES))


def hit_ids(settings, q: str) -> list[str]:
    engine = Engine.open(settings)
    try:
        return [h.id for h in engine.search(SearchRequest(q=q, per_page=100)).hits]
    finally:
        engine.close()


def bump_mtime(path: Path, seconds: float = 10.0) -> None:
    st = path.stat()
    os.utime(path, (st.st_atime + seconds, st.st_mtime + seconds))


@pytest.fixture
def built(settings_factory, articles_copy: Path):
    """A full index of a private copy of examples/articles."""
    settings = settings_factory(workers=2)
    summary = reindex(settings, articles_copy)
    return settings, articles_copy, summary


# -- full build ---------------------------------------------------------------------------------

def test_full_build_indexes_every_article(built) -> None:
    settings, root, summary = built
    assert summary.full and summary.reason == ""
    assert summary.indexed == summary.documents == N_EXAMPLES
    assert (summary.updated, summary.deleted, summary.unchanged, summary.kept) == (0, 0, 0, 0)
    assert summary.skipped == []
    assert summary.root == str(root.resolve())
    info = stats(settings)
    assert info["documents"] == N_EXAMPLES
    assert info["groups"] == N_EXAMPLES - 1            # the two hk-news revisions share a group
    assert info["root"] == str(root.resolve())
    assert all(n > 0 for n in info["terms"].values())


def test_drafts_are_indexed_only_when_asked(settings_factory, articles_copy: Path) -> None:
    draft = "blog/_drafts/zero-trust-is-not-a-product.md"
    plain = settings_factory()
    drafts = settings_factory(drafts=True, index_dir=str(articles_copy.parent / "ix-drafts"))
    assert reindex(drafts, articles_copy).indexed == reindex(plain, articles_copy).indexed + 1
    assert draft in hit_ids(drafts, "零信任 草稿")
    assert draft not in hit_ids(plain, "零信任 草稿")


def test_full_build_in_process_and_in_a_pool_give_the_same_index(settings_factory, tmp_path: Path) -> None:
    root = tmp_path / "many"
    make_synthetic_articles(root, 80, paragraphs=1)
    one = settings_factory(workers=1, index_dir=str(tmp_path / "ix1"))
    two = settings_factory(workers=2, index_dir=str(tmp_path / "ix2"))
    assert reindex(one, root).indexed == reindex(two, root).indexed == 80
    for q in ("数据", "搜索引擎", "python", '"开源项目"'):
        assert sorted(hit_ids(one, q)) == sorted(hit_ids(two, q))


def test_to_document_keeps_the_original_text_for_highlighting() -> None:
    from search.articles import parse_bytes

    article = parse_bytes("---\ntitle: 臺北 ＣＯＶＩＤ\ncategories: [港聞]\n---\n\n正文。\n".encode(), "a.md")
    doc = to_document(article, Analyzer.default())
    assert doc["_stored_title"] == "臺北 ＣＯＶＩＤ"
    assert doc["categories"] == ["港闻"] and doc["_stored_categories"] == ["港聞"]
    assert doc["id"] == "a.md"


# -- incremental ----------------------------------------------------------------------------------

def test_no_change_reindex_reports_everything_unchanged(built) -> None:
    settings, root, _ = built
    again = reindex(settings, root)
    assert not again.full
    assert again.unchanged == again.documents == N_EXAMPLES
    assert (again.indexed, again.updated, again.deleted, again.kept, again.skipped) == (0, 0, 0, 0, [])


def test_reindex_without_a_path_reuses_the_last_root(built) -> None:
    settings, _, _ = built
    assert reindex(settings).unchanged == N_EXAMPLES


def test_a_touched_file_with_the_same_content_is_unchanged(built) -> None:
    settings, root, _ = built
    bump_mtime(root / "glossary.md")
    again = reindex(settings, root)
    assert again.unchanged == N_EXAMPLES and again.updated == 0


def test_adding_a_file(built) -> None:
    settings, root, _ = built
    write_article(root, "notes/new-note.md", "新加的笔记", "这篇笔记提到一个独特的词：斑马鱼实验室。", date="2024-05-01")
    summary = reindex(settings, root)
    assert (summary.indexed, summary.updated, summary.deleted) == (1, 0, 0)
    assert summary.unchanged == N_EXAMPLES
    assert summary.documents == N_EXAMPLES + 1
    assert hit_ids(settings, "斑马鱼") == ["notes/new-note.md"]


def test_changing_a_file(built) -> None:
    settings, root, _ = built
    path = root / "glossary.md"
    assert "glossary.md" in hit_ids(settings, "倒排索引")
    path.write_text("# 搜索引擎小词典\n\n现在只讲一个词：穿山甲。\n", encoding="utf-8")
    bump_mtime(path)
    summary = reindex(settings, root)
    assert (summary.indexed, summary.updated, summary.deleted) == (0, 1, 0)
    assert summary.unchanged == N_EXAMPLES - 1
    assert summary.documents == N_EXAMPLES
    assert hit_ids(settings, "穿山甲") == ["glossary.md"]


def test_a_reindex_reports_where_its_time_went(built) -> None:
    settings, root, first = built
    assert {"discover", "analyse_and_write", "commit", "pinyin"} <= set(first.phases)
    path = root / "glossary.md"
    path.write_text("# 搜索引擎小词典\n\n只讲一个词：穿山甲。\n", encoding="utf-8")
    bump_mtime(path)
    summary = reindex(settings, root)       # the changed file is analysed in the warm worker
    assert summary.updated == 1
    assert {"discover", "state", "commit", "pinyin"} <= set(summary.phases)
    assert all(isinstance(value, float) for value in summary.phases.values())
    assert summary.to_dict()["phases"] == summary.phases
    nothing = reindex(settings, root)
    assert nothing.unchanged == N_EXAMPLES and "commit" not in nothing.phases


def test_searching_a_word_that_only_a_replaced_version_had(built) -> None:
    settings, root, _ = built
    path = root / "glossary.md"
    path.write_text("# 搜索引擎小词典\n\n现在只讲一个词：穿山甲。\n", encoding="utf-8")
    bump_mtime(path)
    assert reindex(settings, root).updated == 1
    assert "glossary.md" not in hit_ids(settings, "\"倒排索引\"")


def test_deleting_a_file(built) -> None:
    settings, root, _ = built
    assert "glossary.md" in hit_ids(settings, "倒排索引")
    (root / "glossary.md").unlink()
    summary = reindex(settings, root)
    assert (summary.indexed, summary.updated, summary.deleted) == (0, 0, 1)
    assert summary.documents == N_EXAMPLES - 1
    assert "glossary.md" not in hit_ids(settings, "\"倒排索引\"")


def test_renaming_a_file(built) -> None:
    settings, root, _ = built
    (root / "glossary.md").rename(root / "notes" / "glossary-renamed.md")
    summary = reindex(settings, root)
    assert (summary.indexed, summary.updated, summary.deleted) == (1, 0, 1)
    assert summary.documents == N_EXAMPLES
    found = hit_ids(settings, "倒排索引")
    assert "notes/glossary-renamed.md" in found and "glossary.md" not in found


def test_a_previously_indexed_file_that_breaks_keeps_its_entry(built) -> None:
    settings, root, _ = built
    path = root / "glossary.md"
    path.write_bytes(b"# \x80\xff broken \x80\xff\n")
    bump_mtime(path)
    summary = reindex(settings, root)
    assert summary.kept == 1
    assert [(s.path, s.kind) for s in summary.skipped] == [("glossary.md", "bad_encoding")]
    assert "previous version kept" in summary.skipped[0].reason
    assert (summary.indexed, summary.updated, summary.deleted) == (0, 0, 0)
    assert summary.documents == N_EXAMPLES
    assert "glossary.md" in hit_ids(settings, "倒排索引")
    assert summary.to_dict()["skipped_by_reason"] == {"bad_encoding": 1}


def test_a_new_broken_file_is_skipped_with_its_reason(built) -> None:
    settings, root, _ = built
    (root / "broken.md").write_bytes(b"\x80\xff\x80\xff")
    summary = reindex(settings, root)
    assert summary.kept == 0 and summary.indexed == 0
    assert [(s.path, s.kind) for s in summary.skipped] == [("broken.md", "bad_encoding")]


def test_placeholder_pages_are_indexed_as_empty_articles(settings_factory, tmp_path: Path) -> None:
    root = tmp_path / "placeholders"
    root.mkdir()
    (root / "farewell.md").write_text("---\ntitle: 再见\n---\n", encoding="utf-8")
    (root / "nothing.md").write_text("", encoding="utf-8")
    summary = reindex(settings_factory(), root)
    assert summary.indexed == 2 and summary.skipped == []
    assert hit_ids(settings_factory(), "再见") == ["farewell.md"]


# -- full rebuilds, locks, interruptions ----------------------------------------------------------

def test_full_rebuild_keeps_the_old_index_readable_until_commit(built) -> None:
    settings, root, _ = built
    engine = Engine.open(settings)
    try:
        assert engine.search(SearchRequest(q="倒排索引")).total >= 1
        (root / "glossary.md").unlink()
        write_article(root, "after.md", "重建之后", "重建之后才有的词：独角鲸。")
        summary = reindex(settings, root, full=True)
        assert summary.full and summary.indexed == N_EXAMPLES
        # the open engine still answers from the index it opened
        old = engine.search(SearchRequest(q="倒排索引"))
        assert "glossary.md" in [h.id for h in old.hits]
        assert engine.search(SearchRequest(q="独角鲸")).total == 0
        engine.refresh()
        assert engine.search(SearchRequest(q="独角鲸")).total == 1
        assert "glossary.md" not in [h.id for h in engine.search(SearchRequest(q="倒排索引")).hits]
    finally:
        engine.close()
    # the replaced Whoosh index's files are cleaned up by the rebuild
    meta = IndexStore(settings).read_meta()
    assert meta is not None
    leftovers = [p.name for p in Path(settings.index_dir).iterdir()
                 if p.name.startswith("sou_") and not p.name.startswith(meta.index_name)]
    assert leftovers == []


def test_a_locked_index_raises_index_locked(built) -> None:
    settings, root, _ = built
    store = IndexStore(settings)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.writer_lock():
            held.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        with pytest.raises(IndexLocked) as info:
            reindex(settings.replace(lock_timeout=0.3), root)
        message = str(info.value)
        assert "another reindex" in message and str(store.dir) in message
        assert info.value.exit_code == 4
    finally:
        release.set()
        thread.join()
    # once the other writer is gone, the reindex runs
    assert reindex(settings, root).unchanged == N_EXAMPLES


def test_a_lock_held_by_another_process_raises_index_locked(built) -> None:
    settings, root, _ = built
    code = ("import sys, time\nfrom search import Settings\nfrom search.store import IndexStore\n"
            f"store = IndexStore(Settings(index_dir={settings.index_dir!r}))\n"
            "with store.writer_lock():\n    print('locked', flush=True)\n    sys.stdin.read()\n")
    with subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True) as proc:
        try:
            assert proc.stdout.readline().strip() == "locked"
            with pytest.raises(IndexLocked):
                reindex(settings.replace(lock_timeout=0.3), root)
        finally:
            proc.stdin.close()      # the child's read() returns and it lets the lock go
            proc.wait(30)
    assert reindex(settings, root).unchanged == N_EXAMPLES



@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
def test_an_interrupted_reindex_leaves_the_previous_index_usable(built, full: bool) -> None:
    settings, root, _ = built
    added = 2000               # enough work that the kill lands before the end, however fast the build
    make_synthetic_articles(root / "synthetic", added)
    env = {**os.environ, "SOU_CACHE_DIR": settings.cache_dir, "SOU_WORKERS": "2"}
    cmd = [sys.executable, "-m", "search.cli", "reindex", str(root), "--index", settings.index_dir, "--json"]
    proc = subprocess.Popen(cmd + (["--full"] if full else []), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    lock = Path(settings.index_dir) / "sou.lock"
    try:
        # wait until the child holds the writer lock (it writes its pid there), then let it work a while
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if lock.exists() and lock.read_text().strip() == str(proc.pid):
                break
            time.sleep(0.05)
        time.sleep(0.3)
        assert proc.poll() is None, "the reindex finished before it could be interrupted"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)      # the child and its worker processes
        proc.wait(30)
        proc.stderr.close()

    # the index still opens and searches, with the previous contents or (a run killed after its
    # commit or its swap of sou.json) the new ones, never a part of them
    engine = Engine.open(settings)
    try:
        before = engine.document_count()
        assert before in (N_EXAMPLES, N_EXAMPLES + added)
        assert engine.search(SearchRequest(q="倒排索引")).total >= 1
        found = engine.search(SearchRequest(q="synthxq", facets=False)).total
        assert found == (0 if before == N_EXAMPLES else added)
    finally:
        engine.close()
    # and the next reindex completes with the right counts
    summary = reindex(settings, root)
    assert summary.indexed == N_EXAMPLES + added - before and summary.unchanged == before
    assert summary.documents == N_EXAMPLES + added and summary.skipped == []
    assert len(hit_ids(settings, "synthxq")) == 100     # per_page: there are more
    assert hit_ids(settings, '"synthxq 399"') == ["synthetic/batch0/synthetic-0399.md"]


@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
def test_postings_a_killed_build_spilled_are_removed_by_the_next_reindex(built, full: bool) -> None:
    """A build spills sorted postings into folders of the index folder (tens of MB each); one
    interrupted or killed mid-way left them there for good. The next reindex removes them."""
    settings, root, _ = built
    index = Path(settings.index_dir)
    spilled = index / f"{SPILL_PREFIX}k1ll3d"
    spilled.mkdir()
    (spilled / "body-0.terms").write_bytes(b"\0" * 4096)
    summary = reindex(settings, root, full=full)
    assert summary.documents == N_EXAMPLES
    assert not spilled.exists()
    assert sorted(p.name for p in index.iterdir() if p.name.startswith(SPILL_PREFIX)) == []
    assert hit_ids(settings, "倒排索引")


# -- outdated indexes ----------------------------------------------------------------------------

def test_changing_the_user_dictionary_makes_the_index_outdated(built, tmp_path: Path) -> None:
    settings, root, _ = built
    userdict = tmp_path / "userdict.txt"
    userdict.write_text("# our words\n扫码即用 20 n\n", encoding="utf-8")
    with_dict = settings.replace(user_dict=str(userdict))
    with pytest.raises(IndexOutdated) as info:
        Engine.open(with_dict)
    assert "sou reindex --full" in str(info.value)
    assert "user dictionary" in str(info.value)

    summary = reindex(with_dict, root)
    assert summary.full and "user dictionary" in summary.reason
    assert summary.indexed == N_EXAMPLES
    engine = Engine.open(with_dict)
    try:
        assert "扫码即用" in [t.text for t in engine.analyzer.tokenize("自助洗衣店扫码即用", "query")]
        assert engine.search(SearchRequest(q="扫码即用")).total == 1
        # the process-wide default analysis did not take the index's dictionary
        from search.analysis import tokenize

        assert "扫码即用" not in [t.text for t in tokenize("自助洗衣店扫码即用", "query")]
    finally:
        engine.close()

    # the same path with other contents is outdated too
    userdict.write_text("扫码即用 20 n\n洗衣店 30 n\n", encoding="utf-8")
    with pytest.raises(IndexOutdated) as info:
        Engine.open(with_dict)
    assert "sou reindex --full" in str(info.value)
    assert reindex(with_dict, root).full
    # and going back to no dictionary is one more full rebuild
    with pytest.raises(IndexOutdated):
        Engine.open(settings)
    assert reindex(settings, root).reason


def test_opening_a_missing_index_raises_index_missing(settings_factory) -> None:
    with pytest.raises(IndexMissing) as info:
        Engine.open(settings_factory())
    assert "sou reindex" in str(info.value)


def test_a_corrupt_meta_file_is_reported_as_outdated(built) -> None:
    settings, _, _ = built
    (Path(settings.index_dir) / "sou.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexOutdated) as info:
        Engine.open(settings)
    assert "sou reindex --full" in str(info.value)


# -- the shared sample corpora -------------------------------------------------------------------

@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(CORPORA))
def test_indexing_a_shared_sample_corpus(name: str, settings_factory, capsys) -> None:
    root = CORPORA[name]
    if not root.is_dir():
        pytest.skip(f"{root} is absent (the shared corpora are not on this machine)")
    sources = list(discover(root))
    summary = reindex(settings_factory(workers=2), root)
    drafts = [w for w in summary.warnings if "a draft" in w]
    assert summary.skipped == [], json.dumps([s.__dict__ for s in summary.skipped], ensure_ascii=False)
    assert summary.indexed + len(drafts) == len(sources)
    assert summary.documents == summary.indexed
    assert summary.indexed >= 0.95 * len(sources)
    out, err = capsys.readouterr()
    assert out == "" and err == ""              # the library prints nothing
