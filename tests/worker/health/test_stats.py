"""The stats' and the release's queries go through the indexes made for them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from models import IngestionConfig, QuarantinedIdentifier
from models.base import utcnow
from models.enums import EventAction, EventStatus
from tests.support.factories import make_event, make_tenant
from tests.support.plans import fill_inbox, with_parent_index_names
from worker.health.stats import (
    _FAILED_FIELDS,
    _LATENCY,
    _OUTCOMES,
    _QUARANTINE_WARNING,
    UnknownWindow,
    config_stats,
    window_seconds,
)
from worker.ingest.fan_in import FanIn, FanInRule, judge_fan_in
from worker.release_jobs import HELD_PAGE


def _plan(session: Session, statement: Any, values: dict[str, object]) -> str:
    # The tables of a test database are small enough for a scan to win; asked to avoid one, the
    # planner shows which index the query can use at all.
    session.execute(text("SET LOCAL enable_seqscan = off"))
    if isinstance(statement, TextClause):
        rows = list(session.execute(text("EXPLAIN " + statement.text), values))
    else:
        compiled = str(statement.compile(session.get_bind()))
        rows = list(session.connection().exec_driver_sql("EXPLAIN " + compiled, values))
    return with_parent_index_names(session.connection(), "\n".join(row[0] for row in rows))


@pytest.mark.parametrize("with_test", [False, True])
@pytest.mark.parametrize("query", [_OUTCOMES, _FAILED_FIELDS, _LATENCY])
def test_a_stats_query_reads_the_configs_receive_time_index(
    db_session: Session, query: TextClause, with_test: bool
) -> None:
    # Other configs' events, with statistics: on an empty table every index costs the same.
    others = make_tenant(db_session)
    connection = db_session.connection()
    tenant = {"config": others.config_id, "organization": others.organization_id}
    fill_inbox(connection, tenant, rows=50_000, spacing=10)
    connection.execute(text("ANALYZE ingestion_events"))
    since = utcnow() - dt.timedelta(hours=1)
    values = {
        "config_id": uuid.uuid4(),
        "since": since,
        "quarantine_warning": _QUARANTINE_WARNING,
        "with_test": with_test,
    }
    plan = _plan(db_session, query, values)
    # A config's events by receive time; its failed ones (the failed fields) may as well come
    # from the index of its failed events, one range of them in each month the window reads.
    wanted = {"ix_ingestion_events_config_id_received_time"}
    if query is _FAILED_FIELDS:
        wanted.add("ix_ingestion_events_config_id_status_seq_failed_or_dead")
    assert any(index in plan for index in wanted), plan


def test_a_release_reads_the_held_events_index(db_session: Session) -> None:
    plan = _plan(db_session, HELD_PAGE, {"of_config": uuid.uuid4(), "limit": 200})
    assert "ix_ingestion_events_config_id_seq_held" in plan, plan


def test_windows() -> None:
    assert [window_seconds(name) for name in ("1h", "24h", "7d")] == [3600, 86400, 604800]
    with pytest.raises(UnknownWindow, match="window must be one of 1h, 24h, 7d; got '1d'"):
        window_seconds("1d")


def _quarantine_warning(phone: str) -> dict[str, str]:
    """The warning the worker itself writes for an event that gave a quarantined phone."""
    values = {"external_id": "x", "phone_number": phone}
    verdict = judge_fan_in(
        values, FanIn(quarantined=[("phone_number", phone)]), FanInRule(), utcnow()
    )
    [warning] = verdict.warnings
    return warning


def test_the_stats_show_the_organizations_quarantine_masked(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    other = make_tenant(db_session)
    phones = [f"+1202456{1100 + index}" for index in range(7)]
    for phone in phones:
        db_session.add(
            QuarantinedIdentifier(
                organization_id=tenant.organization_id, kind="phone_number", value=phone,
                claimants=6,
            )
        )  # fmt: skip
    db_session.add(
        QuarantinedIdentifier(
            organization_id=other.organization_id, kind="email", value="desk@acme.io", claimants=9
        )
    )
    done: dict[str, Any] = {"status": EventStatus.done, "action": EventAction.created}
    make_event(db_session, tenant, **done, warnings=[_quarantine_warning(phones[0])])
    make_event(
        db_session, tenant, **done, warnings=[{"field": "email", "reason": "something else"}]
    )
    make_event(db_session, tenant, **done)
    config = db_session.get_one(IngestionConfig, tenant.config_id)

    stats = config_stats(db_session, None, config, "1h")

    quarantine = stats["quarantine"]
    assert (quarantine["identifiers"], quarantine["warned_events"]) == (7, 1)
    assert len(quarantine["latest"]) == 5
    # Newest first, masked, and no full value where the CLI and the console read it.
    assert [entry["kind"] for entry in quarantine["latest"]] == ["phone_number"] * 5
    assert all("value" not in entry for entry in quarantine["latest"])
    shown = str(quarantine)
    assert "2024561" not in shown and all("+•" in entry["masked"] for entry in quarantine["latest"])
    revealed = config_stats(db_session, None, config, "1h", reveal_values=True)["quarantine"]
    assert [entry["value"] for entry in revealed["latest"]] == phones[::-1][:5]
