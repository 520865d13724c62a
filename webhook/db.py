"""One database session per request, closed at teardown."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from common.settings import get_settings
from models.db import get_engine, get_sessionmaker

_SESSION_KEYS = {False: "db_session", True: "db_autocommit_session"}


def database_url() -> str:
    """The app's database (``DATABASE_URL`` in its config, else the settings')."""
    url: str | None = current_app.config.get("DATABASE_URL")
    return url or get_settings().sqlalchemy_url


def engine() -> Engine:
    """This process's engine on the app's database."""
    return get_engine(database_url())


def request_session(autocommit: bool = False) -> Session:
    """This request's session, opened on first use.

    An ``autocommit`` session runs each statement in its own transaction: one round trip per
    statement instead of BEGIN, statement and COMMIT, for paths whose statements stand alone.
    """
    key = _SESSION_KEYS[autocommit]
    session: Session | None = g.get(key)
    if session is None:
        session = get_sessionmaker(database_url(), autocommit=autocommit)()
        setattr(g, key, session)
    return session


def release_connection(session: Session) -> None:
    """End the session's transaction, if it has one, handing its connection back to the pool."""
    # A commit with no transaction begins one first: an object and a state change for nothing,
    # twice on every accepted request whose config and token came from the cache.
    if session.in_transaction():
        session.commit()


def _close_session(_: BaseException | None) -> None:
    for key in _SESSION_KEYS.values():
        session: Session | None = g.pop(key, None)
        if session is not None:
            session.close()


def init_app(app: Flask) -> None:
    """Close the request's sessions when the request ends."""
    app.teardown_appcontext(_close_session)
