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


def graceful_child(tmp_path: Path, grace: float) -> tuple[ProcessSpec, Path, Path]:
    """A child that takes ``grace`` seconds to stop on SIGTERM, leaving a file when it is done."""
    ready, stopped = tmp_path / "ready", tmp_path / "stopped"
    spec = ProcessSpec(
        "slow",
        (sys.executable, "-c", textwrap.dedent(f"""
            import pathlib, signal, sys, time
            def finish(*_):
                time.sleep({grace})
                pathlib.Path({str(stopped)!r}).touch()
                sys.exit(0)
            signal.signal(signal.SIGTERM, finish)
            pathlib.Path({str(ready)!r}).touch()
            time.sleep(60)
        """)),
    )  # fmt: skip
    return spec, ready, stopped


def run_and_signal(supervisor: Supervisor, signals: StopSignals, send: Callable[[], None]) -> None:
    """Run the supervisor in this (the main) thread while ``send`` signals it from another."""
    sender = threading.Thread(target=send)
    sender.start()
    with signals.installed():
        supervisor.run(signals, tick=0.05)
    sender.join()


def test_signals_that_arrive_together_count_once() -> None:
    signals = StopSignals()
    with signals.installed():
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGHUP)

    assert signals.requested
    assert not signals.hurried


def test_a_signal_well_after_the_first_hurries() -> None:
    now = [100.0]
    signals = StopSignals(burst_seconds=1.0, clock=lambda: now[0])
    with signals.installed():
        os.kill(os.getpid(), signal.SIGINT)
        now[0] += 0.5
        os.kill(os.getpid(), signal.SIGINT)
        assert not signals.hurried
        now[0] += 0.6
        os.kill(os.getpid(), signal.SIGINT)

    assert signals.hurried


def test_a_doubled_sigterm_keeps_the_grace_period(tmp_path: Path) -> None:
    # make passes the SIGTERM its process group got on to `leadgate run`, which got it too.
    spec, ready, stopped = graceful_child(tmp_path, grace=1.0)
    messages: list[str] = []
    supervisor = make_supervisor(spec, messages=messages, stop_timeout=10)
    signals = StopSignals()

    def sigterm_twice() -> None:
        wait_until(ready.exists)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGTERM)

    run_and_signal(supervisor, signals, sigterm_twice)

    assert signals.received == [signal.SIGTERM, signal.SIGTERM]
    assert stopped.exists(), "the child was killed before it finished stopping"
    assert messages == []


def test_asking_again_later_stops_at_once_without_blaming_the_children(tmp_path: Path) -> None:
    spec, ready, stopped = graceful_child(tmp_path, grace=5.0)
    messages: list[str] = []
    supervisor = make_supervisor(spec, messages=messages, stop_timeout=10)
    signals = StopSignals(burst_seconds=0.2)

    def sigterm_then_again() -> None:
        wait_until(ready.exists)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)

    started = time.monotonic()
    run_and_signal(supervisor, signals, sigterm_then_again)

    assert time.monotonic() - started < 4
    assert not stopped.exists()
    assert messages == ["leadgate: asked again to stop; killing slow now"]


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
