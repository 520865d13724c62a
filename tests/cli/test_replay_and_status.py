"""``leadgate replay`` and ``leadgate status`` against the test database and a real worker."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent
from models.enums import EventStatus
from tests.cli.conftest import Invoke
from tests.support.factories import Tenant, make_event, make_tenant
from tests.support.processes import ServiceProcess


def _event(session: Session, tenant: Tenant, status: EventStatus, body: dict) -> IngestionEvent:
    return make_event(session, tenant, body, status=status, attempts=3)


def _status(session: Session, event_id: uuid.UUID) -> EventStatus:
    return _reread(session, event_id).status


def _reread(session: Session, event_id: uuid.UUID) -> IngestionEvent:
    session.expire_all()
    event = session.get(IngestionEvent, event_id)
    assert event is not None
    return event


def test_replay_by_status_and_config_prints_each_id(
    invoke: Invoke, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    other = make_tenant(committed_session)
    failed = _event(committed_session, tenant, EventStatus.failed, {})
    dead = _event(committed_session, tenant, EventStatus.dead, {})
    done = _event(committed_session, tenant, EventStatus.done, {})
    elsewhere = _event(committed_session, other, EventStatus.failed, {})
    committed_session.commit()
    result = invoke("replay", "--status", "failed", "--config", str(tenant.config_id), "--no-wait")
    assert result.stdout.split() == [str(failed.id)]
    # The session's worker may already be processing the requeued event: the replay's own mark
    # is its replay time, and the others keep theirs untouched.
    assert _reread(committed_session, failed.id).replayed_time is not None
    assert _status(committed_session, dead.id) == EventStatus.dead
    assert _reread(committed_session, dead.id).replayed_time is None
    assert _status(committed_session, done.id) == EventStatus.done
    assert _status(committed_session, elsewhere.id) == EventStatus.failed
    again = invoke("replay", str(dead.id), "--no-wait")
    assert again.stdout.split() == [str(dead.id)]
    assert _reread(committed_session, dead.id).replayed_time is not None


def test_replay_refuses_a_done_event_and_unknown_ids(
    invoke: Invoke, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    done = _event(committed_session, tenant, EventStatus.done, {})
    committed_session.commit()
    refused = invoke("replay", str(done.id), exit_code=1)
    assert "apply it twice" in refused.stderr
    assert refused.stdout == ""
    missing = invoke("replay", str(uuid.uuid4()), exit_code=1)
    assert "no event" in missing.stderr
    mixed = invoke("replay", str(done.id), "--status", "dead", exit_code=2)
    assert "not both" in mixed.stderr


def test_replay_without_ids_or_a_filter_refuses(invoke: Invoke, committed_session: Session) -> None:
    tenant = make_tenant(committed_session)
    failed = _event(committed_session, tenant, EventStatus.failed, {})
    committed_session.commit()

    refused = invoke("replay", exit_code=2)

    assert "--all replays every failed and dead event of every config" in refused.stderr
    assert refused.stdout == ""
    assert _status(committed_session, failed.id) == EventStatus.failed
    assert "--all" in invoke("replay", "--help").stdout
    both = invoke("replay", "--all", "--config", str(tenant.config_id), exit_code=2)
    assert "give it no filters" in both.stderr


def test_replay_all_replays_every_config(invoke: Invoke, committed_session: Session) -> None:
    tenant, other = make_tenant(committed_session), make_tenant(committed_session)
    failed = _event(committed_session, tenant, EventStatus.failed, {})
    dead = _event(committed_session, other, EventStatus.dead, {})
    committed_session.commit()

    replayed = invoke("replay", "--all", "--no-wait").stdout.split()

    assert {str(failed.id), str(dead.id)} <= set(replayed)
    assert _reread(committed_session, failed.id).replayed_time is not None
    assert _reread(committed_session, dead.id).replayed_time is not None


def test_replay_since_takes_a_span(invoke: Invoke, committed_session: Session) -> None:
    tenant = make_tenant(committed_session)
    failed = _event(committed_session, tenant, EventStatus.failed, {})
    committed_session.commit()

    config = ("--config", str(tenant.config_id), "--no-wait")
    assert invoke("replay", "--since", "1h", *config).stdout.split() == [str(failed.id)]
    assert "is not a span like 30m" in invoke("replay", "--since", "soon", exit_code=2).stderr


def test_replay_reports_events_still_pending_when_the_wait_runs_out(
    invoke: Invoke, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    failed = _event(committed_session, tenant, EventStatus.failed, {})
    committed_session.commit()

    # No time to wait: the event was only just queued, so it is still pending.
    result = invoke("replay", str(failed.id), "--timeout", "0", exit_code=1)

    assert result.stdout.split() == [str(failed.id)]
    assert "pending    1" in result.stderr
    assert "1 still pending after 0 s" in result.stderr


@pytest.mark.integration
def test_replay_waits_and_reports_outcomes_by_action_and_error(
    invoke: Invoke, committed_session: Session, celery_worker: ServiceProcess
) -> None:
    tenant = make_tenant(committed_session, {"fields": {"phone_number": "tel"}})
    fixed = _event(committed_session, tenant, EventStatus.dead, {"tel": "(202) 456-1111"})
    broken = [_event(committed_session, tenant, EventStatus.failed, {"tel": ""}) for _ in range(2)]
    committed_session.commit()

    result = invoke("replay", "--config", str(tenant.config_id), "--timeout", "30", exit_code=1)

    assert set(result.stdout.split()) == {str(fixed.id), *(str(event.id) for event in broken)}
    report = result.stderr
    assert "created    1" in report
    assert "failed     2" in report
    assert "2  phone_number: a phone number is required to create a lead" in report
    assert "2 of 3 replayed events failed again" in report
    assert _status(committed_session, fixed.id) == EventStatus.done


@pytest.mark.integration
def test_replayed_event_is_processed_once_by_the_worker(
    invoke: Invoke, committed_session: Session, celery_worker: ServiceProcess
) -> None:
    tenant = make_tenant(committed_session, {"fields": {"phone_number": "tel"}})
    event = _event(committed_session, tenant, EventStatus.failed, {"tel": "(202) 456-1111"})
    committed_session.commit()
    result = invoke("replay", str(event.id), "--timeout", "30")
    assert "created    1" in result.stderr
    assert _status(committed_session, event.id) == EventStatus.done
    committed_session.expire_all()
    replayed = committed_session.get(IngestionEvent, event.id)
    assert replayed is not None and replayed.attempts == 1 and replayed.lead_id is not None


def test_status_reports_queue_and_dead_letters(invoke: Invoke, committed_session: Session) -> None:
    tenant = make_tenant(committed_session, name="acme-feed")
    _event(committed_session, tenant, EventStatus.queued, {})
    _event(committed_session, tenant, EventStatus.dead, {})
    _event(committed_session, tenant, EventStatus.dead, {})
    committed_session.commit()
    report = json.loads(invoke("status", "--json").stdout)
    assert report["queue_depth"] >= 1
    assert report["pending"]["queued"] >= 1
    assert report["oldest_pending_age_seconds"] is not None
    assert report["last_hour"]["dead"] >= 2
    mine = [row for row in report["dead_by_config"] if row["config"] == str(tenant.config_id)]
    assert mine == [{"config": str(tenant.config_id), "name": "acme-feed", "dead": 2}]
    text = invoke("status").stdout
    assert "queue depth:" in text and "acme-feed" in text
    config = committed_session.get(IngestionConfig, tenant.config_id)
    assert config is not None


def test_status_shows_held_events_per_config(invoke: Invoke, committed_session: Session) -> None:
    tenant = make_tenant(committed_session, name="held-feed", held=True, held_reason="manual")
    for _ in range(3):
        make_event(committed_session, tenant, status=EventStatus.held)
    committed_session.commit()
    report = json.loads(invoke("status", "--json").stdout)
    mine = [row for row in report["held_by_config"] if row["config"] == str(tenant.config_id)]
    assert mine == [{"config": str(tenant.config_id), "name": "held-feed", "held": 3}]
    text = invoke("status").stdout
    assert "held events by config" in text
    assert any("held-feed" in line and line.rstrip().endswith("3") for line in text.splitlines())
