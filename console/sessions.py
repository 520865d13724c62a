"""Server-side console sessions in Redis, behind a cookie that carries only a random id.

The cookie is HttpOnly and SameSite=Strict (Secure over HTTPS), scoped to /console/. A signed-in
session lives for the configured hours from sign-in, however active; an anonymous one (it holds
the sign-in form's CSRF token) for an hour. Requests outside /console/ never touch Redis.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from common.redis_client import RedisClient, redis_for

COOKIE_NAME = "leadgate_console"
KEY_PREFIX = "leadgate:console:session:"
ANONYMOUS_SECONDS = 3600
CONSOLE_PATH = "/console"


class ConsoleSession(CallbackDict[str, Any], SessionMixin):
    """A session's values, its id, and whether it must be written back."""

    def __init__(self, sid: str, values: dict[str, Any] | None = None, stored: bool = False):
        def touched(_: Any) -> None:
            self.modified = True

        super().__init__(values or {}, touched)
        self.sid = sid
        self.stored = stored
        self.modified = False
        self.renewed = False

    def renew(self, lifetime_seconds: float) -> None:
        """A fresh id and lifetime (at sign-in), so an id known before it is worth nothing."""
        self.old_sid = self.sid if self.stored else None
        self.sid = _new_sid()
        self.stored = False
        self.lifetime_seconds = lifetime_seconds
        self.renewed = True
        self.modified = True

    def end(self) -> None:
        """Forget every value (at sign-out); the stored session is deleted."""
        self.clear()
        self.modified = True


def _new_sid() -> str:
    return secrets.token_urlsafe(32)


def _client(app: Flask) -> RedisClient:
    return redis_for(app.config["CONSOLE_REDIS_URL"])


class RedisSessionInterface(SessionInterface):
    """Flask's session, kept in Redis for console requests only."""

    def open_session(self, app: Flask, request: Request) -> ConsoleSession | None:
        """The request's session: the stored one its cookie names, else a new empty one."""
        if not request.path.startswith(CONSOLE_PATH):
            return None  # Flask gives the API a null session: no Redis round trip
        sid = request.cookies.get(COOKIE_NAME, "")
        if sid and len(sid) < 100:
            raw = _client(app).get(KEY_PREFIX + sid)
            if raw is not None:
                return ConsoleSession(sid, json.loads(raw), stored=True)
        return ConsoleSession(_new_sid())

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Write a changed session back (or delete an emptied one) and set the cookie."""
        if not isinstance(session, ConsoleSession):
            return
        client = _client(app)
        old_sid = getattr(session, "old_sid", None)
        if old_sid:
            client.delete(KEY_PREFIX + old_sid)
        if not session:
            if session.stored:
                client.delete(KEY_PREFIX + session.sid)
            if COOKIE_NAME in request.cookies:
                response.delete_cookie(COOKIE_NAME, path=CONSOLE_PATH)
            return
        if not session.modified:
            return
        key, value = KEY_PREFIX + session.sid, json.dumps(dict(session))
        if session.stored:
            # The lifetime runs from sign-in: a write keeps the expiry the session has.
            client.set(key, value, keepttl=True, xx=True)
            return
        lifetime = getattr(session, "lifetime_seconds", ANONYMOUS_SECONDS)
        client.set(key, value, ex=max(1, int(lifetime)))
        response.set_cookie(
            COOKIE_NAME,
            session.sid,
            path=CONSOLE_PATH,
            httponly=True,
            samesite="Strict",
            secure=request.is_secure,
        )


def shared_secret_key(app: Flask, configured: str | None) -> str:
    """The key CSRF tokens are signed with: the configured one, else one kept in Redis.

    Every web process signs with the same key, so a form served by one is accepted by another.
    """
    if configured:
        return configured
    client = _client(app)
    key = "leadgate:console:secret-key"
    client.set(key, secrets.token_urlsafe(48), nx=True)
    stored = client.get(key)
    assert stored is not None
    return stored.decode() if isinstance(stored, bytes) else str(stored)
