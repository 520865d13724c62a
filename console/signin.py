"""Signing in with an organization's API token, signing out, and the check before every page."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import (
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from common.redis_client import redis_for
from common.tokens import hash_token
from console.blueprint import bp
from console.sessions import ConsoleSession
from models import ApiToken
from webhook.auth import Caller
from webhook.db import request_session

PUBLIC_ENDPOINTS = frozenset({"console.sign_in", "console.static"})
ATTEMPT_WINDOW_SECONDS = 900
ATTEMPTS_KEY = "leadgate:console:sign-in-failures:"


@bp.before_request
def require_sign_in() -> BaseResponse | None:
    """Every page but sign-in needs a live session whose token is not revoked."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token_id = session.get("token_id")
    if isinstance(token_id, int):
        row = (
            request_session()
            .execute(
                select(ApiToken.organization_id, ApiToken.revoked_time).where(
                    ApiToken.id == token_id
                )
            )
            .one_or_none()
        )
        if row is not None and row.revoked_time is None:
            g.console_caller = Caller(row.organization_id, token_id)
            return None
        # The token was revoked: the session dies with it.
        _end_session()
        flash("Your session ended: its token was revoked.")
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("console.sign_in", next=target))


def _end_session() -> None:
    assert isinstance(session, ConsoleSession)
    session.end()


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: a sign-in link must not send anyone elsewhere."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/"):
        return url_for("console.overview")
    return target or url_for("console.overview")


def _too_many_failures() -> bool:
    client = redis_for(current_app.config["CONSOLE_REDIS_URL"])
    failures = client.get(ATTEMPTS_KEY + (request.remote_addr or "unknown"))
    limit: int = current_app.config["CONSOLE_SIGNIN_ATTEMPTS"]
    return failures is not None and int(failures) >= limit


def _count_failure() -> None:
    client = redis_for(current_app.config["CONSOLE_REDIS_URL"])
    key = ATTEMPTS_KEY + (request.remote_addr or "unknown")
    with client.pipeline() as pipe:
        pipe.incr(key)
        # Each failure starts the window again: a guesser waits a full window after the last.
        pipe.expire(key, ATTEMPT_WINDOW_SECONDS)
        pipe.execute()


def _token_row(token: str) -> ApiToken | None:
    digest = hash_token(token)
    row = request_session().scalar(
        select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_time.is_(None))
    )
    # The lookup is by hash; the compare on top of it is constant-time all the same.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> BaseResponse | tuple[str, int] | str:
    """The sign-in form; a valid token of an organization opens a session for it."""
    next_path = request.values.get("next")
    if request.method == "GET":
        return render_template("console/sign_in.html", next_path=next_path)
    if _too_many_failures():
        message = "Too many failed sign-ins from this address; wait a quarter of an hour."
        return render_template("console/sign_in.html", next_path=next_path, error=message), 429
    token = request.form.get("token", "").strip()
    row = _token_row(token) if token else None
    if row is None:
        _count_failure()
        error = "Enter an API token." if not token else "That token is unknown or revoked."
        return render_template("console/sign_in.html", next_path=next_path, error=error), 401
    assert isinstance(session, ConsoleSession)
    session.clear()
    session.renew(current_app.config["CONSOLE_SESSION_SECONDS"])
    session["token_id"] = row.id
    return redirect(_safe_next(next_path))


@bp.post("/sign-out")
def sign_out() -> Response | BaseResponse:
    """End the session (its CSRF token with it)."""
    _end_session()
    return redirect(url_for("console.sign_in"))
