"""B8 at a tiny size: the rows it generates, the copy's column checks, and a whole run.

No timing is asserted: the figures are data, and this machine is shared.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import uuid
from typing import Any

import pytest

from bench import report
from bench.inbox_load import LiveColumn, columns_to_copy
from bench.inbox_queries import timings
from bench.inbox_rows import InboxShape, inbox_rows, uuid7_at
from bench.inbox_scale import InboxPlan, run
from bench.stack import Servers, with_database
from tests.support.services import ServiceUrls

BUILT = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
QUERIES = {
    "claim", "sweep", "list newest", "list status=failed", "list config", "list since 7 days",
    "list config+status=failed", "list payload_contains email", "read one event",
}  # fmt: skip


def _rows(events: int) -> list[dict[str, Any]]:
    configs = [uuid.uuid4() for _ in range(3)]
    return list(inbox_rows(InboxShape(events, configs=3), 7, configs, BUILT))


def test_rows_are_in_receive_order_over_the_months_with_a_fresh_backlog_last() -> None:
    rows = _rows(3_000)
    times = [row["received_time"] for row in rows]
    assert times == sorted(times)
    assert times[0] < BUILT - dt.timedelta(days=150) and times[-1] <= BUILT
    assert len({(moment.year, moment.month) for moment in times}) >= 6
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids)
    statuses = collections.Counter(row["status"] for row in rows)
    assert statuses["done"] > 0.9 * len(rows)
    assert {"failed", "dead", "retrying", "processing", "queued"} <= set(statuses)
    fresh = rows[-InboxShape(3_000).fresh :]
    assert all(row["status"] == "queued" and row["attempts"] == 0 for row in fresh)
    assert all(BUILT - row["received_time"] <= dt.timedelta(minutes=1) for row in fresh)


def test_rows_carry_a_realistic_body_and_some_idempotency_keys() -> None:
    rows = _rows(2_000)
    sizes = [len(row["raw_body"]) for row in rows]
    assert min(sizes) >= 300 and max(sizes) <= 600
    keyed = sum(row["idempotency_key"] is not None for row in rows)
    assert 0.1 * len(rows) < keyed < 0.3 * len(rows)
    done = [row for row in rows if row["status"] == "done"]
    assert all(row["payload"] is not None for row in done)


def test_uuid7_at_carries_the_moment_and_the_version() -> None:
    import random

    made = uuid7_at(BUILT, random.Random(1))
    assert made.version == 7
    assert made.int >> 80 == int(BUILT.timestamp() * 1000)


def test_columns_to_copy_follow_the_live_table() -> None:
    live = [LiveColumn("id", False), LiveColumn("seq", True), LiveColumn("note", True)]
    assert columns_to_copy(live, {"id": 1, "status": "done"}, "t") == ["id"]
    with pytest.raises(RuntimeError, match=r"required column.*partition_key"):
        columns_to_copy([*live, LiveColumn("partition_key", False)], {"id": 1}, "t")


def test_timings_give_percentiles_and_the_verdict() -> None:
    figures = timings([float(n) for n in range(1, 101)], [32] * 100)
    assert (figures["p50_ms"], figures["p99_ms"], figures["max_ms"]) == (50.0, 99.0, 100.0)
    assert not figures["met"] and figures["returned_mean"] == 32
    assert timings([1.0, 2.0], [1, 1])["met"]


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_b8_fills_the_inbox_and_times_every_query(services: ServiceUrls) -> None:
    servers = Servers(with_database(services.database_url, "postgres"), services.redis_url)
    plan = InboxPlan(
        events=2_000, configs=3, rebuild=True, keep=False, warmup=1, repeats=5,
        label=f"_test{os.getpid()}",
    )  # fmt: skip

    result = run(servers, plan, say=lambda _: None)

    assert result["rows"] == 2_000 and not result["reused"]
    assert result["build"]["copy_rows_per_s"] > 0
    # A partition per month the rows span (six months back), as the service would have made.
    assert result["partitions"] >= 7 and result["table_and_indexes_mb"] > 0
    assert result["default_partition_rows"] == 0
    queries = result["queries"]
    assert set(queries) >= QUERIES
    for figures in queries.values():
        assert figures["repeats"] == 5
        assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    # The claim took its event and fresh ones behind it; the sweep found the lost and expired.
    assert queries["claim"]["returned_min"] >= 1 and queries["claim"]["returned_mean"] > 1
    assert queries["sweep"]["returned_min"] >= 1
    for name in ("list newest", "list status=failed", "list config", "list since 7 days"):
        assert queries[name]["returned_min"] > 0, name
    assert queries["list payload_contains email"]["returned_min"] >= 1
    assert queries["read one event"]["returned_min"] == 1
    shown = report.table({"B8": result}, {})
    assert "B8 inbox" in shown and "claim: p50 / p95 / p99 / max ms" in shown
