"""The standard lead API's writes over HTTP, through the inbox and a real worker:
POST /api/leads/, PUT /api/leads/update/ and PATCH /api/leads/{id}/."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from models import IngestionEvent
from models.enums import Endpoint, EventStatus
from tests.support.api import get_lead, lead_count, wait_for_event
from tests.support.factories import Tenant, make_lead_type, make_tenant
from tests.support.leads import days_ago, make_lead
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.usefixtures("celery_worker")

PHONE = "(202) 456-1111"
E164 = "+12024561111"
LOAN = [{"key": "loan", "label": "Loan", "helpText": "", "type": "number", "required": True}]


def _send(
    client: FlaskClient,
    tenant: Tenant,
    method: str,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> TestResponse:
    all_headers = {"Authorization": f"Token {tenant.token}", **(headers or {})}
    return client.open(url, method=method, json=body, headers=all_headers)


def _event(session: Session, answer: TestResponse) -> IngestionEvent:
    session.expire_all()
    event = session.get(IngestionEvent, uuid.UUID(answer.headers["Ingestion-Event-Id"]))
    assert event is not None
    return event


@pytest.fixture
def typed(committed_session: Session) -> Tenant:
    """A tenant whose organization has a default lead type (its campaign) with a loan field."""
    created = make_tenant(committed_session)
    make_lead_type(committed_session, created, is_default=True, fields=LOAN)
    committed_session.commit()
    return created


class TestCreate:
    def test_created_is_201_with_the_lead_in_the_default_lead_types_campaign(
        self, client: FlaskClient, typed: Tenant, committed_session: Session
    ) -> None:
        answer = _send(
            client,
            typed,
            "POST",
            "/api/leads/",
            {"phone_number": PHONE, "email": "A@Example.com", "loan": "450000", "utm": "x"},
        )
        assert answer.status_code == 201, answer.get_data(as_text=True)
        assert answer.headers["Lead-Action"] == "created"
        lead = answer.get_json()
        assert lead == get_lead(client, typed.token, lead["id"])
        assert lead["phone_number"] == E164 and lead["email"] == "a@example.com"
        assert lead["campaign"] == typed.campaign_id
        assert lead["metadata"]["loan"] == 450000 and lead["metadata"]["utm"] == "x"
        event = _event(committed_session, answer)
        assert event.endpoint == Endpoint.leads_create and event.status == EventStatus.done

    def test_a_duplicate_is_200_with_the_existing_lead(
        self, client: FlaskClient, typed: Tenant
    ) -> None:
        body = {"phone_number": PHONE, "loan": 1}
        first = _send(client, typed, "POST", "/api/leads/", body)
        again = _send(client, typed, "POST", "/api/leads/", {**body, "lead_source": "resend"})
        assert again.status_code == 200
        assert again.headers["Lead-Action"] == "duplicate"
        assert again.get_json()["id"] == first.get_json()["id"]
        assert again.get_json()["lead_source"] is None
        assert lead_count(client, typed.token) == 1

    def test_a_reengagement_is_200(
        self, client: FlaskClient, typed: Tenant, committed_session: Session
    ) -> None:
        lead = make_lead(committed_session, typed, phone_number=E164, received_time=days_ago(40))
        committed_session.commit()
        answer = _send(
            client,
            typed,
            "POST",
            "/api/leads/",
            {"phone_number": PHONE, "min_reengagement_days": 30, "loan": 5},
        )
        assert answer.status_code == 200
        assert answer.headers["Lead-Action"] == "reengaged"
        assert answer.get_json()["id"] == lead.id
        assert answer.get_json()["reengagements_count"] == 1

    def test_no_lead_type_anywhere_is_400_naming_lead_type(
        self, client: FlaskClient, tenant: Tenant, committed_session: Session
    ) -> None:
        answer = _send(client, tenant, "POST", "/api/leads/", {"phone_number": PHONE})
        assert answer.status_code == 400
        assert list(answer.get_json()["errors"]) == ["lead_type"]
        assert _event(committed_session, answer).status == EventStatus.failed

    def test_metadata_is_checked_against_the_lead_type(
        self, client: FlaskClient, typed: Tenant
    ) -> None:
        bad = _send(client, typed, "POST", "/api/leads/", {"phone_number": PHONE, "loan": "4,5"})
        missing = _send(client, typed, "POST", "/api/leads/", {"phone_number": PHONE})
        assert bad.status_code == 400 and list(bad.get_json()["errors"]) == ["metadata.loan"]
        assert missing.status_code == 400
        assert list(missing.get_json()["errors"]) == ["metadata.loan"]
        assert lead_count(client, typed.token) == 0

    def test_a_named_lead_type_routes_to_its_campaign_and_must_be_the_orgs(
        self, client: FlaskClient, typed: Tenant, committed_session: Session
    ) -> None:
        other = make_tenant(committed_session)
        mine = make_lead_type(committed_session, typed, name="Auto")
        theirs = make_lead_type(committed_session, other, name="Theirs")
        committed_session.commit()
        ok = _send(
            client, typed, "POST", "/api/leads/", {"phone_number": PHONE, "lead_type": mine.id}
        )
        refused = _send(
            client,
            typed,
            "POST",
            "/api/leads/",
            {"phone_number": "2024561112", "lead_type": theirs.id},
        )
        assert ok.status_code == 201 and ok.get_json()["lead_type"] == mine.id
        assert refused.status_code == 400 and list(refused.get_json()["errors"]) == ["lead_type"]

    def test_respond_async_is_202_with_the_event(self, client: FlaskClient, typed: Tenant) -> None:
        answer = _send(
            client,
            typed,
            "POST",
            "/api/leads/",
            {"phone_number": PHONE, "loan": 1},
            {"Prefer": "respond-async"},
        )
        assert answer.status_code == 202
        event = wait_for_event(client, typed.token, answer.get_json()["id"])
        assert event["endpoint"] == "leads.create" and event["action"] == "created"

    def test_idempotency_key_answers_with_the_first_event(
        self, client: FlaskClient, typed: Tenant
    ) -> None:
        body = {"phone_number": PHONE, "loan": 1}
        key = {"Idempotency-Key": "order-1"}
        first = _send(client, typed, "POST", "/api/leads/", body, key)
        again = _send(client, typed, "POST", "/api/leads/", body, key)
        conflict = _send(client, typed, "POST", "/api/leads/", {**body, "loan": 2}, key)
        assert first.status_code == 201 and again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["Ingestion-Event-Id"] == first.headers["Ingestion-Event-Id"]
        assert conflict.status_code == 409

    def test_the_standard_config_has_no_custom_door(
        self, client: FlaskClient, typed: Tenant, committed_session: Session
    ) -> None:
        answer = _send(client, typed, "POST", "/api/leads/", {"phone_number": PHONE, "loan": 1})
        config_id = _event(committed_session, answer).config_id
        door = _send(client, typed, "POST", f"/api/lead-ingestion/{config_id}/", {})
        assert door.status_code == 404


class TestUpdate:
    def test_the_matched_lead_is_updated(
        self, client: FlaskClient, typed: Tenant, committed_session: Session
    ) -> None:
        lead = make_lead(committed_session, typed, phone_number=E164, email="a@example.com")
        committed_session.commit()
        answer = _send(
            client,
            typed,
            "PUT",
            "/api/leads/update/",
            {"phone_number": PHONE, "email": "a@example.com", "lead_source": "CRM"},
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.headers["Lead-Action"] == "updated"
        assert answer.get_json()["id"] == lead.id
        assert answer.get_json()["lead_source"] == "CRM"

    def test_no_match_is_404_and_the_event_records_it(
        self, client: FlaskClient, typed: Tenant, committed_session: Session
    ) -> None:
        answer = _send(client, typed, "PUT", "/api/leads/update/", {"phone_number": PHONE})
        assert answer.status_code == 404
        assert answer.get_json()["detail"]
        event = _event(committed_session, answer)
        assert event.status == EventStatus.failed and event.last_error == "no_match"
        assert lead_count(client, typed.token) == 0

    def test_another_external_id_is_a_field_error(
        self, client: FlaskClient, typed: Tenant, committed_session: Session
    ) -> None:
        make_lead(committed_session, typed, phone_number=E164, external_id="crm-1")
        committed_session.commit()
        answer = _send(
            client, typed, "PUT", "/api/leads/update/", {"phone_number": PHONE, "external_id": "x"}
        )
        assert answer.status_code == 400
        assert list(answer.get_json()["errors"]) == ["external_id"]

    def test_a_phone_number_is_required(self, client: FlaskClient, typed: Tenant) -> None:
        answer = _send(client, typed, "PUT", "/api/leads/update/", {"email": "a@example.com"})
        assert answer.status_code == 400
        assert list(answer.get_json()["errors"]) == ["phone_number"]

    def test_idempotency_key_is_per_operation(
        self, client: FlaskClient, typed: Tenant, committed_session: Session
    ) -> None:
        make_lead(committed_session, typed, phone_number=E164)
        committed_session.commit()
        key = {"Idempotency-Key": "k-1"}
        body = {"phone_number": PHONE, "lead_source": "CRM"}
        first = _send(client, typed, "PUT", "/api/leads/update/", body, key)
        again = _send(client, typed, "PUT", "/api/leads/update/", body, key)
        # The same key on another operation is another request, not a conflict.
        create = _send(client, typed, "POST", "/api/leads/", body, key)
        assert first.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["Ingestion-Event-Id"] == first.headers["Ingestion-Event-Id"]
        assert create.headers["Ingestion-Event-Id"] != first.headers["Ingestion-Event-Id"]


class TestPatch:
    def test_the_owner_clears_dnc_and_the_event_says_so(
        self, client: FlaskClient, typed: Tenant, committed_session: Session
    ) -> None:
        lead = make_lead(committed_session, typed, phone_number=E164, call_dnc=True)
        committed_session.commit()
        answer = _send(client, typed, "PATCH", f"/api/leads/{lead.id}/", {"call_dnc": False})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.get_json()["call_dnc"] is False
        event = _event(committed_session, answer)
        assert any(warning.get("field") == "call_dnc" for warning in event.warnings)

    def test_status_is_set_and_campaign_never_changes(
        self, client: FlaskClient, typed: Tenant, committed_session: Session
    ) -> None:
        lead = make_lead(committed_session, typed, phone_number=E164)
        committed_session.commit()
        answer = _send(
            client,
            typed,
            "PATCH",
            f"/api/leads/{lead.id}/",
            {"status": "closed", "status_reason": "MANUAL", "campaign": 999999},
        )
        assert answer.status_code == 200
        body = answer.get_json()
        assert (body["status"], body["status_reason"]) == ("CLOSED", "MANUAL")
        assert body["campaign"] == typed.campaign_id
        assert "campaign" not in body["metadata"]

    def test_an_invalid_field_is_400_and_nothing_changes(
        self, client: FlaskClient, typed: Tenant, committed_session: Session
    ) -> None:
        lead = make_lead(committed_session, typed, phone_number=E164)
        committed_session.commit()
        answer = _send(client, typed, "PATCH", f"/api/leads/{lead.id}/", {"us_state": "Atlantis"})
        assert answer.status_code == 400
        assert list(answer.get_json()["errors"]) == ["us_state"]
        assert _event(committed_session, answer).status == EventStatus.failed
        assert get_lead(client, typed.token, lead.id)["us_state"] is None

    def test_another_organizations_lead_is_404_and_stores_nothing(
        self, client: FlaskClient, typed: Tenant, committed_session: Session
    ) -> None:
        other = make_tenant(committed_session)
        theirs = make_lead(committed_session, other, phone_number=E164)
        committed_session.commit()
        answer = _send(client, typed, "PATCH", f"/api/leads/{theirs.id}/", {"call_dnc": True})
        assert answer.status_code == 404
        assert "Ingestion-Event-Id" not in answer.headers

    def test_idempotency_key_replays_the_patch(
        self, client: FlaskClient, typed: Tenant, committed_session: Session
    ) -> None:
        lead = make_lead(committed_session, typed, phone_number=E164)
        committed_session.commit()
        key = {"Idempotency-Key": "p-1"}
        first = _send(client, typed, "PATCH", f"/api/leads/{lead.id}/", {"sms_dnc": True}, key)
        again = _send(client, typed, "PATCH", f"/api/leads/{lead.id}/", {"sms_dnc": True}, key)
        assert first.status_code == again.status_code == 200
        assert first.headers["Lead-Action"] == "updated"
        assert again.headers["Ingestion-Event-Id"] == first.headers["Ingestion-Event-Id"]
        assert again.headers["Idempotent-Replayed"] == "true"


def test_writes_need_a_token(client: FlaskClient, celery_worker: ServiceProcess) -> None:
    assert client.post("/api/leads/", json={"phone_number": PHONE}).status_code == 401
    assert client.put("/api/leads/update/", json={"phone_number": PHONE}).status_code == 401
    assert client.patch("/api/leads/1/", json={}).status_code == 401
