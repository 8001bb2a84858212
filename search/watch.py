"""Keep an index in step with its articles folder while files change (``sou watch``,
``sou serve --watch``).

The events come from watchfiles (Rust ``notify``: inotify on Linux, FSEvents on macOS,
ReadDirectoryChangesW on Windows), which already groups them: a batch is handed over once no
new event came for ``step`` ms, or after ``debounce`` ms of continuous events. A batch is only
a list of paths: ``indexer.update_files`` looks at what is on disk *now* for each of them, so
the order and the kind of the events do not matter. An editor's write-to-temp-then-rename, a
``git pull`` of 1,000 files, a folder moved in or out and a folder deleted all end with the
index matching the folder, and each batch is one small incremental commit (never a walk of the
whole folder, never a full rebuild).

Before the first batch, the index is brought up to date with a normal ``reindex`` (built if
there is none): the watcher is already running by then, so what changes during that walk
arrives in the next batch. The segmenter is loaded once and stays loaded: a save is parsed and
segmented in this process (a burst of 64 files or more uses the reindex worker pool).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import watchfiles

from .articles import is_folder_path
from .config import Settings
from .errors import ConfigError, IndexMissing, IndexOutdated, SouError
from .indexer import reindex, update_files
from .models import ReindexSummary
from .store import IndexStore, analyzer_config, index_analyzer

log = logging.getLogger("sou.watch")

STEP_MS = 50            # a batch is handed over after this long without a new event...
DEBOUNCE_MS = 300       # ...or after this long of continuous events (a git pull, a copy)
RETRY_MS = 1000         # an idle tick: a batch that failed (index locked) is retried then

Report = Callable[[ReindexSummary], None]


def articles_root(settings: Settings, root: str | os.PathLike | None = None) -> Path:
    """The folder to watch: ``root``, else the ``articles_dir`` setting, else the folder the
    index was last built from; a ConfigError (exit 2) when there is none or it is no folder."""
    chosen: Any = root or settings.articles_dir
    if not chosen:
        meta = IndexStore(settings).read_meta()
        chosen = meta.root if meta is not None else None
    if not chosen:
        raise ConfigError("no articles folder to watch: pass PATH, set articles_dir, or index one "
                          "first with `sou reindex PATH`")
    path = Path(chosen).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(f"articles folder {path} does not exist or is not a folder")
    return path


def describe(summary: ReindexSummary) -> str:
    """One log line per update, e.g. ``updated 3, deleted 1 in 0.21 s (1,204 documents)``."""
    parts = [f"{label} {n}" for label, n in (("indexed", summary.indexed), ("updated", summary.updated),
                                              ("deleted", summary.deleted)) if n]
    if summary.skipped:
        shown = ", ".join(f"{s.path}: {s.kind}" for s in summary.skipped[:3])
        more = ", …" if len(summary.skipped) > 3 else ""
        kept = f"; {summary.kept} kept {'its' if summary.kept == 1 else 'their'} previous version" if summary.kept else ""
        parts.append(f"skipped {len(summary.skipped)} ({shown}{more}{kept})")
    what = ", ".join(parts) or "no change"
    if summary.full:
        what = f"rebuilt ({summary.reason or 'new index'}): {what}"
    return f"{what} in {summary.seconds:.2f} s ({summary.documents:,} documents)"


def watch(settings: Settings, root: str | os.PathLike | None = None, *, on_update: Report | None = None,
          stop_event: threading.Event | None = None, ready: threading.Event | None = None,
          guard: Any = None, debounce_ms: int = DEBOUNCE_MS, step_ms: int = STEP_MS) -> None:
    """Keep the index of ``settings`` in step with ``root`` (see ``articles_root``) until
    ``stop_event`` is set, or until Ctrl-C in the main thread (KeyboardInterrupt; a batch cut
    short is cancelled, the index keeps its previous state and the writer lock is released).

    ``on_update`` receives the ReindexSummary of the first catch-up reindex and of every batch
    that changed something (default: one log line each). ``ready`` is set once events are being
    received and the index is up to date. ``guard`` (a lock), when given, is held while the
    index is written: the pre-fork server forks only outside it, so no child inherits a
    half-done write or a held lock."""
    root_path = articles_root(settings, root)
    report = on_update or (lambda summary: log.info("%s", describe(summary)))
    analyzer_config(settings).check()
    index_analyzer(settings).load()       # loaded once, before the first save needs it
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
    batches = _Batches(settings, root_path, guard)
    events = watchfiles.watch(root_path, watch_filter=_Filter(root_path, settings), debounce=debounce_ms,
                              step=step_ms, stop_event=stop_event, rust_timeout=RETRY_MS, yield_on_timeout=True,
                              ignore_permission_denied=True)    # discover() skips unreadable folders too
    while True:
        try:
            changes = next(events)
        except StopIteration:
            return
        except (OSError, RuntimeError) as exc:     # RuntimeError: watchfiles' internal errors
            raise SouError(f"cannot watch {root_path}: {exc} (on Linux, a full inotify watch table "
                           "is raised with sysctl fs.inotify.max_user_watches)") from None
        batches.add(path for _, path in changes)
        summary = batches.apply()
        if summary is not None and (summary.full or summary.indexed or summary.updated or summary.deleted
                                    or summary.skipped or summary.kept or batches.first):
            report(summary)
        if batches.caught_up and batches.first:
            batches.first = False
            if ready is not None:
                ready.set()


class _Filter:
    """Events worth a look: under the root, in no hidden folder (``.git``) and no ``_drafts``
    (unless drafts are indexed), and not in the index folder when it lies inside the articles
    folder (each update writes there). Whether a path is an article is decided on disk later."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = os.fspath(root)
        self.drafts = settings.drafts
        self.index = os.fspath(Path(settings.index_dir).resolve())

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        rel = os.path.relpath(path, self.root)
        if rel == "." or rel.startswith(".."):
            return False
        if path == self.index or path.startswith(self.index + os.sep):
            return False
        return is_folder_path(rel.replace(os.sep, "/"), self.drafts)


class _Batches:
    """Paths waiting to be indexed, and what to do with them: a catch-up reindex first, then
    targeted updates. A batch that fails for a reason that passes (another reindex holds the
    lock, a full disk) stays pending and is retried at the next tick; each distinct failure is
    logged once."""

    def __init__(self, settings: Settings, root: Path, guard: Any) -> None:
        self.settings = settings
        self.root = root
        self.guard = guard if guard is not None else nullcontext()
        self.pending: set[str] = set()
        self.caught_up = False
        self.first = True
        self._last_error = ""

    def add(self, paths: Iterable[str]) -> None:
        self.pending.update(paths)

    def apply(self) -> ReindexSummary | None:
        if self.caught_up and not self.pending:
            return None
        try:
            with self.guard:
                if not self.caught_up:
                    summary = reindex(self.settings, self.root)
                    self.caught_up = True
                else:
                    paths = sorted(self.pending)
                    try:
                        summary = update_files(self.settings, self.root, paths)
                    except (IndexMissing, IndexOutdated) as exc:
                        # deleted, rebuilt from another folder or by another sou: start over
                        log.warning("%s; reindexing %s", str(exc).split(": run `")[0], self.root)
                        summary = reindex(self.settings, self.root)
        except ConfigError:
            raise
        except SouError as exc:
            if str(exc) != self._last_error:
                log.warning("%s (will retry)", exc)
                self._last_error = str(exc)
            return None
        self._last_error = ""
        self.pending.clear()
        return summary
