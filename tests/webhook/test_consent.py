"""Consent records over HTTP with a real worker: mapped consent.* evidence, append-only."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from tests.support.api import post_payload
from tests.support.factories import Tenant, make_tenant

pytestmark = pytest.mark.usefixtures("celery_worker")

MAPPING = {
    "fields": {
        "external_id": "id",
        "phone_number": "phone",
        "consent.trustedform_cert_url": "tf",
        "consent.jornaya_leadid": "jornaya",
        "consent.text": "tcpa.text",
        "consent.ip": "tcpa.ip",
        "consent.time": "tcpa.at",
        "consent.source": {"value": "landing page"},
    }
}


@pytest.fixture
def consenting(committed_session: Session) -> Tenant:
    tenant = make_tenant(committed_session, MAPPING)
    committed_session.commit()
    return tenant


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _upsert(client: FlaskClient, tenant: Tenant, body: dict[str, Any]) -> TestResponse:
    return post_payload(client, tenant.config_id, "upsert", body, tenant.token, query="wait=20")


def test_consent_evidence_is_appended_per_event(
    client: FlaskClient, consenting: Tenant, committed_session: Session
) -> None:
    first = _upsert(
        client,
        consenting,
        {
            "id": "k-1",
            "phone": "(202) 456-1111",
            "tf": "https://cert.trustedform.com/abc",
            "jornaya": "LEADID-1",
            "tcpa": {
                "text": "I agree to be called.",
                "ip": "203.0.113.7",
                "at": "2026-03-01T10:00:00Z",
            },
        },
    )
    assert first.status_code == 201, first.get_json()
    lead_id = first.get_json()["id"]
    assert "consent" not in first.get_json()["metadata"]
    second = _upsert(client, consenting, {"id": "k-1", "phone": "(202) 456-1111"})
    assert second.status_code == 200
    third = _upsert(client, consenting, {"id": "k-1", "jornaya": "LEADID-2"})
    assert third.status_code == 200, third.get_json()
    url = f"/api/leads/{lead_id}/consent/"
    records = client.get(url, headers=_auth(consenting)).get_json()
    assert records["count"] == 3  # the constant source makes every event give evidence
    one, two, three = records["results"]
    assert one["trustedform_cert_url"] == "https://cert.trustedform.com/abc"
    assert (one["text"], one["ip"]) == ("I agree to be called.", "203.0.113.7")
    assert one["time"] == "2026-03-01T10:00:00+00:00" and one["source"] == "landing page"
    assert one["event"] == first.headers["Ingestion-Event-Id"]
    assert two["jornaya_leadid"] is None and two["source"] == "landing page"
    assert three["jornaya_leadid"] == "LEADID-2"
    other = make_tenant(committed_session)
    committed_session.commit()
    assert client.get(url, headers=_auth(other)).status_code == 404


def test_a_bad_consent_value_or_target_is_named(client: FlaskClient, consenting: Tenant) -> None:
    bad_time = _upsert(
        client, consenting, {"id": "k-2", "phone": "(202) 456-1111", "tcpa": {"at": "soon"}}
    )
    assert bad_time.status_code == 422
    assert "consent.time" in bad_time.get_json()["errors"]
    refused = client.patch(
        f"/api/ingestion-configs/{consenting.config_id}/",
        json={"mapping": {"fields": {"consent.signature": "sig"}}},
        headers=_auth(consenting),
    )
    assert refused.status_code == 400
    assert "consent.signature" in str(refused.get_json())
