"""The inbox's monthly partitions: made ahead (idempotent, concurrent), rows routed, retention."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session

from models import IngestionEvent
from models.base import utcnow
from models.inbox_months import DEFAULT_PARTITION, add_months, month_start, partition_name
from models.inbox_writes import insert_new_events
from models.ingestion_event import event_id_conditions, event_time_range, new_event_id
from tests.support.at_once import run_at_once
from tests.support.factories import Tenant, make_tenant
from tests.support.scratch_database import scratch_database
from tests.support.services import ServiceUrls
from worker.inbox_partitions import drop_expired_partitions, ensure_partitions, inbox_partitions

pytestmark = pytest.mark.integration

UTC = dt.UTC


@pytest.fixture
def scratch(services: ServiceUrls) -> Iterator[Engine]:
    """An engine on a database of this test's own: partitions made or dropped stay there."""
    with scratch_database(services) as url:
        engine = create_engine(url)
        yield engine
        engine.dispose()


def _tenant(engine: Engine) -> Tenant:
    with Session(engine, expire_on_commit=False) as session:
        tenant = make_tenant(session)
        session.commit()
    return tenant


def _store(
    engine: Engine, tenant: Tenant, received: dt.datetime, key: str | None = None
) -> uuid.UUID:
    event_id = new_event_id(received)
    with engine.begin() as connection:
        insert_new_events(
            connection,
            [
                {
                    "id": event_id,
                    "config_id": tenant.config_id,
                    "organization_id": tenant.organization_id,
                    "endpoint": "upsert",
                    "received_time": received,
                    "content_type": "application/json",
                    "raw_body": b"{}",
                    "query_string": "",
                    "body_sha256": "0" * 64,
                    "idempotency_key": key,
                    "is_test": False,
                }
            ],
            dt.timedelta(seconds=120),
        )
    return event_id


def _partition_of(engine: Engine, event_id: uuid.UUID) -> str:
    with engine.connect() as connection:
        return str(
            connection.scalar(
                text("SELECT tableoid::regclass::text FROM ingestion_events WHERE id = :id"),
                {"id": event_id},
            )
        )


def test_the_migration_makes_this_and_next_months_partition_and_a_default(
    scratch: Engine,
) -> None:
    this_month = month_start(utcnow())
    with Session(scratch) as session:
        names = inbox_partitions(session)
    assert {partition_name(this_month), partition_name(add_months(this_month, 1))} <= names
    assert DEFAULT_PARTITION in names


def test_making_the_partitions_twice_makes_them_once(scratch: Engine) -> None:
    now = dt.datetime(2031, 1, 15, tzinfo=UTC)
    with Session(scratch) as session, session.begin():
        assert ensure_partitions(session, now) == [
            "ingestion_events_y2031m01",
            "ingestion_events_y2031m02",
        ]
    with Session(scratch) as session, session.begin():
        assert ensure_partitions(session, now) == []
        assert {"ingestion_events_y2031m01", "ingestion_events_y2031m02"} <= inbox_partitions(
            session
        )


def test_two_workers_making_the_partitions_at_once_make_each_once(scratch: Engine) -> None:
    now = dt.datetime(2032, 5, 3, tzinfo=UTC)

    def run(release: Callable[[], None]) -> list[str]:
        with Session(scratch) as session, session.begin():
            release()
            return ensure_partitions(session, now)

    made = run_at_once(run)
    assert sorted(name for names in made for name in names) == [
        "ingestion_events_y2032m05",
        "ingestion_events_y2032m06",
    ]


def test_an_event_on_a_months_last_millisecond_and_the_next_months_first_land_apart(
    scratch: Engine,
) -> None:
    with Session(scratch) as session, session.begin():
        ensure_partitions(session, dt.datetime(2031, 3, 1, tzinfo=UTC))
    tenant = _tenant(scratch)
    last = _store(scratch, tenant, dt.datetime(2031, 3, 31, 23, 59, 59, 999000, tzinfo=UTC))
    first = _store(scratch, tenant, dt.datetime(2031, 4, 1, tzinfo=UTC))
    assert _partition_of(scratch, last) == "ingestion_events_y2031m03"
    assert _partition_of(scratch, first) == "ingestion_events_y2031m04"


def test_rows_in_the_default_partition_move_into_their_months_new_partition(
    scratch: Engine,
) -> None:
    tenant = _tenant(scratch)
    stray = _store(scratch, tenant, dt.datetime(2033, 3, 9, tzinfo=UTC), key="k")
    assert _partition_of(scratch, stray) == DEFAULT_PARTITION
    with Session(scratch) as session, session.begin():
        ensure_partitions(session, dt.datetime(2033, 3, 10, tzinfo=UTC))
    assert _partition_of(scratch, stray) == "ingestion_events_y2033m03"
    with scratch.connect() as connection:
        # The moved row keeps its seq and every index still finds it.
        found = connection.execute(
            text("SELECT id FROM ingestion_events WHERE config_id = :c AND idempotency_key = 'k'"),
            {"c": tenant.config_id},
        ).scalar_one()
    assert found == stray


def test_retention_drops_exactly_the_months_older_than_the_kept_ones(scratch: Engine) -> None:
    with Session(scratch) as session, session.begin():
        for month in range(1, 7):
            ensure_partitions(session, dt.datetime(2035, month, 1, tzinfo=UTC), months_ahead=0)
    tenant = _tenant(scratch)
    old = _store(scratch, tenant, dt.datetime(2035, 2, 28, 23, 0, tzinfo=UTC))
    kept = _store(scratch, tenant, dt.datetime(2035, 3, 1, tzinfo=UTC))
    now = dt.datetime(2035, 6, 14, tzinfo=UTC)
    with Session(scratch) as session, session.begin():
        before = inbox_partitions(session)
        dropped = drop_expired_partitions(session, now, retention_months=3)
    # June and the three full months before it (March to May) stay; February and earlier go.
    assert "ingestion_events_y2035m02" in dropped
    assert all(name < "ingestion_events_y2035m03" for name in dropped)
    assert DEFAULT_PARTITION not in dropped
    with Session(scratch) as session:
        after = inbox_partitions(session)
        assert after == before - set(dropped)
        assert {f"ingestion_events_y2035m{month:02d}" for month in range(3, 7)} <= after
        assert drop_expired_partitions(session, now, retention_months=3) == []
        assert drop_expired_partitions(session, now, retention_months=0) == []
    with scratch.connect() as connection:
        ids = set(connection.execute(text("SELECT id FROM ingestion_events")).scalars())
    assert kept in ids and old not in ids


def test_an_id_carries_its_receive_time_and_a_read_by_id_reads_one_partition(
    scratch: Engine,
) -> None:
    with Session(scratch) as session, session.begin():
        for month in range(1, 7):
            ensure_partitions(session, dt.datetime(2036, month, 1, tzinfo=UTC), months_ahead=0)
    received = dt.datetime(2036, 3, 14, 15, 9, 26, 535000, tzinfo=UTC)
    event_id = new_event_id(received)
    span = event_time_range(event_id)
    assert span is not None and span[0] < received < span[1]
    statement = select(IngestionEvent.id).where(
        *event_id_conditions(IngestionEvent.id, IngestionEvent.received_time, event_id)
    )
    with scratch.connect() as connection:
        compiled = statement.compile(scratch, compile_kwargs={"literal_binds": True})
        plan = "\n".join(connection.exec_driver_sql(f"EXPLAIN {compiled}").scalars())
    assert re.findall(r"on (ingestion_events_\w+)", plan) == ["ingestion_events_y2036m03"], plan
