"""One database session per request, closed at teardown."""

from __future__ import annotations

from flask import Flask, g
from sqlalchemy.orm import Session

from models.db import get_sessionmaker


def request_session() -> Session:
    """This request's session, opened on first use."""
    session: Session | None = g.get("db_session")
    if session is None:
        session = get_sessionmaker()()
        g.db_session = session
    return session


def _close_session(_: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    """Close the request's session when the request ends."""
    app.teardown_appcontext(_close_session)
