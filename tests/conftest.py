"""Shared fixtures: settings in tmp folders, one demo index per session, an engine over it,
a click runner.

Each index has its own analyzer (search.analysis.Analyzer), so a test with a user dictionary
or other analysis settings changes nothing for the others.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import EXAMPLES
from hypothesis import settings as hypothesis_settings

from search import Settings
from search.engine import Engine
from search.indexer import reindex

# Every Hypothesis test is derandomized (the same examples on every run, no example database):
# a CI run fails or passes for the code, never for the dice. A test's own @settings adds to this.
hypothesis_settings.register_profile("sou", derandomize=True, database=None)
hypothesis_settings.load_profile("sou")


@pytest.fixture(scope="session")
def jieba_cache(tmp_path_factory) -> Path:
    """jieba's dictionary cache lives in a folder of ours, never in /tmp/jieba.cache or ~/.cache."""
    return tmp_path_factory.mktemp("jieba-cache")


@pytest.fixture(scope="session", autouse=True)
def _ctrl_c_reaches_the_processes_tests_start():
    """Tests stop the ``sou`` processes they start with SIGINT, as Ctrl-C would. A shell that
    runs the suite as a background job (``make test &`` in a script, CI wrappers) starts it with
    SIGINT ignored, children inherit that, and a Python started so never turns SIGINT into
    KeyboardInterrupt: ``sou watch`` then ran on after its Ctrl-C. A handled signal is reset to
    the default in a child, so handling it here gives every child the usual Ctrl-C."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(jieba_cache: Path, tmp_path_factory):
    """No SOU_* variable or sou.toml from the developer's shell leaks into the tests; the CLI
    (which reads the environment) keeps jieba's cache in our tmp folder."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("SOU_")}
    for key in saved:
        del os.environ[key]
    os.environ["SOU_CACHE_DIR"] = str(jieba_cache)
    yield
    os.environ.pop("SOU_CACHE_DIR", None)
    os.environ.update(saved)


@pytest.fixture
def settings_factory(tmp_path: Path, jieba_cache: Path) -> Callable[..., Settings]:
    """Settings with the index in this test's tmp folder; keyword arguments override."""

    def make(**overrides) -> Settings:
        overrides.setdefault("index_dir", str(tmp_path / "index"))
        overrides.setdefault("cache_dir", str(jieba_cache))
        overrides.setdefault("lock_timeout", 2.0)
        return Settings().replace(**overrides)

    return make


@pytest.fixture
def articles_copy(tmp_path: Path) -> Path:
    """A private copy of examples/articles that a test may change."""
    target = tmp_path / "articles"
    shutil.copytree(EXAMPLES, target)
    return target


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory, jieba_cache: Path) -> Settings:
    index_dir = tmp_path_factory.mktemp("demo-index")
    return Settings(index_dir=str(index_dir), cache_dir=str(jieba_cache), workers=2)


@pytest.fixture(scope="session")
def demo_index(demo_settings: Settings):
    """examples/articles indexed once per session (read-only for the tests)."""
    summary = reindex(demo_settings, EXAMPLES, full=True)
    assert summary.skipped == [], summary.skipped
    return summary


@pytest.fixture(scope="session")
def engine(demo_index, demo_settings: Settings) -> Engine:
    eng = Engine.open(demo_settings)
    yield eng
    eng.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
