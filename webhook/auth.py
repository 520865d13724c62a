"""Token authentication: ``Authorization: Token <token>``, looked up by its hash."""

from __future__ import annotations

import hmac
import threading
import time
import uuid
from dataclasses import dataclass

from flask import request
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadgate.tokens import hash_token
from models import ApiToken, IngestionConfig
from models.base import utcnow
from models.enums import AuthMode
from webhook.errors import ApiError

# Recording last use costs a write; once a minute per token is plenty to tell stale tokens apart.
LAST_USE_RESOLUTION_SECONDS = 60.0
_last_use_written: dict[int, float] = {}
_last_use_lock = threading.Lock()


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's organization (None for an anonymous call to an open config)."""

    organization_id: int | None
    token_id: int | None = None


def _token_from_header() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme != "Token" or not token.strip():
        raise ApiError(401, "The Authorization header must be 'Token <token>'.")
    return token.strip()


def _record_last_use(session: Session, token_id: int) -> None:
    now = time.monotonic()
    with _last_use_lock:
        if now - _last_use_written.get(token_id, -1e9) < LAST_USE_RESOLUTION_SECONDS:
            return
        _last_use_written[token_id] = now
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_time=utcnow()))
    session.commit()


def authenticate(session: Session, required: bool = True) -> Caller:
    """The caller behind the request's token; 401 when required and missing or wrong."""
    token = _token_from_header()
    if token is None:
        if required:
            raise ApiError(401, "Authentication credentials were not provided.")
        return Caller(None)
    digest = hash_token(token)
    row = session.execute(
        select(ApiToken.id, ApiToken.organization_id, ApiToken.token_hash).where(
            ApiToken.token_hash == digest, ApiToken.revoked_time.is_(None)
        )
    ).one_or_none()
    # The lookup is by hash (an index seek); the compare is constant-time on top of it.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise ApiError(401, "Invalid token.")
    _record_last_use(session, row.id)
    return Caller(row.organization_id, row.id)


def load_config(session: Session, config_id: str) -> IngestionConfig:
    """The active config with this UUID, else 404."""
    try:
        parsed = uuid.UUID(config_id)
    except ValueError:
        raise ApiError(404, "No such ingestion endpoint.") from None
    config = session.get(IngestionConfig, parsed)
    if config is None or not config.active:
        raise ApiError(404, "No such ingestion endpoint.")
    return config


def authorize_ingestion(session: Session, config: IngestionConfig) -> Caller:
    """Check the caller may post to ``config``: its token's organization, or an open config."""
    caller = authenticate(session, required=config.auth_mode == AuthMode.token)
    if config.auth_mode == AuthMode.open:
        return caller
    if caller.organization_id != config.organization_id:
        raise ApiError(403, "This token does not belong to the endpoint's organization.")
    return caller
