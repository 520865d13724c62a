"""An organization's overview counts its own events only, by window, status and hour."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from models.enums import EventStatus
from tests.support.factories import make_event, make_tenant
from worker.inbox_overview import config_activity, hourly_outcomes, queue_state

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 1, 15, 12, 30, tzinfo=dt.UTC)


def test_counts_by_window_status_and_hour(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    other = make_tenant(db_session)
    minutes_ago = {
        EventStatus.done: [5, 90, 200],
        EventStatus.failed: [10],
        EventStatus.dead: [3000],  # more than a day ago
        EventStatus.queued: [20],
        EventStatus.held: [30, 3000],
    }
    for status, ages in minutes_ago.items():
        for age in ages:
            make_event(
                db_session, tenant, status=status, received_time=NOW - dt.timedelta(minutes=age)
            )
    make_event(db_session, other, status=EventStatus.failed, received_time=NOW)

    [activity] = config_activity(db_session, tenant.organization_id, NOW)
    hour = {"accepted": 4, "done": 1, "failed": 1, "dead": 0, "held": 1}
    assert activity.windows["hour"] == hour
    assert activity.windows["day"] == {"accepted": 6, "done": 3, "failed": 1, "dead": 0, "held": 1}
    assert activity.held is False and activity.drift_alarm is None
    assert activity.held_events == 2  # held now, the one from two days ago too

    queue = queue_state(db_session, tenant.organization_id, NOW)
    assert queue.depth == 1 and queue.oldest_pending_seconds == 20 * 60

    hours = hourly_outcomes(db_session, tenant.organization_id, NOW)
    assert len(hours) == 24 and hours[-1].start == dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC)
    assert (hours[-1].done, hours[-1].failed) == (1, 1)  # 12:25 done, 12:20 failed
    assert sum(hour.done for hour in hours) == 3
    assert sum(hour.failed for hour in hours) == 1


def test_an_organization_without_events_is_all_zero(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    [activity] = config_activity(db_session, tenant.organization_id, NOW)
    assert activity.windows["day"]["accepted"] == 0
    assert queue_state(db_session, tenant.organization_id, NOW).oldest_pending_seconds is None
