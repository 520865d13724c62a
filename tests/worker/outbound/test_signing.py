"""Secrets and Standard Webhooks signatures, checked against the ``standardwebhooks`` library."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from worker.outbound.signing import (
    ROTATION_OVERLAP,
    generate_secret,
    signing_secrets,
    standard_headers,
)

BODY = '{"id":7,"phone_number":"+14155552671","metadata":{"name":"Zoë"}}'.encode()


def test_a_secret_is_whsec_and_32_random_bytes() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert generate_secret() != secret


def test_the_library_verifies_our_headers_byte_for_byte() -> None:
    secret = generate_secret()
    now = dt.datetime.now(dt.UTC)
    headers = standard_headers("msg_1", now, BODY, [secret])

    assert Webhook(secret).verify(BODY, headers)["metadata"]["name"] == "Zoë"
    # The signature is HMAC-SHA256 over "id.timestamp.body", base64, behind "v1,".
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = b"msg_1." + headers["webhook-timestamp"].encode() + b"." + BODY
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    assert headers["webhook-id"] == "msg_1"


def test_another_secret_or_another_body_does_not_verify() -> None:
    secret = generate_secret()
    headers = standard_headers("msg_1", dt.datetime.now(dt.UTC), BODY, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY + b" ", headers)


def test_during_a_rotation_both_secrets_verify_and_after_it_only_the_new_one() -> None:
    old, new = generate_secret(), generate_secret()
    now = dt.datetime.now(dt.UTC)
    expires = now + ROTATION_OVERLAP

    keys = signing_secrets(new, old, expires, now)
    headers = standard_headers("msg_2", now, BODY, keys)
    assert keys == [new, old]
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)

    after = signing_secrets(new, old, expires, expires + dt.timedelta(seconds=1))
    assert after == [new]
    later = standard_headers("msg_3", now, BODY, after)
    Webhook(new).verify(BODY, later)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(BODY, later)
