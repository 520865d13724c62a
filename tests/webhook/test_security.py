"""Hostile callers: the authorization matrix over every route, limits, caches, headers."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import (
    ApiToken,
    BlockedIdentifier,
    IngestionConfig,
    IngestionEvent,
    QuarantinedIdentifier,
)
from models.base import utcnow
from models.enums import EventStatus
from models.webhook import DeliveryStatus
from tests.support.api import post_payload
from tests.support.clock import ManualClock
from tests.support.factories import (
    Tenant,
    make_delivery,
    make_event,
    make_lead_type,
    make_replay_job,
    make_tenant,
    make_webhook,
)
from tests.support.leads import make_lead
from worker.uploads.service import create_upload

PUBLIC = {"/healthz", "/readyz", "/openapi.json", "/metrics"}
# The standard API's writes without an id act in the caller's own organization: another
# organization's token writes there (or is refused), never reaching this one's leads.
OWN_ORGANIZATION_WRITES = {
    ("POST", "/api/leads/"),
    ("PUT", "/api/leads/update/"),
    ("POST", "/api/leads/bulk-create/"),
}
INGESTION = re.compile(r"^/api/lead-ingestion/")
# The upload's file goes to a signed URL, like Sela's: no token is asked for, the signature is
# the credential (tests/webhook/test_uploads.py: wrong, expired or reused is 403, nothing kept).
SIGNED = {("PUT", "/api/ingestion/uploads/<upload_id>/file/")}
# Creates something of the caller's own organization; this test's body is none of them.
OWN_ORGANIZATION_CREATES = frozenset(
    {
        "/api/webhooks/",
        "/api/ingestion-configs/",
        "/api/ingestion/upload/",
        "/api/replays/",
        "/api/blocked-identifiers/",
    }
)
# The service's own catalogue, the same for every organization: no rows to leak.
CATALOGUES = frozenset({"/api/mapping-templates/"})


@pytest.fixture
def world(committed_session: Session) -> dict[str, Any]:
    mine = make_tenant(committed_session)
    theirs = make_tenant(committed_session)
    lead = make_lead(committed_session, mine)
    event = make_event(committed_session, mine, status=EventStatus.failed)
    lead_type = make_lead_type(committed_session, mine)
    hook = make_webhook(committed_session, mine.organization_id, "http://127.0.0.1:9/hook")
    delivery = make_delivery(committed_session, hook, lead.id, status=DeliveryStatus.failed)
    blocked = BlockedIdentifier(organization_id=mine.organization_id, kind="email", value="a@b.io")
    quarantined = QuarantinedIdentifier(
        organization_id=mine.organization_id, kind="email", value="c@d.io", claimants=6
    )
    committed_session.add_all([blocked, quarantined])
    upload = create_upload(committed_session, mine.organization_id, str(mine.config_id), "a.csv")
    job = make_replay_job(committed_session, mine)
    committed_session.commit()
    return {
        "mine": mine,
        "theirs": theirs,
        "lead_id": lead.id,
        "event_id": str(event.id),
        "lead_type_id": lead_type.id,
        "webhook_id": hook.id,
        "delivery_id": delivery.id,
        "blocked_id": blocked.id,
        "quarantined_id": quarantined.id,
        "upload_id": str(upload.id),
        "job_id": str(job.id),
    }


def _routes(app: Flask) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule in PUBLIC:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (method, rule.rule) not in SIGNED:
                routes.append((method, rule.rule))
    return routes


def _url(rule: str, world: dict[str, Any]) -> str:
    mine: Tenant = world["mine"]
    return (
        rule.replace("<config_id>", str(mine.config_id))
        .replace("<event_id>", world["event_id"])
        .replace("<int:lead_id>", str(world["lead_id"]))
        .replace("<int:lead_type_id>", str(world["lead_type_id"]))
        .replace("<int:webhook_id>", str(world["webhook_id"]))
        .replace("<int:delivery_id>", str(world["delivery_id"]))
        .replace("<int:version>", "1")
        .replace("<int:blocked_id>", str(world["blocked_id"]))
        .replace("<int:quarantined_id>", str(world["quarantined_id"]))
        .replace("<upload_id>", world["upload_id"])
        .replace("<job_id>", world["job_id"])
    )


def _call(client: FlaskClient, method: str, url: str, authorization: str | None):
    headers = {} if authorization is None else {"Authorization": authorization}
    return client.open(
        url,
        method=method,
        headers=headers,
        data=json.dumps({"phone_number": "2024561111"}),
        content_type="application/json",
    )


def test_every_protected_route_is_in_the_matrix(app: Flask) -> None:
    routes = _routes(app)
    assert len(routes) >= 8
    unknown = [rule for _, rule in routes if not rule.startswith("/api/")]
    assert unknown == [], f"routes outside /api/ need a place in the matrix: {unknown}"


@pytest.mark.parametrize(
    ("case", "authorization", "expected"),
    [
        ("no token", None, {401}),
        ("bearer scheme", "Bearer whatever", {401}),
        ("empty token", "Token ", {401}),
        ("unknown token", "Token lg_unknown", {401}),
    ],
)
def test_routes_refuse_missing_or_bad_tokens(
    app: Flask,
    client: FlaskClient,
    world: dict[str, Any],
    case: str,
    authorization: str | None,
    expected: set[int],
) -> None:
    for method, rule in _routes(app):
        answer = _call(client, method, _url(rule, world), authorization)
        assert answer.status_code in expected, f"{case}: {method} {rule} → {answer.status_code}"
        assert "Traceback" not in answer.get_data(as_text=True)


def test_routes_refuse_a_revoked_token(
    app: Flask, client: FlaskClient, world: dict[str, Any], committed_session: Session
) -> None:
    mine: Tenant = world["mine"]
    token = (
        committed_session.query(ApiToken).filter_by(organization_id=mine.organization_id).first()
    )
    assert token is not None
    token.revoked_time = utcnow()
    committed_session.commit()
    for method, rule in _routes(app):
        answer = _call(client, method, _url(rule, world), f"Token {mine.token}")
        assert answer.status_code == 401, f"{method} {rule} → {answer.status_code}"


def test_routes_refuse_another_organization(
    app: Flask, client: FlaskClient, world: dict[str, Any], committed_session: Session
) -> None:
    theirs: Tenant = world["theirs"]
    for method, rule in _routes(app):
        if (method, rule) in OWN_ORGANIZATION_WRITES:
            # Stored in their own organization: answered at once, no worker needed.
            answer = client.open(
                _url(rule, world),
                method=method,
                headers={"Authorization": f"Token {theirs.token}", "Prefer": "respond-async"},
                json={"phone_number": "2024561111", "leads": [{"phone_number": "2024561111"}]},
            )
            assert answer.status_code == 202, f"{method} {rule} → {answer.status_code}"
            body = answer.get_json()
            ids = [body.get("id")] if "id" in body else [r["event"] for r in body["results"]]
            for event_id in ids:
                event = committed_session.get(IngestionEvent, uuid.UUID(event_id))
                assert event is not None and event.organization_id == theirs.organization_id
            continue
        answer = _call(client, method, _url(rule, world), f"Token {theirs.token}")
        if INGESTION.match(rule):
            assert answer.status_code == 403, f"{method} {rule} → {answer.status_code}"
        elif "<" in rule:
            assert answer.status_code == 404, f"{method} {rule} → {answer.status_code}"
        elif rule in CATALOGUES:
            assert answer.status_code == 200, f"{method} {rule} → {answer.status_code}"
        elif method == "POST" and rule in OWN_ORGANIZATION_CREATES:
            # Creates something of the caller's own organization; this body is none of them
            # (a config's names no campaign of theirs).
            assert answer.status_code == 400, f"{method} {rule} → {answer.status_code}"
        else:  # lists: answered, but with nothing of the other organization
            assert answer.status_code == 200, f"{method} {rule} → {answer.status_code}"
            page = answer.get_json()
            if rule == "/api/ingestion-configs/":  # theirs has a config of its own
                owners = {config["organization"] for config in page["results"]}
                assert owners == {theirs.organization_id}, f"{method} {rule} leaked rows"
            else:
                assert page["count"] == 0, f"{method} {rule} leaked rows"


def test_open_config_opens_ingestion_only(client: FlaskClient, committed_session: Session) -> None:
    tenant = make_tenant(committed_session, auth="open")
    committed_session.commit()
    posted = post_payload(client, tenant.config_id, "upsert", {"phone_number": "2024561111"}, None)
    assert posted.status_code == 202
    event_url = posted.get_json()["status_url"]
    assert client.get(event_url).status_code == 401
    assert client.get("/api/leads/").status_code == 401


def test_revocation_takes_effect_within_the_cache_ttl(
    services: object, committed_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webhook.auth
    from webhook.app import create_app

    client = create_app({"TESTING": True, "AUTH_CACHE_SECONDS": 5}).test_client()
    clock = ManualClock()
    monkeypatch.setattr(webhook.auth._tokens, "clock", clock)
    tenant = make_tenant(committed_session)
    committed_session.commit()
    headers = {"Authorization": f"Token {tenant.token}"}
    assert client.get("/api/leads/", headers=headers).status_code == 200
    token = (
        committed_session.query(ApiToken).filter_by(organization_id=tenant.organization_id).one()
    )
    token.revoked_time = utcnow()
    committed_session.commit()
    # Within the TTL this process still trusts its cached token; past it, never.
    clock.advance(4.5)
    assert client.get("/api/leads/", headers=headers).status_code == 200
    clock.advance(0.5)
    assert client.get("/api/leads/", headers=headers).status_code == 401


def test_per_config_body_limit(client: FlaskClient, committed_session: Session) -> None:
    tenant = make_tenant(committed_session, max_body_bytes=64)
    committed_session.commit()
    small = post_payload(
        client, tenant.config_id, "upsert", {"phone_number": "2024561111"}, tenant.token
    )
    big = post_payload(
        client,
        tenant.config_id,
        "upsert",
        {"phone_number": "2024561111", "n": "x" * 80},
        tenant.token,
    )
    assert small.status_code == 202
    assert big.status_code == 413
    assert "64 bytes" in big.get_json()["detail"]


def test_rate_limit_answers_429_with_retry_after(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session, rate_limit_per_second=0.5, rate_limit_burst=2)
    committed_session.commit()
    codes = [
        post_payload(
            client, tenant.config_id, "upsert", {"phone_number": "2024561111", "i": i}, tenant.token
        ).status_code
        for i in range(4)
    ]
    assert codes[:2] == [202, 202]
    assert codes[2:] == [429, 429]
    limited = post_payload(client, tenant.config_id, "upsert", {}, tenant.token)
    assert int(limited.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"a":' * 40 + "1" + "}" * 40, "nested deeper"),
        (json.dumps({f"k{i}": i for i in range(25_000)}), "more than"),
        (json.dumps({"items": list(range(25_000))}), "more than"),
    ],
    ids=["deep", "many-keys", "long-array"],
)
def test_json_shape_limits(
    client: FlaskClient, committed_session: Session, body: str, reason: str
) -> None:
    tenant = make_tenant(committed_session, max_body_bytes=1_000_000)
    committed_session.commit()
    answer = post_payload(client, tenant.config_id, "upsert", body, tenant.token)
    assert answer.status_code == 400
    assert reason in answer.get_json()["detail"]


def test_security_headers_on_every_answer(client: FlaskClient, world: dict[str, Any]) -> None:
    for url in ("/healthz", "/api/leads/", f"/api/lead-ingestion/{uuid.uuid4()}/"):
        answer = client.get(url)
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]


def test_config_columns_exist_for_limits(committed_session: Session, world: dict[str, Any]) -> None:
    config = committed_session.get(IngestionConfig, world["mine"].config_id)
    assert config is not None
    assert config.rate_limit_per_second is None and config.max_body_bytes is None


# Open configs: one authorization rule for every config, and no stored data for anonymous callers.


def _revoke(session: Session, tenant: Tenant) -> None:
    token = session.query(ApiToken).filter_by(organization_id=tenant.organization_id).one()
    token.revoked_time = utcnow()
    session.commit()


@pytest.mark.parametrize("auth", ["token", "open"])
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("own token", 202),
        ("malformed header", 401),
        ("empty header", 401),
        ("unknown token", 401),
        ("revoked token", 401),
        ("another organization's token", 403),
    ],
)
def test_a_present_authorization_header_is_judged_alike_on_every_config(
    client: FlaskClient, committed_session: Session, auth: str, case: str, expected: int
) -> None:
    tenant = make_tenant(committed_session, auth=auth)
    other = make_tenant(committed_session)
    committed_session.commit()
    header = {
        "own token": f"Token {tenant.token}",
        "malformed header": "Bearer " + tenant.token,
        "empty header": "",
        "unknown token": "Token lg_unknown",
        "revoked token": f"Token {tenant.token}",
        "another organization's token": f"Token {other.token}",
    }[case]
    if case == "revoked token":
        _revoke(committed_session, tenant)
    answer = post_payload(
        client,
        tenant.config_id,
        "upsert",
        {"phone_number": "2024561111"},
        None,
        headers={"Authorization": header},
    )
    assert answer.status_code == expected, f"{auth} config, {case}: {answer.get_json()}"


@pytest.mark.parametrize(("auth", "expected"), [("token", 401), ("open", 202)])
def test_no_authorization_header_is_anonymous_which_only_an_open_config_takes(
    client: FlaskClient, committed_session: Session, auth: str, expected: int
) -> None:
    tenant = make_tenant(committed_session, auth=auth)
    committed_session.commit()
    answer = post_payload(client, tenant.config_id, "upsert", {"phone_number": "2024561111"}, None)
    assert answer.status_code == expected


@pytest.mark.parametrize(("token_of", "expected"), [(None, 401), ("theirs", 403), ("mine", 200)])
def test_the_dry_run_of_an_open_config_is_for_its_owners(
    client: FlaskClient, committed_session: Session, token_of: str | None, expected: int
) -> None:
    mine = make_tenant(committed_session, auth="open")
    theirs = make_tenant(committed_session)
    make_lead(committed_session, mine, phone_number="+12024561111", external_id="CRM-1")
    committed_session.commit()
    token = {None: None, "theirs": theirs.token, "mine": mine.token}[token_of]
    answer = post_payload(client, mine.config_id, "dry-run", {"phone_number": "2024561111"}, token)
    assert answer.status_code == expected
    if expected != 200:
        assert "CRM-1" not in answer.get_data(as_text=True)


def test_an_anonymous_callers_event_url_needs_a_token_of_the_organization(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session, auth="open")
    other = make_tenant(committed_session)
    committed_session.commit()
    posted = post_payload(client, tenant.config_id, "upsert", {"phone_number": "2024561111"}, None)
    assert posted.status_code == 202
    url = posted.get_json()["status_url"]
    assert posted.headers["Location"] == url == f"/api/ingestion-events/{posted.get_json()['id']}/"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": f"Token {other.token}"}).status_code == 404
    assert client.get(url, headers={"Authorization": f"Token {tenant.token}"}).status_code == 200


_STORED = {
    "phone_number": "+12024561111",
    "email": "stored.person@example.com",
    "external_id": "CRM-STORED-1",
    "lead_source": "StoredSource",
    "lead_metadata": {"ssn_last4": "4321", "note": "stored note"},
}


def _stored_fragments(lead_id: int) -> list[str]:
    return [
        "stored.person@example.com",
        "CRM-STORED-1",
        "StoredSource",
        "4321",
        "stored note",
        f'"id":{lead_id}',
        f'"id": {lead_id}',
        "lead_id",
        "warnings",
        "matched_by",
    ]


def _assert_nothing_stored_in(answer: Any, fragments: list[str], lead_ids: list[int]) -> None:
    text = answer.get_data(as_text=True)
    for fragment in fragments:
        assert fragment not in text, f"{fragment!r} leaked in {text}"
    assert set(answer.get_json()) <= {"id", "status", "action", "errors", "detail"}
    for name, value in answer.headers.items():
        assert "/api/leads/" not in value, f"{name}: {value}"
        # A lead id on its own, not digits inside the event's UUID.
        for lead_id in lead_ids:
            assert not re.search(rf"(?<![\w-]){lead_id}(?![\w-])", value), f"{name}: {value}"
    assert "Content-Location" not in answer.headers


@pytest.mark.integration
def test_an_anonymous_caller_of_an_open_config_gets_no_stored_lead_back(
    client: FlaskClient, committed_session: Session, celery_worker: object
) -> None:
    tenant = make_tenant(committed_session, auth="open")
    lead = make_lead(committed_session, tenant, **_STORED)
    committed_session.commit()
    answer = post_payload(
        client,
        tenant.config_id,
        "upsert",
        {"phone_number": "(202) 456-1111"},
        None,
        query="wait=20",
    )
    assert answer.status_code == 200, answer.get_json()
    action = answer.headers["Lead-Action"]  # the action is the caller's to know
    assert action in {"updated", "unchanged"}
    assert answer.get_json() == {
        "id": answer.headers["Ingestion-Event-Id"],
        "status": "done",
        "action": action,
        "errors": {},
    }
    _assert_nothing_stored_in(answer, _stored_fragments(lead.id), [lead.id])
    # The organization's own token on the same open config still gets the lead.
    owned = post_payload(
        client,
        tenant.config_id,
        "upsert",
        {"phone_number": "(202) 456-1111"},
        tenant.token,
        query="wait=20",
    )
    assert owned.status_code == 200
    assert owned.get_json()["email"] == "stored.person@example.com"


@pytest.mark.integration
def test_an_anonymous_caller_sees_no_warning_naming_another_lead(
    client: FlaskClient, committed_session: Session, celery_worker: object
) -> None:
    tenant = make_tenant(committed_session, auth="open")
    lead = make_lead(committed_session, tenant, **_STORED)
    committed_session.commit()
    # The stored lead on this phone has another external id: it is passed over, with a warning
    # naming it, and a new lead is created.
    answer = post_payload(
        client,
        tenant.config_id,
        "upsert",
        {"phone_number": "(202) 456-1111", "external_id": "CRM-NEW-2"},
        None,
        headers={"Prefer": "wait=20"},
    )
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["action"] == "created"
    event = committed_session.get(IngestionEvent, uuid.UUID(answer.headers["Ingestion-Event-Id"]))
    assert event is not None and event.warnings and event.lead_id is not None
    _assert_nothing_stored_in(answer, _stored_fragments(lead.id), [lead.id, event.lead_id])


def test_an_anonymous_callers_errors_name_no_lead(app: Flask, db_session: Session) -> None:
    from webhook.outcome import outcome_response

    event = IngestionEvent(
        id=uuid.uuid4(),
        status=EventStatus.failed,
        errors=[
            {"field": "external_id", "message": "'C•••1' (masked) already belongs to lead 4711"},
            {"field": "email", "message": "not an email address"},
        ],
    )
    with app.test_request_context():
        answer = outcome_response(db_session, event, anonymous=True)
    assert answer.status_code == 422
    assert answer.get_json()["errors"] == {
        "external_id": ["'C•••1' (masked) already belongs to another lead"],
        "email": ["not an email address"],
    }
    assert answer.headers["Ingestion-Event-Id"] == str(event.id)
