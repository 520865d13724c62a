"""A database of its own for one test, migrated to a revision and dropped afterwards.

For tests that change the inbox's partitions (DDL the shared test database must not keep).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import psycopg

from common.settings import to_sqlalchemy_url
from models.migrate import upgrade_database
from tests.support.services import ServiceUrls, _create_database, _with_database


@contextmanager
def scratch_database(services: ServiceUrls, revision: str = "head") -> Iterator[str]:
    """The SQLAlchemy URL of a new database migrated to ``revision``; dropped at the end."""
    server = _with_database(services.database_url, "postgres")
    name = f"leadgate_scratch_{uuid.uuid4().hex[:8]}"
    url = to_sqlalchemy_url(_create_database(server, name))
    try:
        upgrade_database(url, revision)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(
                f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)'
            )
