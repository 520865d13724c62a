"""The engine and session factory, created lazily in each process.

Celery's prefork pool forks after import, and a connection pool must never be shared across
``fork()``; so nothing connects at import time and the engine is keyed by process id.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from leadgate.settings import get_settings

_lock = threading.Lock()
_engines: dict[tuple[int, str], Engine] = {}
_factories: dict[tuple[int, str], sessionmaker[Session]] = {}


def make_engine(url: str, pool_size: int = 5) -> Engine:
    """Create an engine with the house pool settings for ``url``."""
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=5,
        # A database restart leaves dead connections in the pool; test them before use.
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5},
        # Statement parameters are lead data; keep them out of exception messages and logs.
        hide_parameters=True,
    )


def get_engine(url: str | None = None) -> Engine:
    """This process's engine for ``url`` (the settings' database by default)."""
    url = url or get_settings().sqlalchemy_url
    key = (os.getpid(), url)
    engine = _engines.get(key)
    if engine is None:
        with _lock:
            engine = _engines.get(key)
            if engine is None:
                engine = make_engine(url)
                _engines[key] = engine
    return engine


def get_sessionmaker(url: str | None = None) -> sessionmaker[Session]:
    """This process's session factory; sessions do not expire objects on commit."""
    url = url or get_settings().sqlalchemy_url
    key = (os.getpid(), url)
    factory = _factories.get(key)
    if factory is None:
        factory = sessionmaker(get_engine(url), expire_on_commit=False)
        _factories[key] = factory
    return factory


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on error."""
    with get_sessionmaker(url).begin() as session:
        yield session


def dispose_engines() -> None:
    """Forget every engine of this process (after fork, or at shutdown)."""
    with _lock:
        for (pid, _), engine in list(_engines.items()):
            if pid == os.getpid():
                engine.dispose()
        _engines.clear()
        _factories.clear()
