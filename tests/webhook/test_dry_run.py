"""The dry run answers what an upsert would do and writes nothing."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import IngestionEvent, Lead
from tests.support.api import post_payload
from tests.support.factories import make_tenant
from tests.support.leads import days_ago, make_lead


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
    # The lead as it would be stored: the derived zone, the campaign and the starting status.
    assert body["lead"]["metadata"] == {
        "name": "Jo",
        "extra": 1,
        "timezone": "America/Los_Angeles",
    }
    assert body["lead"]["campaign"] == tenant.campaign_id
    assert (body["lead"]["status"], body["lead"]["status_reason"]) == ("NEW", "WEBHOOK")
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
        {"phone_number": "(123) 456-7899", "email": "bad@@x", "us_state": "Calif"},
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


def test_the_create_endpoint_would_find_a_duplicate(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    lead = make_lead(committed_session, tenant, phone_number="+14155552671")
    committed_session.commit()
    payload = {"phone_number": "415-555-2671"}
    as_create = post_payload(
        client, tenant.config_id, "dry-run", payload, tenant.token, query="endpoint=create"
    ).get_json()
    assert (as_create["would"], as_create["lead_id"]) == ("duplicate", lead.id)
    assert as_create["changed"] == []
    # The same payload as an upsert only fills the zone the lead lacks.
    as_upsert = post_payload(client, tenant.config_id, "dry-run", payload, tenant.token)
    assert as_upsert.get_json()["would"] == "update"
    assert as_upsert.get_json()["changed"] == ["metadata", "timezone"]
    # The parameter is the dry run's own: it is not read as payload data.
    assert "endpoint" not in as_create["lead"]["metadata"]


def test_would_reengage_and_would_be_unchanged(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session, min_reengagement_days=30)
    zone = "America/Los_Angeles"
    lead = make_lead(
        committed_session,
        tenant,
        phone_number="+14155552671",
        timezone=zone,
        lead_metadata={"timezone": zone},
        received_time=days_ago(40),
    )
    committed_session.commit()
    payload = {"phone_number": "+14155552671"}
    answers = {
        endpoint: post_payload(
            client, tenant.config_id, "dry-run", payload, tenant.token, query=query
        ).get_json()
        for endpoint, query in (("create", "endpoint=create"), ("upsert", ""))
    }
    assert (answers["create"]["would"], answers["create"]["lead_id"]) == ("reengage", lead.id)
    assert answers["create"]["lead"]["reengagements_count"] == 1
    # The config's default is the create endpoint's: an upsert without its own days updates.
    assert answers["upsert"]["would"] == "unchanged"


def test_a_bad_endpoint_parameter_is_a_400_naming_it(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    answer = post_payload(
        client, tenant.config_id, "dry-run", {}, tenant.token, query="endpoint=delete"
    )
    assert answer.status_code == 400
    assert list(answer.get_json()["errors"]) == ["endpoint"]


def test_would_fail_on_an_external_id_another_lead_holds(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session, match=["phone_number"])
    holder = make_lead(committed_session, tenant, phone_number="+12127365000", external_id="E1")
    make_lead(committed_session, tenant, phone_number="+14155552671")
    committed_session.commit()
    body = post_payload(
        client,
        tenant.config_id,
        "dry-run",
        {"phone_number": "+14155552671", "external_id": "E1"},
        tenant.token,
    ).get_json()
    assert body["would"] == "fail"
    assert [error["field"] for error in body["errors"]] == ["external_id"]
    assert f"lead {holder.id}" in body["errors"][0]["message"]


def test_a_candidate_mapping_is_used_and_not_saved(db_session: Session) -> None:
    from models import IngestionConfig
    from worker.dry_run import dry_run_payload
    from worker.ingest.mapping import MappingConfigError

    tenant = make_tenant(db_session, {"fields": {"phone_number": "tel"}})
    config = db_session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    payload = {"tel": "4155552671", "cell": "2127365000"}
    candidate = {"fields": {"phone_number": "cell"}}
    tried = dry_run_payload(db_session, config, payload, mapping=candidate)
    assert tried["lead"]["phone_number"] == "+12127365000"
    # The saved mapping is untouched and still the one used (and cached) without a candidate.
    saved = dry_run_payload(db_session, config, payload)
    assert saved["lead"]["phone_number"] == "+14155552671"
    assert config.mapping == {"fields": {"phone_number": "tel"}}
    with pytest.raises(MappingConfigError):
        dry_run_payload(db_session, config, payload, mapping={"fields": {"email": "a.[b"}})


def test_the_dry_run_shows_the_decoded_shape(
    client: FlaskClient, committed_session: Session
) -> None:
    tenant = make_tenant(
        committed_session,
        {"decode": {"rawRequest": "json"}, "fields": {"phone_number": "rawRequest.phone"}},
    )
    committed_session.commit()
    form = "formID=42&rawRequest=" + '{"phone": "4155552671", "q4_name": {"first": "Jo"}}'

    answer = post_payload(
        client, tenant.config_id, "dry-run", form.replace("{", "%7B").replace("}", "%7D"),
        tenant.token, content_type="application/x-www-form-urlencoded",
    )  # fmt: skip

    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["would"] == "create"
    assert body["decoded"] == {"rawRequest": {"phone": "4155552671", "q4_name": {"first": "Jo"}}}
    assert body["lead"]["phone_number"] == "+14155552671"
