"""Stopping the embedded PostgreSQL when pg_ctl cannot: the postmaster is signalled directly."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from leadgate.embedded import signal_postmaster_to_stop

# Stands in for a postmaster: on SIGINT (fast shutdown) it removes its pid file and exits.
FAKE_POSTMASTER = """
import pathlib, signal, sys, time
pid_file = pathlib.Path(sys.argv[1])
def stop(*_):
    pid_file.unlink()
    sys.exit(0)
signal.signal(signal.SIGINT, stop)
pid_file.write_text(f"{__import__('os').getpid()}\\n/data\\n")
while True:
    time.sleep(0.05)
"""


def test_the_postmaster_is_asked_for_a_fast_shutdown_and_awaited(tmp_path: Path) -> None:
    pid_file = tmp_path / "postmaster.pid"
    process = subprocess.Popen([sys.executable, "-c", FAKE_POSTMASTER, str(pid_file)])
    try:
        deadline = time.monotonic() + 10
        while not pid_file.exists():
            assert time.monotonic() < deadline, "the stand-in never wrote its pid file"
            time.sleep(0.02)
        signal_postmaster_to_stop(pid_file, timeout=10)
        assert not pid_file.exists()
        assert process.wait(timeout=5) == 0
    finally:
        process.kill()


def test_a_missing_or_unreadable_pid_file_is_nothing_to_stop(tmp_path: Path) -> None:
    signal_postmaster_to_stop(tmp_path / "postmaster.pid", timeout=0.1)
    garbled = tmp_path / "garbled.pid"
    garbled.write_text("not a pid\n")
    signal_postmaster_to_stop(garbled, timeout=0.1)
    assert garbled.exists()
