"""Spread connections evenly over the server processes that share one listening socket.

Every child polls the inherited socket and whichever wakes first accepts. Measured with
``sou serve --processes 2`` under wrk (16 keep-alive connections, opened in one burst), the
split was 5/11 twice and 0/16 once: the idle process sat still and the other answered all, at
the throughput of one process (72 requests/s against 118 with the work split). Node's cluster
module documents the same skew and accepts in the primary instead; here each child says how many
connections it holds (a counter in memory shared by the fork) and only polls the listening
socket while it holds no more than the least loaded live sibling, so a burst is dealt out one
connection at a time.

A child whose counter has not been refreshed for ``STALE_S`` (stopped, hung, or dead and not yet
restarted) is left out, so it can never stop the others from accepting; a child being started
counts as holding none from its fork on (else the first child up took a whole burst before its
sibling had started). A child that is not
polling the socket wakes at least every ``LOOP_S`` to look again, which bounds the wait of a
new connection when the least loaded process changes.
"""

from __future__ import annotations

import time
from multiprocessing.sharedctypes import RawArray
from typing import Any

STALE_S = 2.0        # a sibling silent this long no longer counts
LOOP_S = 0.05        # how often a child not polling the socket looks again (waitress: 1 s)


class ConnectionBalance:
    """Created by the parent before it forks; each child calls ``attach`` with its slot."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._connections = RawArray("q", processes)
        self._seen = RawArray("d", processes)      # time.monotonic() of the slot's last report

    def reset(self, slot: int) -> None:
        """A child died: its connections died with it, and it no longer counts."""
        self._connections[slot] = 0
        self._seen[slot] = 0.0

    def starting(self, slot: int) -> None:
        """A child is being started in ``slot``: it holds no connections yet, and counts."""
        self._connections[slot] = 0
        self._seen[slot] = time.monotonic()

    def counts(self) -> list[int]:
        """Connections held per slot, as last reported."""
        return list(self._connections)

    def may_accept(self, slot: int, connections: int, now: float) -> bool:
        """Report ``connections`` for ``slot``; True when no live sibling holds fewer."""
        self._connections[slot] = connections
        self._seen[slot] = now
        others = [self._connections[i] for i in range(self.processes)
                  if i != slot and now - self._seen[i] < STALE_S]
        return not others or connections <= min(others)

    def attach(self, server: Any, slot: int) -> None:
        """Make a waitress server (``waitress.create_server``) accept only its share.

        waitress asks its listening dispatcher ``readable()`` on every turn of its loop, and
        only polls the socket when that is True; the connections it holds are the channels
        of its map beyond those it had before the first (the listening socket and waitress's
        wake-up pipe)."""
        readable = server.readable
        base = len(server._map)          # before any connection: the socket and the wake-up pipe

        def balanced_readable() -> bool:
            ready = readable()
            share = self.may_accept(slot, len(server._map) - base, time.monotonic())
            return ready and share

        server.readable = balanced_readable
        server.adj.asyncore_loop_timeout = LOOP_S
