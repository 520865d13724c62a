"""Matching: key order, external-id authority, tie-breaks, create-endpoint duplicates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from models.enums import MATCH_KEYS
from tests.support.factories import make_tenant
from tests.support.leads import days_ago, make_lead
from worker.ingest.matching import MatchResult, find_duplicate, load_leads, match_for_upsert


def upsert_match(
    session: Session, organization_id: int, values: dict[str, Any], keys: Sequence[str]
) -> MatchResult:
    """Match one payload against the leads it can see, as the pipeline does."""
    leads = load_leads(session, organization_id, [values])
    return match_for_upsert(leads, organization_id, values, keys)


def duplicate_match(session: Session, organization_id: int, values: dict[str, Any]) -> MatchResult:
    """The create endpoint's duplicate for one payload."""
    return find_duplicate(load_leads(session, organization_id, [values]), organization_id, values)


def test_external_id_wins_over_phone(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    by_phone = make_lead(db_session, tenant, phone_number="+12025550101")
    by_external = make_lead(db_session, tenant, phone_number="+12025550199", external_id="X1")
    values = {"external_id": "X1", "phone_number": "+12025550101"}
    result = upsert_match(db_session, tenant.organization_id, values, MATCH_KEYS)
    assert result.lead is by_external
    assert result.matched_by == "external_id"
    assert by_phone.id != by_external.id


def test_config_key_order_is_followed(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    by_phone = make_lead(db_session, tenant, phone_number="+12025550101")
    by_email = make_lead(db_session, tenant, phone_number="+12025550199", email="a@example.com")
    values = {"phone_number": "+12025550101", "email": "a@example.com"}
    email_first = upsert_match(
        db_session, tenant.organization_id, values, ["email", "phone_number"]
    )
    phone_first = upsert_match(
        db_session, tenant.organization_id, values, ["phone_number", "email"]
    )
    assert (email_first.lead, email_first.matched_by) == (by_email, "email")
    assert (phone_first.lead, phone_first.matched_by) == (by_phone, "phone_number")


def test_keys_not_in_config_are_not_used(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    make_lead(db_session, tenant, phone_number="+12025550101")
    result = upsert_match(
        db_session, tenant.organization_id, {"phone_number": "+12025550101"}, ["external_id"]
    )
    assert result.lead is None


def test_differing_external_id_blocks_phone_match_and_warns(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    other = make_lead(db_session, tenant, phone_number="+12025550101", external_id="A1")
    values = {"external_id": "A2", "phone_number": "+12025550101"}
    result = upsert_match(db_session, tenant.organization_id, values, MATCH_KEYS)
    assert result.lead is None
    assert result.warnings == [
        {
            "lead_id": other.id,
            "key": "phone_number",
            "reason": result.warnings[0]["reason"],
        }
    ]
    assert "A1" in result.warnings[0]["reason"] and "A2" in result.warnings[0]["reason"]


def test_lead_without_external_id_matches_by_phone_and_is_not_passed_over(
    db_session: Session,
) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, phone_number="+12025550101", external_id=None)
    values = {"external_id": "NEW", "phone_number": "+12025550101"}
    result = upsert_match(db_session, tenant.organization_id, values, MATCH_KEYS)
    assert result.lead is lead and result.matched_by == "phone_number"
    assert result.warnings == []


def test_tie_goes_to_most_recently_modified_then_highest_id(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    stamp = days_ago(1)
    older = make_lead(db_session, tenant, phone_number="+12025550101", modified_time=days_ago(2))
    low = make_lead(db_session, tenant, phone_number="+12025550101", modified_time=stamp)
    high = make_lead(db_session, tenant, phone_number="+12025550101", modified_time=stamp)
    result = upsert_match(
        db_session, tenant.organization_id, {"phone_number": "+12025550101"}, MATCH_KEYS
    )
    assert result.lead is high
    assert older.id < low.id < high.id
    high.modified_time = stamp - dt.timedelta(seconds=1)
    db_session.flush()
    again = upsert_match(
        db_session, tenant.organization_id, {"phone_number": "+12025550101"}, MATCH_KEYS
    )
    assert again.lead is low


def test_matching_never_crosses_organizations(db_session: Session) -> None:
    mine = make_tenant(db_session)
    theirs = make_tenant(db_session)
    make_lead(db_session, theirs, phone_number="+12025550101", external_id="X")
    values = {"external_id": "X", "phone_number": "+12025550101"}
    assert upsert_match(db_session, mine.organization_id, values, MATCH_KEYS).lead is None
    assert duplicate_match(db_session, mine.organization_id, values).lead is None


def test_duplicate_needs_same_phone_and_same_email(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, phone_number="+12025550101", email="a@example.com")
    org = tenant.organization_id
    same = duplicate_match(
        db_session, org, {"phone_number": "+12025550101", "email": "a@example.com"}
    )
    other_email = duplicate_match(
        db_session, org, {"phone_number": "+12025550101", "email": "b@example.com"}
    )
    no_email = duplicate_match(db_session, org, {"phone_number": "+12025550101"})
    assert same.lead is lead
    assert other_email.lead is None
    assert no_email.lead is None


def test_no_email_on_either_side_counts_as_same(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, phone_number="+12025550101", email=None)
    result = duplicate_match(db_session, tenant.organization_id, {"phone_number": "+12025550101"})
    assert result.lead is lead


def test_duplicate_by_external_id(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    lead = make_lead(db_session, tenant, phone_number="+12025550101", external_id="E")
    result = duplicate_match(
        db_session, tenant.organization_id, {"external_id": "E", "phone_number": "+13125550100"}
    )
    assert (result.lead, result.matched_by) == (lead, "external_id")
