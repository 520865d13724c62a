"""The worker's database handles, on the URL the settings name (handed down to ``models.db``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from common.settings import get_settings
from models.db import get_sessionmaker, session_scope


@contextmanager
def task_session() -> Iterator[Session]:
    """A session in one transaction on the worker's database, committed when the block ends."""
    with session_scope(get_settings().sqlalchemy_url) as session:
        yield session


def autocommit_session() -> Session:
    """A session whose statements each commit on their own (see ``models.db.make_engine``)."""
    return get_sessionmaker(get_settings().sqlalchemy_url, autocommit=True)()
