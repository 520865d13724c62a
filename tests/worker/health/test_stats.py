"""The stats' and the release's queries go through the indexes made for them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from models.base import utcnow
from worker.health.stats import _FAILED_FIELDS, _LATENCY, _OUTCOMES, UnknownWindow, window_seconds
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
    return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize("with_test", [False, True])
@pytest.mark.parametrize("query", [_OUTCOMES, _FAILED_FIELDS, _LATENCY])
def test_a_stats_query_reads_the_configs_receive_time_index(
    db_session: Session, query: TextClause, with_test: bool
) -> None:
    since = utcnow() - dt.timedelta(hours=1)
    values = {"config_id": uuid.uuid4(), "since": since, "with_test": with_test}
    plan = _plan(db_session, query, values)
    assert "ix_ingestion_events_config_id_received_time" in plan, plan


def test_a_release_reads_the_held_events_index(db_session: Session) -> None:
    plan = _plan(db_session, HELD_PAGE, {"of_config": uuid.uuid4(), "limit": 200})
    assert "ix_ingestion_events_config_id_seq_held" in plan, plan


def test_windows() -> None:
    assert [window_seconds(name) for name in ("1h", "24h", "7d")] == [3600, 86400, 604800]
    with pytest.raises(UnknownWindow, match="window must be one of 1h, 24h, 7d; got '1d'"):
        window_seconds("1d")
