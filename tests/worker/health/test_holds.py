"""Holds: a held config's events are parked at claim, never swept, until the hold lifts."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent
from models.base import utcnow
from models.enums import EventStatus
from tests.support.factories import make_event, make_tenant
from worker.health.holds import MANUAL
from worker.ingest.claims import claim_events
from worker.release_jobs import lift_hold_if_drained
from worker.sweeper import claim_due_events

LEASE = 60.0


def _claim(session: Session, event_id: uuid.UUID) -> list[uuid.UUID]:
    claims = claim_events(session, event_id, LEASE, max_attempts=8, batch_size=32)
    return [claim.event_id for claim in claims]


def _row(session: Session, event_id: uuid.UUID) -> IngestionEvent:
    session.expire_all()
    return session.get_one(IngestionEvent, event_id)


def test_a_held_configs_event_is_parked_at_claim_without_spending_an_attempt(
    db_session: Session,
) -> None:
    tenant = make_tenant(db_session, held=True, held_reason=MANUAL)
    first, second = make_event(db_session, tenant), make_event(db_session, tenant)

    assert _claim(db_session, first.id) == []
    parked = _row(db_session, first.id)
    assert (parked.status, parked.attempts, parked.next_attempt_time) == (
        EventStatus.held, 0, None,
    )  # fmt: skip
    # Nothing was batched along: the second event waits for its own message.
    assert _row(db_session, second.id).status == EventStatus.queued
    # A retry of a held config's event is parked too, keeping the attempts it spent.
    retrying = make_event(db_session, tenant, status=EventStatus.retrying, attempts=3)
    assert _claim(db_session, retrying.id) == []
    assert (_row(db_session, retrying.id).status, _row(db_session, retrying.id).attempts) == (
        EventStatus.held, 3,
    )  # fmt: skip


def test_the_sweeper_never_picks_held_events(db_session: Session) -> None:
    tenant = make_tenant(db_session, held=True, held_reason=MANUAL)
    long_ago = utcnow() - dt.timedelta(days=1)
    held = make_event(db_session, tenant, status=EventStatus.held, received_time=long_ago)
    lost = make_event(db_session, tenant, received_time=long_ago)
    due = claim_due_events(db_session, stuck_after_seconds=1, limit=10_000)
    assert lost.id in due and held.id not in due


def test_a_claim_while_the_hold_lifts_waits_for_it_and_then_processes(engine: Engine) -> None:
    """The park reads the hold under a share lock: lifting it is waited for, so an event is
    never parked after the release has found nothing left held."""
    with Session(engine) as setup:
        tenant = make_tenant(setup, held=True, held_reason=MANUAL)
        event_id = make_event(setup, tenant).id
        setup.commit()
    claimed: list[list[uuid.UUID]] = []
    with Session(engine) as releasing:
        config = releasing.scalars(
            select(IngestionConfig).where(IngestionConfig.id == tenant.config_id).with_for_update()
        ).one()
        with Session(engine) as claiming:
            claimer = threading.Thread(target=lambda: claimed.append(_claim(claiming, event_id)))
            claimer.start()
            claimer.join(timeout=0.5)
            assert claimer.is_alive(), "the claim did not wait for the release"
            assert lift_hold_if_drained(releasing, config.id)
            releasing.commit()
            claimer.join(timeout=10)
            assert not claimer.is_alive()
            claiming.commit()
    assert claimed == [[event_id]]
    with Session(engine) as check:
        assert check.get_one(IngestionEvent, event_id).status == EventStatus.processing
