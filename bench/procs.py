"""Process trees from /proc: memory (VmRSS) and CPU time, sampled while the load runs."""

from __future__ import annotations

import contextlib
import os
import resource
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return raw[raw.rindex(")") + 2 :].split()


def parents() -> dict[int, int]:
    """pid -> parent pid of every process."""
    out: dict[int, int] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                out[int(entry.name)] = int(fields[1])
    return out


def tree(root: int) -> list[int]:
    """The root and all its descendants that are alive."""
    if not (PROC / str(root)).exists():
        return []
    children: dict[int, list[int]] = {}
    for pid, ppid in parents().items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_bytes(pid: int) -> int:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def command(pid: int) -> str:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def tree_cpu_seconds(root: int | None) -> float:
    """CPU time (user + system) of a process tree, children that exited and were waited for
    included (cutime/cstime of their parents)."""
    if root is None:
        return 0.0
    ticks = 0
    for pid in tree(root):
        fields = _stat_fields(pid)
        if fields is not None:
            # After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
            ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds spent by the whole machine, all cores (not idle, not waiting for I/O)."""
    first = (PROC / "stat").read_text().splitlines()[0].split()
    values = [int(v) for v in first[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    # guest and guest_nice are already counted in user and nice.
    total = sum(values[:8])
    return (total - idle) / CLOCK_TICKS


@dataclass
class Peak:
    total: int = 0
    by_pid: dict[int, int] = field(default_factory=dict)
    by_phase: dict[str, int] = field(default_factory=dict)
    commands: dict[int, str] = field(default_factory=dict)
    samples: int = 0


class RssSampler:
    """Every `interval` seconds, the summed VmRSS of a process tree; keeps the peaks."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        self.root = root
        self.interval = interval
        self.phase = "start"
        self.peak = Peak()
        self._pids: list[int] = []
        self._listed_at = float("-inf")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> Peak:
        self._stop.set()
        self._thread.join()
        return self.peak

    def sample(self) -> None:
        # The process tree is looked up again every 2 s only: a scan of /proc costs more than
        # reading a few status files, and the workers of a running server do not change.
        now = time.monotonic()
        if now - self._listed_at > 2.0:
            self._pids, self._listed_at = tree(self.root), now
        total = 0
        for pid in self._pids:
            rss = rss_bytes(pid)
            total += rss
            if rss > self.peak.by_pid.get(pid, 0):
                self.peak.by_pid[pid] = rss
                self.peak.commands.setdefault(pid, command(pid))
        self.peak.total = max(self.peak.total, total)
        self.peak.by_phase[self.phase] = max(self.peak.by_phase.get(self.phase, 0), total)
        self.peak.samples += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)


@dataclass
class CpuSplit:
    """Where the machine's CPU time went during one measurement, in seconds."""

    wall: float
    server: float
    postgres: float | None
    wrk: float
    bench: float  # this script (memory sampling, waiting for wrk)
    other: float

    def cores(self) -> dict[str, float | None]:
        def per(value: float | None) -> float | None:
            return None if value is None else round(value / self.wall, 2)

        return {
            "server": per(self.server),
            "postgres": per(self.postgres),
            "wrk": per(self.wrk),
            "bench": per(self.bench),
            "other": per(self.other),
        }


def own_cpu_ticks(pids: list[int]) -> dict[int, int]:
    """utime + stime of each process, in clock ticks (its children not included)."""
    out = {}
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            out[pid] = int(fields[11]) + int(fields[12])
    return out


class CpuMeter:
    """CPU time of the server, our PostgreSQL (when we started it), wrk, and everything else.

    The server's and PostgreSQL's process trees are sampled every `interval` seconds and each
    process's own CPU time is followed from its first to its last sample, so that short-lived
    processes (PostgreSQL's parallel workers) count for what they did within the measurement;
    one that lives less than an interval may be missed.
    """

    def __init__(self, server_root: int, postgres_root: int | None, interval: float = 0.2) -> None:
        self.roots = {"server": server_root, "postgres": postgres_root}
        self.interval = interval
        self.first: dict[str, dict[int, int]] = {"server": {}, "postgres": {}}
        self.last: dict[str, dict[int, int]] = {"server": {}, "postgres": {}}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def _sample(self, initial: bool = False) -> None:
        for name, root in self.roots.items():
            if root is None:
                continue
            for pid, ticks in own_cpu_ticks(tree(root)).items():
                # A process first seen after the start began within the measurement: from zero.
                self.first[name].setdefault(pid, ticks if initial else 0)
                self.last[name][pid] = ticks

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _seconds(self, name: str) -> float:
        first, last = self.first[name], self.last[name]
        return sum(last[pid] - first.get(pid, 0) for pid in last) / CLOCK_TICKS

    def __enter__(self) -> CpuMeter:
        self.started = time.monotonic()
        self.machine = machine_busy_seconds()
        self._sample(initial=True)
        self.children = _children_cpu()
        self.own = _own_cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.wall = time.monotonic() - self.started
        machine = machine_busy_seconds() - self.machine
        server = self._seconds("server")
        postgres = self._seconds("postgres")
        wrk = _children_cpu() - self.children  # wrk is the only child we wait for meanwhile
        own = _own_cpu() - self.own
        has_postgres = self.roots["postgres"] is not None
        known = server + wrk + own + (postgres if has_postgres else 0.0)
        self.split = CpuSplit(
            wall=self.wall,
            server=server,
            postgres=postgres if has_postgres else None,
            wrk=wrk,
            bench=own,
            other=max(0.0, machine - known),
        )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def prioritise(pids: list[int], nice: int) -> int:
    """Give these processes, and their autogroups, the scheduling priority `nice` (negative needs
    root); how many processes took it.

    The machine may be shared (other developers' tests): a higher priority for everything the
    measurement involves (servers, PostgreSQL, wrk) keeps the comparison closer to a quiet machine.
    With autogroup scheduling (sched_autogroup_enabled) CPU is first shared between sessions, so
    the nice value of each session's group (/proc/PID/autogroup) is set too; the servers, our
    PostgreSQL and wrk each run in a session of their own. Linux's nice is per thread: this sets
    each process's main thread, which is where a uvicorn worker or a PostgreSQL backend runs.
    """
    done = 0
    for pid in pids:
        try:
            os.setpriority(os.PRIO_PROCESS, pid, nice)
            done += 1
        except OSError:
            continue
        with contextlib.suppress(OSError):
            (PROC / str(pid) / "autogroup").write_text(str(nice))
    return done


def prioritise_self(nice: int) -> None:
    """In a child before exec (wrk, started in a session of its own): as prioritise()."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    with contextlib.suppress(OSError):
        (PROC / "self" / "autogroup").write_text(str(nice))
