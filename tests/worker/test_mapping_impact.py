"""The impact report: a candidate mapping tried on a config's recent events, compared with what
each of them did, outcome by outcome and field by field; nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent, Lead
from models.enums import EventAction, EventStatus
from tests.support.factories import Tenant, make_event, make_tenant
from tests.support.leads import make_lead
from worker.configs import MappingRefused
from worker.mapping_impact import impact_of_save, mapping_impact, needs_confirmation

SAVED = {"fields": {"phone_number": "contact.phone", "metadata.loan": "loan"}}
EITHER_AS_TEXT = {
    "fields": {
        "phone_number": {"from": ["contact.phone", "contact.mobile"]},
        "metadata.loan": {"from": "loan", "type": "string"},
    }
}


def _done(session: Session, tenant: Tenant, body: dict[str, Any], lead: Lead, action: EventAction):
    return make_event(
        session, tenant, body, status=EventStatus.done, action=action, lead_id=lead.id,
        mapping_version=1,
    )  # fmt: skip


@pytest.fixture
def world(db_session: Session) -> dict[str, Any]:
    tenant = make_tenant(db_session, SAVED)
    first = make_lead(db_session, tenant, phone_number="+12024561111")
    second = make_lead(db_session, tenant, phone_number="+12024563333")
    created = _done(db_session, tenant, {"contact": {"phone": "2024561111"}, "loan": 5},
                    first, EventAction.created)  # fmt: skip
    updated = _done(
        db_session, tenant, {"contact": {"phone": "2024563333", "alt": "2024561111"}},
        second, EventAction.updated,
    )  # fmt: skip
    failed = make_event(
        db_session, tenant, {"contact": {"mobile": "2024562222"}}, status=EventStatus.failed,
        errors=[{"field": "phone_number", "message": "required"}], mapping_version=1,
    )  # fmt: skip
    config = db_session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    return {"config": config, "first": first, "second": second, "created": created,
            "updated": updated, "failed": failed}  # fmt: skip


def test_a_fix_that_reads_both_paths_changes_values_but_fails_nothing(
    db_session: Session, world: dict[str, Any]
) -> None:
    report = mapping_impact(db_session, world["config"], EITHER_AS_TEXT)
    assert report["sample"] == 3 and report["version"] == 2
    assert (report["new_failures"], report["fixed"], report["other_lead"]) == (0, 1, 0)
    assert report["changed_outcomes"] == 1
    # 5 was written as a number; the candidate writes "5": named, on the one lead it touches.
    assert report["changed_fields"] == {"metadata.loan": 1}
    assert report["leads_with_changed_values"] == 1
    [fixed] = report["events"]
    assert (fixed["event"], fixed["before"], fixed["after"]) == (
        str(world["failed"].id), "fail", "create",
    )  # fmt: skip
    assert report["summary"].startswith("v2 changes 1 of 3 outcomes: 1 that failed would now")
    assert "metadata.loan on 1" in report["summary"]
    assert not needs_confirmation(report)


def test_new_failures_and_another_lead_are_named(
    db_session: Session, world: dict[str, Any]
) -> None:
    mobile_only = {"fields": {"phone_number": "contact.mobile", "metadata.loan": "loan"}}
    report = mapping_impact(db_session, world["config"], mobile_only)
    assert report["new_failures"] == 2 and report["failed_fields"] == {"phone_number": 2}
    assert needs_confirmation(report)
    assert "2 would now fail (phone_number: " in report["summary"]

    alternate = {"fields": {"phone_number": "contact.alt"}}
    report = mapping_impact(db_session, world["config"], alternate)
    [moved] = [entry for entry in report["events"] if entry["event"] == str(world["updated"].id)]
    assert (moved["lead_before"], moved["lead_after"]) == (world["second"].id, world["first"].id)
    assert (
        f"1 would update lead {world['first'].id} where it updated lead {world['second'].id}"
        in report["summary"]
    )


def test_the_report_writes_nothing(db_session: Session, world: dict[str, Any]) -> None:
    mapping_impact(db_session, world["config"], EITHER_AS_TEXT)
    assert not db_session.new and not db_session.dirty
    failed = db_session.get(IngestionEvent, world["failed"].id)
    assert failed is not None and failed.status == EventStatus.failed


def test_saving_the_same_mapping_has_no_report_and_a_bad_one_is_refused(
    db_session: Session, world: dict[str, Any]
) -> None:
    assert impact_of_save(db_session, world["config"], SAVED) is None
    with pytest.raises(MappingRefused):
        impact_of_save(db_session, world["config"], {"fields": {"nope": "x"}})
