"""``sou serve``: the app under waitress (a production WSGI server, never Flask's dev server), in
one process or in N pre-forked ones sharing one listening socket.

Why processes: a search is CPU-bound Python that holds the GIL, so the threads of one process
share about one core between them; N processes use N cores. The parent binds the address once
(a busy port is one clear error, not N), opens the engine (segmenter dictionary, folding
tables, the index's document tables) and freezes the garbage collector's view of it, then
forks: the children share those pages copy-on-write instead of loading a private copy each.
Index files are read with positional reads (``search/store.py``: PositionalFile), so processes that
inherited the parent's open files never move each other's file offsets. Each child runs
waitress with ``threads`` threads on the inherited socket, taking its share of the connections
(balance.py: left to the kernel, one process took most of a burst), and refreshes the engine
per request, so a reindex made anywhere shows up in all of them. The parent only supervises: it restarts a child that dies (with back-off), stops them
all on Ctrl-C or SIGTERM, and children die with it (``PR_SET_PDEATHSIG``).

With no index yet the server still starts, answers 503 with the command to run, and picks the
index up as soon as ``sou reindex`` has built it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import gc
import logging
import os
import signal
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import waitress
from flask import Flask

from search import Settings, SouError
from search.errors import ConfigError

from . import close_app, create_app
from .balance import ConnectionBalance
from .holder import holder

log = logging.getLogger("sou.web")

STOP_TIMEOUT_S = 10.0          # children get this long to finish their requests after SIGTERM
RESTART_BACKOFF_S = (0.5, 30.0)  # first and longest wait before restarting a child that died
STABLE_AFTER_S = 30.0          # a child that lived this long resets the back-off
MB_PER_PROCESS = 256           # memory an extra process needs beyond the shared pages (measured ~170 MB)
_PR_SET_PDEATHSIG = 1
_M_ARENA_MAX = -8              # glibc's mallopt parameter (malloc.h)


def default_processes(cores: int | None = None, available_mb: int | None = None) -> int:
    """One process per usable CPU core, fewer when memory is short. Searching is CPU-bound
    Python under the GIL, so a second process on a second core nearly doubles throughput while
    more threads in one process do not; a process per core and no more, because extra
    processes only compete for the same cores. Each one beyond the first costs its own
    posting cache and the pages it writes to (``MB_PER_PROCESS``): never plan more than the
    available memory holds."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if available_mb is None:
        available_mb = _available_mb()
    by_memory = max(1, available_mb // MB_PER_PROCESS) if available_mb else cores
    return max(1, min(cores, by_memory))


def limit_malloc_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas (``M_ARENA_MAX``) for the threads created from now on, unless the
    user set ``MALLOC_ARENA_MAX``; False where that is not glibc.

    glibc gives each thread that allocates under contention an arena of its own (up to 8 per
    core) and keeps what is freed in it: waitress's 8 threads took turns at the searches and
    each left its arena full of freed NumPy arrays. Searches run at most
    ``concurrent_searches`` at once (search/gate.py), so that many arenas serve them. Measured
    with two processes under wrk on the 49k-post corpus: 640 MB of PSS, 434 MB with 2 arenas,
    at the same throughput."""
    if "MALLOC_ARENA_MAX" in os.environ or not sys.platform.startswith("linux"):
        return False
    with contextlib.suppress(OSError, AttributeError):
        return bool(ctypes.CDLL(None).mallopt(_M_ARENA_MAX, arenas))
    return False


def _available_mb() -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    return None


@dataclass(frozen=True)
class Plan:
    """What ``serve`` will do, settled before anything starts (and printed as one line)."""

    host: str
    port: int
    processes: int
    threads: int
    index_dir: str
    watch: Path | None = None

    def url(self, port: int | None = None) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port if port is None else port}/"

    def describe(self, port: int) -> str:
        procs = f"{self.processes} process{'es' if self.processes != 1 else ''}"
        watching = f", watching {self.watch}" if self.watch else ""
        return f"sou: serving {self.url(port)} ({procs} × {self.threads} threads, index {self.index_dir}{watching})"


def plan(settings: Settings, processes: int | None = None, watch: bool = False) -> Plan:
    """Check the settings a user can get wrong (ConfigError: exit 2) before binding anything."""
    if not 0 <= settings.port <= 65535:
        raise ConfigError(f"port must be between 0 and 65535, not {settings.port}")
    if settings.threads < 1:
        raise ConfigError(f"threads must be 1 or more, not {settings.threads}")
    n = settings.processes if processes is None else processes
    if n < 0:
        raise ConfigError(f"processes must be 1 or more (0 = one per CPU core), not {n}")
    n = n or default_processes()
    if not hasattr(os, "fork"):
        n = 1
    root = None
    if watch:
        from search.watch import articles_root

        root = articles_root(settings)
    return Plan(settings.host, settings.port, n, settings.threads, settings.index_dir, root)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound once by the parent and inherited by every child."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SouError(f"{host}:{port} is already in use (another server?): stop it or pass --port N") from None
        if exc.errno == errno.EACCES:
            raise SouError(f"no permission to listen on port {port} (ports below 1024 need root): pass --port N") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(f"{host} is not an address of this machine: pass --host") from None
        raise SouError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings, processes: int | None = None, watch: bool = False,
          echo: Callable[[str], None] = print) -> None:
    """Serve until Ctrl-C or SIGTERM, then return (the caller exits 0)."""
    the_plan = plan(settings, processes, watch)
    sock = bind(the_plan.host, the_plan.port)
    limit_malloc_arenas(max(2, settings.concurrent_searches))
    if the_plan.processes > 1:     # the setting is the server's budget: each process gets its share
        settings = settings.replace(posting_cache_mb=settings.posting_cache_mb // the_plan.processes)
    logging.basicConfig(format="sou[%(process)d] %(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    try:
        holder(app).get()         # jieba, folding tables, the index: loaded once, shared by the children
    except SouError as exc:
        log.warning("%s; serving 503 until the index is ready", exc)
        echo(f"sou: {exc} (the server answers 503 until then)")
    port = sock.getsockname()[1]
    stop = threading.Event()
    watcher: threading.Thread | None = None
    supervisor: Supervisor | None = None
    try:
        if the_plan.processes == 1:
            watcher = _start_watcher(settings, the_plan, stop, None, echo)
            echo(the_plan.describe(port))
            _serve_here(app, sock, the_plan.threads)
        else:
            gc.collect()
            gc.freeze()               # the collector never writes to the shared objects' headers
            balance = ConnectionBalance(the_plan.processes)
            supervisor = Supervisor(lambda slot: _child(app, sock, the_plan.threads, balance, slot),
                                    the_plan.processes, on_tick=_StaleEngine(app, settings).check,
                                    on_spawn=balance.starting, on_death=balance.reset)
            supervisor.start()
            watcher = _start_watcher(settings, the_plan, stop, supervisor.fork_guard, echo)
            echo(the_plan.describe(port))
            supervisor.run()
    finally:
        if supervisor is not None:
            supervisor.stop()
        stop.set()
        if watcher is not None:
            watcher.join(timeout=STOP_TIMEOUT_S)
        close_app(app)
        sock.close()
    echo("sou: stopped")


def _start_watcher(settings: Settings, the_plan: Plan, stop: threading.Event, guard,
                   echo: Callable[[str], None]) -> threading.Thread | None:
    """``--watch``: the watcher runs in this process (the supervisor when there are children,
    never once per child); the serving processes see its updates through their refresh."""
    if the_plan.watch is None:
        return None
    from search.watch import describe
    from search.watch import watch as run

    def report(summary) -> None:
        echo(f"sou: {time.strftime('%H:%M:%S')} {describe(summary)}")

    def target() -> None:
        try:
            run(settings, the_plan.watch, on_update=report, stop_event=stop, guard=guard)
        except Exception as exc:  # noqa: BLE001 - the server goes on; say once why watching stopped
            echo(f"sou: watching stopped: {exc}")

    thread = threading.Thread(target=target, name="sou-watch", daemon=True)
    thread.start()
    return thread


def _serve_here(app: Flask, sock: socket.socket, threads: int,
                balance: ConnectionBalance | None = None, slot: int = 0) -> None:
    """waitress on the inherited socket in this process, until SIGTERM or Ctrl-C; with
    ``balance``, taking only this process's share of the connections (see balance.py)."""
    def stop(signum, frame) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    server = waitress.create_server(app, sockets=[sock], threads=threads, ident="sou")
    if balance is not None:
        balance.attach(server, slot)
    server.run()        # returns after SystemExit / KeyboardInterrupt, its threads shut down


def _child(app: Flask, sock: socket.socket, threads: int, balance: ConnectionBalance, slot: int) -> None:
    """The body of a forked child: serve, then leave with os._exit (never return into the
    parent's code, never run its exit handlers twice)."""
    code = 0
    try:
        _die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C reaches the whole group: the parent decides
        if not holder(app).is_open:
            with contextlib.suppress(SouError):
                holder(app).get()
        _serve_here(app, sock, threads, balance, slot)
    except BaseException as exc:  # noqa: BLE001 - one line, then the supervisor restarts us
        if not isinstance(exc, SystemExit | KeyboardInterrupt):
            print(f"sou: server process {os.getpid()} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            code = 1
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM this child when the supervisor dies (even by kill -9); then check
    the parent did not die before the request was made."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if parent == 1 or os.getppid() != parent:
        os._exit(0)


class Supervisor:
    """Starts ``processes`` children running ``body(slot)``, restarts one that dies (waiting 0.5 s,
    then twice as long each time it dies again within ``STABLE_AFTER_S``, at most 30 s), and on
    SIGINT/SIGTERM stops them all (SIGTERM, then SIGKILL after ``STOP_TIMEOUT_S``).

    ``fork_guard`` is held around each fork: a thread of this process (the ``--watch``
    watcher) holds it while it writes the index, so no child is forked holding a copy of a
    half-done write or of a lock.

    Each child has a slot, 0 to ``processes`` - 1, that its replacement takes over
    (``on_death(slot)`` is called when it dies, ``on_spawn(slot)`` before each fork), so
    per-child state shared by the fork stays bounded."""

    def __init__(self, body: Callable[[int], None], processes: int, on_tick: Callable[[], None] | None = None,
                 on_spawn: Callable[[int], None] | None = None, on_death: Callable[[int], None] | None = None) -> None:
        self.body = body
        self.processes = processes
        self.on_tick = on_tick
        self.on_spawn = on_spawn
        self.on_death = on_death
        self.fork_guard = threading.Lock()
        self.children: dict[int, tuple[float, int]] = {}    # pid -> (start time, slot)
        self._due: list[tuple[float, int]] = []             # (restart time, slot) of children that died
        self._backoff = RESTART_BACKOFF_S[0]
        self._stopping = 0
        self._previous: dict = {}

    def start(self) -> None:
        """Start the children; from here on SIGINT/SIGTERM mean "stop them all"."""
        self._previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        for slot in range(self.processes):
            self._spawn(slot)

    def _spawn(self, slot: int) -> None:
        signals = {signal.SIGINT, signal.SIGTERM}
        if self.on_spawn is not None:
            self.on_spawn(slot)
        with self.fork_guard:
            old = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)   # 3.12+: fork with a watcher thread (guarded above)
                    pid = os.fork()
            except OSError as exc:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
                log.error("cannot start a server process: %s", exc)
                self._due.append((time.monotonic() + RESTART_BACKOFF_S[1], slot))
                return
            if pid == 0:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
                self.body(slot)
                os._exit(0)      # body never returns; this is a belt for the braces
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        self.children[pid] = (time.monotonic(), slot)

    def _on_signal(self, signum, frame) -> None:
        self._stopping = signum

    def run(self) -> None:
        """Supervise until SIGINT or SIGTERM, then stop the children."""
        try:
            while not self._stopping:
                self._reap()
                now = time.monotonic()
                for due in [d for d in self._due if d[0] <= now]:
                    self._due.remove(due)
                    self._spawn(due[1])
                if self.on_tick is not None:
                    self.on_tick()
                time.sleep(0.2)
        finally:
            self.stop()

    def _reap(self) -> None:
        for pid, (started, slot) in list(self.children.items()):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if not done:
                continue
            del self.children[pid]
            if self.on_death is not None:
                self.on_death(slot)
            if self._stopping:
                continue
            lived = time.monotonic() - started
            self._backoff = RESTART_BACKOFF_S[0] if lived > STABLE_AFTER_S else min(self._backoff * 2, RESTART_BACKOFF_S[1])
            wait = RESTART_BACKOFF_S[0] if lived > STABLE_AFTER_S else self._backoff
            log.warning("server process %d %s; restarting it in %.1f s", pid, _exit_reason(status), wait)
            self._due.append((time.monotonic() + wait, slot))

    def stop(self) -> None:
        """SIGTERM every child, wait for them, SIGKILL the ones that do not stop in time."""
        self._stopping = self._stopping or signal.SIGTERM
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while self.children and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            del self.children[pid]
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous = {}


def _exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with status {os.WEXITSTATUS(status)}"


class _StaleEngine:
    """The parent's engine exists only to be inherited. Once the index changes, the children
    have moved on to the new one, and the parent's open files would keep the replaced
    segments on disk (a full rebuild of the 49k-post corpus is 1.3 GB): close it, and a child
    started after that opens the index itself."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.app = app
        self.dir = Path(settings.index_dir)
        self.signature = self._signature()
        self._next = 0.0

    def _signature(self) -> tuple:
        with contextlib.suppress(OSError):
            meta = os.stat(self.dir / "sou.json")
            tocs = sorted(e.name for e in os.scandir(self.dir) if e.name.endswith(".toc"))
            return (meta.st_mtime_ns, meta.st_size, tuple(tocs))
        return ()

    def check(self) -> None:
        now = time.monotonic()
        if now < self._next or not holder(self.app).is_open:
            return
        self._next = now + 2.0
        if self._signature() != self.signature:
            close_app(self.app)
