"""A PgBouncer of the tests' own, in transaction mode, in front of the test PostgreSQL server.

Debian's ``pgbouncer`` package; ``.ci/run`` installs it when it is missing. The configuration is
generated in a temporary directory: trust authentication (as the test server has), any database
name passed through to the server, transaction pooling with a small server pool so that client
transactions really do move between server connections.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.support.processes import free_port

# The Debian package installs it under /usr/sbin, which a non-root PATH may lack.
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


def pgbouncer_binary() -> str | None:
    """The pgbouncer executable, or None when it is not installed."""
    return shutil.which("pgbouncer", path=SEARCH_PATH)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def pooled_url(database_url: str, port: int) -> str:
    """``database_url`` through the pooler on ``port``, with server-side prepares turned off."""
    parts = urlsplit(database_url)
    user = parts.username or "postgres"
    query = "prepare_threshold=none" + (f"&{parts.query}" if parts.query else "")
    return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{port}", query=query))


@dataclass
class OwnPgBouncer:
    """One PgBouncer process, stopped with ``stop``."""

    server_url: str
    pool_size: int = 4
    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pgbouncer-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        """PgBouncer's own log: logins, errors, and a stats line every few seconds."""
        return self.directory / "pgbouncer.log"

    def _write_config(self) -> Path:
        server = urlsplit(self.server_url)
        user = server.username or "postgres"
        (self.directory / "userlist.txt").write_text(f'"{user}" ""\n')
        config = self.directory / "pgbouncer.ini"
        config.write_text(
            "\n".join(
                [
                    "[databases]",
                    f"* = host={server.hostname or '127.0.0.1'} port={server.port or 5432}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {self.port}",
                    "unix_socket_dir =",
                    "auth_type = trust",
                    f"auth_file = {self.directory / 'userlist.txt'}",
                    "pool_mode = transaction",
                    f"default_pool_size = {self.pool_size}",
                    "max_client_conn = 400",
                    f"logfile = {self.log_path}",
                    f"pidfile = {self.directory / 'pgbouncer.pid'}",
                    "stats_period = 5",
                    "",
                ]
            )
        )
        return config

    def start(self, timeout: float = 15) -> OwnPgBouncer:
        """Start it; raises when it is not installed or does not listen in time."""
        binary = pgbouncer_binary()
        if binary is None:
            raise FileNotFoundError("pgbouncer is not installed (apt-get install pgbouncer)")
        config = self._write_config()
        arguments = [binary, str(config)]
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root; it drops to this user itself.
            arguments[1:1] = ["-u", "nobody"]
            os.chmod(self.directory, 0o777)  # noqa: S103 - its own temporary directory
        self.process = subprocess.Popen(
            arguments, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while not _answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pgbouncer did not start:\n{self.log()}")
            time.sleep(0.05)
        return self

    def log(self) -> str:
        """What PgBouncer logged so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def url_for(self, database_url: str) -> str:
        """The pooled URL of a database on the server this PgBouncer fronts."""
        return pooled_url(database_url, self.port)

    def stop(self) -> None:
        """Stop the process and remove its directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
