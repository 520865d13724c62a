"""The dry run answers what an upsert would do and writes nothing."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import IngestionEvent, Lead
from tests.support.api import post_payload
from tests.support.factories import make_tenant
from tests.support.leads import make_lead


def _count(session: Session, model: type[Lead] | type[IngestionEvent], organization_id: int) -> int:
    session.expire_all()
    column = model.organization_id
    statement = select(func.count()).select_from(model).where(column == organization_id)
    return session.scalar(statement) or 0


def test_would_create_with_normalized_fields_and_writes_nothing(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(
        committed_session,
        {"fields": {"phone_number": "tel", "us_state": "st", "metadata.name": "n"}},
    )
    committed_session.commit()
    answer = post_payload(
        client,
        tenant.config_id,
        "dry-run",
        {"tel": "(415) 555-2671", "st": "california", "n": "Jo", "extra": 1},
        tenant.token,
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["would"] == "create"
    assert body["lead"]["phone_number"] == "+14155552671"
    assert body["lead"]["us_state"] == "CA"
    assert body["lead"]["metadata"] == {"name": "Jo", "extra": 1}
    assert body["errors"] == [] and body["lead_id"] is None
    assert _count(committed_session, Lead, tenant.organization_id) == 0
    assert _count(committed_session, IngestionEvent, tenant.organization_id) == 0


def test_would_update_names_key_and_passed_over_leads(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    blocked = make_lead(committed_session, tenant, phone_number="+14155552671", external_id="OTHER")
    target = make_lead(
        committed_session, tenant, phone_number="+12127365000", email="x@example.com"
    )
    committed_session.commit()
    answer = post_payload(
        client,
        tenant.config_id,
        "dry-run",
        {"external_id": "MINE", "phone_number": "415-555-2671", "email": "X@example.com"},
        tenant.token,
    )
    body = answer.get_json()
    assert body["would"] == "update"
    assert body["lead_id"] == target.id and body["matched_by"] == "email"
    assert [w["lead_id"] for w in body["warnings"]] == [blocked.id]


def test_would_fail_lists_every_error(client: FlaskClient, committed_session: Session) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    answer = post_payload(
        client,
        tenant.config_id,
        "dry-run",
        {"phone_number": "(123) 456-7890", "email": "bad@@x", "us_state": "Calif"},
        tenant.token,
    )
    body = answer.get_json()
    assert answer.status_code == 200
    assert body["would"] == "fail"
    assert sorted(error["field"] for error in body["errors"]) == [
        "email",
        "phone_number",
        "us_state",
    ]
    missing_phone = post_payload(
        client, tenant.config_id, "dry-run", {"email": "a@b.co"}, tenant.token
    )
    assert missing_phone.get_json()["would"] == "fail"
    assert [e["field"] for e in missing_phone.get_json()["errors"]] == ["phone_number"]


def test_dry_run_needs_the_token(client: FlaskClient, committed_session: Session) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    assert post_payload(client, tenant.config_id, "dry-run", {}, None).status_code == 401
