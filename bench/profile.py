"""Sampling profiles of the web and worker during a benchmark (py-spy), and their top frames.

``py-spy record --subprocesses --format raw`` writes collapsed stacks, one ``frame;frame;... N``
line per distinct stack; ``summarize`` turns them into the frames most samples were in.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_LINE_NUMBER = re.compile(r":\d+\)$")
REPO_ROOT = Path(__file__).resolve().parents[1]
_SITE_PACKAGES = f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages/"
PROJECT_PACKAGES = ("worker/", "webhook/", "models/", "leadgate/", "celeryconfig.py")


def find_py_spy() -> str | None:
    """The py-spy executable beside this Python, or on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


@dataclass
class Recording:
    """A running ``py-spy record`` and the file it writes."""

    name: str
    process: subprocess.Popen[bytes]
    output: Path

    def stop(self, timeout: float = 60) -> Path:
        """Ask py-spy to finish (SIGINT) and wait until it wrote its file."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.output


def start_recording(
    py_spy: str, name: str, pid: int, directory: Path, rate: int = 67, idle: bool = False
) -> Recording:
    """Sample ``pid`` and its children without pausing them, into ``directory/name.txt``.

    ``idle`` keeps samples of threads that wait (sleeps, socket reads): where time goes, not CPU.
    Without it only the thread holding the GIL is sampled (``--gil``): the CPU spent in Python.
    py-spy's own idle guess keeps threads parked on a lock or a condition, which a web process
    with many threads is mostly made of.
    """
    directory.mkdir(parents=True, exist_ok=True)
    output = directory / f"{name}.txt"
    command = [
        py_spy,
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--nonblocking",
        f"--rate={rate}",
        "--format=raw",
        f"--output={output}",
        *(["--idle"] if idle else ["--gil"]),
    ]
    log = (directory / f"{name}.py-spy.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return Recording(name, process, output)


def _frame_name(frame: str) -> str:
    # "run_event (worker/tasks.py:31)" -> "run_event (worker/tasks.py)": lines split one function.
    frame = _LINE_NUMBER.sub(")", frame.strip())
    return frame.replace(str(REPO_ROOT) + "/", "").replace(_SITE_PACKAGES, "")


def _file_of(frame: str) -> str:
    return frame.rpartition("(")[2].rstrip(")")


def _package_of(frame: str) -> str:
    path = _file_of(frame)
    if path.startswith(PROJECT_PACKAGES):
        return "leadgate code (" + path.split("/", 1)[0] + ")"
    head = path.split("/", 1)[0]
    return head.removesuffix(".py") if "/" in path or head.endswith(".py") else path


def summarize(path: Path, top: int = 30) -> dict[str, object]:
    """Samples, the project's frames by inclusive share, and self time by frame and package."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            # py-spy names the process (and its parents) in the first frames; skip those.
            frames = [
                _frame_name(frame) for frame in stack.split(";") if not frame.startswith("process ")
            ]
            if not frames:
                continue
            total += count
            for frame in set(frames):
                if _file_of(frame).startswith(PROJECT_PACKAGES):
                    inclusive[frame] += count
            own[frames[-1]] += count
            packages[_package_of(frames[-1])] += count

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(frame, round(100 * n / total, 1)) for frame, n in counter.most_common(top)]

    return {
        "samples": total,
        "project_inclusive_pct": share(inclusive) if total else [],
        "self_pct": share(own) if total else [],
        "self_by_package_pct": share(packages) if total else [],
    }


def format_summary(name: str, summary: dict[str, object], top: int = 15) -> str:
    """The summary as text: the top inclusive and self frames."""
    lines = [f"{name}: {summary['samples']} samples"]
    for title in ("project_inclusive_pct", "self_by_package_pct", "self_pct"):
        lines.append(f"  {title.removesuffix('_pct').replace('_', ' ')} %:")
        entries = summary[title]
        assert isinstance(entries, list)
        lines.extend(f"    {pct:5.1f}  {frame}" for frame, pct in entries[:top])
    return "\n".join(lines)
