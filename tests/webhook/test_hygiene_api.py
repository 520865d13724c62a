"""Identifier hygiene over HTTP with a real worker: placeholders, blocked identifiers, the lists."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from models import Organization
from tests.support.api import get_lead, post_payload, wait_for_event
from tests.support.factories import Tenant, make_tenant

pytestmark = pytest.mark.usefixtures("celery_worker")

MAPPING = {
    "fields": {
        "external_id": "id",
        "phone_number": {"from": ["contact.phone", "contact.mobile"]},
        "email": "contact.email",
    }
}


def _hygienic_tenant(session: Session) -> Tenant:
    """A tenant whose organization blocks the reserved example identifiers, as new ones do."""
    tenant = make_tenant(session, MAPPING)
    organization = session.get(Organization, tenant.organization_id)
    assert organization is not None
    organization.blocks_reserved_identifiers = True
    session.commit()
    return tenant


@pytest.fixture
def hygienic(committed_session: Session) -> Tenant:
    return _hygienic_tenant(committed_session)


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def _upsert(client: FlaskClient, tenant: Tenant, body: dict[str, Any]) -> TestResponse:
    return post_payload(client, tenant.config_id, "upsert", body, tenant.token, query="wait=20")


def _block(client: FlaskClient, tenant: Tenant, kind: str, value: str) -> dict[str, Any]:
    answer = client.post(
        "/api/blocked-identifiers/", json={"kind": kind, "value": value}, headers=_auth(tenant)
    )
    assert answer.status_code == 201, answer.get_json()
    entry: dict[str, Any] = answer.get_json()
    return entry


def _phone(index: int) -> str:
    return f"(202) 456-{1000 + index:04d}"


def test_two_hundred_external_ids_sharing_a_placeholder_email_never_merge(
    client: FlaskClient, hygienic: Tenant
) -> None:
    event_ids = []
    for index in range(200):
        body = {
            "id": f"p-{index}",
            "contact": {"phone": _phone(index), "email": "noemail@none.com"},
        }
        answer = post_payload(client, hygienic.config_id, "upsert", body, hygienic.token)
        assert answer.status_code == 202, answer.get_json()
        event_ids.append(answer.get_json()["id"])
    events = [wait_for_event(client, hygienic.token, event_id) for event_id in event_ids]
    assert {event["action"] for event in events} == {"created"}
    assert len({event["lead_id"] for event in events}) == 200
    for event in events:
        [warning] = event["warnings"]
        assert warning["field"] == "email" and "blocked identifier" in warning["reason"]
        assert "noemail" not in warning["reason"]
    leads = client.get("/api/leads/?page_size=500", headers=_auth(hygienic)).get_json()
    assert leads["count"] == 200
    assert {lead["email"] for lead in leads["results"]} == {None}
    # A payload with no external id of its own would have matched any of them by the email.
    answer = _upsert(
        client, hygienic, {"contact": {"phone": _phone(300), "email": "NoEmail@none.com"}}
    )
    assert answer.status_code == 201 and answer.headers["Lead-Action"] == "created"


def test_a_placeholder_moves_the_from_list_on(client: FlaskClient, hygienic: Tenant) -> None:
    answer = _upsert(
        client, hygienic, {"id": "f-1", "contact": {"phone": "N/A", "mobile": "(202) 456-1111"}}
    )
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["phone_number"] == "+12024561111"


def test_a_create_left_without_a_valid_phone_fails_with_the_reason(
    client: FlaskClient, hygienic: Tenant
) -> None:
    answer = _upsert(client, hygienic, {"id": "z-1", "contact": {"phone": "000-000-0000"}})
    assert answer.status_code == 422
    [message] = answer.get_json()["errors"]["phone_number"]
    assert "blocked identifier" in message and "required to create a lead" in message
    assert "0000" not in message
    fictional = _upsert(client, hygienic, {"id": "z-2", "contact": {"phone": "(415) 555-0123"}})
    assert fictional.status_code == 422
    assert "555-01XX" in fictional.get_json()["errors"]["phone_number"][0]


def test_an_update_keeps_going_without_the_blocked_identifier(
    client: FlaskClient, hygienic: Tenant
) -> None:
    created = _upsert(client, hygienic, {"id": "u-1", "contact": {"phone": "(202) 456-1111"}})
    assert created.status_code == 201
    updated = _upsert(
        client, hygienic, {"id": "u-1", "contact": {"phone": "1234567890", "email": "j@x.test"}}
    )
    assert updated.status_code == 200 and updated.headers["Lead-Action"] == "unchanged"
    lead = updated.get_json()
    assert (lead["phone_number"], lead["email"]) == ("+12024561111", None)
    event = wait_for_event(client, hygienic.token, updated.headers["Ingestion-Event-Id"])
    assert {warning["field"] for warning in event["warnings"]} == {"phone_number", "email"}


def test_an_organization_list_blocks_matching_until_the_entry_is_removed(
    client: FlaskClient, hygienic: Tenant
) -> None:
    first = _upsert(client, hygienic, {"contact": {"phone": _phone(1), "email": "ops@acme.io"}})
    assert first.status_code == 201
    entry = _block(client, hygienic, "email", " OPS@Acme.io ")
    assert entry["value"] == "ops@acme.io"
    second = _upsert(client, hygienic, {"contact": {"phone": _phone(2), "email": "ops@acme.io"}})
    assert second.status_code == 201 and second.headers["Lead-Action"] == "created"
    assert second.get_json()["id"] != first.get_json()["id"]
    assert second.get_json()["email"] is None
    event = wait_for_event(client, hygienic.token, second.headers["Ingestion-Event-Id"])
    [warning] = event["warnings"]
    assert "organization's blocked list" in warning["reason"]
    removed = client.delete(f"/api/blocked-identifiers/{entry['id']}/", headers=_auth(hygienic))
    assert removed.status_code == 204
    third = _upsert(client, hygienic, {"contact": {"phone": _phone(3), "email": "ops@acme.io"}})
    assert third.headers["Lead-Action"] == "updated"
    assert third.get_json()["id"] == first.get_json()["id"]


def test_an_organization_placeholder_and_domain(client: FlaskClient, hygienic: Tenant) -> None:
    _block(client, hygienic, "placeholder", "Declined")
    _block(client, hygienic, "email", "@spam.io")
    answer = _upsert(
        client,
        hygienic,
        {"contact": {"phone": "declined", "mobile": _phone(5), "email": "a@spam.io"}},
    )
    assert answer.status_code == 201, answer.get_json()
    lead = get_lead(client, hygienic.token, answer.get_json()["id"])
    assert (lead["phone_number"], lead["email"]) == ("+12024561005", None)


def test_the_dry_run_shows_the_hygiene(client: FlaskClient, hygienic: Tenant) -> None:
    answer = post_payload(
        client,
        hygienic.config_id,
        "dry-run",
        {"id": "d-1", "contact": {"phone": "-", "mobile": _phone(7), "email": "jane@example.com"}},
        hygienic.token,
    )
    body = answer.get_json()
    assert body["would"] == "create" and body["lead"]["phone_number"] == "+12024561007"
    assert body["lead"]["email"] is None
    assert "RFC 2606" in body["warnings"][0]["reason"]


class TestTheLists:
    def test_entries_are_checked_and_normalized(
        self, client: FlaskClient, hygienic: Tenant
    ) -> None:
        assert _block(client, hygienic, "phone_number", "(202) 456-1111")["value"] == (
            "+12024561111"
        )
        assert _block(client, hygienic, "placeholder", " NoThanks ")["value"] == "nothanks"
        bad = [
            ({"kind": "ssn", "value": "1"}, "kind"),
            ({"kind": "phone_number", "value": "12"}, "value"),
            ({"kind": "email", "value": "@not a domain"}, "value"),
            ({"kind": "email", "value": ""}, "value"),
            ({"kind": "email"}, "value"),
            ({"kind": "email", "value": "a@b.io", "extra": 1}, "body"),
            ([], "body"),
        ]
        for body, field in bad:
            answer = client.post("/api/blocked-identifiers/", json=body, headers=_auth(hygienic))
            assert answer.status_code == 400, body
            assert field in answer.get_json()["errors"], answer.get_json()
        again = client.post(
            "/api/blocked-identifiers/",
            json={"kind": "phone_number", "value": "+1 202 456 1111"},
            headers=_auth(hygienic),
        )
        assert again.status_code == 409

    def test_lists_belong_to_their_organization(
        self, client: FlaskClient, hygienic: Tenant, committed_session: Session
    ) -> None:
        entry = _block(client, hygienic, "email", "x@acme.io")
        _block(client, hygienic, "placeholder", "nope")
        other = _hygienic_tenant(committed_session)
        url = f"/api/blocked-identifiers/{entry['id']}/"
        assert client.get(url, headers=_auth(other)).status_code == 404
        assert client.delete(url, headers=_auth(other)).status_code == 404
        assert (
            client.get("/api/blocked-identifiers/", headers=_auth(other)).get_json()["count"] == 0
        )
        mine = client.get("/api/blocked-identifiers/?kind=email", headers=_auth(hygienic))
        assert [item["value"] for item in mine.get_json()["results"]] == ["x@acme.io"]
        assert client.get(url, headers=_auth(hygienic)).get_json()["kind"] == "email"
        assert client.get("/api/blocked-identifiers/").status_code == 401
        bad_kind = client.get("/api/blocked-identifiers/?kind=ssn", headers=_auth(hygienic))
        assert bad_kind.status_code == 400
