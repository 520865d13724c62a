"""Raw bodies of old done events are purged in bounded batches; failed and dead ones keep theirs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models import IdempotencyKey, IngestionEvent
from models.base import utcnow
from models.enums import EventStatus
from models.inbox_months import add_months, month_start, partition_name
from tests.support.factories import make_event, make_tenant
from worker.inbox_partitions import inbox_partitions
from worker.inbox_retention import prune_idempotency_keys, purge_raw_bodies
from worker.tasks import maintain_inbox

pytestmark = pytest.mark.integration


def test_only_old_done_events_lose_their_bodies_a_batch_at_a_time(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    # Long before any other test's events, which a shared database may hold: the batches count
    # this test's rows only.
    now = dt.datetime(2001, 3, 1, tzinfo=dt.UTC)
    old = now - dt.timedelta(days=40)
    done = [
        make_event(
            db_session,
            tenant,
            b'{"a": 1}',
            status=EventStatus.done,
            received_time=old - dt.timedelta(minutes=n),
        )
        for n in range(3)
    ]
    failed = make_event(
        db_session, tenant, b'{"f": 1}', status=EventStatus.failed, received_time=old
    )
    dead = make_event(db_session, tenant, b'{"d": 1}', status=EventStatus.dead, received_time=old)
    recent = make_event(db_session, tenant, b'{"r": 1}', status=EventStatus.done, received_time=now)
    cutoff = now - dt.timedelta(days=30)

    assert purge_raw_bodies(db_session, cutoff, now, limit=2) == 2
    assert purge_raw_bodies(db_session, cutoff, now, limit=2) == 1
    assert purge_raw_bodies(db_session, cutoff, now, limit=2) == 0
    db_session.expire_all()
    for event in done:
        assert event.raw_body == b"" and event.raw_body_purged_time == now
    for event, body in ((failed, b'{"f": 1}'), (dead, b'{"d": 1}'), (recent, b'{"r": 1}')):
        assert event.raw_body == body and event.raw_body_purged_time is None


def test_idempotency_keys_past_the_window_are_pruned(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    now = utcnow()
    for key, age in (("old", 8), ("fresh", 6)):
        received = now - dt.timedelta(days=age)
        db_session.add(
            IdempotencyKey(
                config_id=tenant.config_id,
                idempotency_key=key,
                event_id=make_event(db_session, tenant, received_time=received).id,
                received_time=received,
                body_sha256="0" * 64,
            )
        )
    db_session.flush()
    assert prune_idempotency_keys(db_session, now) == 1
    left = db_session.scalars(
        select(IdempotencyKey.idempotency_key).where(IdempotencyKey.config_id == tenant.config_id)
    ).all()
    assert left == ["fresh"]
    assert db_session.scalar(
        select(IngestionEvent.id).where(IngestionEvent.config_id == tenant.config_id).limit(1)
    )


def test_the_maintenance_task_keeps_this_and_next_months_partitions(engine: Engine) -> None:
    assert maintain_inbox.run() == 0  # LEADGATE_RAW_BODY_RETENTION_DAYS is unset: nothing purged
    this_month = month_start(utcnow())
    with Session(engine) as session:
        names = inbox_partitions(session)
    assert {partition_name(this_month), partition_name(add_months(this_month, 1))} <= names
