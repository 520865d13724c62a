"""CPU time and resident memory of process trees, read from ``/proc`` (Linux)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces; split after it.
    return text[text.rindex(")") + 2 :].split()


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (empty when it is gone)."""
    children: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children.extend(int(child) for child in (task / "children").read_text().split())
    except OSError:
        return children
    return children


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its live descendants."""
    tree = [pid]
    index = 0
    while index < len(tree):
        tree.extend(children_of(tree[index]))
        index += 1
    return [member for member in tree if _stat_fields(member) is not None]


def cpu_seconds(pids: list[int]) -> float:
    """User plus system time of these processes, including their reaped children.

    Summing utime+stime+cutime+cstime over every live member of a tree counts each process of
    the tree exactly once: a live child is not yet in its parent's cutime, a reaped one only is.
    """
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            # After the command name: utime, stime, cutime, cstime are fields 12-15 (0-based 11-14).
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """The resident set size of ``pid`` now (0 when it is gone)."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * PAGE_SIZE


def peak_rss_bytes(pid: int) -> int:
    """The highest resident set size ``pid`` ever had (VmHWM; 0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return 0


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # steal included, guest time is already inside user
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def ms_per_item(seconds_before: float, seconds_after: float, items: int) -> float | None:
    """CPU milliseconds per item between two reads of a CPU-seconds counter; None for none."""
    return round(1000 * (seconds_after - seconds_before) / items, 3) if items else None


@dataclass
class ProcessMemory:
    """What was seen of one process's memory while sampling."""

    role: str
    pid: int
    first_rss: int = 0
    last_rss: int = 0
    max_rss: int = 0


@dataclass
class RssSampler:
    """Samples the RSS of every process in some named trees on a background thread."""

    roots: dict[str, int]
    interval: float = 0.5
    processes: dict[int, ProcessMemory] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        """Take one sample of every process in the trees."""
        with self._lock:
            self._sample()

    def _sample(self) -> None:
        for name, root in self.roots.items():
            for pid in process_tree(root):
                rss = rss_bytes(pid)
                if rss == 0:
                    continue
                seen = self.processes.get(pid)
                if seen is None:
                    role = f"{name} master" if pid == root else f"{name} child"
                    seen = self.processes[pid] = ProcessMemory(role, pid, first_rss=rss)
                seen.last_rss = rss
                seen.max_rss = max(seen.max_rss, rss, peak_rss_bytes(pid))

    def rebase(self) -> None:
        """Take the current RSS of every process as its starting point (after a warm-up)."""
        with self._lock:
            self._sample()
            for seen in self.processes.values():
                seen.first_rss = seen.last_rss

    def start(self) -> RssSampler:
        """Sample now and then every ``interval`` seconds until stopped."""
        self.sample()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self) -> list[ProcessMemory]:
        """Stop sampling, take a last sample, and return what was seen per process."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()
        return sorted(self.processes.values(), key=lambda seen: (seen.role, seen.pid))


def tree_cpu(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process tree."""
    return {name: cpu_seconds(process_tree(root)) for name, root in roots.items()}
