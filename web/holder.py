"""One engine per app, opened lazily and shared by the server's threads.

Opening the engine loads jieba's dictionary and the index (~0.5 s), so it happens once, under a
lock, and never at import time. A failed open (no index yet) is not remembered: the next request
tries again, which is how a running server notices the first ``sou reindex``.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, current_app, g

from search import Settings


class EngineHolder:
    def __init__(self, settings: Settings, engine: Any = None) -> None:
        self.settings = settings
        self._engine = engine
        self._lock = threading.Lock()

    def get(self) -> Any:
        """The open engine; raises IndexMissing / IndexOutdated (-> 503) while there is none."""
        engine = self._engine
        if engine is None:
            with self._lock:
                if self._engine is None:
                    from search.engine import Engine  # late: importing it loads the analyzer

                    self._engine = Engine.open(self.settings)
                engine = self._engine
        return engine

    @property
    def is_open(self) -> bool:
        return self._engine is not None

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None


def holder(app: Flask | None = None) -> EngineHolder:
    return (app or current_app).extensions["sou"]


def settings() -> Settings:
    return holder().settings


def engine() -> Any:
    """The engine for this request, refreshed once per request so a reindex made by another
    process (``sou reindex`` while ``sou serve`` runs) shows up without a restart."""
    if "sou_engine" not in g:
        eng = holder().get()
        eng.refresh(wait=False)
        g.sou_engine = eng
    return g.sou_engine
