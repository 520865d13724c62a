"""The database admin commands use: the configured one, a running stack's, or a transient one."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis
from sqlalchemy.orm import Session

from common.settings import get_settings, load_settings, to_sqlalchemy_url
from leadgate.cli.home import ADMIN_ROLE, RUN_ROLE, HomeLock, read_embedded_state
from leadgate.cli.output import CliError, say
from leadgate.embedded import EmbeddedStack
from models.db import dispose_engines, get_sessionmaker, session_scope

# How long an admin command waits for another one that holds the embedded database.
ADMIN_WAIT_SECONDS = 120.0


def adopt_running_stack() -> None:
    """Point this command at the servers of a ``leadgate run`` that is up on LEADGATE_HOME.

    Only the operator's commands read ``services.json``, and only while its writer holds the home
    lock (a file left behind by a killed run is stale) and its servers answer; production
    processes take their settings from the environment alone.
    """
    if os.environ.get("DATABASE_URL", "").strip() and os.environ.get("REDIS_URL", "").strip():
        return
    home = load_settings().home
    lock = HomeLock(home)
    if lock.try_acquire(ADMIN_ROLE):
        lock.release()  # nobody runs here: no live servers to adopt
        return
    if lock.holder_role() != RUN_ROLE:
        return
    state = read_embedded_state(home)
    adopted = {
        name: url
        for name, url in state.items()
        if name in ("DATABASE_URL", "REDIS_URL") and not os.environ.get(name, "").strip()
    }
    for name, url in adopted.items():
        if not _answers(name, url):
            raise CliError(f"leadgate run on {home} named {name}, but that server does not answer")
    os.environ.update(adopted)
    get_settings.cache_clear()


def _answers(name: str, url: str) -> bool:
    """True when the server ``url`` names accepts a connection within a second."""
    try:
        if name == "DATABASE_URL":
            with psycopg.connect(url, connect_timeout=1):
                return True
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (psycopg.Error, redis.RedisError, OSError):
        return False


@contextmanager
def database_url() -> Iterator[str]:
    """The SQLAlchemy URL to use, starting the embedded PostgreSQL for this command if needed.

    With DATABASE_URL set, that database. Else, when ``leadgate run`` is up on LEADGATE_HOME, its
    embedded database. Else the embedded database is started (and migrated) for the duration of
    the block and stopped afterwards.
    """
    settings = load_settings()  # validates every variable; a malformed one is a clear error
    if os.environ.get("DATABASE_URL", "").strip():
        yield settings.sqlalchemy_url
        return
    lock = HomeLock(settings.home)
    deadline = time.monotonic() + ADMIN_WAIT_SECONDS
    while not lock.try_acquire(ADMIN_ROLE):
        role = lock.holder_role()
        if role == RUN_ROLE:
            running = read_embedded_state(settings.home).get("DATABASE_URL")
            if running is None:
                raise CliError(
                    f"leadgate run on {settings.home} uses a database given by DATABASE_URL; "
                    "set DATABASE_URL to the same value for this command"
                )
            yield to_sqlalchemy_url(running)
            return
        if time.monotonic() >= deadline:
            raise CliError(f"{settings.home} stayed busy ({role or 'unknown'} holds {lock.path})")
        time.sleep(0.2)
    try:
        with _transient_database(settings.home) as url:
            yield url
    finally:
        lock.release()


@contextmanager
def _transient_database(home: Path) -> Iterator[str]:
    from models.migrate import upgrade_database

    say(f"no DATABASE_URL set: starting the embedded PostgreSQL under {home} for this command")
    stack = EmbeddedStack(home)
    try:
        try:
            started = stack.start(need_database=True, need_redis=False)
        except Exception as error:  # pgserver reports failures with several types
            raise CliError(
                f"could not start the embedded PostgreSQL under {home}: {error}"
            ) from error
        url = to_sqlalchemy_url(started["DATABASE_URL"])
        upgrade_database(url)
        yield url
    finally:
        dispose_engines()  # close pooled connections before the server goes away
        stack.stop()


@contextmanager
def admin_session(read_only: bool = False) -> Iterator[Session]:
    """A session on the admin database in one transaction; rolled back when ``read_only``."""
    with database_url() as url:
        if read_only:
            # close() ends the transaction with a rollback and keeps loaded rows readable.
            with get_sessionmaker(url)() as session:
                yield session
            return
        with session_scope(url) as session:
            yield session
