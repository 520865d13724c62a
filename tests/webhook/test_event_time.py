"""Source-time ordering over HTTP with a real worker: a late event never undoes a newer one."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tests.support.api import get_lead, post_payload, wait_for_event
from tests.support.factories import Tenant, make_tenant

pytestmark = pytest.mark.usefixtures("celery_worker")

MAPPING = {
    "event_time": "sent_at",
    "fields": {
        "external_id": "id",
        "phone_number": "phone",
        "email": "email",
        "lead_source": "source",
    },
}


@pytest.fixture
def timed(committed_session: Session) -> Tenant:
    tenant = make_tenant(committed_session, MAPPING)
    committed_session.commit()
    return tenant


def _upsert(client: FlaskClient, tenant: Tenant, body: dict[str, Any]) -> TestResponse:
    answer = post_payload(client, tenant.config_id, "upsert", body, tenant.token, query="wait=20")
    assert answer.status_code in (200, 201), answer.get_json()
    return answer


def test_a_late_event_writes_only_fields_no_newer_event_wrote(
    client: FlaskClient, timed: Tenant
) -> None:
    base = {"id": "t-1", "phone": "(202) 456-1111"}
    first = _upsert(
        client,
        timed,
        {**base, "sent_at": "2026-03-01T10:00:00Z", "email": "a@acme.io", "source": "web"},
    )
    lead_id = first.get_json()["id"]
    newer = _upsert(
        client, timed, {**base, "sent_at": "2026-03-01T12:00:00Z", "email": "b@acme.io"}
    )
    assert newer.headers["Lead-Action"] == "updated"
    # Sent at 11:00, received last: older than the 12:00 update, newer than the 10:00 create.
    late = _upsert(
        client,
        timed,
        {**base, "sent_at": 1772362800, "email": "c@acme.io", "source": "phone", "note": "x"},
    )
    assert late.headers["Lead-Action"] == "stale"
    lead = get_lead(client, timed.token, lead_id)
    assert lead["email"] == "b@acme.io"  # the newer event wrote it: kept
    assert lead["lead_source"] == "phone"  # only the older create wrote it: the late event sets it
    assert lead["metadata"]["note"] == "x"  # nobody wrote it: set


def test_an_unreadable_event_time_falls_back_to_receive_order(
    client: FlaskClient, timed: Tenant
) -> None:
    answer = _upsert(
        client, timed, {"id": "t-2", "phone": "(202) 456-1111", "sent_at": "last tuesday"}
    )
    event = wait_for_event(client, timed.token, answer.headers["Ingestion-Event-Id"])
    [warning] = [w for w in event["warnings"] if w.get("field") == "event_time"]
    assert "neither ISO 8601 nor epoch seconds" in warning["reason"]
    assert "ordered by receipt instead" in warning["reason"]
    missing = _upsert(client, timed, {"id": "t-2", "phone": "(202) 456-1111", "source": "s"})
    assert missing.headers["Lead-Action"] == "updated"
    event = wait_for_event(client, timed.token, missing.headers["Ingestion-Event-Id"])
    assert any("no value at sent_at" in w.get("reason", "") for w in event["warnings"])


def test_a_mapping_with_a_bad_event_time_is_refused(client: FlaskClient, timed: Tenant) -> None:
    answer = client.patch(
        f"/api/ingestion-configs/{timed.config_id}/",
        json={"mapping": {**MAPPING, "event_time": "[[["}},
        headers={"Authorization": f"Token {timed.token}"},
    )
    assert answer.status_code == 400
    assert "event_time" in str(answer.get_json())
