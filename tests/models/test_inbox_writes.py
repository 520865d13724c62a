"""The inbox's one insert statement: keys claimed with their events, once, whoever races."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models import IdempotencyKey, IngestionEvent
from models.inbox_writes import insert_new_events
from tests.support.at_once import run_at_once
from tests.support.factories import make_tenant, new_event_row

pytestmark = pytest.mark.integration

FIRST_CHECK = dt.timedelta(seconds=120)


def test_two_transactions_racing_with_one_key_store_one_event(
    engine: Engine, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    key = f"race-{uuid.uuid4()}"

    def insert(release: Callable[[], None]) -> set[uuid.UUID]:
        with engine.begin() as connection:
            release()
            return insert_new_events(connection, [new_event_row(tenant, key)], FIRST_CHECK)

    stored = run_at_once(insert)
    assert sorted(len(ids) for ids in stored) == [0, 1]
    (winner,) = set().union(*stored)
    events = committed_session.scalars(
        select(IngestionEvent.id).where(IngestionEvent.idempotency_key == key)
    ).all()
    assert events == [winner]
    assert (
        committed_session.scalar(
            select(IdempotencyKey.event_id).where(IdempotencyKey.idempotency_key == key)
        )
        == winner
    )


def test_a_batch_keeps_its_order_in_seq_and_stores_a_key_it_repeats_once(
    db_session: Session,
) -> None:
    tenant = make_tenant(db_session)
    key = f"twice-{uuid.uuid4()}"
    rows = [
        new_event_row(tenant, None),
        new_event_row(tenant, key),
        new_event_row(tenant, key),
        new_event_row(tenant, None),
    ]
    stored = insert_new_events(db_session.connection(), rows, FIRST_CHECK)
    assert stored == {rows[0]["id"], rows[1]["id"], rows[3]["id"]}
    in_seq_order = db_session.scalars(
        select(IngestionEvent.id)
        .where(IngestionEvent.config_id == tenant.config_id)
        .order_by(IngestionEvent.seq)
    ).all()
    assert in_seq_order == [rows[0]["id"], rows[1]["id"], rows[3]["id"]]
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(IdempotencyKey)
            .where(IdempotencyKey.idempotency_key == key)
        )
        == 1
    )


def test_each_event_is_stored_with_its_first_check_after_its_receipt(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    rows = [new_event_row(tenant, None), new_event_row(tenant, f"checked-{uuid.uuid4()}")]
    insert_new_events(db_session.connection(), rows, dt.timedelta(seconds=45))
    stored = db_session.execute(
        select(IngestionEvent.received_time, IngestionEvent.next_attempt_time).where(
            IngestionEvent.config_id == tenant.config_id
        )
    ).all()
    assert len(stored) == 2
    assert all(
        row.next_attempt_time - row.received_time == dt.timedelta(seconds=45) for row in stored
    )


def test_every_column_is_stored_as_given_whatever_its_bytes(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    body = bytes(range(256)) * 3  # not UTF-8, with NUL bytes: the body travels as base64
    row = {
        **new_event_row(tenant, "clé-ünïcode-\u2603", body),
        "query_string": "name=J%C3%B6rg&note=\u00e9t\u00e9",
        "content_type": "application/octet-stream",
        "is_test": True,
    }
    (stored,) = insert_new_events(db_session.connection(), [row], FIRST_CHECK)
    event = db_session.get(IngestionEvent, stored)
    assert event is not None
    assert event.raw_body == body
    assert (event.idempotency_key, event.query_string, event.content_type, event.is_test) == (
        "clé-ünïcode-\u2603",
        "name=J%C3%B6rg&note=\u00e9t\u00e9",
        "application/octet-stream",
        True,
    )
    assert event.received_time == row["received_time"]
    assert (event.organization_id, event.config_id) == (tenant.organization_id, tenant.config_id)
