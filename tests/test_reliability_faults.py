"""Faults (issue 5): kill -9 in the middle of a reindex, two reindexes at once, unwritable and
full disks, missing folders, indexes from another version, and a server under load while the
index is rebuilt under it. Nothing may be lost: after every fault the index opens and serves
either the state before the fault or the complete new one, and the next reindex is correct.

The corpus is ~300 ORIGINAL synthetic articles: sentences drawn from a fixed word list with
``random.Random(seed)``. Every article contains the marker word 灯塔, so a search for it counts
the documents the index serves (titles and bodies are unique, so nothing collapses).

Reindexes run as real ``sou`` processes (``python -m search.cli``) so they can be killed.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
import waitress
from click.testing import CliRunner, Result
from waitress import wasyncore
from whoosh.filedb.structfile import StructFile
from whoosh.writing import SegmentWriter

import web
from search import SearchRequest, Settings
from search.cli import main
from search.engine import Engine
from search.errors import IndexUnwritable, SouError
from search.indexer import reindex
from search.pool import SPILL_PREFIX
from search.store import META_FILE, IndexStore

MARK = "灯塔"
SEED = 20240505
N_ARTICLES = 300
N_SMALL = 30
WORDS = ("城市 河流 山谷 灯火 书店 咖啡 列车 港口 渔船 海风 稻田 茶园 工厂 码头 市场 学校 老师 学生 医院 医生 "
         "程序 数据 网络 服务器 数据库 搜索 索引 分词 算法 模型 天气 台风 暴雨 晴朗 秋天 春节 中秋 月饼 饺子 面条 "
         "旅行 地图 相机 照片 博物馆 画廊 音乐 钢琴 吉他 电影 小说 诗歌 历史 地理 经济 政策 市民 社区 公园 花园 "
         "早晨 黄昏 星空 雪山 沙漠 森林 小溪 桥梁 街道 广场").split()
LATIN = "open source release python linux kernel cloud report update review".split()
SOU = [sys.executable, "-m", "search.cli"]
RUN_TIMEOUT = 300          # a safety net against a hung child, never an expectation


# -- the synthetic corpus -----------------------------------------------------------------------

def article_text(i: int, version: int, seed: int = SEED) -> str:
    rng = random.Random(f"{seed}-{i}-{version}")
    title = "".join(rng.sample(WORDS, 3)) + f" 第{i}号" + (f" 修订{version}" if version else "")
    paragraphs = []
    for _ in range(rng.randint(2, 5)):
        sentences = ["".join(rng.choices(WORDS, k=rng.randint(4, 9))) + rng.choice("。！？")
                     for _ in range(rng.randint(2, 6))]
        if rng.random() < 0.3:
            sentences.append(" ".join(rng.choices(LATIN, k=3)) + ".")
        paragraphs.append("".join(sentences))
    paragraphs.insert(rng.randint(0, len(paragraphs)), MARK + "".join(rng.choices(WORDS, k=3)) + "。")
    tags = ", ".join(rng.sample(WORDS, 2))
    return (f"---\ntitle: {title}\ndate: {2015 + i % 9}-{1 + i % 12:02d}-{1 + i % 28:02d}\n"
            f"tags: [{tags}]\ncategories: [{rng.choice(['随笔', '技术', '旅行'])}]\n---\n\n" + "\n\n".join(paragraphs) + "\n")


def write_articles(root: Path, ids, version: int = 0) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in ids:
        (root / f"a{i:04d}.md").write_text(article_text(i, version), encoding="utf-8")


def count_files(root: Path) -> int:
    return sum(1 for _ in root.glob("*.md"))


def change_corpus(root: Path, rng: random.Random, version: int, modify: int = 70) -> int:
    """Edit ``modify`` articles, add two, delete one; returns the number of files now."""
    existing = sorted(int(p.stem[1:]) for p in root.glob("*.md"))
    write_articles(root, rng.sample(existing, min(modify, len(existing))), version)
    write_articles(root, range(existing[-1] + 1, existing[-1] + 3))
    (root / f"a{rng.choice(existing):04d}.md").unlink()
    return count_files(root)


# -- running sou ---------------------------------------------------------------------------------

def sou(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*SOU, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT)


def start_sou(*args, cwd: Path) -> subprocess.Popen:
    """A sou process in a session (and process group) of its own, so its workers can be found."""
    return subprocess.Popen([*SOU, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid``."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def kill_9(proc: subprocess.Popen, group: bool) -> bool:
    """kill -9 the reindex: its main process only (as a user or the OOM killer would; the
    orphaned worker processes finish their chunk and exit, and are waited for), or its whole
    process group (as a container stop would). Returns whether the reindex was still running
    when the signal arrived."""
    running = proc.poll() is None
    if running:
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=RUN_TIMEOUT)
    deadline = time.monotonic() + 60
    while group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if group_members(proc.pid):          # our own process group: clean up rather than leak
        os.killpg(proc.pid, signal.SIGKILL)
    return running and proc.returncode == -signal.SIGKILL


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The CLI contract for failures: one line on stderr, no traceback."""
    err = result.stderr.strip()
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert len(err.splitlines()) == 1, err
    assert err.startswith("sou: error: ")
    return err


def served(settings: Settings) -> tuple[int, int]:
    """(documents, hits for the marker word) of a freshly opened engine."""
    engine = Engine.open(settings)
    try:
        documents = engine.document_count()
        total = engine.search(SearchRequest(q=MARK, per_page=1, highlight=False, facets=False)).total
    finally:
        engine.close()
    return documents, total


def index_names_on_disk(index: Path) -> set[str]:
    """Names of the Whoosh indexes whose files are in the folder (``sou_xxxx``)."""
    names = set()
    for p in index.iterdir():
        name = p.name.lstrip("_")
        if name.startswith("sou_"):
            names.add("_".join(name.split("_")[:2]).split(".")[0])
    return names


@pytest.fixture
def cfg(tmp_path: Path, jieba_cache: Path) -> Settings:
    return Settings(index_dir=str(tmp_path / "index"), cache_dir=str(jieba_cache), workers=2)


def build(base: Path, n: int, jieba_cache: Path) -> tuple[Path, Path]:
    write_articles(base / "articles", range(n))
    settings = Settings(index_dir=str(base / "index"), cache_dir=str(jieba_cache), workers=2)
    summary = reindex(settings, str(base / "articles"), full=True)
    assert summary.documents == n and not summary.skipped
    return base / "articles", base / "index"


def copy_of(built: tuple[Path, Path], tmp_path: Path, cfg: Settings) -> Path:
    """A private copy of a built corpus (at tmp_path/articles) and its index (at cfg.index_dir)."""
    articles, index = built
    shutil.copytree(articles, tmp_path / "articles")
    shutil.copytree(index, cfg.index_dir)
    # the index remembers its articles folder: point it at the copy, as a reindex of it would
    meta_path = Path(cfg.index_dir) / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["root"] = str((tmp_path / "articles").resolve())
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    return tmp_path / "articles"


@pytest.fixture(scope="module")
def base_index(tmp_path_factory, jieba_cache) -> tuple[Path, Path]:
    """The 300-article corpus and its index, built once (in-process)."""
    return build(tmp_path_factory.mktemp("faults-base"), N_ARTICLES, jieba_cache)


@pytest.fixture(scope="module")
def small_index(tmp_path_factory, jieba_cache) -> tuple[Path, Path]:
    """30 articles, for the faults that do not need volume."""
    return build(tmp_path_factory.mktemp("faults-small"), N_SMALL, jieba_cache)


@pytest.fixture
def corpus(base_index, tmp_path: Path, cfg: Settings) -> Path:
    return copy_of(base_index, tmp_path, cfg)


@pytest.fixture
def small(small_index, tmp_path: Path, cfg: Settings) -> Path:
    return copy_of(small_index, tmp_path, cfg)


# -- (a) kill -9 at random moments ---------------------------------------------------------------

def test_kill_9_during_reindex_keeps_the_previous_index(corpus: Path, cfg: Settings, tmp_path: Path):
    index = Path(cfg.index_dir)
    rng = random.Random(SEED)
    # How long each kind of run takes here and now, so the kills can land anywhere inside one.
    files = change_corpus(corpus, rng, version=1)
    started = time.monotonic()
    done = sou("reindex", corpus, "--index", index, "--json", cwd=tmp_path)
    incremental_s = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["documents"] == files
    files = change_corpus(corpus, rng, version=2)
    started = time.monotonic()
    done = sou("reindex", corpus, "--index", index, "--full", "--json", cwd=tmp_path)
    full_s = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["documents"] == files
    assert served(cfg) == (files, files)

    kinds = ["full", "incremental"] * 3
    outcomes = []
    for cycle, kind in enumerate(kinds):
        before = served(cfg)
        files = change_corpus(corpus, rng, version=3 + cycle)
        assert files != before[0]
        length = full_s if kind == "full" else incremental_s
        delay = length * (0.08 + 0.84 * (cycle + rng.random()) / len(kinds))    # spread over the run
        proc = start_sou("reindex", corpus, "--index", index, *(["--full"] if kind == "full" else []), cwd=tmp_path)
        time.sleep(delay)
        group = cycle in (1, 2, 5)          # full: main, group, main; incremental: group, main, group
        killed = kill_9(proc, group)
        after = served(cfg)                 # the index still opens...
        assert after[0] == after[1]         # ...and every document it counts is searchable
        # ...and it serves the previous state, or the complete new one if the kill came after
        # the commit; never a mix
        assert after[0] in (before[0], files), (kind, delay, before, after, files)
        outcomes.append((kind, "group" if group else "main", round(delay, 2), killed,
                         "previous" if after[0] == before[0] else "new"))
    print(f"\nkill -9 outcomes (kind, killed, delay s, while running, state): {outcomes}; "
          f"full run {full_s:.1f} s, incremental {incremental_s:.1f} s")
    assert sum(1 for o in outcomes if o[3]) >= 4, outcomes        # the kills did hit running reindexes
    assert sum(1 for o in outcomes if o[3] and o[4] == "previous") >= 3, outcomes

    # the next reindex completes, with the right counts, and cleans up what the kills left
    done = sou("reindex", corpus, "--index", index, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["documents"] == count_files(corpus) and summary["skipped"] == 0
    assert served(cfg) == (count_files(corpus), count_files(corpus))
    assert index_names_on_disk(index) == {IndexStore(cfg).read_meta().index_name}


# -- (b) two reindexes at once -------------------------------------------------------------------

def wait_for_lock(index: Path, proc: subprocess.Popen) -> None:
    """Until ``proc`` holds the writer lock (it writes its pid into sou.lock once it has it)."""
    lock = index / "sou.lock"
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        if lock.exists() and lock.read_text().strip() == str(proc.pid):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("the reindex never took the lock")


def test_second_reindex_fails_with_a_clear_message_while_one_runs(corpus: Path, cfg: Settings, tmp_path: Path):
    index = Path(cfg.index_dir)
    write_articles(corpus, range(N_ARTICLES, N_ARTICLES + 5))
    first = start_sou("reindex", corpus, "--index", index, cwd=tmp_path)        # incremental
    try:
        wait_for_lock(index, first)
        os.kill(first.pid, signal.SIGSTOP)     # hold it mid-run: the overlap is certain
        second = sou("reindex", corpus, "--index", index, "--lock-timeout", "1", cwd=tmp_path)
        assert second.returncode == 4
        err = one_line_error(second)
        assert "another reindex" in err and str(index) in err
    finally:
        os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=RUN_TIMEOUT)
    assert first.returncode == 0, err
    assert served(cfg) == (N_ARTICLES + 5, N_ARTICLES + 5)


def test_second_reindex_waits_for_the_first(corpus: Path, cfg: Settings, tmp_path: Path):
    index = Path(cfg.index_dir)
    write_articles(corpus, range(N_ARTICLES, N_ARTICLES + 7))
    first = start_sou("reindex", corpus, "--index", index, "--full", "--json", cwd=tmp_path)
    wait_for_lock(index, first)
    write_articles(corpus, range(N_ARTICLES + 7, N_ARTICLES + 9))      # seen only by the second
    second = start_sou("reindex", corpus, "--index", index, "--json", "--lock-timeout", "120", cwd=tmp_path)
    results = [p.communicate(timeout=RUN_TIMEOUT) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, results
    first_summary, second_summary = (json.loads(out) for out, _ in results)
    assert first_summary["documents"] in (N_ARTICLES + 7, N_ARTICLES + 9)
    assert second_summary["documents"] == N_ARTICLES + 9
    assert served(cfg) == (N_ARTICLES + 9, N_ARTICLES + 9)
    assert index_names_on_disk(index) == {IndexStore(cfg).read_meta().index_name}


# -- (c) unwritable, full, missing, outdated -------------------------------------------------------

def test_index_folder_that_cannot_be_created(tmp_path: Path):
    """Its parent is a regular file (what a read-only folder looks like to root, for whom
    chmod changes nothing)."""
    write_articles(tmp_path / "articles", range(3))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    index = blocker / "index"
    result = sou("reindex", tmp_path / "articles", "--index", index, cwd=tmp_path)
    assert result.returncode == 6
    err = one_line_error(result)
    assert str(index) in err and "cannot create the index folder" in err


def test_read_only_index_folder(small: Path, cfg: Settings, tmp_path: Path):
    index = Path(cfg.index_dir)
    write_articles(small, range(N_SMALL, N_SMALL + 3))
    os.chmod(index, 0o555)
    try:
        if os.access(index, os.W_OK):
            pytest.skip("running as root: chmod 0o555 does not stop root (the test above covers this case)")
        result = sou("reindex", small, "--index", index, cwd=tmp_path)
        assert result.returncode == 6
        err = one_line_error(result)
        assert str(index) in err and "not writable" in err
        assert served(cfg) == (N_SMALL, N_SMALL)        # the previous index still serves
    finally:
        os.chmod(index, 0o755)


def test_missing_articles_folder(tmp_path: Path):
    path = tmp_path / "articles"
    result = sou("reindex", path, "--index", tmp_path / "index", cwd=tmp_path)
    assert result.returncode == 1
    err = one_line_error(result)
    assert str(path) in err and "does not exist or is not a folder" in err
    assert not (tmp_path / "index").exists()         # no index folder, no sou.lock left behind


def test_missing_articles_folder_leaves_an_existing_index_folder_as_it_was(small: Path, cfg: Settings,
                                                                          tmp_path: Path):
    index = Path(cfg.index_dir)
    before = sorted(p.name for p in index.iterdir())
    result = sou("reindex", tmp_path / "no" / "such" / "folder", "--index", index, cwd=tmp_path)
    assert result.returncode == 1 and "does not exist" in one_line_error(result)
    assert sorted(p.name for p in index.iterdir()) == before


def test_a_failed_first_reindex_removes_the_lock_file_it_created(tmp_path: Path, jieba_cache: Path):
    """No PATH and no index to take it from: the error comes after the lock was taken."""
    settings = Settings(index_dir=str(tmp_path / "index"), cache_dir=str(jieba_cache))
    with pytest.raises(SouError, match="no articles folder"):
        reindex(settings)
    assert not (tmp_path / "index").exists()


HOLD_AND_DIE = """
import multiprocessing as mp, os, sys, time
from search import Settings
from search.store import IndexStore
with IndexStore(Settings(index_dir=sys.argv[1])).writer_lock():
    child = mp.get_context("fork").Process(target=time.sleep, args=(120,))
    child.start()
    open(sys.argv[2], "w").write(str(child.pid))
    os._exit(0)                # dies holding the lock and never unlocks it, as under kill -9
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_child_forked_under_the_lock_does_not_keep_it(tmp_path: Path):
    """flock belongs to the open file, which a forked child shares: without letting go of it
    in the child, the lock outlived the process that took it for as long as the child lived."""
    pid_file = tmp_path / "child.pid"
    subprocess.run([sys.executable, "-c", HOLD_AND_DIE, str(tmp_path / "index"), str(pid_file)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=RUN_TIMEOUT, check=True)
    child = int(pid_file.read_text())
    try:
        assert Path(f"/proc/{child}").exists() or not Path("/proc").exists()
        with IndexStore(Settings(index_dir=str(tmp_path / "index"))).writer_lock(timeout=0.5):
            pass
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def children_of(pid: int) -> list[int]:
    """Live (non-zombie) processes whose parent is ``pid``, from /proc (psutil is not a dependency)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def write_long_articles(root: Path, n: int) -> None:
    """``n`` original articles long enough (~45 kB each) that a full build runs for many seconds."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        rng = random.Random(f"long-{i}")
        body = "\n\n".join("".join(rng.choices(WORDS, k=12)) + "。" for _ in range(300))
        (root / f"long{i:04d}.md").write_text(f"---\ntitle: {MARK}长文第{i}篇\n---\n\n{body}\n", encoding="utf-8")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the worker processes")
def test_kill_9_of_a_full_reindex_ends_its_workers_and_frees_the_lock(tmp_path: Path):
    """A kill -9 of `sou reindex --full` used to leave its build workers running (they kept
    the writer lock, so the next reindex failed with exit 4, and printed a BrokenPipeError
    traceback). Now they die with it, and the next reindex takes the lock at once."""
    articles, index = tmp_path / "articles", tmp_path / "index"
    write_long_articles(articles, 400)
    out, err = (tmp_path / "out.txt").open("w"), (tmp_path / "err.txt").open("w")
    proc = subprocess.Popen([*SOU, "reindex", str(articles), "--index", str(index), "--full", "--workers", "2"],
                            cwd=tmp_path, stdout=out, stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while not (workers := children_of(proc.pid)):   # the reindex builds a shard; one forked process the other
            assert proc.poll() is None, (tmp_path / "err.txt").read_text()
            assert time.monotonic() < deadline, "the build process never started"
            time.sleep(0.05)
        time.sleep(1.0)                      # the workers are parsing and writing their segments
        assert proc.poll() is None, "the build finished before it could be killed: give it more work"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=RUN_TIMEOUT)
        deadline = time.monotonic() + 3      # a bounded wait for the kernel, not a speed claim
        while group_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert group_members(proc.pid) == [], f"workers {workers} outlived the killed reindex"
    finally:
        if group_members(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        out.close()
        err.close()
    assert "Traceback" not in (tmp_path / "err.txt").read_text()
    for extra in sorted(articles.iterdir())[3:]:        # keep the next reindex short
        extra.unlink()
    done = sou("reindex", articles, "--index", index, "--lock-timeout", "0.5", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr           # the lock died with the reindex that took it
    assert json.loads(done.stdout)["documents"] == 3
    # the dead build's files (its index, its Whoosh temp folder) are gone
    meta = IndexStore(Settings(index_dir=str(index))).read_meta()
    assert index_names_on_disk(index) == {meta.index_name}
    assert not [p.name for p in index.iterdir() if p.name.endswith(".tmp")]


def test_articles_path_that_is_a_file(tmp_path: Path):
    """Refused by the command line parser (click's usage error: three short lines, exit 2)."""
    path = tmp_path / "articles.md"
    path.write_text("x", encoding="utf-8")
    result = sou("reindex", path, "--index", tmp_path / "index", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and f"'{path}' is a file" in result.stderr
    assert not (tmp_path / "index" / META_FILE).exists()


def cli(runner: CliRunner, *args) -> Result:
    """The sou command in-process (no interpreter start-up, jieba already loaded)."""
    return runner.invoke(main, list(map(str, args)))


def cli_error(result: Result) -> str:
    assert result.exit_code != 0 and (result.exception is None or isinstance(result.exception, SystemExit)), result
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("sou: error: "), err
    return err


@pytest.mark.parametrize("damage", ["schema_version", "analyzer_version", "unknown_fields", "garbage"])
def test_index_from_another_version(small: Path, cfg: Settings, runner: CliRunner, damage: str):
    index = Path(cfg.index_dir)
    meta_path = index / META_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if damage == "schema_version":
        meta["schema_version"] = 1
    elif damage == "analyzer_version":
        meta["analyzer_version"] = "0"
    elif damage == "unknown_fields":
        del meta["analyzer_fingerprint"]
    meta_path.write_text("{not json" if damage == "garbage" else json.dumps(meta), encoding="utf-8")
    search = cli(runner, "search", MARK, "--index", index)
    assert search.exit_code == 5
    assert "sou reindex --full" in cli_error(search)
    # the plain `sou reindex` (no --full; no PATH either when sou.json can still be read) rebuilds
    args = ["reindex", "--index", index] if damage in ("schema_version", "analyzer_version") else \
        ["reindex", small, "--index", index]
    rebuilt = cli(runner, *args)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert rebuilt.stdout.startswith("full rebuild: ")
    assert served(cfg) == (N_SMALL, N_SMALL)
    again = cli(runner, "search", MARK, "--index", index, "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["total"] == N_SMALL


def unwritable_error(cfg: Settings, root: Path, full: bool) -> str:
    """The IndexUnwritable message of a reindex that must fail. While the error (and the
    half-built writers its traceback holds) is alive, Whoosh's write lock must already be free:
    a long-running process that keeps or logs the error can reindex again."""
    try:
        reindex(cfg, str(root), full=full)
    except IndexUnwritable as exc:
        _, ix = IndexStore(cfg).open()
        lock = ix.lock("WRITELOCK")
        assert lock.acquire(), "the failed reindex left Whoosh's write lock held"
        lock.release()
        ix.close()
        return str(exc)
    raise AssertionError("the reindex did not fail")


def enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("full", [True, False], ids=["full", "incremental"])
@pytest.mark.parametrize("where", ["segment write", "commit", "sou.json"])
def test_full_disk_keeps_the_previous_index(small: Path, cfg: Settings, monkeypatch, where: str, full: bool):
    """A full disk cannot be made on demand here: the writes fail with ENOSPC instead. The
    reindex raises IndexUnwritable (CLI exit 6) and the index that was there keeps serving."""
    if where == "sou.json" and not full:
        pytest.skip("an incremental run writes sou.json after its commit: the new state is already served")
    cfg = cfg.replace(workers=1)          # in-process, so the patches below apply
    serving = Engine.open(cfg)
    files = change_corpus(small, random.Random(SEED), version=9, modify=10)
    if where == "segment write":
        monkeypatch.setattr(StructFile, "write", enospc)
    elif where == "commit":
        monkeypatch.setattr(SegmentWriter, "_commit_toc", enospc)
    else:
        real_write_text = Path.write_text
        monkeypatch.setattr(Path, "write_text", lambda self, *a, **k: enospc() if self.name.startswith(f".{META_FILE}")
                            else real_write_text(self, *a, **k))
    with warnings.catch_warnings():
        # Whoosh leaves the files of a write that failed open (a TOC temp file, a segment's
        # .trm); they are closed when the failed writer is freed, here, where that is expected.
        warnings.simplefilter("ignore", ResourceWarning)
        error = unwritable_error(cfg, small, full)
        gc.collect()
    assert "the previous index is unchanged" in error and str(cfg.index_dir) in error
    assert IndexUnwritable.exit_code == 6
    monkeypatch.undo()
    serving.refresh()
    assert serving.document_count() == N_SMALL
    assert serving.search(SearchRequest(q=MARK)).total == N_SMALL
    serving.close()
    assert served(cfg) == (N_SMALL, N_SMALL)
    # space is back: the next reindex in the same process works (Whoosh's lock was released)
    assert reindex(cfg, str(small), full=full).documents == files
    assert served(cfg) == (files, files)


@pytest.mark.parametrize("fault", ["dies", "disk full"])
def test_a_build_process_that_fails_keeps_the_previous_index(corpus: Path, cfg: Settings, monkeypatch, fault: str):
    """A full rebuild shares its articles between this process and forked ones. One of those
    killed (the OOM killer) or failing (a full disk) fails the rebuild with one clear error, as
    in this process; the previous index keeps serving and no build process is left behind."""
    import search.indexer as indexer

    parent = os.getpid()
    real_build_shard = indexer._build_shard

    def failing_in_a_child(*args, **kwargs):
        if os.getpid() != parent:
            if fault == "dies":
                os._exit(9)
            enospc()
        return real_build_shard(*args, **kwargs)

    monkeypatch.setattr(indexer, "_build_shard", failing_in_a_child)
    files = change_corpus(corpus, random.Random(SEED), version=7, modify=20)
    expected = (IndexUnwritable, "the previous index is unchanged") if fault == "disk full" else (SouError, "exit code 9")
    with pytest.raises(expected[0], match=expected[1]):
        reindex(cfg, str(corpus), full=True)
    assert multiprocessing.active_children() == []
    assert not list(Path(cfg.index_dir).glob(f"{SPILL_PREFIX}*")), "the failed build left its spilled postings"
    assert served(cfg) == (N_ARTICLES, N_ARTICLES)
    monkeypatch.undo()
    assert reindex(cfg, str(corpus), full=True).documents == files


# -- (d) the server under load while `sou reindex --full` runs ------------------------------------

def stop_server(server, thread: threading.Thread) -> None:
    """Stop a waitress server running in ``thread``, open connections and all. server.close()
    from another thread races the event loop (select() on closed sockets, EBADF in the loop
    thread): let the worker threads finish, then close every socket from inside the loop."""
    server.task_dispatcher.shutdown()
    server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    thread.join(timeout=60)
    assert not thread.is_alive()


def test_server_under_load_during_a_full_reindex(corpus: Path, cfg: Settings, tmp_path: Path):
    index = Path(cfg.index_dir)
    app = web.create_app(cfg)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.effective_port}"
    url = f"{base}/api/search?q={quote(MARK)}&per_page=1"
    seen: list[tuple[int, int | None, float]] = []     # (status, total, when)
    lock = threading.Lock()
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            try:
                with urllib.request.urlopen(url, timeout=60) as resp:
                    status, total = resp.status, json.loads(resp.read())["total"]
            except urllib.error.HTTPError as exc:
                status, total = exc.code, None
                exc.close()
            except (urllib.error.URLError, OSError) as exc:      # a refused or reset connection
                status, total = -1, None
                print("connection error:", exc)
            with lock:
                seen.append((status, total, time.monotonic()))

    workers: list[threading.Thread] = []
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            assert json.loads(resp.read())["total"] == N_ARTICLES
        write_articles(corpus, range(N_ARTICLES, N_ARTICLES + 20))
        workers = [threading.Thread(target=hammer) for _ in range(4)]
        for w in workers:
            w.start()
        started = time.monotonic()
        rebuild = sou("reindex", corpus, "--index", index, "--full", cwd=tmp_path)
        finished = time.monotonic()
        assert rebuild.returncode == 0, rebuild.stderr
        # the new index appears without a restart: a request that finds another one already
        # opening it is answered from the previous version meanwhile (never made to wait), so
        # the new total shows within about one open, not necessarily on the very next request
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            with urllib.request.urlopen(url, timeout=60) as resp:
                if json.loads(resp.read())["total"] == N_ARTICLES + 20:
                    break
            assert time.monotonic() < deadline, "the rebuilt index was never served"
            time.sleep(0.05)
        deadline = time.monotonic() + RUN_TIMEOUT
        while sum(1 for s in seen if s[1] == N_ARTICLES + 20) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        # a request line over waitress's 256 kB header limit is refused before Flask, not a 5xx
        with pytest.raises(urllib.error.HTTPError) as huge:
            urllib.request.urlopen(f"{base}/api/search?q={'a' * 300_000}", timeout=60)
        huge.value.close()
        assert 400 <= huge.value.code < 500
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=60)
        stop_server(server, thread)
        web.close_app(app)
    during = [s for s in seen if started <= s[2] <= finished]
    statuses = Counter(s[0] for s in seen)
    totals = Counter(s[1] for s in seen)
    print(f"\nload during a {finished - started:.1f} s full reindex: {len(seen)} requests "
          f"({len(during)} while it ran), statuses {dict(statuses)}, totals {dict(totals)}")
    assert statuses == {200: len(seen)}                       # zero 5xx, zero errors
    assert set(totals) <= {N_ARTICLES, N_ARTICLES + 20}       # the old index or the new one, never a mix
    assert totals[N_ARTICLES + 20] >= 20
    assert len(during) >= 10                                  # the load really overlapped the rebuild
