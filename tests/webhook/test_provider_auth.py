"""Provider authentication on ingestion: a payload key (Google Ads) and a body signature
(Typeform, Facebook): right, wrong and missing credentials, replays, rotation, and where the key
never goes."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import uuid
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from common.encryption import encrypt_secret
from common.tokens import hash_token
from models import IngestionConfig, IngestionEvent
from models.base import utcnow
from tests.support.factories import Tenant, make_tenant

pytestmark = pytest.mark.integration

KEY = "gk-7f3a9c1e5b2d4f60"
OLD_KEY = "gk-0000aaaa1111bbbb"
SECRET = "tf-signing-secret-123"
FERNET_KEY = Fernet.generate_key().decode()
LEAD = {"phone_number": "+14155550123", "email": "jane@example.com"}


@pytest.fixture
def app(services: Any) -> Flask:
    """The webhook app with a secret key to read signing secrets."""
    from webhook.app import create_app

    return create_app({"TESTING": True, "AUTH_CACHE_SECONDS": 0, "SECRET_KEYS": (FERNET_KEY,)})


def _url(config_id: uuid.UUID, query: str = "") -> str:
    return f"/api/lead-ingestion/{config_id}/upsert/" + (f"?{query}" if query else "")


def _post(
    client: FlaskClient,
    config_id: uuid.UUID,
    body: bytes,
    headers: dict[str, str] | None = None,
    query: str = "",
    content_type: str = "application/json",
) -> Any:
    return client.post(
        _url(config_id, query), data=body, content_type=content_type, headers=headers or {}
    )


def _stored(session: Session, event_id: str) -> IngestionEvent:
    session.expire_all()
    event = session.get(IngestionEvent, uuid.UUID(event_id))
    assert event is not None
    return event


# --- payload key -------------------------------------------------------------------------


@pytest.fixture
def keyed(committed_session: Session) -> Tenant:
    tenant = make_tenant(
        committed_session,
        auth="payload-key",
        payload_key_path="google_key",
        payload_key_hash=hash_token(KEY),
    )
    committed_session.commit()
    return tenant


def test_the_right_payload_key_is_accepted_and_never_stored(
    client: FlaskClient, keyed: Tenant, committed_session: Session
) -> None:
    body = json.dumps({**LEAD, "google_key": KEY, "lead_id": "L-1"}).encode()

    answer = _post(client, keyed.config_id, body)

    assert answer.status_code == 202, answer.get_data(as_text=True)
    event = _stored(committed_session, answer.get_json()["id"])
    assert KEY.encode() not in event.raw_body
    assert json.loads(event.raw_body) == {**LEAD, "lead_id": "L-1"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({**LEAD, "google_key": "gk-wrong-wrong-wrong"}, "wrong"),
        ({**LEAD, "google_key": 12345}, "wrong"),
        ({**LEAD}, "missing"),
        ({**LEAD, "google_key": ""}, "missing"),
    ],
    ids=["wrong", "not-text", "missing", "blank"],
)
def test_a_wrong_or_missing_payload_key_is_401(
    client: FlaskClient, keyed: Tenant, payload: dict[str, Any], reason: str
) -> None:
    answer = _post(client, keyed.config_id, json.dumps(payload).encode())

    assert answer.status_code == 401
    assert reason in answer.get_json()["detail"]
    assert "google_key" in answer.get_json()["detail"]


def test_a_payload_key_in_the_query_string_is_checked_and_dropped_from_the_stored_query(
    client: FlaskClient, keyed: Tenant, committed_session: Session
) -> None:
    answer = _post(
        client, keyed.config_id, b"phone_number=4155550123", query=f"google_key={KEY}&src=lp",
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip

    assert answer.status_code == 202, answer.get_data(as_text=True)
    event = _stored(committed_session, answer.get_json()["id"])
    assert event.query_string == "src=lp"
    assert event.raw_body == b"phone_number=4155550123"


def test_an_anonymous_caller_with_the_key_reads_nothing_stored(
    client: FlaskClient, keyed: Tenant, celery_worker: Any
) -> None:
    body = {**LEAD, "google_key": KEY, "lead_id": f"L-{uuid.uuid4().hex[:6]}"}
    first = _post(client, keyed.config_id, json.dumps(body).encode(), query="wait=20")
    assert first.status_code == 201, first.get_data(as_text=True)
    resend = {"phone_number": LEAD["phone_number"], "google_key": KEY}
    again = _post(client, keyed.config_id, json.dumps(resend).encode(), query="wait=20")

    assert again.status_code == 200, again.get_data(as_text=True)
    answer = again.get_json()
    assert set(answer) == {"id", "status", "action", "errors"}
    assert "jane@example.com" not in again.get_data(as_text=True)
    assert "google_key" not in first.get_data(as_text=True) + again.get_data(as_text=True)


def test_the_organizations_token_needs_no_payload_key_and_another_is_403(
    client: FlaskClient, keyed: Tenant, committed_session: Session
) -> None:
    other = make_tenant(committed_session)
    committed_session.commit()
    body = json.dumps(LEAD).encode()

    own = _post(client, keyed.config_id, body, {"Authorization": f"Token {keyed.token}"})
    foreign = _post(client, keyed.config_id, body, {"Authorization": f"Token {other.token}"})

    assert own.status_code == 202
    assert foreign.status_code == 403


def _rotate(session: Session, config_id: uuid.UUID, **columns: Any) -> None:
    config = session.get(IngestionConfig, config_id)
    assert config is not None
    for name, value in columns.items():
        setattr(config, name, value)
    session.commit()


@pytest.mark.parametrize(
    ("hours_left", "status"), [(1, 202), (-1, 401)], ids=["in-grace", "expired"]
)
def test_a_rotated_out_payload_key_works_until_its_grace_period_ends(
    client: FlaskClient, keyed: Tenant, committed_session: Session, hours_left: int, status: int
) -> None:
    _rotate(
        committed_session, keyed.config_id, previous_payload_key_hash=hash_token(OLD_KEY),
        previous_secret_expires_time=utcnow() + dt.timedelta(hours=hours_left),
    )  # fmt: skip

    old = _post(client, keyed.config_id, json.dumps({**LEAD, "google_key": OLD_KEY}).encode())
    new = _post(client, keyed.config_id, json.dumps({**LEAD, "google_key": KEY}).encode())

    assert old.status_code == status
    assert new.status_code == 202


# --- signature ---------------------------------------------------------------------------


def _typeform_signature(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def _facebook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def signed(committed_session: Session) -> Tenant:
    tenant = make_tenant(
        committed_session,
        auth="signature",
        signature_header="Typeform-Signature",
        signature_encoding="base64",
        signature_prefix="sha256=",
        signing_secret=encrypt_secret(SECRET, (FERNET_KEY,)),
    )
    committed_session.commit()
    return tenant


def test_a_body_signed_with_the_secret_is_accepted_as_received(
    client: FlaskClient, signed: Tenant, committed_session: Session
) -> None:
    # Odd spacing and key order: the signature covers these exact bytes, not a re-serialization.
    body = b'{ "event_id":"e-1",  "phone_number" : "+14155550123"}'

    answer = _post(
        client, signed.config_id, body, {"Typeform-Signature": _typeform_signature(SECRET, body)}
    )

    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert _stored(committed_session, answer.get_json()["id"]).raw_body == body


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("sha256=" + base64.b64encode(b"x" * 32).decode(), "does not match"),
        (_typeform_signature("another-secret", b"{}"), "does not match"),
        ("sha256=not base64!", "not a base64 digest"),
        ("md5=" + base64.b64encode(b"x" * 32).decode(), "must start with"),
    ],
    ids=["absent", "blank", "wrong-digest", "wrong-secret", "garbled", "wrong-prefix"],
)
def test_a_wrong_or_missing_signature_is_401(
    client: FlaskClient, signed: Tenant, header: str | None, reason: str
) -> None:
    headers = {} if header is None else {"Typeform-Signature": header}

    answer = _post(client, signed.config_id, json.dumps(LEAD).encode(), headers)

    assert answer.status_code == 401
    assert reason in answer.get_json()["detail"]


def test_a_captured_signed_request_replayed_with_a_changed_body_is_refused(
    client: FlaskClient, signed: Tenant
) -> None:
    body = json.dumps({"event_id": "e-2", **LEAD}).encode()
    captured = {"Typeform-Signature": _typeform_signature(SECRET, body)}
    assert _post(client, signed.config_id, body, captured).status_code == 202

    tampered = body.replace(b"jane@example.com", b"mallory@example.com")
    reordered = json.dumps(json.loads(body), indent=1).encode()  # same object, other bytes

    assert _post(client, signed.config_id, tampered, captured).status_code == 401
    assert _post(client, signed.config_id, reordered, captured).status_code == 401


def test_a_hex_signature_without_a_prefix_and_a_case_insensitive_header(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(
        committed_session, auth="signature", signature_header="X-Hub-Signature-256",
        signature_encoding="hex", signature_prefix="sha256=",
        signing_secret=encrypt_secret(SECRET, (FERNET_KEY,)),
    )  # fmt: skip
    committed_session.commit()
    body = json.dumps(LEAD).encode()

    answer = _post(
        client, tenant.config_id, body, {"x-hub-signature-256": _facebook_signature(SECRET, body)}
    )

    assert answer.status_code == 202, answer.get_data(as_text=True)


def test_a_rotated_out_signing_secret_works_during_the_grace_period(
    client: FlaskClient, signed: Tenant, committed_session: Session
) -> None:
    _rotate(
        committed_session, signed.config_id,
        previous_signing_secret=encrypt_secret("old-secret", (FERNET_KEY,)),
        previous_secret_expires_time=utcnow() + dt.timedelta(hours=1),
    )  # fmt: skip
    body = json.dumps(LEAD).encode()

    answer = _post(
        client,
        signed.config_id,
        body,
        {"Typeform-Signature": _typeform_signature("old-secret", body)},
    )

    assert answer.status_code == 202


def test_without_the_secret_key_the_service_asks_the_provider_to_retry(
    services: Any, signed: Tenant
) -> None:
    from webhook.app import create_app

    other_key = Fernet.generate_key().decode()
    client = create_app(
        {"TESTING": True, "AUTH_CACHE_SECONDS": 0, "SECRET_KEYS": (other_key,)}
    ).test_client()
    body = json.dumps(LEAD).encode()

    answer = _post(
        client, signed.config_id, body, {"Typeform-Signature": _typeform_signature(SECRET, body)}
    )

    assert answer.status_code == 503
    assert answer.headers["Retry-After"]
    assert SECRET not in answer.get_data(as_text=True)


def test_the_payload_key_and_the_secret_are_not_stored_in_clear(
    keyed: Tenant, signed: Tenant, committed_session: Session
) -> None:
    for config_id in (keyed.config_id, signed.config_id):
        config = committed_session.get(IngestionConfig, config_id)
        assert config is not None
        columns = json.dumps(
            {c.key: str(getattr(config, c.key)) for c in IngestionConfig.__mapper__.column_attrs}
        )
        assert KEY not in columns and SECRET not in columns


def test_no_credential_reaches_the_logs(
    client: FlaskClient, keyed: Tenant, signed: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = json.dumps(LEAD).encode()
    _post(client, keyed.config_id, json.dumps({**LEAD, "google_key": KEY}).encode())
    _post(client, keyed.config_id, json.dumps({**LEAD, "google_key": KEY + "x"}).encode())
    _post(client, signed.config_id, body, {"Typeform-Signature": _typeform_signature(SECRET, body)})
    _post(client, signed.config_id, body, {"Typeform-Signature": "sha256=AAAA"})

    logged = caplog.text + " ".join(repr(record.__dict__) for record in caplog.records)
    assert KEY not in logged
    assert SECRET not in logged
    assert _typeform_signature(SECRET, body) not in logged


def test_a_keyed_body_with_unusual_text_is_stored_without_the_key_and_read_back_the_same(
    client: FlaskClient, keyed: Tenant, committed_session: Session
) -> None:
    body = b'{"google_key": "%s", "name": "Jos\\u00e9 \\ud800", "n": 1}' % KEY.encode()

    answer = _post(client, keyed.config_id, body)

    assert answer.status_code == 202, answer.get_data(as_text=True)
    stored = _stored(committed_session, answer.get_json()["id"]).raw_body
    assert json.loads(stored) == {"name": "José \ud800", "n": 1}
