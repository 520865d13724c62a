"""Reading leads and events: filters, pagination, organization scope."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models.enums import EventStatus, LeadStatus
from tests.support.factories import Tenant, make_event, make_tenant
from tests.support.leads import days_ago, make_lead
from webhook.openapi_document import openapi_document


@pytest.fixture
def tenant(committed_session: Session) -> Tenant:
    created = make_tenant(committed_session)
    make_lead(
        committed_session,
        created,
        phone_number="+14155552671",
        email="a@example.com",
        external_id="E1",
        modified_time=days_ago(3),
    )
    make_lead(
        committed_session,
        created,
        phone_number="+12127365000",
        status=LeadStatus.LOST,
        modified_time=days_ago(1),
    )
    committed_session.commit()
    return created


def _get(client: FlaskClient, token: str, url: str) -> dict:
    answer = client.get(url, headers={"Authorization": f"Token {token}"})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


@pytest.mark.parametrize(
    ("query", "expected_phones"),
    [
        ("", ["+12127365000", "+14155552671"]),
        ("external_id=E1", ["+14155552671"]),
        ("phone_number=(415) 555-2671", ["+14155552671"]),
        ("phone_number=415.555.2671", ["+14155552671"]),
        ("email=A@Example.com", ["+14155552671"]),
        ("status=lost", ["+12127365000"]),
        ("external_id=nope", []),
    ],
)
def test_lead_filters(
    client: FlaskClient, tenant: Tenant, query: str, expected_phones: list[str]
) -> None:
    page = _get(client, tenant.token, f"/api/leads/?{query}")
    assert [lead["phone_number"] for lead in page["results"]] == expected_phones
    assert page["count"] == len(expected_phones)


def test_modified_after_and_campaign_filters(client: FlaskClient, tenant: Tenant) -> None:
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat()
    page = _get(
        client, tenant.token, "/api/leads/?" + f"modified_after={since.replace('+', '%2B')}"
    )
    assert [lead["phone_number"] for lead in page["results"]] == ["+12127365000"]
    assert _get(client, tenant.token, f"/api/leads/?campaign={tenant.campaign_id}")["count"] == 2
    assert (
        _get(client, tenant.token, f"/api/leads/?campaign={tenant.campaign_id + 999}")["count"] == 0
    )


def test_pagination_links(client: FlaskClient, tenant: Tenant) -> None:
    first = _get(client, tenant.token, "/api/leads/?page_size=1")
    assert first["count"] == 2 and len(first["results"]) == 1
    assert first["previous"] is None and "page=2" in first["next"]
    second = _get(client, tenant.token, "/api/leads/?page_size=1&page=2")
    assert second["next"] is None and "page=1" in second["previous"]
    assert first["results"][0]["id"] != second["results"][0]["id"]


@pytest.mark.parametrize(
    "query", ["phone_number=123", "status=WON", "page=0", "page_size=x", "modified_after=yesterday"]
)
def test_bad_filters_are_400(client: FlaskClient, tenant: Tenant, query: str) -> None:
    answer = client.get(f"/api/leads/?{query}", headers={"Authorization": f"Token {tenant.token}"})
    assert answer.status_code == 400
    assert answer.get_json()["errors"]


@pytest.mark.parametrize("phone", ["(123) 456-7890", "not a phone", "12"])
def test_a_phone_filter_that_is_no_number_is_the_documented_400(
    client: FlaskClient, tenant: Tenant, phone: str
) -> None:
    answer = client.get("/api/leads/", query_string={"phone_number": phone}, headers=_auth(tenant))
    assert answer.status_code == 400
    assert answer.get_json()["errors"] == {"phone_number": ["not valid"]}
    # The answer does not quote the number back.
    assert phone not in answer.get_data(as_text=True)
    declared = openapi_document()["paths"]["/api/leads/"]["get"]["responses"]["400"]
    assert "phone_number" in declared["description"]
    assert declared["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def _auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Token {tenant.token}"}


def test_reads_are_scoped_to_the_organization(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    other = make_tenant(committed_session)
    committed_session.commit()
    mine = _get(client, tenant.token, "/api/leads/")["results"][0]
    assert _get(client, other.token, "/api/leads/")["count"] == 0
    answer = client.get(
        f"/api/leads/{mine['id']}/", headers={"Authorization": f"Token {other.token}"}
    )
    assert answer.status_code == 404
    assert client.get(f"/api/leads/{mine['id']}/").status_code == 401


def test_event_list_filters_and_scope(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    other = make_tenant(committed_session)
    for status in (EventStatus.done, EventStatus.failed):
        make_event(committed_session, tenant, status=status)
    committed_session.commit()
    assert _get(client, tenant.token, "/api/ingestion-events/")["count"] == 2
    failed = _get(client, tenant.token, "/api/ingestion-events/?status=failed")
    assert [event["status"] for event in failed["results"]] == ["failed"]
    assert (
        _get(client, tenant.token, f"/api/ingestion-events/?config={tenant.config_id}")["count"]
        == 2
    )
    assert _get(client, other.token, "/api/ingestion-events/")["count"] == 0
    event_id = failed["results"][0]["id"]
    answer = client.get(
        f"/api/ingestion-events/{event_id}/", headers={"Authorization": f"Token {other.token}"}
    )
    assert answer.status_code == 404
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat().replace("+", "%2B")
    assert _get(client, tenant.token, f"/api/ingestion-events/?since={future}")["count"] == 0
