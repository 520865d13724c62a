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

from models import ApiToken, IngestionConfig
from models.base import utcnow
from models.enums import EventStatus
from tests.support.api import post_payload
from tests.support.clock import ManualClock
from tests.support.factories import Tenant, make_event, make_tenant
from tests.support.leads import make_lead

PUBLIC = {"/healthz", "/readyz", "/openapi.json", "/metrics"}
INGESTION = re.compile(r"^/api/lead-ingestion/")


@pytest.fixture
def world(committed_session: Session) -> dict[str, Any]:
    mine = make_tenant(committed_session)
    theirs = make_tenant(committed_session)
    lead = make_lead(committed_session, mine)
    event = make_event(committed_session, mine, status=EventStatus.failed)
    committed_session.commit()
    return {"mine": mine, "theirs": theirs, "lead_id": lead.id, "event_id": str(event.id)}


def _routes(app: Flask) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule in PUBLIC:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.rule))
    return routes


def _url(rule: str, world: dict[str, Any]) -> str:
    mine: Tenant = world["mine"]
    return (
        rule.replace("<config_id>", str(mine.config_id))
        .replace("<event_id>", world["event_id"])
        .replace("<int:lead_id>", str(world["lead_id"]))
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
    app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    theirs: Tenant = world["theirs"]
    for method, rule in _routes(app):
        answer = _call(client, method, _url(rule, world), f"Token {theirs.token}")
        if INGESTION.match(rule):
            assert answer.status_code == 403, f"{method} {rule} → {answer.status_code}"
        elif "<" in rule:
            assert answer.status_code == 404, f"{method} {rule} → {answer.status_code}"
        else:  # lists: answered, but with nothing of the other organization
            assert answer.status_code == 200
            assert answer.get_json()["count"] == 0, f"{method} {rule} leaked rows"


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
