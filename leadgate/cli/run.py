"""``leadgate run``: the whole service in the foreground, on the embedded servers by default."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
import redis

from common.settings import Settings, load_settings, to_sqlalchemy_url
from leadgate.cli.home import ADMIN_ROLE, RUN_ROLE, HomeLock, read_embedded_state
from leadgate.cli.output import CliError, emit, say
from leadgate.demo import Demo, curl_command, ensure_demo
from leadgate.embedded import EmbeddedStack
from leadgate.supervisor import ProcessSpec, StopSignals, Supervisor, SupervisorGaveUp
from models.db import dispose_engines, session_scope

# How long `leadgate run` waits for an admin command that holds the embedded database.
LOCK_WAIT_SECONDS = 120.0
READY_WARNING_SECONDS = 60.0


def _executable(name: str) -> str:
    """The console script installed beside this Python (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise CliError(f"cannot find the {name} executable beside {sys.executable} or on PATH")
    return found


def service_processes(host: str, port: int, home: Path) -> list[ProcessSpec]:
    """The web, worker and beat commands, as the Procfile runs them."""
    celery = _executable("celery")
    return [
        ProcessSpec(
            "web",
            (_executable("gunicorn"), "-c", "python:webhook.gunicorn_conf",
             "--bind", f"{_bind_host(host)}:{port}", "--workers", "2", "console.wsgi:app"),
        ),
        ProcessSpec(
            "worker",
            (celery, "-A", "worker.celery_app", "worker", "--concurrency", "2",
             "-Q", "ingest,maintenance,outbound", "--loglevel", "INFO",
             "--hostname", f"leadgate-{os.getpid()}@%h"),
        ),
        ProcessSpec(
            "beat",
            (celery, "-A", "worker.celery_app", "beat", "--loglevel", "INFO",
             "--schedule", str(home / "celerybeat-schedule")),
        ),
    ]  # fmt: skip


def _stderr_fd() -> int | None:
    """Our stderr's descriptor, so the children's logs never mix with results on stdout."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a test runner's capture
        return None


def _bind_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _client_url(host: str, port: int) -> str:
    """The URL a local client uses to reach a server bound to ``host``."""
    if host in ("0.0.0.0", "", "::", "[::]"):  # noqa: S104 - mapping a wildcard bind to loopback
        host = "127.0.0.1"
    return f"http://{_bind_host(host)}:{port}"


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as error:
            raise CliError(
                f"cannot listen on {host}:{port}: {error.strerror or error}; pass another --port"
            ) from None


def _take_home(lock: HomeLock, signals: StopSignals) -> None:
    """Hold LEADGATE_HOME for this run, waiting for an admin command that is using it."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    said = False
    while not lock.try_acquire(RUN_ROLE):
        role = lock.holder_role()
        if role == RUN_ROLE:
            raise CliError(
                f"leadgate run is already running on {lock.home}; "
                "stop it first or set another LEADGATE_HOME"
            )
        if signals.requested or time.monotonic() >= deadline:
            raise CliError(f"{lock.home} stayed busy ({role or 'unknown'} holds {lock.path})")
        if not said and role == ADMIN_ROLE:
            say(f"leadgate: waiting for an admin command that is using {lock.home}")
            said = True
        signals.wait(0.2)


def _retire_stale_redis(home: Path) -> None:
    """Shut down an embedded Redis a killed ``leadgate run`` left running on this home's data."""
    url = read_embedded_state(home).get("REDIS_URL", "")
    if not url.startswith("redis://127.0.0.1:"):
        return
    try:
        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1).shutdown()
    except redis.RedisError:
        return  # nothing answers there any more
    say(f"leadgate: stopped the embedded Redis left running at {url} by an earlier run")


@contextmanager
def service_environment(settings: Settings, signals: StopSignals) -> Iterator[dict[str, str]]:
    """The children's environment: given servers, or embedded ones started (and stopped) here."""
    env = dict(os.environ)
    env["LEADGATE_HOME"] = str(settings.home)
    env["PYTHONUNBUFFERED"] = "1"
    # Web, worker and beat share one metrics directory, so /metrics shows all of them.
    metrics_dir = settings.home / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True, exist_ok=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    need_database = not env.get("DATABASE_URL", "").strip()
    need_redis = not env.get("REDIS_URL", "").strip()
    lock: HomeLock | None = None
    stack: EmbeddedStack | None = None
    try:
        if need_database or need_redis:
            lock = HomeLock(settings.home)
            _take_home(lock, signals)
            _retire_stale_redis(settings.home)
            names = " and ".join(
                name for name, needed in (("PostgreSQL", need_database), ("Redis", need_redis))
                if needed
            )  # fmt: skip
            say(f"leadgate: starting the embedded {names} under {settings.home}")
            stack = EmbeddedStack(settings.home)
            env.update(stack.start(need_database=need_database, need_redis=need_redis))
        from models.migrate import upgrade_database

        upgrade_database(to_sqlalchemy_url(env["DATABASE_URL"]))
        yield env
    finally:
        dispose_engines()
        if stack is not None:
            say("leadgate: stopping the embedded servers")
            stack.stop()
        if lock is not None:
            lock.release()


@dataclass
class ReadinessAnnouncer:
    """Says once that the service is ready (and prints the demo's curl); polled each tick."""

    base_url: str
    demo: Demo | None
    started: float
    announced: bool = False
    warned: bool = False

    def poll(self) -> None:
        """Check /readyz until it answers 200, then announce."""
        if self.announced:
            return
        try:
            with urllib.request.urlopen(self.base_url + "/readyz", timeout=1) as answer:  # noqa: S310
                ready = answer.status == 200
        except OSError:
            ready = False
        if ready:
            self.announced = True
            say(f"leadgate: ready on {self.base_url} (webhook, worker, beat); Ctrl-C stops all")
            if self.demo is not None:
                say("leadgate: post a nested demo lead and wait for the outcome with:")
                emit(curl_command(self.base_url, self.demo))
                say(
                    f"leadgate: then open the console at {self.base_url}/console/ and sign in "
                    "with the token in that command"
                )
        elif not self.warned and time.monotonic() - self.started > READY_WARNING_SECONDS:
            self.warned = True
            say(f"leadgate: {self.base_url}/readyz is still not ready; see the output above")


@click.command("run")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the webhook binds.")
@click.option("--demo", is_flag=True, help="Create demo rows and print a curl that posts a lead.")
def run_command(port: int, host: str, demo: bool) -> None:
    """Run the webhook, worker and beat in the foreground until Ctrl-C or SIGTERM.

    With no DATABASE_URL / REDIS_URL set, an embedded PostgreSQL and Redis are started under
    LEADGATE_HOME (data kept across restarts) and stopped on exit. Migrations are applied first.
    """
    settings = load_settings()
    _check_port_free(host, port)
    signals = StopSignals()
    with signals.installed(), service_environment(settings, signals) as env:
        if signals.requested:
            return
        demo_rows = None
        if demo:
            with session_scope(to_sqlalchemy_url(env["DATABASE_URL"])) as session:
                demo_rows = ensure_demo(session, settings.home)
            dispose_engines()
        supervisor = Supervisor(
            service_processes(host, port, settings.home), env, output=_stderr_fd()
        )
        announcer = ReadinessAnnouncer(_client_url(host, port), demo_rows, time.monotonic())
        try:
            supervisor.run(signals, on_tick=announcer.poll)
        except SupervisorGaveUp as error:
            raise CliError(str(error)) from None
    say("leadgate: stopped")
