"""The inbox's partial indexes: the migrated predicates are the conditions the statements state."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import pytest
from sqlalchemy import Connection, Table, event, text
from sqlalchemy.orm import Session

from models import IngestionEvent
from models.enums import EventStatus
from models.ingestion_event import (
    FAILED_OR_DEAD_EVENTS,
    FRESH_EVENTS,
    NOT_DONE_EVENTS,
    UNFINISHED_EVENTS,
)
from tests.support.factories import make_event, make_tenant
from tests.support.leads import days_ago
from worker.event_search import EventFilter
from worker.ingest.claims import claim_events
from worker.replay_plan import count_matching
from worker.sweeper import claim_due_events

_READS_EVENTS = re.compile(r"\bFROM ingestion_events\b")
_LIVE_INDEX = text(
    "SELECT indexdef FROM pg_indexes WHERE tablename = 'ingestion_events' AND indexname = :name"
)


def _live_predicate(connection: Connection, index_name: str) -> str:
    indexdef = connection.scalar(_LIVE_INDEX, {"name": index_name})
    assert indexdef is not None, f"no index {index_name} in the migrated database"
    _, where, predicate = indexdef.partition(" WHERE ")
    assert where, f"{index_name} is not a partial index: {indexdef}"
    return predicate


def _as_postgres_writes_it(session: Session, condition: str) -> str:
    """The condition as PostgreSQL writes back an index predicate (a throwaway index, undone)."""
    connection = session.connection()
    with session.begin_nested() as probe:
        connection.execute(
            text(f"CREATE INDEX ix_probe ON ingestion_events (config_id) WHERE {condition}")
        )
        predicate = _live_predicate(connection, "ix_probe")
        probe.rollback()
    return predicate


def _model_condition(index_name: str) -> str:
    table = cast(Table, IngestionEvent.__table__)
    index = next(index for index in table.indexes if index.name == index_name)
    return str(index.dialect_options["postgresql"]["where"])


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    """Every SQL statement the session's connection sends meanwhile, as sent."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(connection, "before_cursor_execute", record)


def _claim_a_batch(session: Session) -> Callable[[], object]:
    tenant = make_tenant(session)
    first, _ = (make_event(session, tenant) for _ in range(2))
    return lambda: claim_events(session, first.id, lease_seconds=60, max_attempts=8, batch_size=2)


def _sweep(session: Session) -> Callable[[], object]:
    tenant = make_tenant(session)
    for age in (2, 1):  # the newer one is taken to be the message waiting in the broker
        make_event(session, tenant, received_time=days_ago(age))
    return lambda: claim_due_events(session, stuck_after_seconds=60, waiting_in_broker=1)


def _count_failed(session: Session) -> Callable[[], object]:
    tenant = make_tenant(session)
    make_event(session, tenant, status=EventStatus.failed)
    wanted = EventFilter(statuses=(EventStatus.failed,))
    return lambda: count_matching(session, tenant.organization_id, wanted)


@pytest.mark.parametrize(
    ("index_name", "condition"),
    [
        ("ix_ingestion_events_config_id_seq_fresh", FRESH_EVENTS),
        ("ix_ingestion_events_status_next_attempt_time", UNFINISHED_EVENTS),
        ("ix_ingestion_events_config_id_status_seq_failed_or_dead", FAILED_OR_DEAD_EVENTS),
        ("ix_ingestion_events_organization_id_status_seq_not_done", NOT_DONE_EVENTS),
    ],
    ids=["fresh", "unfinished", "failed or dead", "not done"],
)
def test_each_partial_index_is_built_on_its_condition(
    db_session: Session, index_name: str, condition: str
) -> None:
    # The drift check leaves predicates alone, and the migrations spell them out again: compare
    # the migrated index with the condition as PostgreSQL itself normalizes it.
    assert _model_condition(index_name) == condition
    live = _live_predicate(db_session.connection(), index_name)
    assert live == _as_postgres_writes_it(db_session, condition)


@pytest.mark.parametrize(
    ("index_name", "condition", "prepare"),
    [
        ("ix_ingestion_events_config_id_seq_fresh", FRESH_EVENTS, _claim_a_batch),
        ("ix_ingestion_events_status_next_attempt_time", UNFINISHED_EVENTS, _sweep),
        (
            "ix_ingestion_events_organization_id_status_seq_not_done",
            NOT_DONE_EVENTS,
            _count_failed,
        ),
    ],
    ids=["batch claim", "sweep", "events by status"],
)
def test_the_statements_state_their_index_condition_as_constants(
    db_session: Session,
    index_name: str,
    condition: str,
    prepare: Callable[[Session], Callable[[], object]],
) -> None:
    # A prepared statement's generic plan uses a partial index only when the query states its
    # predicate without parameters: the statements that look for events (rather than update
    # the ones found, by id) must carry the condition verbatim.
    run = prepare(db_session)
    with _statements(db_session) as sent:
        assert run()  # it found something: the statements below are the ones that look
    looking = [statement for statement in sent if _READS_EVENTS.search(statement)]
    assert len(looking) >= 1, f"no statement looked for events: {sent}"
    for statement in looking:
        assert condition in statement, statement
    live = _live_predicate(db_session.connection(), index_name)
    assert live == _as_postgres_writes_it(db_session, condition)
