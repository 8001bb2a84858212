"""Immutable index snapshots, shared by concurrent queries and swapped when the index changes.

This is Lucene's SearcherManager: a query acquires the current snapshot and holds that one index
version for its whole life; a refresh opens the new version BESIDE it and swaps the pointer; the
old snapshot closes when its last query releases it. No query waits for a reopen, and no query
ever sees half of one version and half of another (Whoosh's own ``searcher.refresh()`` reused
readers across a merge and served merged-away segments twice).

Segment files are read with ``os.pread`` (see store.PositionalFile), so queries on many threads
read the same files at once without a lock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Snapshot:
    """One index version, opened whole: its Whoosh searcher and everything derived from it
    (per-document tables, posting cache, pinyin vocabulary). Never changed after opening."""

    key: tuple                     # identifies the version: (index name, TOC generation)
    searcher: Any
    parts: dict[str, Any] = field(default_factory=dict)
    _refs: int = 0
    _retired: bool = False
    _closed: bool = False

    def __getattr__(self, name: str) -> Any:
        parts = self.__dict__.get("parts")
        if parts is not None and name in parts:
            return parts[name]
        raise AttributeError(name)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                self.searcher.close()


class SnapshotManager:
    """Hands out the current snapshot and swaps in a new one when the index changed.

    ``open_snapshot()`` opens the index as it is now; ``stamp()`` is a cheap fingerprint of the
    index folder (file stats) that changes whenever a new version may exist, and ``key_of`` tells
    whether an opened snapshot really is another version."""

    def __init__(self, open_snapshot: Callable[[], Snapshot], stamp: Callable[[], Any]) -> None:
        self._open = open_snapshot
        self._stamp = stamp
        self._lock = threading.Lock()           # guards the pointer and reference counts only
        self._refresh_lock = threading.Lock()   # one reopen at a time
        self._current: Snapshot | None = None
        self._seen: Any = None

    def start(self) -> None:
        stamp = self._stamp()
        snap = self._open()
        with self._lock:
            old, self._current, self._seen = self._current, snap, stamp
        if old is not None:
            self._retire(old)

    @contextlib.contextmanager
    def use(self) -> Iterator[Snapshot]:
        """The current snapshot, held until the block ends."""
        with self._lock:
            snap = self._current
            if snap is None:
                raise RuntimeError("the engine is closed")
            snap._refs += 1
        try:
            yield snap
        finally:
            self._release(snap)

    def refresh(self, wait: bool = True) -> bool:
        """Swap in the index's newest version if it changed; True when it swapped.

        With ``wait=False`` a caller that finds another thread already reopening goes on with
        the current snapshot instead of waiting (what each web request does)."""
        if self._stamp() == self._seen:
            return False
        if not self._refresh_lock.acquire(blocking=wait):
            return False
        try:
            stamp = self._stamp()
            if stamp == self._seen:
                return False
            snap = self._open()
            with self._lock:
                old = self._current
                if old is not None and old.key == snap.key:
                    self._seen = stamp       # the folder changed, the index did not (a lock file)
                    keep_new = False
                else:
                    self._current, self._seen, keep_new = snap, stamp, True
            if not keep_new:
                snap.close()
                return False
            if old is not None:
                self._retire(old)
            return True
        finally:
            self._refresh_lock.release()

    def close(self) -> None:
        with self._lock:
            old, self._current = self._current, None
        if old is not None:
            self._retire(old)

    def _retire(self, snap: Snapshot) -> None:
        with self._lock:
            snap._retired = True
            idle = snap._refs == 0
        if idle:
            snap.close()

    def _release(self, snap: Snapshot) -> None:
        with self._lock:
            snap._refs -= 1
            idle = snap._retired and snap._refs == 0
        if idle:
            snap.close()

    @property
    def current(self) -> Snapshot | None:
        return self._current
