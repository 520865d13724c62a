"""A session whose work is rolled back at the end, for tests and for each Hypothesis example."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


@contextmanager
def rolled_back_session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back when the block ends."""
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()
