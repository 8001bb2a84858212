"""Article -> document, and the one writer path: full and incremental reindex.

A full build parses and segments in a process pool (the CPU-heavy part: cmark, selectolax,
jieba, posting encoding) and each worker writes its own segments, which keeps both cores
busy. Incremental runs compare size + mtime, then the content hash, with what the index holds.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import multiprocessing as mp
import os
import signal
import stat
import threading
import time
from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from whoosh import writing
from whoosh.filedb.filestore import FileStorage

from . import analysis, lifeline, storedtext
from .analysis import Analyzer
from .arrays import sorted_unique
from .articles import (
    Discovery,
    DiscoveryProblem,
    DraftSkipped,
    SourceFile,
    body_key,
    discover,
    is_article_path,
    is_folder_path,
    parse_file,
    zone,
)
from .config import Settings
from .errors import ArticleError, IndexOutdated, IndexUnwritable, SouError
from .models import Article, ReindexSummary, Skipped
from .pinyin import PinyinVocabulary, WordCounts, chars_path, delta_path, vocabulary_path
from .pinyin import preload as pinyin_preload
from .schema import SCHEMA_VERSION, PreAnalyzed, build_schema
from .store import IndexMeta, IndexStore, analyzer_config, index_analyzer, now_iso
from .writer import PoolWriter, cancel_writer, open_writer

Progress = Callable[[int, int], None]
PARALLEL_MIN = 64          # fewer changed files than this are parsed in-process


def to_document(article: Article, analyzer: Analyzer) -> dict[str, Any]:
    """The field values of one article; text fields arrive pre-analysed by ``analyzer``."""
    meta_text = " \n ".join([*article.categories, *article.tags, article.author])
    title_norm, body_norm = analyzer.fold(article.title), analyzer.fold(article.body)
    title_words, title_positions = analyzer.index_positioned(title_norm)
    body_words = analyzer.index_words(body_norm)
    meta_words, meta_positions = analyzer.index_positioned(analyzer.fold(meta_text))
    title_grams, body_grams = analysis.gram_arrays(title_norm), analysis.gram_arrays(body_norm)
    doc: dict[str, Any] = {
        "id": article.id,
        "title": PreAnalyzed(title_words, title_positions, len(title_words)),
        "_stored_title": article.title,
        "body": PreAnalyzed(body_words, None, len(body_words)),
        "_stored_body": article.body,
        "meta": PreAnalyzed(meta_words, meta_positions, len(meta_words)),
        "title_ngram": _grams(title_grams),
        "ngram": _grams(body_grams),
        "categories": [analyzer.fold(c) for c in article.categories],
        "_stored_categories": list(article.categories),
        "tags": [analyzer.fold(t) for t in article.tags],
        "_stored_tags": list(article.tags),
        "author": article.author,
        # facets and dates live in the segment's document facts (doctable.py), not in the index
        "_facets": {"category": list(article.categories), "tag": list(article.tags),
                    "author": [article.author] if article.author else []},
        "_date": article.date.astimezone(UTC).replace(tzinfo=None) if article.date is not None else None,
        "url": article.url,
        "slug": article.slug,
        "permalink": article.permalink,
        "date_text": article.date_text,
        # the excerpt is stored only when the front matter wrote one: else it is the body's start
        "excerpt": article.excerpt if article.excerpt_written else "",
        "group": article.group,
        "body_key": body_key(article.body) or ("id:" + article.id),
        "content_hash": article.content_hash,
        "mtime": int(round(article.mtime * 1e6)),
        "size": int(article.size),
    }
    if article.author:
        doc["author_key"] = analyzer.fold(article.author)
    if article.updated is not None:
        doc["updated"] = article.updated.isoformat()
    return doc


def _grams(grams: analysis.GramArrays) -> PreAnalyzed:
    return PreAnalyzed(grams.words, grams.word_positions, grams.count, grams.chars, grams.char_positions)


# -- parsing + analysing one file ----------------------------------------------------------------

Prepared = tuple[str, Any, list[str]]


@dataclass(frozen=True)
class BuildJob:
    """How to turn a file into a document: the time zone, whether drafts count, and the index's
    analyzer. Built once per reindex (and once per worker process)."""

    tz: dt.tzinfo
    drafts: bool
    analyzer: Analyzer

    @classmethod
    def for_settings(cls, settings: Settings) -> BuildJob:
        storedtext.default_dictionaries(settings.jieba_cache_dir)   # before any fork: workers inherit them
        return cls(zone(settings.timezone), settings.drafts, index_analyzer(settings))

    def prepare(self, source: SourceFile) -> Prepared:
        """Parse + analyse one file: ("ok", document, warnings) or ("error"/"draft", Skipped, [])."""
        try:
            article = parse_file(source, self.tz, drafts=self.drafts)
            return "ok", to_document(article, self.analyzer), list(article.warnings)
        except DraftSkipped as exc:
            return "draft", Skipped(exc.path, exc.reason, exc.kind), []
        except ArticleError as exc:
            return "error", Skipped(exc.path, exc.reason, exc.kind), []
        except Exception as exc:  # noqa: BLE001 - one bad file must never abort a reindex
            return "error", Skipped(source.id, f"{type(exc).__name__}: {exc}", "unparsable"), []


_JOB: BuildJob | None = None        # the job of a worker process (set by its initializer)


def _init_worker(settings: Settings) -> None:
    """Initializer of worker processes only: never run in the caller's process, whose signal
    handlers belong to the caller (and which may not even be the main thread)."""
    global _JOB
    lifeline.die_with_parent()                     # a kill -9 of the reindex ends its workers too
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent decides what Ctrl-C means
    job = BuildJob.for_settings(settings)
    job.analyzer.load()
    _JOB = job


def _prepare(source: SourceFile) -> Prepared:
    assert _JOB is not None, "worker process without a job"
    return _JOB.prepare(source)


class _WarmWorker:
    """One worker process started before an incremental reindex lists the folder, so that the
    segmenter's dictionary (about 0.8 s to load) is ready in it by the time the changed files
    are known; a reindex that finds nothing to do just stops it."""

    def __init__(self, settings: Settings) -> None:
        ctx = mp.get_context("fork" if hasattr(os, "fork") else "spawn")
        self.pool = ctx.Pool(1, initializer=_init_worker, initargs=(settings,))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


def _prepared(sources: list[SourceFile], settings: Settings, job: BuildJob,
              warm: _WarmWorker | None = None) -> Iterator[tuple[SourceFile, Prepared]]:
    workers = max(1, settings.workers)
    if warm is not None and warm.pool is not None and len(sources) < PARALLEL_MIN:
        yield from zip(sources, warm.pool.imap(_prepare, sources, chunksize=8), strict=True)
        return
    if warm is not None:
        warm.close()
    if workers == 1 or len(sources) < PARALLEL_MIN:
        for source in sources:
            yield source, job.prepare(source)
        return
    ctx = mp.get_context("fork" if hasattr(os, "fork") else "spawn")
    pool = ctx.Pool(workers, initializer=_init_worker, initargs=(settings,), maxtasksperchild=5000)
    try:
        for source, result in zip(sources, pool.imap(_prepare, sources, chunksize=8), strict=True):
            yield source, result
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


# -- the writer ----------------------------------------------------------------------------------

def reindex(settings: Settings, root: str | os.PathLike | None = None, *, full: bool = False,
            progress: Progress | None = None) -> ReindexSummary:
    """Bring the index in ``settings.index_dir`` up to date with the folder ``root``."""
    store = IndexStore(settings)
    start = time.monotonic()
    job = BuildJob.for_settings(settings)   # a bad zone or user dictionary fails before any work
    analyzer_config(settings).check()
    if root or settings.articles_dir:
        _resolve_root(root, None, settings)   # a missing folder fails before the index folder is touched
    with store.writer_lock():
        try:
            meta, unreadable = store.read_meta(), ""
        except IndexOutdated as exc:
            # An unreadable or foreign sou.json says "run `sou reindex --full`", and that very
            # command used to fail on the same file (issue 5): rebuild from scratch instead.
            meta, unreadable = None, str(exc).split(": run `", 1)[0]
        store.remove_leftovers(keep=meta.index_name if meta else "")
        root_path = _resolve_root(root, meta, settings)
        summary = ReindexSummary(root=str(root_path), index_dir=str(store.dir), full=full)
        if meta is not None and not full:
            reason = meta.outdated_reason(settings)
            if not reason and Path(meta.root) != root_path:
                reason = f"the articles folder changed ({meta.root} -> {root_path})"
            if reason:
                summary.full, summary.reason = True, reason
        if meta is None:
            summary.full = True
            summary.reason = summary.reason or unreadable
        warm = _WarmWorker(settings) if not summary.full and settings.workers > 1 else None
        try:
            with _disk_errors(store):
                with _phase(summary, "discover"):
                    found = discover(root_path, drafts=settings.drafts)
                summary.warnings.extend(f"{p.path}: {p.reason}" for p in found.problems)
                if summary.full:
                    _full(store, meta, settings, job, root_path, found.files, summary, progress)
                else:
                    assert meta is not None
                    _incremental(store, meta, settings, job, found, summary, progress, warm)
        finally:
            if warm is not None:
                warm.close()
    summary.seconds = time.monotonic() - start
    return summary


@contextmanager
def _phase(summary: ReindexSummary, name: str):
    """Seconds spent in each step of a reindex, reported in its summary (`--json`)."""
    started = time.monotonic()
    try:
        yield
    finally:
        summary.phases[name] = round(summary.phases.get(name, 0.0) + time.monotonic() - started, 3)


def _resolve_root(root, meta: IndexMeta | None, settings: Settings) -> Path:
    chosen = root or settings.articles_dir or (meta.root if meta else None)
    if not chosen:
        raise SouError("no articles folder: run `sou reindex PATH`")
    path = Path(chosen).expanduser().resolve()
    if not path.is_dir():
        raise SouError(f"articles folder {path} does not exist or is not a folder")
    return path


@dataclass
class _Shard:
    """What one build worker wrote: its segment and its share of the summary."""

    segments: list[Any]
    indexed: list[str]
    skipped: list[Skipped]
    warnings: list[str]
    words: WordCounts = field(default_factory=WordCounts)     # for the pinyin vocabulary


_COUNTER = None


def _init_builder(settings: Settings, counter) -> None:
    global _COUNTER
    _init_worker(settings)
    _COUNTER = counter


def _build_shard(index_dir: str, name: str, sources: list[SourceFile], job: BuildJob | None = None,
                 counter=None) -> _Shard:
    """Parse, analyse and write ``sources`` into new segments of index ``name``. Run in a worker
    (``job`` None: the worker's own) or in the caller's process: each process writes its own
    segments, so segmentation AND posting writing use every core."""
    job = job or _JOB
    counter = counter if counter is not None else _COUNTER
    assert job is not None, "no build job"
    storage = FileStorage(index_dir)
    ix = storage.open_index(name)
    shard = _Shard([], [], [], [])
    writer = PoolWriter(ix, on_terms=shard.words.add_terms)
    added = 0
    for source in sources:
        status, payload, warnings = job.prepare(source)
        if status == "ok":
            writer.add_document(**payload)
            added += 1
            shard.indexed.append(source.id)
            shard.warnings.extend(f"{source.id}: {w}" for w in warnings)
        elif status == "draft":
            shard.warnings.append(f"{payload.path}: skipped, {payload.reason}")
        else:
            shard.skipped.append(payload)
        if counter is not None:
            with counter.get_lock():
                counter.value += 1
    # One segment per worker: the pool spills sorted runs to disk past its memory budget and
    # merges them when the segment is written, so memory stays bounded without small segments.
    # Whoosh names one temp folder per index, shared by every worker's writer: the parent
    # removes it once all of them are done (see _full), never a worker.
    shard.words.documents = added
    if added:
        shard.segments.append(writer._finalize_segment())
    else:
        writer._close_segment()
    return shard


def _shards(sources: list[SourceFile], n: int) -> list[list[SourceFile]]:
    """Balance by bytes: biggest files first, each to the currently lightest shard."""
    shards: list[list[SourceFile]] = [[] for _ in range(n)]
    weights = [0] * n
    for source in sorted(sources, key=lambda s: -s.size):
        i = weights.index(min(weights))
        shards[i].append(source)
        weights[i] += source.size + 2000
    return [sorted(s, key=lambda x: x.id) for s in shards if s]


def _full(store: IndexStore, old: IndexMeta | None, settings: Settings, job: BuildJob, root: Path,
          sources: list[SourceFile], summary: ReindexSummary, progress: Progress | None) -> None:
    name = store.new_index_name()
    if old is not None:
        store.remove_other_indexes(keep=old.index_name)
    ix = store.create(name, build_schema())
    workers = max(1, min(settings.workers, len(sources) // PARALLEL_MIN or 1))
    try:
        with _phase(summary, "analyse_and_write"):
            if workers == 1:
                shards = [_build_shard(str(store.dir), name, sources, job)]
            else:
                shards = _build_parallel(store, name, sources, settings, job, workers, progress,
                                         meanwhile=functools.partial(pinyin_preload, settings.jieba_cache_dir)
                                         if settings.pinyin else None)
        with _phase(summary, "commit"):
            writer = ix.writer(timeout=settings.lock_timeout)
            writer._close_segment()
            writer._commit_toc([seg for s in shards for seg in s.segments])
            writer._finish()       # also removes the index's temp folder
    except BaseException:
        store.remove_other_indexes(keep=old.index_name if old else "")
        store.remove_spills()
        raise
    ids = [doc_id for s in shards for doc_id in s.indexed]
    summary.indexed = len(ids)
    for s in shards:
        summary.skipped.extend(s.skipped)
        summary.warnings.extend(s.warnings)
    summary.skipped.sort(key=lambda s: s.path)
    if progress:
        progress(len(sources), len(sources))
    config = analyzer_config(settings)
    stamp = now_iso()
    history = (old.history if old else [])[-9:] + [{"at": stamp, "full": True, "documents": len(ids)}]
    store.write_meta(IndexMeta(
        index_name=name, schema_version=SCHEMA_VERSION, analyzer_version=analysis.ANALYZER_VERSION,
        analyzer_fingerprint=config.fingerprint(), root=str(root), built_at=stamp, updated_at=stamp,
        documents=len(ids), user_dict=settings.user_dict or "", variants=settings.variants, history=history,
        segmenter=config.segmenter_name(),
    ))
    with _phase(summary, "pinyin"):
        if settings.pinyin:
            counts = WordCounts()
            for s in shards:
                counts.merge(s.words)
            _write_pinyin(store, name, settings, counts, update=False)
    store.remove_other_indexes(keep=name)
    summary.documents = len(ids)


class _ShardProcess:
    """One shard built in a forked process that exits as soon as it has handed its result over:
    an idle pool worker kept its whole build heap (~250 MB at 25k posts) until every other shard
    was done, and those heaps were most of a full build's memory."""

    def __init__(self, ctx, settings: Settings, counter, index_dir: str, name: str,
                 sources: list[SourceFile]) -> None:
        receiving, sending = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_shard_process, name="sou-build", daemon=True,
                                   args=(sending, settings, counter, index_dir, name, sources))
        self.process.start()
        sending.close()
        self._conn = receiving

    def result(self) -> _Shard:
        """The shard, once the process sends it; its exception, raised here; or a SouError when
        it died without a word (killed, out of memory)."""
        try:
            result = self._conn.recv()
        except EOFError:
            self.process.join()
            raise SouError(f"a build process died (exit code {self.process.exitcode})") from None
        finally:
            self._conn.close()
        self.process.join()
        if isinstance(result, BaseException):
            raise result
        return result

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()


def _shard_process(conn, settings: Settings, counter, index_dir: str, name: str,
                   sources: list[SourceFile]) -> None:
    """Body of a build process: its shard, or what stopped it, sent to the parent."""
    try:
        _init_builder(settings, counter)
        result: object = _build_shard(index_dir, name, sources)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        result = exc
    try:
        conn.send(result)
    except Exception as exc:  # noqa: BLE001 - an exception that does not pickle still says what it was
        conn.send(SouError(f"build process failed: {type(result).__name__}: {result} ({exc})"))
    conn.close()


def _build_parallel(store: IndexStore, name: str, sources: list[SourceFile], settings: Settings,
                    job: BuildJob, workers: int, progress: Progress | None,
                    meanwhile: Callable[[], None] | None = None) -> list[_Shard]:
    """The shards of ``workers`` processes: this one builds the first (it only waited before, and
    its interpreter and dictionary counted once more in the build's memory), forked processes the
    others. ``meanwhile`` runs in a thread once this process's shard is done (a thread must never
    be forked mid-import, and started while every core builds it only slows a shard down)."""
    # Load the dictionary before forking: the processes inherit it (rjieba's lives in Rust
    # memory, so the pages stay shared) instead of each loading and holding its own copy; and
    # keep the collector off the objects they inherit, so it does not copy the pages it would touch.
    index_analyzer(settings).load()
    gc.freeze()
    ctx = mp.get_context("fork" if hasattr(os, "fork") else "spawn")
    counter = ctx.Value("i", 0)
    own, *others = _shards(sources, workers)
    helpers: list[_ShardProcess] = []
    results: list[_Shard | BaseException | None] = [None] * len(others)
    stop_ticking = threading.Event()

    def collect(i: int, helper: _ShardProcess) -> None:
        try:
            results[i] = helper.result()
        except BaseException as exc:  # noqa: BLE001 - raised by the caller's thread below
            results[i] = exc

    def tick() -> None:
        while progress is not None and not stop_ticking.wait(0.2):
            progress(min(counter.value, len(sources)), len(sources))

    try:
        helpers = [_ShardProcess(ctx, settings, counter, str(store.dir), name, shard) for shard in others]
        # Threads only now: every fork is done.
        threads = [threading.Thread(target=collect, args=(i, h), name="sou-collect", daemon=True)
                   for i, h in enumerate(helpers)]
        threads.append(threading.Thread(target=tick, name="sou-progress", daemon=True))
        for thread in threads:
            thread.start()
        mine = _build_shard(str(store.dir), name, own, job, counter)
        if meanwhile is not None:
            threading.Thread(target=meanwhile, name="sou-meanwhile", daemon=True).start()
        for thread in threads[:-1]:
            thread.join()
        built = [mine]
        for result in results:
            if isinstance(result, BaseException):
                raise result
            assert result is not None
            built.append(result)
        return built
    except BaseException:
        for helper in helpers:
            helper.stop()
        raise
    finally:
        stop_ticking.set()
        gc.unfreeze()


def indexed_state(ix) -> dict[str, tuple[int, float, str]]:
    """id -> (size, mtime, content hash) of every live document, read segment by segment from
    the columns (iterating a column is far cheaper than indexing it per document)."""
    state: dict[str, tuple[int, float, str]] = {}
    with ix.searcher() as searcher:
        for leaf in searcher.reader().leaf_readers():
            reader = leaf[0] if isinstance(leaf, tuple) else leaf
            columns = [list(reader.column_reader(name)) for name in ("id", "size", "mtime", "content_hash")]
            for docnum, (doc_id, size, mtime, digest) in enumerate(zip(*columns, strict=True)):
                if reader.is_deleted(docnum):
                    continue
                if isinstance(doc_id, bytes):
                    doc_id = doc_id.decode("utf-8")
                state[doc_id] = (int(size), mtime / 1e6, digest.decode("ascii") if isinstance(digest, bytes) else digest)
    return state


def _incremental(store: IndexStore, meta: IndexMeta, settings: Settings, job: BuildJob, found: Discovery,
                 summary: ReindexSummary, progress: Progress | None, warm: _WarmWorker | None = None) -> None:
    sources = found.files
    _, ix = store.open(meta)
    store.remove_other_indexes(keep=meta.index_name)
    with _phase(summary, "state"):
        state = indexed_state(ix)
    changed = _changed(sources, state, summary)
    present = {s.id for s in sources}
    # A folder or file that could not be read this time keeps what the index has for it: only
    # what is really gone is deleted (one EACCES used to delete a whole folder's articles).
    removed = sorted(doc_id for doc_id in set(state) - present if not found.unreadable(doc_id))
    if not changed and not removed:
        summary.documents = len(state)
        return
    _write_changes(store, ix, meta, settings, job, changed, removed, state, summary, progress, warm)


# -- targeted updates (a watcher's batches) ------------------------------------------------------

def update_files(settings: Settings, root: str | os.PathLike | None,
                 paths: Iterable[str | os.PathLike]) -> ReindexSummary:
    """Bring the index in step with the folder for ``paths`` alone, as they are on disk now,
    without walking the rest of the folder: a watcher's batch (a walk of 81k files takes ~8 s,
    and a save must be searchable within 2 s). Each path, absolute or relative to ``root``, is

    - a file: indexed, or updated if it changed (unchanged size+mtime or content is skipped);
    - a folder: synced, as if ``root`` were that folder (its articles indexed or updated, the
      articles the index has under it that are gone deleted): a folder moved in;
    - gone: its article and every article under it deleted: a file or a folder removed or
      moved away.

    Paths outside ``root`` and paths a reindex would skip (hidden, ``_drafts``, not Markdown)
    are ignored. The same writer path as ``reindex`` (writer lock, broken files keep their
    previous version, pinyin delta, ``sou.json``). Needs an index that this sou built from
    ``root``: raises IndexMissing or IndexOutdated otherwise (``reindex`` first)."""
    store = IndexStore(settings)
    start = time.monotonic()
    job = BuildJob.for_settings(settings)
    with store.writer_lock():
        meta = store.require_meta()
        root_path = _resolve_root(root, meta, settings)
        if Path(meta.root) != root_path:
            raise IndexOutdated(f"the index in {store.dir} was built from {meta.root}, not {root_path}: "
                                f"run `sou reindex {root_path}`")
        summary = ReindexSummary(root=str(root_path), index_dir=str(store.dir), full=False)
        with _disk_errors(store):
            _, ix = store.open(meta)
            with _phase(summary, "state"):
                rels = _relative_paths(root_path, paths, settings.drafts)
                found = _sources_at(root_path, rels, settings.drafts)
                state = _entries(ix, rels)
            summary.warnings.extend(f"{p.path}: {p.reason}" for p in found.problems)
            changed = _changed(found.files, state, summary)
            present = {s.id for s in found.files}
            removed = sorted(doc_id for doc_id in set(state) - present if not found.unreadable(doc_id))
            if changed or removed:
                _write_changes(store, ix, meta, settings, job, changed, removed, state, summary)
            else:
                summary.documents = ix.doc_count()
    summary.seconds = time.monotonic() - start
    return summary


def _relative_paths(root: Path, paths: Iterable[str | os.PathLike], drafts: bool) -> list[str]:
    """POSIX paths relative to ``root`` that a reindex would consider (as a folder or an article)."""
    base = os.fspath(root)
    out: set[str] = set()
    for path in paths:
        full = os.path.normpath(os.path.join(base, os.fspath(path)))
        rel = os.path.relpath(full, base)
        if rel == "." or rel.startswith(".." + os.sep) or rel == "..":
            continue
        rel = rel.replace(os.sep, "/")
        if is_folder_path(rel, drafts):
            out.add(rel)
    return sorted(out)


def _sources_at(root: Path, rels: list[str], drafts: bool) -> Discovery:
    """The articles on disk now at ``rels``: the file itself, or everything under a folder."""
    found: dict[str, SourceFile] = {}
    problems = []
    for rel in rels:
        path = root / rel
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue                       # gone: its articles are deleted
        except OSError as exc:
            problems.append(DiscoveryProblem(rel, f"cannot read: {exc.strerror or exc}", True))
            continue
        if stat.S_ISDIR(st.st_mode):
            if path.is_symlink():          # discover() does not follow folder links either
                continue
            below = discover(path, drafts=drafts)
            for source in below:
                doc_id = f"{rel}/{source.id}"
                found[doc_id] = SourceFile(doc_id, source.path, source.size, source.mtime)
            problems.extend(DiscoveryProblem(f"{rel}/{p.path}" if p.path else rel, p.reason, p.folder)
                            for p in below.problems)
        elif stat.S_ISREG(st.st_mode) and is_article_path(rel, drafts):
            found[rel] = SourceFile(rel, str(path), st.st_size, st.st_mtime)
    return Discovery(sorted(found.values(), key=lambda s: s.id), problems)


def _entries(ix, rels: list[str]) -> dict[str, tuple[int, float, str]]:
    """``indexed_state`` for the live documents whose id is one of ``rels`` or lies under one
    of them, found through the id field's terms instead of reading every document."""
    state: dict[str, tuple[int, float, str]] = {}
    with ix.searcher() as searcher:
        reader = searcher.reader()
        wanted: set[str] = set()
        for rel in rels:
            wanted.add(rel)
            wanted.update(t.decode("utf-8") if isinstance(t, bytes) else t
                          for t in reader.expand_prefix("id", rel + "/"))
        columns = {name: reader.column_reader(name) for name in ("size", "mtime", "content_hash")}
        for doc_id in wanted:
            docnum = searcher.document_number(id=doc_id)
            if docnum is None:
                continue
            digest = columns["content_hash"][docnum]
            state[doc_id] = (int(columns["size"][docnum]), columns["mtime"][docnum] / 1e6,
                             digest.decode("ascii") if isinstance(digest, bytes) else digest)
    return state


@contextmanager
def _disk_errors(store: IndexStore):
    """A full disk, a read-only or a forbidden index folder: one clear SouError."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (28, 30, 13):   # ENOSPC, EROFS, EACCES
            raise IndexUnwritable(f"cannot write the index in {store.dir}: {exc.strerror}; "
                                  "the previous index is unchanged") from None
        raise


def _changed(sources: list[SourceFile], state: dict[str, tuple[int, float, str]],
             summary: ReindexSummary) -> list[SourceFile]:
    """The sources that differ from what the index holds: new, or another size and mtime and
    content hash (a file touched but not changed counts as unchanged)."""
    changed: list[SourceFile] = []
    for source in sources:
        known = state.get(source.id)
        if known is None:
            changed.append(source)
        elif known[0] == source.size and abs(known[1] - source.mtime) < 1e-6:
            summary.unchanged += 1
        elif _same_content(source, known[2]):
            summary.unchanged += 1
        else:
            changed.append(source)
    return changed


def _write_changes(store: IndexStore, ix, meta: IndexMeta, settings: Settings, job: BuildJob,
                   changed: list[SourceFile], removed: list[str], known: Container[str], summary: ReindexSummary,
                   progress: Progress | None = None, warm: _WarmWorker | None = None) -> None:
    """Index ``changed``, delete ``removed``, commit, then the pinyin delta and ``sou.json``:
    the writing half of an incremental reindex, shared with ``update_files``. ``known`` holds
    the ids the index had before (an update, not a new article)."""
    writer = open_writer(ix, settings.lock_timeout)
    counts = WordCounts()
    try:
        for done, (source, (status, payload, warnings)) in enumerate(_prepared(changed, settings, job, warm), 1):
            if status == "ok":
                writer.update_document(**payload)
                _count_words(counts, payload)
                if source.id in known:
                    summary.updated += 1
                else:
                    summary.indexed += 1
                summary.warnings.extend(f"{source.id}: {w}" for w in warnings)
            else:
                if source.id in known:
                    if status == "draft":
                        writer.delete_by_term("id", source.id)
                        summary.deleted += 1
                    else:
                        summary.kept += 1
                        summary.skipped.append(Skipped(payload.path, payload.reason + " (previous version kept in the index)", payload.kind))
                elif status == "draft":
                    summary.warnings.append(f"{payload.path}: skipped, {payload.reason}")
                else:
                    summary.skipped.append(payload)
            if progress:
                progress(done, len(changed))
        for doc_id in removed:
            writer.delete_by_term("id", doc_id)
            summary.deleted += 1
        with _phase(summary, "commit"):
            writer.commit(mergetype=writing.MERGE_SMALL)
    except BaseException:
        cancel_writer(writer)
        raise
    with ix.searcher() as searcher:
        summary.documents = searcher.doc_count()
    with _phase(summary, "pinyin"):
        _write_pinyin(store, meta.index_name, settings, counts, update=True)
    meta.updated_at = now_iso()
    meta.documents = summary.documents
    meta.history = meta.history[-9:] + [{"at": meta.updated_at, "full": False, "documents": summary.documents,
                                         "changed": summary.indexed + summary.updated + summary.deleted}]
    store.write_meta(meta)


def _count_words(counts: WordCounts, doc: dict[str, Any]) -> None:
    def words(name: str) -> set[str]:
        value = doc.get(name)
        return set(value.words) if isinstance(value, PreAnalyzed) else set()

    chars: set[str] = set()
    for name in ("ngram", "title_ngram"):                # a character only ever in titles too
        grams = doc.get(name)
        if isinstance(grams, PreAnalyzed) and grams.chars is not None:
            chars.update(chr(c) for c in sorted_unique(grams.chars).tolist())
    counts.add_document(words("title"), words("meta"), words("body"), chars)


def _write_pinyin(store: IndexStore, name: str, settings: Settings, counts: WordCounts, update: bool) -> None:
    """The pinyin vocabulary is built here, from the words this reindex wrote, so queries only
    look words up. A full build writes it whole (with pypinyin's phrase readings); an
    incremental reindex adds its words to a small delta file, read with the saved character
    readings."""
    if not settings.pinyin:
        return
    if not update:
        pinyin_preload(settings.jieba_cache_dir)
        vocab = PinyinVocabulary.from_counts(counts)
        vocab.save(vocabulary_path(store.dir, name))
        PinyinVocabulary(chars=vocab.chars).save(chars_path(store.dir, name))
        delta_path(store.dir, name).unlink(missing_ok=True)
        return
    chars = PinyinVocabulary.load(chars_path(store.dir, name))
    if chars is None:
        return
    delta = PinyinVocabulary.load(delta_path(store.dir, name)) or PinyinVocabulary()
    delta.update(counts, sounds=chars.sound_of)
    delta.save(delta_path(store.dir, name))


def _same_content(source: SourceFile, digest: str) -> bool:
    import hashlib

    try:
        return hashlib.sha1(source.read()).hexdigest() == digest
    except OSError:
        return False


def stats(settings: Settings) -> dict[str, Any]:
    """What `sou stats` prints: size, counts and provenance of the index."""
    store = IndexStore(settings)
    meta, ix = store.open()
    with ix.searcher() as searcher:
        reader = searcher.reader()
        groups = len(set(reader.column_reader("group")))
        docs = searcher.doc_count()
        terms = {name: sum(1 for _ in reader.lexicon(name)) for name in ("title", "body", "ngram")}
    return {
        "index_dir": str(store.dir),
        "root": meta.root,
        "documents": docs,
        "groups": groups,
        "terms": terms,
        "disk_mb": round(store.disk_bytes() / 1e6, 2),
        "built_at": meta.built_at,
        "updated_at": meta.updated_at,
        "schema_version": meta.schema_version,
        "analyzer_version": meta.analyzer_version,
        "analyzer_fingerprint": meta.analyzer_fingerprint,
        "segmenter": meta.segmenter,
        "user_dict": meta.user_dict,
        "history": meta.history,
    }

