"""Every index of the inbox serves a query of the service, shown by the planner (EXPLAIN).

Each insert pays for every index whose predicate the new row meets, so an index stays only
while a query uses it. Sequential scans are switched off so that a small test table still shows
which index the planner would use for each query; a query no index could serve would fail here.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import cast

import pytest
from sqlalchemy import Connection, Engine, Table, text
from sqlalchemy.orm import Session

from models import IngestionEvent
from models.inbox_writes import insert_new_events
from tests.support.factories import Tenant, make_tenant, new_event_row
from tests.support.plans import fill_inbox, with_parent_index_names

pytestmark = pytest.mark.integration

# Each index and the query that needs it: the statement is the shape the code runs.
USERS: dict[str, str] = {
    # One event by id (the events API, the claim of a message's event), pruned by its time.
    "pk_ingestion_events": "SELECT * FROM ingestion_events WHERE id = "
    "'00000000-0000-7000-8000-000000000001'::uuid AND received_time >= now() - interval '1 day'"
    " AND received_time < now() + interval '1 day'",
    # Receive order (leads.last_event_seq compares with it; replay plans walk it).
    "ix_ingestion_events_seq": "SELECT id FROM ingestion_events WHERE seq = 42",
    # The events list's idempotency_key filter (worker.event_search).
    "ix_ingestion_events_config_id_idempotency_key": "SELECT id FROM ingestion_events "
    "WHERE config_id = :config AND idempotency_key = 'k'",
    # The raw-body retention: done events still holding their bodies (worker.inbox_retention).
    "ix_ingestion_events_received_time_unpurged_done": "SELECT id FROM ingestion_events "
    "WHERE status = 'done' AND raw_body_purged_time IS NULL "
    "AND received_time < now() - interval '30 days' ORDER BY received_time LIMIT 500",
    # The sweeper: unfinished events that are due (worker.sweeper).
    "ix_ingestion_events_status_next_attempt_time": "SELECT id FROM ingestion_events "
    "WHERE status IN ('queued', 'processing', 'retrying') AND status = 'processing' "
    "AND next_attempt_time < now()",
    # The events list filtered by receive time within an organization (worker.event_search).
    "ix_ingestion_events_organization_id_received_time": "SELECT id FROM ingestion_events "
    "WHERE organization_id = :organization AND received_time >= now() - interval '1 day' "
    "AND received_time < now()",
    # The events list filtered by lead (worker.event_search), and deleting a lead (its FK).
    "ix_ingestion_events_lead_id": "SELECT id FROM ingestion_events WHERE lead_id = 7",
    # Deleting an expired test lead (worker.test_leads): the PATCH events naming it, and its FK.
    "ix_ingestion_events_target_lead_id": "SELECT id FROM ingestion_events "
    "WHERE target_lead_id = 7",
    # The events list by config and status failed (worker.event_search), page and count; rows
    # enter it only when they fail or die.
    "ix_ingestion_events_config_id_status_seq_failed_or_dead": "SELECT id FROM ingestion_events "
    "WHERE organization_id = :organization AND config_id = :config AND status IN ('failed') "
    "AND status <> 'done' ORDER BY seq DESC LIMIT 50",
    # leadgate status: events received in the last hour, all organizations (a BRIN index).
    "ix_ingestion_events_received_time_brin": "SELECT status, count(*) FROM ingestion_events "
    "WHERE received_time >= now() - interval '1 hour' GROUP BY status",
    # The events list's keyset pages (webhook.keyset).
    "ix_ingestion_events_organization_id_seq": "SELECT id FROM ingestion_events "
    "WHERE organization_id = :organization AND seq < 1000000 ORDER BY seq DESC LIMIT 50",
    # payload_contains (worker.event_search).
    "ix_ingestion_events_payload": "SELECT id FROM ingestion_events "
    """WHERE payload @> '{"a": 1}'::jsonb""",
    # The batch claim: a config's oldest fresh events (worker.ingest.claims, worker.wakeups).
    "ix_ingestion_events_config_id_seq_fresh": "SELECT id FROM ingestion_events "
    "WHERE config_id = :config AND status = 'queued' AND attempts = 0 "
    "ORDER BY seq LIMIT 32",
    # A config's stats over a window (worker.health.stats).
    "ix_ingestion_events_config_id_received_time": "SELECT status, count(*) "
    "FROM ingestion_events WHERE config_id = :config "
    "AND received_time >= now() - interval '1 hour' GROUP BY status",
    # The events list by status (worker.event_search), page and count: all but done events.
    "ix_ingestion_events_organization_id_status_seq_not_done": "SELECT id FROM ingestion_events "
    "WHERE organization_id = :organization AND status IN ('dead') AND status <> 'done' "
    "ORDER BY seq DESC LIMIT 50",
    # Releasing a held config: its held events in receive order (worker.release_jobs); a new
    # row never enters it, so it costs the insert nothing.
    "ix_ingestion_events_config_id_seq_held": "SELECT id FROM ingestion_events "
    "WHERE config_id = :config AND status = 'held' ORDER BY seq LIMIT 500",
}


def _plans(engine: Engine, tenant: Tenant, others: Tenant) -> dict[str, str]:
    """Each statement's plan on a filled inbox, asked for ``tenant``; everything is rolled back."""
    values = {"config": tenant.config_id, "organization": tenant.organization_id}
    with engine.connect() as connection:
        # The organization asked about holds a small share of the inbox, as most do.
        fill_inbox(connection, values, rows=2_000, spacing=600)
        other = {"config": others.config_id, "organization": others.organization_id}
        fill_inbox(connection, other, rows=50_000, spacing=10)
        connection.execute(text("ANALYZE ingestion_events"))
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        plans = {
            index: with_parent_index_names(
                connection,
                "\n".join(connection.execute(text("EXPLAIN " + statement), values).scalars().all()),
            )
            for index, statement in USERS.items()
        }
        connection.rollback()
    return plans


def test_every_index_of_the_inbox_has_a_query_that_uses_it(
    engine: Engine, committed_session: Session
) -> None:
    tenant, others = make_tenant(committed_session), make_tenant(committed_session)
    committed_session.commit()
    with engine.connect() as connection:
        indexes = set(
            connection.execute(
                text("SELECT indexname FROM pg_indexes WHERE tablename = 'ingestion_events'")
            ).scalars()
        )
    assert indexes == set(USERS), "an index was added or dropped: say which query uses it"
    for index, plan in _plans(engine, tenant, others).items():
        # "Index Scan using IX", "Index Only Scan using IX" or "Bitmap Index Scan on IX".
        assert re.search(rf" (using|on) {index} ", plan), (index, plan)


def test_the_model_declares_the_same_indexes() -> None:
    declared = {index.name for index in cast(Table, IngestionEvent.__table__).indexes}
    assert declared <= set(USERS)


# Each index of the inbox and its size, all partitions together.
_INDEX_SIZES = text(
    "SELECT parent.relname, sum(pg_relation_size(child.oid)) FROM pg_inherits"
    " JOIN pg_class child ON child.oid = pg_inherits.inhrelid"
    " JOIN pg_class parent ON parent.oid = pg_inherits.inhparent"
    " WHERE parent.relkind = 'I' AND parent.relname LIKE '%ingestion_events%'"
    " GROUP BY parent.relname"
)


def _index_sizes(connection: Connection) -> dict[str, int]:
    return {name: size for name, size in connection.execute(_INDEX_SIZES)}


# Indexes a new event must not write to: it has no lead and no parsed payload yet, and the
# receive-time BRIN index takes the newest pages only when they are summarized (by VACUUM).
_UNTOUCHED_BY_NEW_EVENTS = (
    "ix_ingestion_events_lead_id",
    "ix_ingestion_events_payload",
    "ix_ingestion_events_received_time_brin",
)


def test_new_events_write_nothing_to_the_lead_payload_and_receive_time_indexes(
    engine: Engine, committed_session: Session
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    with engine.connect() as connection:
        before = _index_sizes(connection)
        for _ in range(10):
            rows = [new_event_row(tenant, body=b'{"phone": "+15555550100"}') for _ in range(300)]
            insert_new_events(connection, rows, dt.timedelta(seconds=120))
        after = _index_sizes(connection)
        connection.rollback()
    grown = [index for index in _UNTOUCHED_BY_NEW_EVENTS if after[index] != before[index]]
    assert grown == []
    # The same 3,000 inserts grew the indexes every event enters.
    assert after["ix_ingestion_events_seq"] > before["ix_ingestion_events_seq"]
    assert after["pk_ingestion_events"] > before["pk_ingestion_events"]
