"""GET /api/lead-types/ and /api/lead-types/{id}/: the caller's organization's lead types."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.support.factories import Tenant, make_lead_type, make_tenant

FIELDS = [{"key": "loan", "label": "Loan", "helpText": "USD", "type": "number", "required": True}]


def _get(client: FlaskClient, token: str, url: str) -> tuple[int, dict[str, Any]]:
    answer = client.get(url, headers={"Authorization": f"Token {token}"})
    return answer.status_code, answer.get_json()


def test_list_is_paginated_and_shows_sela_fields(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    first = make_lead_type(committed_session, tenant, name="Mortgage", fields=FIELDS)
    make_lead_type(committed_session, tenant, name="Auto", is_default=True)
    committed_session.commit()

    status, page = _get(client, tenant.token, "/api/lead-types/?page_size=1")

    assert status == 200
    assert page["count"] == 2 and page["next"] is not None and page["previous"] is None
    assert page["results"] == [
        {
            "id": first.id,
            "name": "Mortgage",
            "campaign": tenant.campaign_id,
            "lead_metadata_fields": FIELDS,
            "is_default": False,
        }
    ]


def test_search_matches_the_name_in_any_case(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    make_lead_type(committed_session, tenant, name="Home Mortgage")
    make_lead_type(committed_session, tenant, name="Auto loan")
    make_lead_type(committed_session, tenant, name="100% match")
    committed_session.commit()

    _, page = _get(client, tenant.token, "/api/lead-types/?search=MORTG")
    _, literal = _get(client, tenant.token, "/api/lead-types/?search=%25")

    assert [item["name"] for item in page["results"]] == ["Home Mortgage"]
    assert [item["name"] for item in literal["results"]] == ["100% match"]


def test_one_lead_type_and_other_organizations_are_404(
    client: FlaskClient, tenant: Tenant, committed_session: Session
) -> None:
    mine = make_lead_type(committed_session, tenant)
    other = make_tenant(committed_session)
    theirs = make_lead_type(committed_session, other)
    committed_session.commit()

    status, found = _get(client, tenant.token, f"/api/lead-types/{mine.id}/")
    assert status == 200 and found["id"] == mine.id
    assert _get(client, tenant.token, f"/api/lead-types/{theirs.id}/")[0] == 404
    assert _get(client, tenant.token, "/api/lead-types/99999999999/")[0] == 404
    _, listed = _get(client, other.token, "/api/lead-types/")
    assert [item["id"] for item in listed["results"]] == [theirs.id]


def test_lead_types_need_a_token(client: FlaskClient) -> None:
    assert client.get("/api/lead-types/").status_code == 401
