"""Who may post to a config: tokens (``Authorization: Token <token>``), provider credentials
(webhook.provider_auth) and the one rule that turns them into a Caller; configs cached briefly."""

from __future__ import annotations

import hmac
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from flask import current_app, request
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.tokens import hash_token
from models import ApiToken, IngestionConfig
from models.base import utcnow
from models.enums import AuthMode
from webhook.cache import TtlCache
from webhook.errors import ApiError
from webhook.provider_auth import (
    ProviderCredential,
    check_payload_key,
    check_signature,
    strip_payload_key,
)
from webhook.request_body import IncomingPayload
from worker.anonymity import TOKENLESS_MODES

# Recording last use costs a write; once a minute per token is plenty to tell stale tokens apart.
LAST_USE_RESOLUTION_SECONDS = 60.0
_last_use_written: dict[int, float] = {}
_last_use_lock = threading.Lock()


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's organization (None for an anonymous call to an open config)."""

    organization_id: int | None
    token_id: int | None = None

    @property
    def anonymous(self) -> bool:
        """True for a call without a token, which only an open config accepts."""
        return self.organization_id is None


@dataclass(frozen=True)
class _TokenRecord:
    token_id: int
    organization_id: int
    token_hash: str


@dataclass(frozen=True)
class EndpointConfig:
    """What a request needs of an ingestion config, detached from any session."""

    id: uuid.UUID
    organization_id: int
    auth_mode: AuthMode
    version: int
    mapping: dict[str, Any]
    max_body_bytes: int | None
    rate_limit_per_second: float | None
    rate_limit_burst: int | None
    credential: ProviderCredential = field(default_factory=ProviderCredential)
    ignore_file_parts: bool = False
    # Every event of a test config is a test-mode event.
    test: bool = False


_tokens: TtlCache[str, _TokenRecord] = TtlCache()
_configs: TtlCache[uuid.UUID, EndpointConfig] = TtlCache()


def set_cache_ttl(seconds: float) -> None:
    """How long tokens and configs stay cached in this process (0 turns caching off)."""
    _tokens.ttl = _configs.ttl = seconds
    _tokens.clear()
    _configs.clear()


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


def _load_token(session: Session, digest: str) -> _TokenRecord | None:
    row = session.execute(
        select(ApiToken.id, ApiToken.organization_id, ApiToken.token_hash).where(
            ApiToken.token_hash == digest, ApiToken.revoked_time.is_(None)
        )
    ).one_or_none()
    return None if row is None else _TokenRecord(row.id, row.organization_id, row.token_hash)


def authenticate(session: Session) -> Caller:
    """The caller behind the request's token; 401 when it is missing, malformed or wrong."""
    token = _token_from_header()
    if token is None:
        raise ApiError(401, "Authentication credentials were not provided.")
    digest = hash_token(token)
    record = _tokens.get_or_load(digest, lambda: _load_token(session, digest))
    # The lookup is by hash; the compare on top of it is constant-time all the same.
    if record is None or not hmac.compare_digest(record.token_hash, digest):
        raise ApiError(401, "Invalid token.")
    _record_last_use(session, record.token_id)
    return Caller(record.organization_id, record.token_id)


def _load_config(session: Session, config_id: uuid.UUID) -> EndpointConfig | None:
    config = session.get(IngestionConfig, config_id)
    # The standard API's config has no door of its own: its events come through /api/leads/.
    if config is None or not config.active or config.standard_api:
        return None
    return EndpointConfig(
        id=config.id,
        organization_id=config.organization_id,
        auth_mode=config.auth_mode,
        version=config.version,
        mapping=dict(config.mapping or {}),
        max_body_bytes=config.max_body_bytes,
        rate_limit_per_second=config.rate_limit_per_second,
        rate_limit_burst=config.rate_limit_burst,
        credential=ProviderCredential.of(config),
        ignore_file_parts=config.ignore_file_parts,
        test=config.test,
    )


def load_config(session: Session, config_id: str) -> EndpointConfig:
    """The active config with this UUID, else 404."""
    try:
        parsed = uuid.UUID(config_id)
    except ValueError:
        raise ApiError(404, "No such ingestion endpoint.") from None
    config = _configs.get_or_load(parsed, lambda: _load_config(session, parsed))
    if config is None:
        raise ApiError(404, "No such ingestion endpoint.")
    return config


def authorize_ingestion(session: Session, config: EndpointConfig) -> Caller:
    """Who may post to ``config``: a token of its organization, or an anonymous caller.

    One rule on every config: a header that is present must carry a valid token of the
    config's organization (401 missing, malformed, unknown or revoked; 403 another
    organization). A request without an ``Authorization`` header is anonymous, which only an
    open config or a provider mode accepts; a provider mode then demands its credential with
    the body (``body_check`` and ``provider_payload``). An anonymous caller, credential or not,
    is not the organization: it never receives stored data.
    """
    if config.auth_mode in TOKENLESS_MODES and "Authorization" not in request.headers:
        return Caller(None)
    return authorize_owner(session, config)


def body_check(config: EndpointConfig, caller: Caller) -> Callable[[bytes], None] | None:
    """The signature check an anonymous caller's raw body must pass, if the config has one."""
    if not (caller.anonymous and config.auth_mode == AuthMode.signature):
        return None
    secret_keys: tuple[str, ...] = current_app.config["SECRET_KEYS"]
    header_value = request.headers.get(config.credential.signature_header or "")
    return partial(_check_signature_now, config.credential, header_value, secret_keys)


def _check_signature_now(
    credential: ProviderCredential, header_value: str | None, keys: tuple[str, ...], raw: bytes
) -> None:
    check_signature(credential, raw, header_value, utcnow(), keys)


def provider_payload(
    config: EndpointConfig, caller: Caller, incoming: IncomingPayload
) -> IncomingPayload:
    """The request as it may be stored: on a payload-key config, the key checked and removed.

    The key is checked for an anonymous caller (a token of the organization needs none) and
    removed for every caller, so it is never stored, mapped or logged.
    """
    if config.auth_mode != AuthMode.payload_key:
        return incoming
    if caller.anonymous:
        check_payload_key(config.credential, incoming.payload, utcnow())
    return strip_payload_key(config.credential, incoming)


def authorize_owner(session: Session, config: EndpointConfig) -> Caller:
    """A caller holding a valid token of ``config``'s organization; else 401 or 403."""
    caller = authenticate(session)
    if caller.organization_id != config.organization_id:
        # The 403 tells a holder of some other organization's token that this config exists;
        # SECURITY.md states the trade-off.
        raise ApiError(403, "This token does not belong to the endpoint's organization.")
    return caller
