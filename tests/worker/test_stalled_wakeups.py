"""The sweep finds configs whose fresh events have outlived their wake-up, reading few rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from models.base import utcnow
from models.enums import EventStatus
from tests.support.factories import Tenant, make_event, make_tenant
from tests.support.plans import fill_inbox, with_parent_index_names
from worker.wakeups import _STALLED_CONFIGS, stalled_configs

pytestmark = pytest.mark.integration

WINDOW = dt.timedelta(seconds=5)


def _event(session: Session, tenant: Tenant, age: float, **values: Any) -> None:
    make_event(session, tenant, received_time=utcnow() - dt.timedelta(seconds=age), **values)


def test_a_config_is_stalled_when_its_oldest_fresh_event_outlived_the_wake_up(
    db_session: Session,
) -> None:
    stalled, recent, retried_only, finished = (make_tenant(db_session) for _ in range(4))
    _event(db_session, stalled, age=30)
    _event(db_session, stalled, age=1)
    # Its wake-up is still within the pending window: nothing lost yet.
    _event(db_session, recent, age=1)
    # Tried events have a message or a lease of their own; the sweeper's other checks own them.
    _event(db_session, retried_only, age=300, attempts=1)
    _event(db_session, retried_only, age=300, status=EventStatus.processing, attempts=1)
    _event(db_session, finished, age=300, status=EventStatus.done, attempts=1)

    found = set(stalled_configs(db_session, utcnow() - WINDOW))

    assert stalled.config_id in found
    assert not {recent.config_id, retried_only.config_id, finished.config_id} & found


def test_the_stalled_configs_are_found_through_the_fresh_events_index(
    engine: Engine, committed_session: Session
) -> None:
    tenants = [make_tenant(committed_session) for _ in range(3)]
    committed_session.commit()
    with engine.connect() as connection:
        # Mostly done events with a few fresh ones per config, as on a real inbox.
        for tenant in tenants:
            values = {"config": tenant.config_id, "organization": tenant.organization_id}
            fill_inbox(connection, values, rows=20_000, spacing=10)
        connection.execute(text("ANALYZE ingestion_events"))
        # As in tests/models/test_inbox_indexes.py: this month's partition is small here, and the
        # empty next month's and default partitions are scanned whole at no cost.
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        found = set(
            connection.execute(_STALLED_CONFIGS, {"received_before": utcnow() - WINDOW}).scalars()
        )
        plan = with_parent_index_names(
            connection,
            "\n".join(
                connection.execute(
                    text("EXPLAIN " + str(_STALLED_CONFIGS)),
                    {"received_before": utcnow() - WINDOW},
                ).scalars()
            ),
        )
        connection.rollback()
    assert {tenant.config_id for tenant in tenants} <= found
    assert "ix_ingestion_events_config_id_seq_fresh" in plan, plan
    assert "Seq Scan" not in plan, plan
