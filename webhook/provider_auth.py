"""Provider credentials: a shared key inside the payload, or an HMAC signature of the raw body.

Lead sources such as Google Ads, Typeform or Facebook cannot send ``Authorization: Token``; they
prove themselves with what they can send. Both checks compare in constant time, and neither
answer says more than "missing" or "does not match".
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, replace
from typing import Any

from common.encryption import SecretKeyError, decrypt_secret
from common.payloads import JSON_TYPE, merge_query, payload_query_string
from common.tokens import hash_token
from models import IngestionConfig
from webhook.errors import ApiError
from webhook.request_body import IncomingPayload
from worker.config_credentials import key_path_parts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderCredential:
    """A config's provider credential as stored: hashes and Fernet tokens, never a clear secret."""

    payload_key_path: str | None = None
    payload_key_hash: str | None = None
    signature_header: str | None = None
    signature_encoding: str | None = None
    signature_prefix: str | None = None
    signing_secret: str | None = None
    previous_payload_key_hash: str | None = None
    previous_signing_secret: str | None = None
    previous_expires: dt.datetime | None = None

    @classmethod
    def of(cls, config: IngestionConfig) -> ProviderCredential:
        """The credential columns of ``config``."""
        return cls(
            payload_key_path=config.payload_key_path,
            payload_key_hash=config.payload_key_hash,
            signature_header=config.signature_header,
            signature_encoding=config.signature_encoding,
            signature_prefix=config.signature_prefix,
            signing_secret=config.signing_secret,
            previous_payload_key_hash=config.previous_payload_key_hash,
            previous_signing_secret=config.previous_signing_secret,
            previous_expires=config.previous_secret_expires_time,
        )

    def _valid(self, current: str | None, previous: str | None, now: dt.datetime) -> list[str]:
        # A rotated-out secret keeps working until its grace period ends, so a provider can be
        # switched over without a lead refused in between.
        in_grace = self.previous_expires is not None and now < self.previous_expires
        return [value for value in (current, previous if in_grace else None) if value]

    def payload_key_hashes(self, now: dt.datetime) -> list[str]:
        """Digests of the payload keys accepted at ``now``."""
        return self._valid(self.payload_key_hash, self.previous_payload_key_hash, now)

    def signing_secrets(self, now: dt.datetime) -> list[str]:
        """Encrypted signing secrets accepted at ``now``."""
        return self._valid(self.signing_secret, self.previous_signing_secret, now)


def _find(payload: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(part)
    return payload


def _without(payload: dict[str, Any], parts: list[str]) -> dict[str, Any]:
    """A copy of ``payload`` without the value at ``parts`` (only the dicts on the path copied)."""
    head, *rest = parts
    if head not in payload:
        return payload
    copied = dict(payload)
    if not rest:
        del copied[head]
    elif isinstance(copied[head], dict):
        copied[head] = _without(copied[head], rest)
    return copied


def check_payload_key(
    credential: ProviderCredential, payload: dict[str, Any], now: dt.datetime
) -> None:
    """401 unless the payload carries an accepted key at the config's path."""
    path = credential.payload_key_path or ""
    presented = _find(payload, key_path_parts(path))
    if presented is None or presented == "":
        raise ApiError(401, f"The payload key is missing: the payload needs it at {path}.")
    digest = hash_token(presented) if isinstance(presented, str) else ""
    # compare_digest over every accepted digest (no early exit): timing tells nothing.
    matches = [
        hmac.compare_digest(digest, accepted) for accepted in credential.payload_key_hashes(now)
    ]
    if not any(matches):
        raise ApiError(401, f"The payload key at {path} is wrong.")


def strip_payload_key(credential: ProviderCredential, incoming: IncomingPayload) -> IncomingPayload:
    """The request as it is stored: the payload key removed from the body and the query string.

    The key is a credential, not lead data: it never reaches the inbox, the mapping, the lead's
    metadata or a log. The stored body is the remaining payload as JSON (what the worker maps
    is the same object it would have read from the original body).
    """
    parts = key_path_parts(credential.payload_key_path or "")
    body = _without(incoming.body, parts)
    query_string = incoming.query_string
    if len(parts) == 1:
        query_string = payload_query_string(query_string, frozenset(parts))
    if body is incoming.body:
        # The key came in the URL (a provider that cannot add one to its body): the body
        # stays as received.
        return replace(incoming, query_string=query_string, payload=merge_query(body, query_string))
    # ASCII with escapes: a lone surrogate the sender escaped stays an escape, never a 500.
    raw = json.dumps(body, separators=(",", ":")).encode("ascii")
    return replace(
        incoming,
        raw_body=raw,
        content_type=JSON_TYPE,
        query_string=query_string,
        payload=merge_query(body, query_string),
        body=body,
    )


def _presented_digest(credential: ProviderCredential, header_value: str | None) -> bytes:
    name = credential.signature_header or ""
    value = (header_value or "").strip()
    if not value:
        raise ApiError(401, f"The {name} header with the body's signature is missing.")
    prefix = credential.signature_prefix or ""
    if prefix and not value.lower().startswith(prefix.lower()):
        raise ApiError(401, f"The {name} header must start with {prefix!r}.")
    encoded = value[len(prefix) :].strip()
    try:
        if credential.signature_encoding == "hex":
            return bytes.fromhex(encoded)
        return base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        raise ApiError(
            401, f"The {name} header is not a {credential.signature_encoding} digest."
        ) from None


def check_signature(
    credential: ProviderCredential,
    raw: bytes,
    header_value: str | None,
    now: dt.datetime,
    secret_keys: tuple[str, ...],
) -> None:
    """401 unless ``header_value`` (the config's signature header) is the HMAC-SHA256 of
    exactly ``raw`` under an accepted secret."""
    presented = _presented_digest(credential, header_value)
    try:
        secrets = [decrypt_secret(token, secret_keys) for token in credential.signing_secrets(now)]
    except SecretKeyError as error:
        # The operator's problem, not the provider's: 503 makes the provider retry later.
        log.error("signature check impossible: %s", error)
        raise ApiError(
            503,
            "The service cannot check signatures right now; retry later.",
            headers={"Retry-After": "60"},
        ) from None
    matches = [
        hmac.compare_digest(hmac.new(secret, raw, hashlib.sha256).digest(), presented)
        for secret in secrets
    ]
    if not any(matches):
        raise ApiError(
            401, f"The signature in {credential.signature_header} does not match the body."
        )
