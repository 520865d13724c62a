"""A request's session hands its connection back before the request waits on others."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import QueuePool

from webhook.db import release_connection, request_session


def _count_transactions(session: Session) -> list[SessionTransaction]:
    created: list[SessionTransaction] = []

    @event.listens_for(session, "after_transaction_create")
    def _created(_session: Session, transaction: SessionTransaction) -> None:
        created.append(transaction)

    return created


def test_a_used_connection_goes_back_to_the_pool(app: Flask) -> None:
    with app.test_request_context():
        session = request_session(autocommit=True)
        session.execute(text("SELECT 1"))
        bind = session.get_bind()
        assert isinstance(bind, Engine)
        pool = bind.pool
        assert isinstance(pool, QueuePool)
        assert pool.checkedout() == 1
        release_connection(session)
        assert not session.in_transaction()
        assert pool.checkedout() == 0


def test_a_session_that_read_nothing_begins_nothing(app: Flask) -> None:
    with app.test_request_context():
        session = request_session(autocommit=True)
        created = _count_transactions(session)
        release_connection(session)
        assert created == []
        assert not session.in_transaction()
