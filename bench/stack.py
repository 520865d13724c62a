"""The services a benchmark runs against: PostgreSQL, Redis, and the Procfile's processes.

The web, worker and beat processes are started from the ``Procfile``'s own command lines (with
``${VAR:-default}`` expanded as the shell would), so a benchmark measures the shipped settings,
including ``gunicorn.conf.py`` when it exists, because gunicorn reads it from the repository root.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

from bench.procfile import REPO_ROOT, VENV_BIN, expand_command, procfile_commands
from common.settings import to_sqlalchemy_url
from leadgate.embedded import EmbeddedStack

# The tests use Redis database 1 and flush it; the benchmarks keep to their own.
BENCH_REDIS_DB = 2


def answers(host: str, port: int) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def with_redis_db(url: str, db: int) -> str:
    """``url`` pointing at Redis database number ``db`` on the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


@dataclass
class Servers:
    """A PostgreSQL server and a Redis database the benchmarks may use as their own."""

    database_server_url: str
    redis_url: str
    embedded: EmbeddedStack | None = None

    def stop(self) -> None:
        """Stop the embedded servers, if any were started."""
        if self.embedded is not None:
            self.embedded.stop()


def find_servers(database_url: str | None = None, redis_url: str | None = None) -> Servers:
    """The servers named (or in BENCH_/TEST_ variables), the machine's, else embedded ones."""
    env = os.environ
    database_url = database_url or env.get("BENCH_DATABASE_URL") or env.get("TEST_DATABASE_URL")
    if not database_url and answers("127.0.0.1", 5432):
        database_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url = redis_url or env.get("BENCH_REDIS_URL")
    if not redis_url and answers("127.0.0.1", 6379):
        redis_url = with_redis_db("redis://127.0.0.1:6379", BENCH_REDIS_DB)
    embedded = None
    if not database_url or not redis_url:
        embedded = EmbeddedStack(Path(tempfile.mkdtemp(prefix="leadgate-bench-")))
        started = embedded.start(need_database=not database_url, need_redis=not redis_url)
        database_url = database_url or started["DATABASE_URL"]
        redis_url = redis_url or with_redis_db(started["REDIS_URL"], BENCH_REDIS_DB)
    return Servers(database_url, redis_url, embedded)


@dataclass
class BenchDatabase:
    """A database created for one benchmark and dropped after it."""

    server_url: str
    name: str

    @property
    def url(self) -> str:
        """The ``postgresql://`` URL of this database."""
        return with_database(self.server_url, self.name)

    @property
    def sqlalchemy_url(self) -> str:
        """The same URL in SQLAlchemy's form."""
        return to_sqlalchemy_url(self.url)

    def drop(self) -> None:
        """Drop the database, closing whatever still holds it."""
        with psycopg.connect(self.server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def create_database(
    servers: Servers, label: str, migrate: Callable[[str], None] | None = None
) -> BenchDatabase:
    """A fresh, migrated database for one benchmark; also empties the benchmarks' Redis.

    ``migrate`` builds the schema from a SQLAlchemy URL (another revision's migrations); by
    default this tree's.
    """
    from models.migrate import upgrade_database

    database = BenchDatabase(servers.database_server_url, f"leadgate_bench_{label}_{os.getpid()}")
    database.drop()
    with psycopg.connect(servers.database_server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database.name}"')
    (migrate or upgrade_database)(database.sqlalchemy_url)
    redis.Redis.from_url(servers.redis_url).flushdb()
    return database


@dataclass
class ServiceProcess:
    """A started service: its process group and a log file to read when it fails."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        """The process id of the service's root process."""
        return self.process.pid

    def log(self) -> str:
        """What the process printed so far."""
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        """True while the root process runs."""
        return self.process.poll() is None

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def service_env(
    database_url: str, redis_url: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a service process: only these servers, no broker override."""
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, **(extra or {})}
    env.pop("CELERY_BROKER_URL", None)
    # No embedded-stack state file may redirect the service elsewhere.
    env["LEADGATE_HOME"] = tempfile.mkdtemp(prefix="leadgate-bench-home-")
    return env


def spawn(
    name: str, arguments: list[str], env: Mapping[str, str], root: Path = REPO_ROOT
) -> ServiceProcess:
    """Start ``arguments`` in ``root``, in its own process group, output to a log file."""
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - the child writes it; we read it later
        prefix=f"leadgate-bench-{name}-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        arguments,
        cwd=root,
        env=dict(env),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log_file.close()
    return ServiceProcess(name, process, Path(log_file.name))


def start_web(
    env: Mapping[str, str], app: str | None = None, timeout: float = 30, root: Path = REPO_ROOT
) -> ServiceProcess:
    """Start the Procfile's ``web`` on 127.0.0.1 (optionally serving another WSGI ``app``)."""
    port = free_port()
    arguments = expand_command(
        procfile_commands(root / "Procfile")["web"], {**env, "PORT": str(port)}
    )
    # Bind to loopback only: the benchmark's traffic never leaves the machine.
    arguments = [arg.replace("0.0.0.0:", "127.0.0.1:") for arg in arguments]
    if app is not None:
        arguments = [app if arg.endswith(".wsgi:app") else arg for arg in arguments]
    web = spawn("web" if app is None else "bare-web", arguments, {**env, "PORT": str(port)}, root)
    web.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not web.alive():
            raise RuntimeError(f"web exited at start:\n{web.log()}")
        try:
            with urllib.request.urlopen(web.url + "/healthz", timeout=1) as answer:  # noqa: S310
                if answer.status == 200:
                    return web
        except OSError:
            time.sleep(0.1)
    web.stop()
    raise RuntimeError(f"web did not answer within {timeout} s:\n{web.log()}")


def worker_answers(
    env: Mapping[str, str], celery_app: str = "worker.celery_app", root: Path = REPO_ROOT
) -> bool:
    """True when a worker of ``celery_app`` answers a ping through the broker."""
    # The celery command reads the app's own configuration (broker, key prefix), so the ping
    # travels the way the tasks will.
    ping = [str(VENV_BIN / "celery"), "-A", celery_app, "inspect", "ping", "--timeout=1"]
    try:
        finished = subprocess.run(
            ping, cwd=root, env=dict(env), capture_output=True, timeout=30, check=False
        )
    except subprocess.TimeoutExpired:
        return False
    return finished.returncode == 0


def start_worker(
    env: Mapping[str, str], timeout: float = 90, root: Path = REPO_ROOT
) -> ServiceProcess:
    """Start the Procfile's ``worker`` and wait until it answers a ping through the broker."""
    arguments = expand_command(procfile_commands(root / "Procfile")["worker"], env)
    worker = spawn("worker", arguments, env, root)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not worker.alive():
            raise RuntimeError(f"worker exited at start:\n{worker.log()}")
        if worker_answers(env, root=root):
            return worker
        time.sleep(0.2)
    worker.stop()
    raise RuntimeError(f"worker not ready within {timeout} s:\n{worker.log()}")


def start_beat(env: Mapping[str, str], root: Path = REPO_ROOT) -> ServiceProcess:
    """Start the Procfile's ``beat``, its schedule file kept out of the repository."""
    arguments = expand_command(procfile_commands(root / "Procfile")["beat"], env)
    schedule = Path(tempfile.mkdtemp(prefix="leadgate-bench-beat-")) / "celerybeat-schedule"
    return spawn("beat", [*arguments, f"--schedule={schedule}"], env, root)


@dataclass
class Stack:
    """The web, worker and beat of one benchmark, stopped together."""

    web: ServiceProcess | None = None
    worker: ServiceProcess | None = None
    beat: ServiceProcess | None = None

    def roots(self) -> dict[str, int]:
        """The root process id of each running service, by Procfile name."""
        running = {"web": self.web, "worker": self.worker, "beat": self.beat}
        return {name: service.pid for name, service in running.items() if service is not None}

    def stop(self) -> None:
        """Stop every service that was started."""
        for service in (self.web, self.beat, self.worker):
            if service is not None:
                service.stop()


def start_stack(
    database: BenchDatabase,
    servers: Servers,
    web: bool = True,
    worker: bool = True,
    extra_env: Mapping[str, str] | None = None,
    root: Path = REPO_ROOT,
) -> Stack:
    """Start the Procfile's services on ``database``; beat runs whenever the worker does.

    ``extra_env`` adds settings to every service (B2's trust-off pass keeps no field history);
    ``root`` is the tree whose Procfile and code run (another revision's, for a baseline).
    """
    env = service_env(database.url, servers.redis_url, extra_env)
    stack = Stack()
    try:
        if worker:
            stack.worker = start_worker(env, root=root)
            stack.beat = start_beat(env, root)
        if web:
            stack.web = start_web(env, root=root)
    except BaseException:
        stack.stop()
        raise
    return stack
