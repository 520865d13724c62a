"""Event ids are UUIDv7: time-ordered, so the inbox's primary key grows at one edge."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from models import IngestionEvent
from models.ingestion_event import (
    event_time_bounds,
    events_id_conditions,
    events_time_bounds,
    new_event_id,
)


def test_event_ids_are_version_7_and_ordered_by_creation() -> None:
    ids = [new_event_id() for _ in range(1_000)]
    assert all(type(event_id) is uuid.UUID and event_id.version == 7 for event_id in ids)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_a_batch_of_ids_spans_their_receive_times_and_a_random_id_spans_all_time() -> None:
    early = dt.datetime(2026, 1, 31, 23, 59, tzinfo=dt.UTC)
    late = dt.datetime(2026, 2, 2, 8, 0, tzinfo=dt.UTC)
    low, high = events_time_bounds([new_event_id(late), new_event_id(early)])
    assert low <= early < late < high
    assert (low, high) == (event_time_bounds(new_event_id(early))[0],
                           event_time_bounds(new_event_id(late))[1])  # fmt: skip
    everything = events_time_bounds([new_event_id(early), uuid.uuid4()])
    assert everything[0] < dt.datetime(1000, 1, 1, tzinfo=dt.UTC)
    assert everything[1] > dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
    assert events_time_bounds([]) == everything


def test_a_statement_finding_events_by_id_reads_the_same_for_any_number_of_them() -> None:
    # One array parameter: the text, and so every cache keyed by it, does not grow with the ids.
    def compiled(count: int) -> tuple[str, dict[str, object]]:
        ids = [new_event_id() for _ in range(count)]
        statement = select(IngestionEvent.id).where(
            *events_id_conditions(IngestionEvent.id, IngestionEvent.received_time, ids)
        )
        sql = statement.compile(dialect=postgresql.psycopg.dialect())
        return str(sql), sql.params

    (few, _), (many, many_values) = compiled(3), compiled(300)
    assert few == many
    assert "= ANY (" in few
    assert sorted(len(v) for v in many_values.values() if isinstance(v, list)) == [300]
