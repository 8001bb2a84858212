"""Run a command as a whole process and measure it from outside: wall, CPU, and the memory of
its whole process tree.

Why from outside: the figures that matter to a user are those of the command they type
(``sou reindex DIR --full``): interpreter start and imports included, and the memory of every
process it starts. ``ru_maxrss`` cannot give that: it is per process, and for children only the
largest one (not their sum). So a sampler thread walks the tree (psutil) every `interval`
seconds and reads each process's RSS and PSS; the peak of the *sum* is what a small server must
hold. RSS double-counts pages a forked worker shares with its parent; PSS (proportional set
size, from /proc/PID/smaps_rollup) divides them among the sharers, so the PSS sum is the memory
the tree really occupies. Both are reported; targets are checked against the RSS sum, the figure
the issues quote. Sampling can miss a peak shorter than `interval`: the largest single process
is therefore also read from its own high-water mark (VmHWM), which misses nothing.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

from bench.common import MB

DEFAULT_INTERVAL_S = 0.2


@dataclass(frozen=True)
class ProcSample:
    """One process at one instant (bytes)."""

    pid: int
    rss: int
    pss: int | None
    hwm: int | None   # VmHWM: this process's own peak RSS so far


@dataclass
class TreeMemory:
    """Peaks over the samples of a process tree, in MB (see `summarize`)."""

    samples: int = 0
    peak_rss_sum_mb: float = 0.0
    peak_pss_sum_mb: float | None = None
    largest_process_mb: float = 0.0   # max over processes of their VmHWM (or sampled RSS)
    max_processes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ProcessRun:
    """What `measure` saw of one command."""

    cmd: list[str]
    returncode: int
    wall_s: float
    cpu_s: float
    memory: TreeMemory
    stdout: str = ""
    stderr: str = ""

    def figures(self) -> dict[str, Any]:
        """The JSON-friendly figures (no captured output)."""
        return {"wall_s": round(self.wall_s, 3), "cpu_s": round(self.cpu_s, 3), "returncode": self.returncode,
                **self.memory.to_dict()}


def _status_hwm(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _pss(pid: int) -> int | None:
    """PSS in bytes from smaps_rollup (Linux ≥ 4.14; cheap compared with walking smaps)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def sample_tree(root: psutil.Process) -> list[ProcSample]:
    """RSS, PSS and VmHWM of `root` and all its descendants that still exist."""
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return []
    out = []
    for proc in procs:
        try:
            rss = proc.memory_info().rss
        except psutil.Error:
            continue
        out.append(ProcSample(proc.pid, rss, _pss(proc.pid), _status_hwm(proc.pid)))
    return out


def summarize(samples: Sequence[Sequence[ProcSample]]) -> TreeMemory:
    """Peaks over a series of tree samples (one list of processes per instant).

    The RSS and PSS sums are peaks of per-instant sums; the PSS sum is None when no process
    could be read (no /proc). The largest process is the max of every process's own
    high-water mark where the kernel gave one, else of its sampled RSS.
    """
    mem = TreeMemory(samples=len(samples))
    pss_seen = False
    for instant in samples:
        if not instant:
            continue
        mem.max_processes = max(mem.max_processes, len(instant))
        mem.peak_rss_sum_mb = max(mem.peak_rss_sum_mb, sum(p.rss for p in instant) / MB)
        pss = [p.pss for p in instant if p.pss is not None]
        if pss:
            pss_seen = True
            mem.peak_pss_sum_mb = max(mem.peak_pss_sum_mb or 0.0, sum(pss) / MB)
        for p in instant:
            mem.largest_process_mb = max(mem.largest_process_mb, max(p.rss, p.hwm or 0) / MB)
    mem.peak_rss_sum_mb = round(mem.peak_rss_sum_mb, 1)
    mem.largest_process_mb = round(mem.largest_process_mb, 1)
    mem.peak_pss_sum_mb = round(mem.peak_pss_sum_mb, 1) if pss_seen and mem.peak_pss_sum_mb is not None else None
    return mem


def measure(cmd: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
            interval: float = DEFAULT_INTERVAL_S, capture: bool = True) -> ProcessRun:
    """Run `cmd` to completion; return its wall time, CPU time (its own and its waited-for
    descendants') and the memory peaks of its process tree sampled every `interval` s.

    The wall clock starts before the fork, so interpreter start and imports are in it.
    Output is captured (stdout and stderr) unless `capture` is False.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    pipe = subprocess.PIPE if capture else None
    started = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=pipe, stderr=pipe, text=True)
    series: list[list[ProcSample]] = []
    stop = threading.Event()

    def sampler() -> None:
        try:
            root = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while True:
            instant = sample_tree(root)
            if instant:
                series.append(instant)
            if stop.wait(interval):
                return

    thread = threading.Thread(target=sampler, name="proctree-sampler", daemon=True)
    thread.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    stop.set()
    thread.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return ProcessRun(list(cmd), proc.returncode, wall, cpu, summarize(series), out or "", err or "")


def python_command(*args: str) -> list[str]:
    """The running interpreter with `args` (children use the same venv as the benchmark)."""
    return [sys.executable, *args]


def venv_script(name: str) -> str:
    """A console script of the benchmark's own environment (e.g. ``sou``), by absolute path, so
    that the measured command is the one a user of this installation would type."""
    candidate = Path(sys.executable).with_name(name)
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"no {name!r} command beside {sys.executable} or on PATH (pip install -e .)")
    return found
