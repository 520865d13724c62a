"""Fan-in quarantine over HTTP with a real worker: six claimants, the list, the release."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from models import IdentifierClaim
from tests.support.api import post_payload, wait_for_event
from tests.support.factories import Tenant, make_tenant

pytestmark = pytest.mark.usefixtures("celery_worker")

PHONE = "(202) 456-1111"
E164 = "+12024561111"


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _upsert(client: FlaskClient, tenant: Tenant, body: dict[str, Any]) -> TestResponse:
    answer = post_payload(client, tenant.config_id, "upsert", body, tenant.token, query="wait=20")
    assert answer.status_code in (200, 201), answer.get_json()
    return answer


def _warnings(client: FlaskClient, tenant: Tenant, answer: TestResponse) -> list[dict[str, Any]]:
    event = wait_for_event(client, tenant.token, answer.headers["Ingestion-Event-Id"])
    warnings: list[dict[str, Any]] = event["warnings"]
    return warnings


def _quarantine_reasons(warnings: list[dict[str, Any]]) -> list[str]:
    return [w["reason"] for w in warnings if "quarantined" in w.get("reason", "")]


def test_a_phone_claimed_by_six_external_ids_is_quarantined(
    client: FlaskClient, tenant: Tenant
) -> None:
    answers = [
        _upsert(client, tenant, {"external_id": f"c-{i}", "phone_number": PHONE}) for i in range(6)
    ]
    for answer in answers[:5]:
        assert not _quarantine_reasons(_warnings(client, tenant, answer))
    [sixth] = _quarantine_reasons(_warnings(client, tenant, answers[5]))
    assert "now quarantined: 6 distinct external ids claimed it within 30 days" in sixth
    assert "1111" not in sixth  # masked
    assert len({answer.get_json()["id"] for answer in answers}) == 6

    listed = client.get("/api/quarantined-identifiers/", headers=_auth(tenant)).get_json()
    [entry] = listed["results"]
    assert (entry["kind"], entry["value"], entry["claimants"]) == ("phone_number", E164, 6)

    # Without an external id the phone would have matched the newest of them; now it cannot.
    lone = _upsert(client, tenant, {"phone_number": PHONE, "lead_source": "walk-in"})
    assert lone.headers["Lead-Action"] == "created"
    assert lone.get_json()["phone_number"] == E164
    assert _quarantine_reasons(_warnings(client, tenant, lone))

    url = f"/api/quarantined-identifiers/{entry['id']}/"
    assert client.get(url, headers=_auth(tenant)).get_json()["value"] == E164
    assert client.delete(url, headers=_auth(tenant)).status_code == 204
    assert client.get(url, headers=_auth(tenant)).status_code == 404
    again = _upsert(client, tenant, {"phone_number": PHONE, "lead_source": "walk-in 2"})
    assert again.headers["Lead-Action"] == "updated"
    assert not _quarantine_reasons(_warnings(client, tenant, again))


def test_the_limit_and_window_are_per_config(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session, fan_in_limit=2, fan_in_window_days=7)
    committed_session.commit()
    for index in range(2):
        answer = _upsert(client, tenant, {"external_id": f"k-{index}", "email": "d@acme.io",
                                          "phone_number": f"(202) 456-12{index}0"})  # fmt: skip
        assert not _quarantine_reasons(_warnings(client, tenant, answer))
    third = _upsert(
        client, tenant, {"external_id": "k-2", "email": "d@acme.io", "phone_number": PHONE}
    )
    [reason] = _quarantine_reasons(_warnings(client, tenant, third))
    assert "3 distinct external ids claimed it within 7 days (more than 2)" in reason
    claims = committed_session.query(IdentifierClaim).filter_by(
        organization_id=tenant.organization_id, kind="email"
    )
    assert {claim.external_id for claim in claims} == {"k-0", "k-1", "k-2"}


def test_the_setting_goes_through_the_config_api(client: FlaskClient, tenant: Tenant) -> None:
    url = f"/api/ingestion-configs/{tenant.config_id}/"
    changed = client.patch(url, json={"fan_in_limit": 3}, headers=_auth(tenant))
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert (body["fan_in_limit"], body["fan_in_window_days"]) == (3, None)
    refused = client.patch(url, json={"fan_in_limit": 0}, headers=_auth(tenant))
    assert refused.status_code == 400 and "fan_in_limit" in refused.get_json()["errors"]


def test_quarantines_belong_to_their_organization(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    for index in range(6):
        _upsert(client, tenant, {"external_id": f"o-{index}", "email": "same@acme.io",
                                 "phone_number": f"(202) 456-13{index}0"})  # fmt: skip
    [entry] = client.get("/api/quarantined-identifiers/", headers=_auth(tenant)).get_json()[
        "results"
    ]
    other = make_tenant(committed_session)
    committed_session.commit()
    url = f"/api/quarantined-identifiers/{entry['id']}/"
    assert client.get(url, headers=_auth(other)).status_code == 404
    assert client.delete(url, headers=_auth(other)).status_code == 404
    assert client.get("/api/quarantined-identifiers/", headers=_auth(other)).get_json() == {
        "count": 0, "next": None, "previous": None, "results": []
    }  # fmt: skip
    assert client.get("/api/quarantined-identifiers/").status_code == 401


def test_the_configs_stats_show_the_organizations_quarantine(
    client: FlaskClient, tenant: Tenant
) -> None:
    for index in range(6):
        _upsert(client, tenant, {"external_id": f"s-{index}", "phone_number": PHONE})
    _upsert(client, tenant, {"phone_number": PHONE, "lead_source": "walk-in"})
    url = f"/api/ingestion-configs/{tenant.config_id}/stats/?window=1h"

    stats = client.get(url, headers=_auth(tenant)).get_json()

    quarantine = stats["quarantine"]
    # The sixth claimant's event and the lone one that could not match through the phone.
    assert (quarantine["identifiers"], quarantine["warned_events"]) == (1, 2)
    [entry] = quarantine["latest"]
    # The owner's API shows the value, as /api/quarantined-identifiers/ does; masked beside it.
    assert (entry["kind"], entry["value"], entry["claimants"]) == ("phone_number", E164, 6)
    assert E164 not in entry["masked"] and "•" in entry["masked"]
    listed = client.get("/api/quarantined-identifiers/", headers=_auth(tenant)).get_json()
    assert entry["id"] == listed["results"][0]["id"]
