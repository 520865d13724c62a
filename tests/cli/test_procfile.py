"""Each Procfile process runs as written with only DATABASE_URL, REDIS_URL (and PORT) set."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from celery import Celery

from tests.support.processes import REPO_ROOT, VENV_BIN, free_port
from tests.support.services import ServiceUrls


def procfile() -> dict[str, str]:
    lines = (REPO_ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def minimal_env(services: ServiceUrls, **extra: str) -> dict[str, str]:
    """PATH to the installed scripts and the service variables, nothing else."""
    return {"PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin", **services.env(), **extra}


def test_procfile_names_the_four_processes() -> None:
    assert list(procfile()) == ["release", "web", "worker", "beat"]


def test_release_migrates(services: ServiceUrls) -> None:
    result = subprocess.run(
        ["sh", "-c", procfile()["release"]], cwd=REPO_ROOT, env=minimal_env(services),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr


def _healthz(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _worker_answers(broker_url: str, key_prefix: str) -> bool:
    """True once the Procfile's worker (default node name celery@HOST) answers a ping.

    Other tests' workers share the broker but use node names of their own.
    """
    client = Celery(broker=broker_url)
    client.conf.broker_transport_options = {"global_keyprefix": key_prefix}
    replies = client.control.ping(timeout=0.5)
    return any(name.startswith("celery@") for reply in replies for name in reply)


def _beat_schedule_written(directory: Path) -> bool:
    """Beat has opened its schedule and written it once (not merely created its files).

    A SIGTERM while beat is still opening the file interrupts it half-way and beat exits with
    an error; Python's fallback dbm writes its index (``.dir``) only when the opened schedule is
    first synced, and a single-file dbm holds data once opened.
    """
    for path in directory.glob("*celerybeat-schedule*"):
        if path.suffix in ("", ".dir", ".db") and path.stat().st_size > 0:
            return True
    return False


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_long_running_process_starts(services: ServiceUrls, tmp_path: Path, name: str) -> None:
    port = free_port()
    log = tmp_path / f"{name}.log"
    # Without LEADGATE_HOME beat keeps its schedule in the system's temporary directory (here
    # tmp_path, through TMPDIR), never in the working directory, the checkout.
    schedules_before = set(REPO_ROOT.glob("*celerybeat-schedule*"))
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["sh", "-c", f"exec {procfile()[name]}"], cwd=REPO_ROOT,
            env=minimal_env(services, PORT=str(port), TMPDIR=str(tmp_path)), stdout=output,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    ready = {
        "web": lambda: _healthz(port),
        "worker": lambda: _worker_answers(services.redis_url, services.broker_key_prefix),
        "beat": lambda: _beat_schedule_written(tmp_path),
    }[name]
    try:
        deadline = time.monotonic() + 60
        while not ready():
            assert process.poll() is None, f"{name} exited:\n{log.read_text(errors='replace')}"
            assert time.monotonic() < deadline, f"{name} not ready:\n{log.read_text()}"
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert process.returncode in (0, -signal.SIGTERM), log.read_text(errors="replace")
    assert set(REPO_ROOT.glob("*celerybeat-schedule*")) == schedules_before
