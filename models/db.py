"""The engine and session factory, created lazily in each process.

Celery's prefork pool forks after import, and a connection pool must never be shared across
``fork()``; so nothing connects at import time and the engine is keyed by process id.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

_lock = threading.Lock()
_engines: dict[tuple[int, str, bool], Engine] = {}
_factories: dict[tuple[int, str, bool], sessionmaker[Session]] = {}

# A database restart leaves dead connections in the pool. Pinging on every checkout would cost a
# round trip per request, so only connections that sat idle this long are tested first: a busy
# pool's connections are in constant use, and when the database restarts under load the first
# statement on a dead one fails as a disconnect, which invalidates the whole pool (the webhook
# answers that request 503, see webhook/errors.py).
PING_AFTER_IDLE_SECONDS = 5.0
_CHECKED_IN_AT = "leadgate_checked_in_at"


# Behind a pooler in transaction mode (PgBouncer before 1.21), consecutive transactions of one
# client may run on different server connections: a statement psycopg prepared on one is unknown
# on the next. ``?prepare_threshold=none`` on the database URL (psycopg's own parameter, which
# libpq would refuse in a URL) turns server-side prepared statements off.
PREPARE_THRESHOLD = "prepare_threshold"


def connection_options(url: str) -> tuple[str, dict[str, Any]]:
    """The URL without our own query parameters, and the psycopg connect arguments they ask for.

    Without ``prepare_threshold=none``, statements are prepared and planned per execution
    (``plan_cache_mode``, a startup option a pooler may refuse). With it, nothing is prepared, so
    each statement is planned with its values anyway, and no startup option is sent.
    """
    parsed = make_url(url)
    threshold = parsed.query.get(PREPARE_THRESHOLD)
    if threshold is None:
        return url, {
            # psycopg prepares a statement run five times, and PostgreSQL may then switch it to
            # a generic plan, made without the parameters' values: one that cannot use a partial
            # index, or that suits an empty table better than the one there is by then. Planning
            # each execution with its values costs little for these short statements.
            "options": "-c plan_cache_mode=force_custom_plan",
        }
    if isinstance(threshold, tuple) or threshold.strip().lower() not in ("none", ""):
        raise ValueError(f"{PREPARE_THRESHOLD} in the database URL can only be 'none'")
    plain = parsed.difference_update_query([PREPARE_THRESHOLD])
    return plain.render_as_string(hide_password=False), {"prepare_threshold": None}


def make_engine(url: str, pool_size: int = 5, autocommit: bool = False) -> Engine:
    """Create an engine with the house pool settings for ``url``.

    An ``autocommit`` engine runs each statement in its own transaction: no BEGIN and COMMIT
    round trips, for callers whose every statement stands alone. It has a pool of its own, so
    its connections are switched to autocommit once, when they connect, not at each checkout.
    """
    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    url, connect_options = connection_options(url)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=5,
        # Hand out the most recently returned connection: under load the same few stay busy
        # (and are never pinged); only the ones left idle get the ping when next used.
        pool_use_lifo=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5, **connect_options},
        # Statement parameters are lead data; keep them out of exception messages and logs.
        hide_parameters=True,
        **options,
    )
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """Test a pooled connection before use when it sat idle longer than the threshold."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _stamp(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS:
            return  # a new connection, or one in recent use
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if not dialect.is_disconnect(error, dbapi_connection, None):
                raise
            # The database went away since: the pool replaces this connection and every older
            # one, and tries the checkout again.
            raise InvalidatePoolError("pooled connection is dead") from error


def get_engine(url: str, autocommit: bool = False) -> Engine:
    """This process's engine for ``url`` (a SQLAlchemy URL handed down by the caller)."""
    key = (os.getpid(), url, autocommit)
    engine = _engines.get(key)
    if engine is None:
        with _lock:
            engine = _engines.get(key)
            if engine is None:
                engine = make_engine(url, autocommit=autocommit)
                _engines[key] = engine
    return engine


def get_sessionmaker(url: str, autocommit: bool = False) -> sessionmaker[Session]:
    """This process's session factory; sessions do not expire objects on commit.

    ``autocommit`` sessions run each statement in its own transaction (see ``make_engine``).
    """
    key = (os.getpid(), url, autocommit)
    factory = _factories.get(key)
    if factory is None:
        factory = sessionmaker(get_engine(url, autocommit), expire_on_commit=False)
        _factories[key] = factory
    return factory


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on error."""
    with get_sessionmaker(url).begin() as session:
        yield session


def dispose_engines() -> None:
    """Forget every engine of this process (after fork, or at shutdown)."""
    with _lock:
        for (pid, _, _), engine in list(_engines.items()):
            if pid == os.getpid():
                engine.dispose()
        _engines.clear()
        _factories.clear()
