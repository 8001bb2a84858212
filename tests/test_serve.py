"""``sou serve`` as a user runs it: N processes on one address, each answering and each picking
up a reindex; Ctrl-C and SIGTERM stop all of them; a dead process is replaced; ``--watch``
indexes a save once (in the supervisor, not in every process); and the mistakes a user can
make (a busy port, a port out of range, a bad ``--processes``) are one line and an exit code."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from helpers import EXAMPLES, write_article

from search.cli import main
from search.indexer import reindex
from web.balance import ConnectionBalance
from web.server import default_processes, limit_malloc_arenas

WAIT_S = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], bool], what: str, limit: float = WAIT_S) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {limit:.0f} s: {what}")


def children(pid: int) -> set[int]:
    """Live child processes of ``pid``."""
    kids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            kids.add(int(stat.parent.name))
    return kids


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


class Server:
    """A ``sou serve`` process in a session of its own, its stdout collected line by line."""

    def __init__(self, *args: str, cwd: Path, env: dict | None = None) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "search.cli", "serve", *args], cwd=cwd,
                                     env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self._reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self._reader.start()
        self.err = ""

    def started(self) -> str:
        wait_for(lambda: any(ln.startswith("sou: serving ") for ln in self.lines) or self.proc.poll() is not None,
                 "the server says where it listens")
        assert self.proc.poll() is None, self.proc.stderr.read()
        return next(ln for ln in self.lines if ln.startswith("sou: serving ")).strip()

    def finish(self, sig: int | None = signal.SIGTERM, group: bool = False) -> int:
        if sig is not None and self.proc.poll() is None:
            if group:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=WAIT_S)
        self._reader.join(WAIT_S)
        self.err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode


@contextmanager
def stopped(pids: set[int]) -> Iterator[None]:
    """SIGSTOP these processes, so that whatever answers is one of the others."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


@pytest.fixture
def site(settings_factory, tmp_path: Path):
    """A private copy of the demo articles, indexed."""
    root = tmp_path / "articles"
    shutil.copytree(EXAMPLES, root)
    settings = settings_factory(workers=1)
    reindex(settings, root)
    return settings, root


def search_url(base: str, q: str) -> str:
    return f"{base}api/search?q={quote(q)}&per_page=50"


def test_two_processes_share_one_address_and_each_picks_up_a_reindex(site, tmp_path: Path) -> None:
    settings, root = site
    port = free_port()
    server = Server("--index", settings.index_dir, "--port", str(port), "--processes", "2", "--threads", "2",
                    cwd=tmp_path)
    try:
        line = server.started()
        base = f"http://127.0.0.1:{port}/"
        assert line == f"sou: serving {base} (2 processes × 2 threads, index {settings.index_dir})"
        kids = children(server.proc.pid)
        assert len(kids) == 2
        statuses = [get(search_url(base, q))[0] for q in ["貓", "国安法", "COVID-19", "咖啡"] * 10]
        assert statuses == [200] * 40
        for kid in kids:                                  # every process answers on its own
            with stopped(kids - {kid}):
                status, body = get(search_url(base, "貓"))
                assert status == 200 and body["total"] > 0
        write_article(root, "notes/sloth.md", "樹懶的一天", "樹懶每天睡十五個小時，下樹只為了上廁所。")
        reindex(settings, root)
        for kid in kids:                                  # ...and sees the reindex
            with stopped(kids - {kid}):
                wait_for(lambda: [h["id"] for h in get(search_url(base, "樹懶"))[1]["hits"]] == ["notes/sloth.md"],
                         f"process {kid} finds the new article")
    finally:
        code = server.finish(signal.SIGTERM)
    assert code == 0, server.err
    assert server.lines[-1].strip() == "sou: stopped"
    assert "Traceback" not in server.err
    assert not any(alive(kid) for kid in kids)


def test_ctrl_c_stops_every_process(site, tmp_path: Path) -> None:
    settings, _ = site
    port = free_port()
    server = Server("--index", settings.index_dir, "--port", str(port), "--processes", "2", cwd=tmp_path)
    server.started()
    kids = children(server.proc.pid)
    assert len(kids) == 2
    code = server.finish(signal.SIGINT, group=True)         # what a terminal sends on Ctrl-C
    assert code == 0, server.err
    assert [ln.strip() for ln in server.lines][-1] == "sou: stopped"
    assert server.err.strip() == ""
    assert not any(alive(kid) for kid in kids)


def test_a_process_that_dies_is_replaced(site, tmp_path: Path) -> None:
    settings, _ = site
    port = free_port()
    server = Server("--index", settings.index_dir, "--port", str(port), "--processes", "2", cwd=tmp_path)
    try:
        server.started()
        kids = children(server.proc.pid)
        victim = min(kids)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: len(children(server.proc.pid) - kids) == 1, "a new process replaces the dead one")
        newcomer = (children(server.proc.pid) - kids).pop()
        assert victim not in children(server.proc.pid)
        with stopped(children(server.proc.pid) - {newcomer}):
            assert get(search_url(f"http://127.0.0.1:{port}/", "貓"))[0] == 200
    finally:
        code = server.finish()
    assert code == 0
    assert "restarting it" in server.err and "SIGKILL" in server.err


def test_the_processes_die_with_a_killed_supervisor(site, tmp_path: Path) -> None:
    settings, _ = site
    server = Server("--index", settings.index_dir, "--port", str(free_port()), "--processes", "2", cwd=tmp_path)
    server.started()
    kids = children(server.proc.pid)
    assert len(kids) == 2
    server.finish(signal.SIGKILL)                 # kill -9: no chance to stop them itself
    wait_for(lambda: not any(alive(kid) for kid in kids), "the orphaned processes exit")


def test_processes_started_before_the_first_reindex_pick_it_up(settings_factory, tmp_path: Path) -> None:
    settings = settings_factory(workers=1)
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    server = Server("--index", settings.index_dir, "--port", str(port), "--processes", "2", cwd=tmp_path)
    try:
        server.started()
        assert any("run `sou reindex PATH` first (the server answers 503 until then)" in ln for ln in server.lines)
        kids = children(server.proc.pid)
        status, body = get(base + "api/health")
        assert status == 503 and body["error"]["code"] == "index_missing"
        reindex(settings, EXAMPLES)
        for kid in kids:
            with stopped(kids - {kid}):
                wait_for(lambda: get(search_url(base, "貓"))[0] == 200, f"process {kid} opens the new index")
    finally:
        code = server.finish()
    assert code == 0, server.err


def test_one_process_serves_in_process(site, tmp_path: Path) -> None:
    settings, _ = site
    port = free_port()
    server = Server("--index", settings.index_dir, "--port", str(port), "--processes", "1", cwd=tmp_path)
    try:
        assert "(1 process × 8 threads" in server.started()
        assert children(server.proc.pid) == set()
        assert get(search_url(f"http://127.0.0.1:{port}/", "貓"))[0] == 200
    finally:
        code = server.finish()
    assert code == 0 and server.lines[-1].strip() == "sou: stopped"


def test_serve_watch_indexes_a_save_once_for_every_process(site, tmp_path: Path) -> None:
    settings, root = site
    port = free_port()
    server = Server("--index", settings.index_dir, "--port", str(port), "--processes", "2", "--watch", cwd=tmp_path)
    base = f"http://127.0.0.1:{port}/"
    try:
        assert f", watching {root.resolve()})" in server.started()
        kids = children(server.proc.pid)
        wait_for(lambda: any("no change" in ln for ln in server.lines), "the watcher has caught up")
        write_article(root, "notes/otter.md", "水獺", "水獺用石頭敲開蜆殼，吃完還會洗手。")
        for kid in kids:
            with stopped(kids - {kid}):
                wait_for(lambda: [h["id"] for h in get(search_url(base, "水獺"))[1]["hits"]] == ["notes/otter.md"],
                         f"process {kid} finds the saved article")
    finally:
        code = server.finish()
    assert code == 0, server.err
    assert sum("indexed 1 in" in ln for ln in server.lines) == 1          # one watcher, not one per process


# -- mistakes a user can make ----------------------------------------------------------------------

def test_a_busy_port_is_one_line_and_exit_1(site, tmp_path: Path) -> None:
    settings, _ = site
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        for processes in ("1", "2"):
            done = subprocess.run([sys.executable, "-m", "search.cli", "serve", "--index", settings.index_dir,
                                   "--port", str(port), "--processes", processes],
                                  capture_output=True, text=True, timeout=WAIT_S, cwd=tmp_path)
            assert done.returncode == 1
            assert done.stderr.strip() == f"sou: error: 127.0.0.1:{port} is already in use (another server?): stop it or pass --port N"
            assert done.stdout == ""


@pytest.mark.parametrize("args", [["--port", "99999"], ["--port", "-1"], ["--processes", "0"], ["--processes", "-1"],
                                  ["--processes", "abc"], ["--threads", "0"]])
def test_bad_serve_options_are_usage_errors(args: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--index", str(tmp_path / "ix"), *args])
    assert result.exit_code == 2
    assert "Invalid value" in result.output
    assert not (tmp_path / "ix").exists()


def test_a_port_out_of_range_from_the_environment_is_a_config_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--index", str(tmp_path / "ix")], env={"SOU_PORT": "99999"})
    assert result.exit_code == 2
    assert result.output.strip() == "sou: error: port must be between 0 and 65535, not 99999"


def test_serve_watch_without_an_articles_folder_is_a_config_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--index", str(tmp_path / "ix"), "--watch"])
    assert result.exit_code == 2
    assert re.fullmatch(r"sou: error: no articles folder to watch: .*`sou reindex PATH`\n", result.output)


def test_default_processes_follow_cores_and_memory() -> None:
    assert default_processes(cores=2, available_mb=20_000) == 2
    assert default_processes(cores=16, available_mb=1_024) == 4       # memory for four
    assert default_processes(cores=4, available_mb=100) == 1
    assert default_processes(cores=1, available_mb=20_000) == 1
    assert default_processes(cores=3, available_mb=None) == 3          # memory unknown: trust the cores


def test_the_balance_deals_connections_to_the_least_loaded_live_process() -> None:
    balance = ConnectionBalance(3)
    assert balance.may_accept(0, 5, now=100.0)                 # alone so far: accept
    assert balance.may_accept(1, 4, now=100.0)
    assert not balance.may_accept(0, 5, now=100.1)             # slot 1 holds fewer
    assert balance.may_accept(2, 4, now=100.1)                 # ties accept (one of them wins)
    assert balance.may_accept(0, 5, now=103.0)                 # the others went silent: not waited for
    balance.reset(2)                                           # died: no longer counts
    assert balance.counts() == [5, 4, 0]
    assert balance.may_accept(1, 4, now=103.0)                 # fewer than slot 0; slot 2 is gone
    balance.starting(2)                                        # its replacement is being forked
    assert not balance.may_accept(1, 4, now=time.monotonic())  # it holds none: it takes the next ones
    assert balance.may_accept(2, 0, now=time.monotonic())


def _connections_per_process(port: int, pids: set[int]) -> dict[int, int]:
    """Established connections to ``port`` held by each of ``pids`` (from /proc: socket inodes)."""
    inodes = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "01":
                    inodes[cols[9]] = True
    held = {}
    for pid in pids:
        count = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    count += 1
        held[pid] = count
    return held


def test_a_burst_of_connections_is_split_evenly_between_the_processes(site, tmp_path: Path) -> None:
    """wrk and browsers open their keep-alive connections at once; without the balance, the first
    process to wake took 11 of 16, or all of them, and the other core idled."""
    settings, _ = site
    port = free_port()
    server = Server("--index", settings.index_dir, "--port", str(port), "--processes", "2", cwd=tmp_path)
    clients = []
    try:
        server.started()
        kids = children(server.proc.pid)
        for _ in range(12):
            clients.append(socket.create_connection(("127.0.0.1", port)))
        wait_for(lambda: sum(_connections_per_process(port, kids).values()) == 12, "all 12 connections accepted")
        held = sorted(_connections_per_process(port, kids).values())
        assert held[1] - held[0] <= 2, held
    finally:
        for c in clients:
            c.close()
        code = server.finish()
    assert code == 0, server.err


def test_malloc_arenas_are_capped_unless_the_user_chose(monkeypatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas(2) is False                     # the user's setting wins
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    glibc = sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None
    assert limit_malloc_arenas(8) is glibc                     # 8: what glibc allows per core anyway
