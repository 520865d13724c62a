"""Webhook secrets and Standard Webhooks signatures (the ``standardwebhooks`` package signs)."""

from __future__ import annotations

import base64
import datetime as dt
import math
import secrets

from standardwebhooks.webhooks import Webhook as Signer

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's public marker, not a secret
# Svix and Standard Webhooks use 24 to 64 random bytes; 32 is an HMAC-SHA256 block's worth.
SECRET_BYTES = 32
# After a rotation the old secret keeps signing beside the new one this long, so a receiver
# can switch its key at any moment of the day.
ROTATION_OVERLAP = dt.timedelta(hours=24)


def generate_secret() -> str:
    """A new signing secret: ``whsec_`` and base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signing_secrets(
    secret: str,
    previous_secret: str | None,
    previous_expires: dt.datetime | None,
    now: dt.datetime,
) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its overlap."""
    keys = [secret]
    if previous_secret and previous_expires is not None and now < previous_expires:
        keys.append(previous_secret)
    return keys


def signature_header(message_id: str, timestamp: dt.datetime, body: bytes, keys: list[str]) -> str:
    """The ``webhook-signature`` value: one ``v1,<base64>`` per key, separated by spaces."""
    text = body.decode("utf-8")
    return " ".join(Signer(key).sign(message_id, timestamp, text) for key in keys)


def standard_headers(
    message_id: str, timestamp: dt.datetime, body: bytes, keys: list[str]
) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    whole_seconds = dt.datetime.fromtimestamp(math.floor(timestamp.timestamp()), dt.UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(whole_seconds.timestamp())),
        "webhook-signature": signature_header(message_id, whole_seconds, body, keys),
    }
