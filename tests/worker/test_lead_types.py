"""Lead types in the worker: their fields checked, a lead's metadata checked and converted per
type, and the decision routing standard creates by lead type."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from models import Campaign, IngestionConfig, Lead, LeadType
from models.enums import Endpoint, EventAction, LeadStatus
from tests.support.factories import make_config, make_tenant
from tests.support.leads import days_ago
from worker.ingest.decision import Decision, EventOrder, decide
from worker.ingest.lead_types import (
    LeadTypeRules,
    LeadTypesInPlay,
    MetadataField,
    checked_metadata,
    load_lead_types,
    parse_metadata_fields,
)
from worker.ingest.matching import LeadsInPlay
from worker.ingest.types import PreparedLead

PHONE = "+12025550101"


def _rules(type_name: str, required: bool = False) -> LeadTypeRules:
    return LeadTypeRules(1, 1, (MetadataField("value", type_name, required),))


@pytest.mark.parametrize(
    ("type_name", "given", "stored"),
    [
        ("string", 1001, "1001"),
        ("integer", "450000", 450000),
        ("integer", " 12 ", 12),
        ("number", "450000", 450000),
        ("number", "1.5", 1.5),
        ("boolean", "yes", True),
        ("boolean", "OFF", False),
        ("date", "2024-05-01T10:00:00", "2024-05-01"),
        ("datetime", "2024-05-01T10:00:00", "2024-05-01T10:00:00+00:00"),
    ],
)
def test_a_declared_value_is_stored_converted(type_name: str, given: Any, stored: Any) -> None:
    converted, errors = checked_metadata({"value": given}, _rules(type_name), creating=True)
    assert errors == []
    assert converted == {"value": stored}


@pytest.mark.parametrize(
    ("type_name", "given"),
    [
        ("number", "450,000"),
        ("integer", "12.5"),
        ("boolean", "maybe"),
        ("date", "May 1st"),
        ("datetime", "yesterday"),
        ("string", {"a": 1}),
    ],
)
def test_a_value_that_does_not_convert_is_an_error_on_metadata_key(
    type_name: str, given: Any
) -> None:
    _, errors = checked_metadata({"value": given}, _rules(type_name), creating=True)
    assert [error.field for error in errors] == ["metadata.value"]
    assert type_name in errors[0].message


def test_a_required_key_is_required_on_create_only() -> None:
    rules = _rules("number", required=True)
    _, on_create = checked_metadata({"other": 1}, rules, creating=True)
    _, on_update = checked_metadata({"other": 1}, rules, creating=False)
    assert [error.field for error in on_create] == ["metadata.value"]
    assert on_update == []


def test_undeclared_keys_are_kept_as_they_are() -> None:
    converted, errors = checked_metadata({"free": "450,000"}, _rules("number"), creating=True)
    assert errors == [] and converted == {"free": "450,000"}


def test_fields_in_sela_shape_are_accepted() -> None:
    fields = [
        {"key": "loan", "label": "Loan", "helpText": "in USD", "type": "number", "required": True}
    ]
    assert parse_metadata_fields(fields) == fields


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"key": "x"}, "expected a list"),
        ([{"key": "x", "type": "money"}], "[0].type"),
        ([{"type": "string"}], "[0].key"),
        ([{"key": "x", "type": "string", "required": "yes"}], "[0].required"),
        ([{"key": "x", "type": "string", "colour": "red"}], "unknown key 'colour'"),
        ([{"key": "x", "type": "string"}, {"key": "x", "type": "number"}], "declared twice"),
    ],
)
def test_bad_fields_are_refused_with_the_problem(fields: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        parse_metadata_fields(fields)


# The decision with lead types in play.


def _lead_type(session: Session, organization_id: int, campaign_id: int, **values: Any) -> LeadType:
    lead_type = LeadType(
        organization_id=organization_id,
        campaign_id=campaign_id,
        name=values.pop("name", "Mortgage"),
        lead_metadata_fields=values.pop("fields", []),
        is_default=values.pop("is_default", False),
    )
    session.add(lead_type)
    session.flush()
    return lead_type


def _standard_config(session: Session, organization_id: int) -> IngestionConfig:
    config = IngestionConfig(
        organization_id=organization_id,
        campaign_id=None,
        name="standard lead API",
        mapping={},
        standard_api=True,
    )
    session.add(config)
    session.flush()
    return config


def _decide(
    session: Session,
    config: IngestionConfig,
    values: dict[str, Any],
    endpoint: Endpoint,
    leads: list[Lead] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Decision:
    prepared = PreparedLead(values=values, metadata=metadata or {})
    in_play = leads or []
    types = load_lead_types(
        session,
        config.organization_id,
        [values.get("lead_type"), config.default_lead_type, *(lead.lead_type for lead in in_play)],
        with_default=config.standard_api,
    )
    order = EventOrder(days_ago(0))
    return decide(prepared, LeadsInPlay(in_play), config, endpoint, order, types)


LOAN = [{"key": "loan", "label": "Loan", "helpText": "", "type": "number", "required": True}]


def test_a_standard_create_goes_to_its_lead_types_campaign(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    other = Campaign(organization_id=tenant.organization_id, name="refinance")
    db_session.add(other)
    db_session.flush()
    lead_type = _lead_type(db_session, tenant.organization_id, other.id, fields=LOAN)
    config = _standard_config(db_session, tenant.organization_id)

    decision = _decide(
        db_session,
        config,
        {"phone_number": PHONE, "lead_type": lead_type.id},
        Endpoint.leads_create,
        metadata={"loan": "450000"},
    )

    assert decision.action == EventAction.created
    assert decision.values["campaign_id"] == other.id
    assert decision.values["lead_type"] == lead_type.id
    assert decision.values["lead_metadata"]["loan"] == 450000


def test_without_a_lead_type_a_standard_create_takes_the_default(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    default = _lead_type(db_session, tenant.organization_id, tenant.campaign_id, is_default=True)
    config = _standard_config(db_session, tenant.organization_id)

    decision = _decide(db_session, config, {"phone_number": PHONE}, Endpoint.leads_create)

    assert decision.action == EventAction.created
    assert decision.values["lead_type"] == default.id
    assert decision.values["campaign_id"] == tenant.campaign_id


def test_without_any_lead_type_a_standard_create_fails_on_lead_type(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    config = _standard_config(db_session, tenant.organization_id)

    decision = _decide(db_session, config, {"phone_number": PHONE}, Endpoint.leads_create)

    assert decision.failed
    assert [error.field for error in decision.errors] == ["lead_type"]


@pytest.mark.parametrize("endpoint", [Endpoint.upsert, Endpoint.leads_create])
def test_another_organizations_lead_type_is_a_field_error(
    db_session: Session, endpoint: Endpoint
) -> None:
    tenant = make_tenant(db_session)
    other = make_tenant(db_session)
    theirs = _lead_type(db_session, other.organization_id, other.campaign_id)
    config = db_session.get(IngestionConfig, tenant.config_id)
    assert config is not None

    decision = _decide(
        db_session, config, {"phone_number": PHONE, "lead_type": theirs.id}, endpoint
    )

    assert decision.failed
    assert [error.field for error in decision.errors] == ["lead_type"]
    assert f"lead type {theirs.id} does not exist" in decision.errors[0].message


def test_metadata_is_checked_against_the_matched_leads_lead_type(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead_type = _lead_type(db_session, tenant.organization_id, tenant.campaign_id, fields=LOAN)
    config = db_session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    lead = Lead(
        organization_id=tenant.organization_id,
        campaign_id=tenant.campaign_id,
        phone_number=PHONE,
        status=LeadStatus.NEW,
        lead_type=lead_type.id,
        lead_metadata={"loan": 1},
        received_time=days_ago(1),
        last_event_seq=1,
    )
    db_session.add(lead)
    db_session.flush()

    bad = _decide(
        db_session, config, {"phone_number": PHONE}, Endpoint.upsert, [lead], {"loan": "450,000"}
    )
    good = _decide(
        db_session, config, {"phone_number": PHONE}, Endpoint.upsert, [lead], {"loan": "450000"}
    )

    assert bad.failed and [error.field for error in bad.errors] == ["metadata.loan"]
    assert good.action == EventAction.updated
    assert good.values["lead_metadata"]["loan"] == 450000


def test_a_custom_configs_dangling_default_lead_type_keeps_working(db_session: Session) -> None:
    # Saved before lead types existed: it names no row, and its events still create leads.
    tenant = make_tenant(db_session)
    config = make_config(db_session, tenant.organization_id, tenant.campaign_id, lead_type=3)

    decision = _decide(db_session, config, {"phone_number": PHONE}, Endpoint.upsert)

    assert decision.action == EventAction.created
    assert decision.values["lead_type"] == 3
    assert decision.values["campaign_id"] == tenant.campaign_id


def test_no_lead_types_asked_means_no_query(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    statements: list[str] = []
    from sqlalchemy import event

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    connection = db_session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        found = load_lead_types(db_session, tenant.organization_id, [None], with_default=False)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert found == LeadTypesInPlay() and statements == []
