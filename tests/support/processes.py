"""Real service processes for integration tests: Celery workers and gunicorn web servers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServiceProcess:
    """A child process whose output goes to a log file we can read on failure."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the process and its children."""
        if self.alive():
            os.killpg(self.process.pid, signum)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left."""
        if self.alive():
            self.signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.process.wait()
        else:
            # Children may outlive a killed parent; take the whole group down.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)


def _spawn(name: str, command: list[str], env: dict[str, str]) -> ServiceProcess:
    log_file = tempfile.NamedTemporaryFile(prefix=f"leadgate-{name}-", suffix=".log", delete=False)
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return ServiceProcess(name, process, Path(log_file.name))


def start_worker(
    env: dict[str, str],
    concurrency: int = 2,
    node_name: str = "test-worker",
    queues: str = "ingest,maintenance,outbound",
    timeout: float = 60,
    app: str = "worker.celery_app",
) -> ServiceProcess:
    """Start ``celery worker`` as the Procfile does, and wait until it reports ready.

    ``app`` names the Celery app module; fault tests pass one that injects faults.
    """
    command = [
        str(VENV_BIN / "celery"),
        "-A",
        app,
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        f"--hostname={node_name}@%h",
        f"--queues={queues}",
        "--without-gossip",
        "--without-mingle",
    ]
    worker = _spawn(node_name, command, env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not worker.alive():
            raise RuntimeError(f"worker exited at start:\n{worker.log()}")
        if " ready." in worker.log():
            return worker
        time.sleep(0.1)
    worker.stop()
    raise RuntimeError(f"worker not ready within {timeout} s:\n{worker.log()}")


def start_beat(env: dict[str, str], timeout: float = 30) -> ServiceProcess:
    """Start ``celery beat`` (the sweeper's clock) with its schedule file in a temporary place."""
    schedule = Path(tempfile.mkdtemp(prefix="leadgate-beat-")) / "schedule"
    command = [
        str(VENV_BIN / "celery"),
        "-A",
        "worker.celery_app",
        "beat",
        "--loglevel=INFO",
        f"--schedule={schedule}",
    ]
    beat = _spawn("beat", command, env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not beat.alive():
            raise RuntimeError(f"beat exited at start:\n{beat.log()}")
        if "beat: Starting" in beat.log():
            return beat
        time.sleep(0.1)
    beat.stop()
    raise RuntimeError(f"beat not started within {timeout} s:\n{beat.log()}")


def start_web(
    env: dict[str, str], workers: int = 2, timeout: float = 30, app: str = "webhook.wsgi:app"
) -> ServiceProcess:
    """Start gunicorn serving ``app`` (the webhook alone by default) on a free port; wait for it."""
    port = free_port()
    command = [
        str(VENV_BIN / "gunicorn"),
        "-c",
        "python:webhook.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        app,
    ]
    web = _spawn(f"web-{port}", command, env)
    web.extra["url"] = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not web.alive():
            raise RuntimeError(f"web exited at start:\n{web.log()}")
        try:
            with urllib.request.urlopen(web.extra["url"] + "/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return web
        except OSError:
            time.sleep(0.1)
    web.stop()
    raise RuntimeError(f"web not answering within {timeout} s:\n{web.log()}")
