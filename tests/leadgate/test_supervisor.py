"""The supervisor restarts children that die, gives up on crash loops and stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil  # type: ignore[import-untyped]  # pgserver's dependency; ships no stubs
import pytest

from leadgate.supervisor import (
    ProcessSpec,
    RestartPolicy,
    StopSignals,
    Supervisor,
    SupervisorGaveUp,
    describe_exit,
)

SLEEPER = ProcessSpec("sleeper", (sys.executable, "-c", "import time; time.sleep(60)"))
QUICK = RestartPolicy(fast_crash_seconds=5, max_fast_crashes=3, first_backoff_seconds=0.05)


def wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def gone(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def check_for(supervisor: Supervisor, seconds: float) -> None:
    """Call ``check()`` repeatedly for a while, as the supervisor's loop does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        supervisor.check()
        time.sleep(0.01)


def make_supervisor(*specs: ProcessSpec, messages: list[str], **options: object) -> Supervisor:
    return Supervisor(
        list(specs), dict(os.environ), output=subprocess.DEVNULL, report=messages.append,
        **options,  # type: ignore[arg-type]
    )  # fmt: skip


def test_backoff_doubles_up_to_its_ceiling() -> None:
    policy = RestartPolicy(first_backoff_seconds=0.5, max_backoff_seconds=3)

    assert [policy.backoff(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3, 3]


def test_describe_exit() -> None:
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(-9) == "killed by SIGKILL"


def test_a_killed_child_is_reported_and_restarted() -> None:
    messages: list[str] = []
    supervisor = make_supervisor(SLEEPER, messages=messages, policy=QUICK)
    supervisor.start()
    try:
        first = supervisor.pids()["sleeper"]
        os.kill(first, signal.SIGKILL)

        def restarted() -> bool:
            supervisor.check()
            return supervisor.pids().get("sleeper", first) != first

        wait_until(restarted)
        assert any("sleeper killed by SIGKILL" in message for message in messages)
        assert any("restarted sleeper" in message for message in messages)
    finally:
        supervisor.stop()
    assert supervisor.pids() == {}


def test_repeated_fast_crashes_give_up() -> None:
    crasher = ProcessSpec("crasher", (sys.executable, "-c", "raise SystemExit(3)"))
    messages: list[str] = []
    supervisor = make_supervisor(crasher, messages=messages, policy=QUICK)
    supervisor.start()
    try:
        with pytest.raises(SupervisorGaveUp, match="crasher died 3 times in a row"):
            check_for(supervisor, seconds=10)
    finally:
        supervisor.stop()
    assert sum("crasher exited with code 3" in message for message in messages) == 2


def test_stop_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    marker = tmp_path / "ready"
    stubborn = ProcessSpec(
        "stubborn",
        (sys.executable, "-c", textwrap.dedent(f"""
            import pathlib, signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            pathlib.Path({str(marker)!r}).touch()
            time.sleep(60)
        """)),
    )  # fmt: skip
    messages: list[str] = []
    supervisor = make_supervisor(stubborn, messages=messages, stop_timeout=0.5)
    supervisor.start()
    pid = supervisor.pids()["stubborn"]
    wait_until(marker.exists)

    started = time.monotonic()
    supervisor.stop()

    assert time.monotonic() - started < 5
    assert gone(pid)
    assert any("stubborn did not stop in time" in message for message in messages)


def test_stop_leaves_no_grandchildren() -> None:
    parent = ProcessSpec("parent", ("sh", "-c", "sleep 60 & wait"))
    supervisor = make_supervisor(parent, messages=[])
    supervisor.start()
    shell = psutil.Process(supervisor.pids()["parent"])
    wait_until(lambda: len(shell.children()) == 1)
    grandchild = shell.children()[0].pid

    supervisor.stop()

    wait_until(lambda: gone(grandchild))


def test_run_stops_on_sigterm_and_restores_handlers() -> None:
    messages: list[str] = []
    supervisor = make_supervisor(SLEEPER, messages=messages)
    signals = StopSignals()
    pids: list[int] = []
    before = signal.getsignal(signal.SIGTERM)

    def remember_then_stop() -> None:
        pids.extend(supervisor.pids().values())
        os.kill(os.getpid(), signal.SIGTERM)

    timer = threading.Timer(0.5, remember_then_stop)
    timer.start()
    with signals.installed():
        supervisor.run(signals, tick=0.05)
    timer.join()

    assert signals.received == [signal.SIGTERM]
    assert pids and all(gone(pid) for pid in pids)
    assert signal.getsignal(signal.SIGTERM) is before


def test_children_die_with_a_killed_supervisor(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import os, subprocess, sys, time
        from leadgate.supervisor import ProcessSpec, Supervisor
        spec = ProcessSpec("sleeper", (sys.executable, "-c", "import time; time.sleep(60)"))
        supervisor = Supervisor([spec], dict(os.environ), output=subprocess.DEVNULL)
        supervisor.start()
        print(supervisor.pids()["sleeper"], flush=True)
        time.sleep(60)
    """)
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    child = int(owner.stdout.readline())

    owner.kill()
    owner.wait()

    wait_until(lambda: gone(child))
