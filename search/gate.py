"""A fair limit on how many searches one process runs at once.

A search is CPU-bound Python under the GIL: the threads of one process share about one core, so
running eight searches at once does not finish any sooner than running them two at a time; it
only makes each one slower and, measured, loses a fifth of the throughput to switching between
them (49k-post corpus, the benchmark query mix in one process: 60 searches/s with 8 at once, 75
with 2 at once, 77 with 1). Two at a time keeps the core busy while one of them waits on a
positional read or in a NumPy call that let go of the GIL.

The waiting is first come, first served: a ``threading.Semaphore`` lets a thread that just
released it (and still holds the GIL) take it straight back, so under load a few requests
waited for many turns (a long p99). Here a released slot is handed to the oldest waiter.
"""

from __future__ import annotations

import threading
from collections import deque


class FairGate:
    """At most ``slots`` holders at once (``slots`` < 1: no limit); the rest enter in arrival
    order. A context manager, not reentrant: a holder that entered again would wait for itself
    when ``slots`` is 1."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._lock = threading.Lock()
        self._free = max(0, slots)
        self._waiting: deque[threading.Lock] = deque()

    def __enter__(self) -> FairGate:
        if self.slots < 1:
            return self
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return self
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        try:
            turn.acquire()          # released by the holder that hands its slot over
        except BaseException:       # interrupted while waiting: give up the place, or the slot
            with self._lock:
                if turn in self._waiting:
                    self._waiting.remove(turn)
                    raise
            self._hand_over()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.slots >= 1:
            self._hand_over()

    def _hand_over(self) -> None:
        """The slot goes straight to the oldest waiter, never back to the pool in between (where
        the thread that released it could take it again)."""
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._free += 1

    @property
    def waiting(self) -> int:
        """Callers waiting for a slot now (for health and tests)."""
        return len(self._waiting)
