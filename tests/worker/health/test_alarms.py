"""The drift alarm on a config: raised once (holding a hold_on_drift config), cleared once."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.orm import Session

from models import IngestionConfig
from models.base import utcnow
from tests.support.factories import make_tenant
from worker.health.alarms import clear_alarm, raise_alarm
from worker.health.drift import FAILURE_RATE, MISSING_PATH, DriftFinding, PathDrift
from worker.health.holds import DRIFT, MANUAL

FINDING = DriftFinding(
    reasons=(MISSING_PATH, FAILURE_RATE),
    paths=(PathDrift("contact.phone", 0.98, 0.3),),
    failure_share=0.3,
    recent_events=50,
    baseline_events=400,
)


def _config(session: Session, config_id: object) -> IngestionConfig:
    session.expire_all()
    return session.get_one(IngestionConfig, config_id)


@pytest.mark.parametrize(
    ("options", "held", "reason"),
    [
        ({"hold_on_drift": True}, True, DRIFT),
        ({}, False, None),
        # A config an operator held stays held for the operator's reason.
        ({"held": True, "held_reason": MANUAL, "held_time": utcnow()}, True, MANUAL),
    ],
)
def test_raising_records_the_finding_and_holds_only_a_hold_on_drift_config(
    db_session: Session,
    caplog: pytest.LogCaptureFixture,
    options: dict[str, object],
    held: bool,
    reason: str | None,
) -> None:
    tenant = make_tenant(db_session, {"fields": {"phone_number": "contact.phone"}}, **options)
    with caplog.at_level(logging.INFO, logger="worker.health"):
        assert raise_alarm(db_session, tenant.config_id, FINDING)
        assert not raise_alarm(db_session, tenant.config_id, FINDING)  # once
    config = _config(db_session, tenant.config_id)
    alarm = config.drift_alarm
    assert alarm is not None
    assert alarm["reasons"] == [MISSING_PATH, FAILURE_RATE] and "raised_time" in alarm
    assert alarm["paths"] == [
        {"path": "contact.phone", "baseline_share": 0.98, "recent_missing_share": 0.3}
    ]
    assert (config.held, config.held_reason, config.held_time is not None) == (held, reason, held)
    raised = [r for r in caplog.records if getattr(r, "change", None) == "drift_raised"]
    assert len(raised) == 1 and raised[0].__dict__["paths"] == ["contact.phone"]


def test_clearing_takes_the_alarm_off_and_leaves_the_hold(
    db_session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = make_tenant(db_session, hold_on_drift=True)
    raise_alarm(db_session, tenant.config_id, FINDING)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="worker.health"):
        assert clear_alarm(db_session, tenant.config_id)
        assert not clear_alarm(db_session, tenant.config_id)
    config = _config(db_session, tenant.config_id)
    assert (config.drift_alarm, config.held) == (None, True)
    assert [getattr(r, "change", None) for r in caplog.records] == ["drift_cleared"]
