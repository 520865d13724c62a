"""Release jobs: a held config's events run one at a time in receive order, then the hold lifts."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import worker.attempts
import worker.release_jobs
from models import IngestionConfig, IngestionEvent, Lead, ReplayJob
from models.base import utcnow
from models.enums import EventAction, EventStatus
from models.replay_job import ReplayJobStatus
from tests.support.factories import Tenant, make_event, make_tenant
from worker.configs import Author
from worker.health.holds import DRIFT, MANUAL, hold_config
from worker.ingest.claims import claim_events
from worker.release_jobs import (
    advance_release_job,
    batch_steps,
    is_release_job,
    start_release,
    stop_release,
)
from worker.replay_jobs import cancel_replay_job

PHONE = {"fields": {"phone_number": "contact.phone", "email": "contact.email"}}
RECHECK = 120.0
ABANDONED_AFTER = 120.0


def _body(number: int) -> dict[str, Any]:
    # The same person each time: the order decides the lead's final email.
    return {"contact": {"phone": "2024561111", "email": f"v{number}@example.com"}}


def _held_tenant(session: Session) -> Tenant:
    tenant = make_tenant(session, PHONE, held=True, held_reason=MANUAL)
    session.commit()
    return tenant


def _start(session: Session, tenant: Tenant) -> uuid.UUID:
    config = session.get_one(IngestionConfig, tenant.config_id, with_for_update=True)
    job, started = start_release(session, config, Author.cli_user(), ABANDONED_AFTER)
    session.commit()
    assert started
    return job.id


def _run(job_id: uuid.UUID, limit: int = 10) -> int:
    """Advance the job until it has nothing more to do; how many chunks that took."""
    for chunks in range(1, limit + 1):
        if not advance_release_job(job_id, lambda *_: None, RECHECK):
            return chunks
    raise AssertionError(f"release job {job_id} still running after {limit} chunks")


def _events(session: Session, ids: list[uuid.UUID]) -> list[IngestionEvent]:
    session.expire_all()
    return [session.get_one(IngestionEvent, event_id) for event_id in ids]


def test_hold_is_kept_once_with_its_first_reason(committed_session: Session) -> None:
    tenant = make_tenant(committed_session)
    config = committed_session.get_one(IngestionConfig, tenant.config_id)
    assert hold_config(config, DRIFT) and not hold_config(config)
    assert (config.held, config.held_reason) == (True, DRIFT)


def test_a_release_applies_held_events_in_receive_order_then_lifts_the_hold(
    committed_session: Session,
) -> None:
    tenant = _held_tenant(committed_session)
    config = committed_session.get_one(IngestionConfig, tenant.config_id)
    config.drift_alarm = {"reasons": ["missing_path"]}
    ids = [
        make_event(committed_session, tenant, _body(n), status=EventStatus.held).id
        for n in range(4)
    ]
    committed_session.commit()

    job_id = _start(committed_session, tenant)
    config = committed_session.get_one(IngestionConfig, tenant.config_id)
    # Still held while the job walks, so newer events wait behind the older ones.
    assert (config.held, config.drift_alarm) == (True, None)

    assert _run(job_id) == 1

    events = _events(committed_session, ids)
    assert [event.status for event in events] == [EventStatus.done] * 4
    assert [event.action for event in events] == [
        EventAction.created, EventAction.updated, EventAction.updated, EventAction.updated,
    ]  # fmt: skip
    lead = committed_session.get_one(Lead, events[0].lead_id)
    assert lead.email == "v3@example.com"
    config = committed_session.get_one(IngestionConfig, tenant.config_id)
    assert (config.held, config.held_reason, config.held_time) == (False, None, None)
    job = committed_session.get_one(ReplayJob, job_id)
    assert is_release_job(job)
    assert (job.status, job.total, job.done) == (ReplayJobStatus.done, 4, 4)
    assert job.by_action == {"update": 3, "create": 1}
    assert job.filter == {"config": str(tenant.config_id), "status": ["held"]}


def test_events_parked_during_a_release_are_walked_after_the_older_ones(
    committed_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = _held_tenant(committed_session)
    first = make_event(committed_session, tenant, _body(0), status=EventStatus.held).id
    committed_session.commit()
    job_id = _start(committed_session, tenant)
    late: list[uuid.UUID] = []
    attempt = worker.attempts.attempt_event

    def attempt_while_one_arrives(event_id: uuid.UUID, **options: Any) -> Any:
        if not late:
            # A payload arrives and is parked while the release runs its first event.
            with Session(committed_session.get_bind()) as other:
                late.append(make_event(other, tenant, _body(1), status=EventStatus.queued).id)
                other.commit()
                assert claim_events(other, late[0], 60.0, max_attempts=8) == []
                other.commit()
        return attempt(event_id, **options)

    monkeypatch.setattr(worker.release_jobs, "attempt_event", attempt_while_one_arrives)

    # The first chunk finds the late event held when it would lift the hold: one more chunk.
    assert advance_release_job(job_id, lambda *_: None, RECHECK) is True
    assert committed_session.get_one(IngestionConfig, tenant.config_id).held is True
    assert _run(job_id) == 1

    events = _events(committed_session, [first, *late])
    assert [(event.status, event.action) for event in events] == [
        (EventStatus.done, EventAction.created), (EventStatus.done, EventAction.updated),
    ]  # fmt: skip
    committed_session.expire_all()
    assert committed_session.get_one(IngestionConfig, tenant.config_id).held is False
    job = committed_session.get_one(ReplayJob, job_id)
    assert (job.status, job.total, job.done) == (ReplayJobStatus.done, 2, 2)


@pytest.mark.parametrize("how", ["cancel", "hold again"])
def test_a_cancelled_release_leaves_the_rest_held_and_the_config_held(
    committed_session: Session, how: str
) -> None:
    tenant = _held_tenant(committed_session)
    event = make_event(committed_session, tenant, _body(0), status=EventStatus.held)
    committed_session.commit()
    job_id = _start(committed_session, tenant)
    if how == "cancel":
        cancel_replay_job(committed_session, job_id)
    else:
        stopped = stop_release(committed_session, tenant.config_id)
        assert stopped is not None and stopped.id == job_id
        assert stop_release(committed_session, tenant.config_id) is None
    committed_session.commit()

    assert advance_release_job(job_id, lambda *_: None, RECHECK) is False

    assert _events(committed_session, [event.id])[0].status == EventStatus.held
    assert committed_session.get_one(IngestionConfig, tenant.config_id).held is True


def test_a_second_release_answers_with_the_one_under_way_unless_it_stopped_moving(
    committed_session: Session,
) -> None:
    tenant = _held_tenant(committed_session)
    job_id = _start(committed_session, tenant)
    config = committed_session.get_one(IngestionConfig, tenant.config_id, with_for_update=True)
    again, started = start_release(committed_session, config, Author.cli_user(), ABANDONED_AFTER)
    committed_session.commit()
    assert (again.id, started) == (job_id, False)

    # Its worker died: nothing moved for longer than the limit, so a new job takes over.
    job = committed_session.get_one(ReplayJob, job_id)
    job.modified_time = utcnow() - dt.timedelta(seconds=ABANDONED_AFTER + 1)
    committed_session.commit()
    config = committed_session.get_one(IngestionConfig, tenant.config_id, with_for_update=True)
    taken_over, started = start_release(
        committed_session, config, Author.cli_user(), ABANDONED_AFTER
    )
    committed_session.commit()
    assert started and taken_over.id != job_id
    committed_session.expire_all()
    old = committed_session.get_one(ReplayJob, job_id)
    assert old.status == ReplayJobStatus.failed and "taken over" in (old.error or "")
    # The old job's chunk task, should it come back, stops at once.
    assert advance_release_job(job_id, lambda *_: None, RECHECK) is False


def test_a_release_takes_over_what_a_dead_release_worker_left_in_receive_order(
    committed_session: Session,
) -> None:
    """A chunk whose worker died leaves events queued, or processing under a lapsed lease."""
    tenant = _held_tenant(committed_session)
    lapsed = utcnow() - dt.timedelta(seconds=5)
    ids = [
        make_event(committed_session, tenant, _body(0), status=EventStatus.queued,
                   next_attempt_time=utcnow() + dt.timedelta(seconds=RECHECK)).id,
        make_event(committed_session, tenant, _body(1), status=EventStatus.processing,
                   attempts=1, next_attempt_time=lapsed).id,
        make_event(committed_session, tenant, _body(2), status=EventStatus.held).id,
    ]  # fmt: skip
    committed_session.commit()
    dead = committed_session.get_one(ReplayJob, _start(committed_session, tenant))
    dead.last_seq = committed_session.get_one(IngestionEvent, ids[1]).seq
    dead.modified_time = utcnow() - dt.timedelta(seconds=ABANDONED_AFTER + 1)
    committed_session.commit()

    _run(_start(committed_session, tenant))

    events = _events(committed_session, ids)
    assert [(event.status, event.action) for event in events] == [
        (EventStatus.done, EventAction.created),
        (EventStatus.done, EventAction.updated),
        (EventStatus.done, EventAction.updated),
    ]
    leads = committed_session.scalars(
        select(Lead).where(Lead.organization_id == tenant.organization_id)
    ).all()
    assert [lead.email for lead in leads] == ["v2@example.com"]


def test_only_the_releases_own_claim_runs_an_event_of_a_held_config(
    committed_session: Session,
) -> None:
    tenant = _held_tenant(committed_session)
    parked = make_event(committed_session, tenant, _body(0))
    released = make_event(committed_session, tenant, _body(1))
    committed_session.commit()
    assert claim_events(committed_session, parked.id, 60.0, max_attempts=8) == []
    claims = claim_events(committed_session, released.id, 60.0, max_attempts=8, releasing=True)
    committed_session.commit()
    assert [claim.event_id for claim in claims] == [released.id]
    statuses = [event.status for event in _events(committed_session, [parked.id, released.id])]
    assert statuses == [EventStatus.held, EventStatus.processing]


def test_an_event_tried_before_its_hold_splits_the_batches_and_keeps_its_place(
    committed_session: Session,
) -> None:
    tenant = _held_tenant(committed_session)
    ids = [
        make_event(committed_session, tenant, _body(0), status=EventStatus.held).id,
        # Tried twice before it was parked: never batched, so the ones after it wait for it.
        make_event(committed_session, tenant, _body(1), status=EventStatus.held, attempts=2).id,
        make_event(committed_session, tenant, _body(2), status=EventStatus.held).id,
        make_event(committed_session, tenant, _body(3), status=EventStatus.held).id,
    ]
    committed_session.commit()

    _run(_start(committed_session, tenant))

    events = _events(committed_session, ids)
    assert [(event.status, event.action) for event in events] == [
        (EventStatus.done, EventAction.created),
        (EventStatus.done, EventAction.updated),
        (EventStatus.done, EventAction.updated),
        (EventStatus.done, EventAction.updated),
    ]
    assert [event.attempts for event in events] == [1, 3, 1, 1]
    lead = committed_session.get_one(Lead, events[0].lead_id)
    assert lead.email == "v3@example.com"


def test_each_step_batches_only_the_fresh_run_after_it() -> None:
    def row(seq: int, attempts: int = 0, status: EventStatus = EventStatus.held) -> Any:
        return SimpleNamespace(id=uuid.UUID(int=seq), seq=seq, attempts=attempts, status=status)

    rows = [row(1), row(2), row(3, attempts=2), row(4), row(5, status=EventStatus.processing)]
    steps = [(step.event_id.int, step.up_to_seq) for step in batch_steps(rows)]
    assert steps == [(1, 2), (2, 2), (3, 4), (4, 4), (5, 5)]
