"""Worker processes of a reindex die with it, and never keep its lock.

A ``kill -9`` of ``sou reindex --full`` used to leave its build workers running for ~20 s: they
went on parsing, held the inherited writer lock (so the next reindex waited and failed with
exit 4) and finally printed a BrokenPipeError traceback. Two guards fix that:

- each worker asks the kernel to SIGKILL it when its parent dies (Linux ``PR_SET_PDEATHSIG``),
  and exits at once if the parent already died before it asked (the kernel only signals deaths
  after the request); where prctl does not exist, a thread watches the parent instead;
- a forked child lets go of the lock file descriptors its parent holds
  (``os.register_at_fork``), so a ``flock`` can only be held by the process that took it.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5

_held: set[int] = set()          # lock file descriptors this process holds


def die_with_parent() -> None:
    """In a multiprocessing worker: die when the process that started it dies."""
    parent = mp.parent_process()
    if parent is None or parent.pid is None:
        return
    asked = False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            asked = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    if os.getppid() != parent.pid:        # died between fork and prctl: nobody will signal us
        os._exit(1)
    if not asked:
        threading.Thread(target=_watch, args=(parent.pid,), daemon=True, name="sou-lifeline").start()


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def hold(fd: int) -> None:
    """Remember a lock descriptor, so that children forked while it is held drop it."""
    _held.add(fd)


def release(fd: int) -> None:
    _held.discard(fd)


def _drop_held_locks() -> None:
    """After fork, in the child: point every held lock descriptor at /dev/null. ``flock`` locks
    belong to the open file, which the child shares until it lets go; dup2 over the descriptor
    (rather than close) lets go while keeping the number valid for the file object that owns it."""
    if not _held:
        return
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        for fd in list(_held):
            with contextlib.suppress(OSError):
                os.dup2(null, fd)
    finally:
        os.close(null)
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_held_locks)
