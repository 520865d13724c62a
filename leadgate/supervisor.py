"""Foreground supervision of the service's processes: restart those that die, stop all on a signal.

Each child runs in a session of its own, so a Ctrl-C at the terminal reaches only the supervisor,
which then stops the children in order (SIGTERM, a grace period, SIGKILL of the whole process
group) before the servers they use go away. On Linux each child also gets SIGTERM if the
supervisor itself is killed, so nothing is left running behind a ``kill -9``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from types import FrameType
from typing import IO

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ProcessSpec:
    """A child to keep running: a short name for messages and its argument vector."""

    name: str
    argv: tuple[str, ...]


@dataclass(frozen=True)
class RestartPolicy:
    """When and how fast to restart a child that died, and when to give up on it."""

    # A child that dies sooner than this after its start crashed "fast".
    fast_crash_seconds: float = 10.0
    # This many fast crashes in a row and the supervisor stops everything.
    max_fast_crashes: int = 5
    first_backoff_seconds: float = 0.5
    max_backoff_seconds: float = 10.0

    def backoff(self, crashes: int) -> float:
        """Seconds to wait before the restart that follows ``crashes`` crashes in a row."""
        return min(
            self.first_backoff_seconds * 2.0 ** max(crashes - 1, 0), self.max_backoff_seconds
        )


class SupervisorGaveUp(RuntimeError):
    """A child kept crashing right after its start; the message names it."""


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP handlers that ask for a stop; a later signal asks to hurry.

    Signals that arrive together are one request: ``make run`` passes a SIGTERM sent to its
    process group on to ``leadgate run``, which got it from the group already, and a terminal
    may send SIGHUP with SIGTERM. Only a signal at least ``burst_seconds`` after the first is
    a person asking again, and only that one skips the children's grace period.
    """

    def __init__(
        self, burst_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._event = threading.Event()
        self._burst_seconds = burst_seconds
        self._clock = clock
        self._first_at: float | None = None
        self._hurried = False
        self.received: list[int] = []

    @property
    def requested(self) -> bool:
        """True once a stop signal arrived."""
        return self._event.is_set()

    @property
    def hurried(self) -> bool:
        """True once a stop signal arrived well after the first: stop without waiting."""
        return self._hurried

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early on a stop signal; True when stop was asked."""
        return self._event.wait(seconds)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        now = self._clock()
        self.received.append(signum)
        if self._first_at is None:
            self._first_at = now
        elif now - self._first_at >= self._burst_seconds:
            self._hurried = True
        self._event.set()

    @contextmanager
    def installed(self) -> Iterator[StopSignals]:
        """Install the handlers for the duration of the block, then restore the old ones."""
        previous = {signum: signal.signal(signum, self._handle) for signum in STOP_SIGNALS}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def describe_exit(returncode: int) -> str:
    """``exited with code 3`` or ``killed by SIGKILL``."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def _die_with_parent_hook(parent_pid: int) -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the child when the supervisor dies."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def hook() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent_pid:  # the supervisor died before the hook ran
            os._exit(1)

    return hook


def _kill_group(pgid: int) -> None:
    """SIGKILL what is left of a child's process group (e.g. workers orphaned by their master)."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


@dataclass
class _Child:
    spec: ProcessSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    crashes: int = 0
    restart_at: float | None = None


@dataclass
class Supervisor:
    """Keeps a set of children running until asked to stop."""

    specs: Sequence[ProcessSpec]
    env: Mapping[str, str]
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    # Grace period between SIGTERM and SIGKILL when stopping; celery's warm shutdown waits for
    # running tasks, and a task killed here is redelivered (acks_late), so nothing is lost.
    stop_timeout: float = 20.0
    # Where the children's stdout and stderr go: a file descriptor or file; None inherits ours.
    output: int | IO[bytes] | None = None
    report: Callable[[str], None] = field(default=lambda message: print(message, file=sys.stderr))
    _children: list[_Child] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self._children = [_Child(spec) for spec in self.specs]

    def start(self) -> None:
        """Start every child."""
        for child in self._children:
            self._start(child)

    def _start(self, child: _Child) -> None:
        child.process = subprocess.Popen(
            list(child.spec.argv),
            env=dict(self.env),
            stdin=subprocess.DEVNULL,
            stdout=self.output,
            stderr=self.output,
            start_new_session=True,
            # preexec_fn is unsafe only in threaded programs; the supervisor forks from one thread.
            preexec_fn=_die_with_parent_hook(os.getpid()),
        )
        child.started_at = time.monotonic()
        child.restart_at = None

    def pids(self) -> dict[str, int]:
        """The pid of each running child, by name."""
        return {
            child.spec.name: child.process.pid
            for child in self._children
            if child.process is not None and child.process.poll() is None
        }

    def check(self) -> None:
        """Notice children that died and restart them after their backoff; may give up."""
        now = time.monotonic()
        for child in self._children:
            if child.process is not None:
                returncode = child.process.poll()
                if returncode is None:
                    continue
                self._schedule_restart(child, returncode, now)
            elif child.restart_at is not None and now >= child.restart_at:
                self._start(child)
                assert child.process is not None
                self.report(f"leadgate: restarted {child.spec.name} (pid {child.process.pid})")

    def _schedule_restart(self, child: _Child, returncode: int, now: float) -> None:
        assert child.process is not None
        _kill_group(child.process.pid)
        ran = now - child.started_at
        child.crashes = child.crashes + 1 if ran < self.policy.fast_crash_seconds else 1
        child.process = None
        what = f"leadgate: {child.spec.name} {describe_exit(returncode)} after {ran:.1f} s"
        if child.crashes >= self.policy.max_fast_crashes:
            raise SupervisorGaveUp(
                f"{child.spec.name} died {child.crashes} times in a row within "
                f"{self.policy.fast_crash_seconds:g} s of starting; giving up (its output is above)"
            )
        delay = self.policy.backoff(child.crashes)
        child.restart_at = now + delay
        self.report(f"{what}; restarting in {delay:.1f} s")

    def stop(self, hurry: Callable[[], bool] = lambda: False) -> None:
        """SIGTERM every child, wait up to ``stop_timeout`` (or until ``hurry()``), then SIGKILL."""
        running = [c.process for c in self._children if c.process is not None]
        for process in running:
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while any(p.poll() is None for p in running):
            hurried = hurry()
            if hurried or time.monotonic() >= deadline:
                left = [self._name_of(p) for p in running if p.poll() is None]
                if hurried:  # the person asked twice: their call, not the children's fault
                    self.report(f"leadgate: asked again to stop; killing {', '.join(left)} now")
                else:
                    for name in left:
                        self.report(f"leadgate: {name} did not stop in time; killing it")
                break
            time.sleep(0.05)
        for process in running:
            _kill_group(process.pid)
            process.wait()
        for child in self._children:
            child.process = None
            child.restart_at = None

    def _name_of(self, process: subprocess.Popen[bytes]) -> str:
        return next(c.spec.name for c in self._children if c.process is process)

    def run(
        self, signals: StopSignals, on_tick: Callable[[], None] | None = None, tick: float = 0.25
    ) -> None:
        """Start the children and keep them running until a stop signal; then stop them."""
        self.start()
        try:
            while not signals.requested:
                self.check()
                if on_tick is not None:
                    on_tick()
                signals.wait(tick)
        finally:
            self.stop(hurry=lambda: signals.hurried)
