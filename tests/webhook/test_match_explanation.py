"""Match explanation over HTTP with a real worker: the keys tried, candidates, Lead-Match."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from models import QuarantinedIdentifier
from tests.support.api import post_payload, wait_for_event
from tests.support.factories import Tenant

pytestmark = pytest.mark.usefixtures("celery_worker")

PHONE = "(202) 456-1111"


def _upsert(client: FlaskClient, tenant: Tenant, body: dict[str, Any]) -> TestResponse:
    answer = post_payload(client, tenant.config_id, "upsert", body, tenant.token, query="wait=20")
    assert answer.status_code in (200, 201), answer.get_json()
    return answer


def _explanation(client: FlaskClient, tenant: Tenant, answer: TestResponse) -> list[Any]:
    event = wait_for_event(client, tenant.token, answer.headers["Ingestion-Event-Id"])
    explanation: list[Any] = event["match_explanation"]
    return explanation


def test_each_key_tried_with_its_candidates(client: FlaskClient, tenant: Tenant) -> None:
    first = _upsert(client, tenant, {"external_id": "a", "phone_number": PHONE})
    assert first.headers["Lead-Match"] == "none"
    lead_a = first.get_json()["id"]
    assert _explanation(client, tenant, first) == [
        {"key": "external_id", "candidates": []},
        {"key": "phone_number", "candidates": []},
        {"key": "email", "skipped": "no value", "candidates": []},
    ]
    other = _upsert(client, tenant, {"external_id": "b", "phone_number": PHONE})
    assert other.headers["Lead-Match"] == "none"
    lead_b = other.get_json()["id"]
    [by_id, by_phone, by_email] = _explanation(client, tenant, other)
    assert by_id == {"key": "external_id", "candidates": []}
    [passed] = by_phone["candidates"]
    assert (passed["lead_id"], passed["taken"]) == (lead_a, False)
    assert passed["reason"].startswith("authority:")
    assert by_email["skipped"] == "no value"

    again = _upsert(client, tenant, {"external_id": "a", "phone_number": PHONE, "lead_source": "x"})
    assert again.headers["Lead-Match"] == "external_id"
    assert _explanation(client, tenant, again)[0]["candidates"] == [
        {"lead_id": lead_a, "taken": True, "reason": "the lead with this external id"}
    ]
    by_phone_only = _upsert(client, tenant, {"phone_number": PHONE, "lead_source": "y"})
    assert by_phone_only.headers["Lead-Match"] == "phone_number"
    [skipped_id, phone] = _explanation(client, tenant, by_phone_only)
    assert skipped_id["skipped"] == "no value"
    # The most recently modified lead with the phone wins; the other is named as passed over.
    assert [(c["lead_id"], c["taken"]) for c in phone["candidates"]] == [
        (lead_a, True),
        (lead_b, False),
    ]


def test_blocked_and_quarantined_keys_say_so(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    committed_session.add(
        QuarantinedIdentifier(
            organization_id=tenant.organization_id,
            kind="phone_number",
            value="+12024561111",
            claimants=9,
        )
    )
    committed_session.commit()
    answer = _upsert(client, tenant, {"phone_number": PHONE, "email": "noemail@none.com"})
    assert answer.headers["Lead-Match"] == "none"
    skipped = {key["key"]: key.get("skipped") for key in _explanation(client, tenant, answer)}
    assert skipped == {
        "external_id": "no value",
        "phone_number": "quarantined",
        "email": "blocked identifier",
    }


def test_the_dry_run_explains_too(client: FlaskClient, tenant: Tenant) -> None:
    created = _upsert(client, tenant, {"external_id": "d", "phone_number": PHONE})
    answer = post_payload(
        client,
        tenant.config_id,
        "dry-run",
        {"phone_number": PHONE, "lead_source": "z"},
        tenant.token,
    )
    body = answer.get_json()
    assert body["would"] == "update" and body["matched_by"] == "phone_number"
    assert body["match_explanation"][1]["candidates"][0] == {
        "lead_id": created.get_json()["id"],
        "taken": True,
        "reason": "the most recent lead with this phone_number",
    }
