"""B8 the inbox at scale: the claim, the sweep, the events list and one event's read over N events.

The inbox is filled with ``COPY`` (bench.inbox_load), not through the API, and kept for the
next run; the queries are measured in a spawned process (bench.inbox_queries) against it.
Target: p99 under 20 ms for each, with 5,000,000 events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

import psycopg

from bench import inbox_load
from bench.inbox_queries import TARGET_P99_MS, Probe, measure
from bench.inbox_rows import InboxShape
from bench.stack import BenchDatabase, Servers

# The server settings that decide how much of the inbox stays in memory.
SERVER_SETTINGS = ("shared_buffers", "effective_cache_size", "work_mem", "random_page_cost")

# Partitions, bytes with indexes and TOAST, heap bytes; the table is bound as %(table)s.
_LEAF_SIZES = (
    "SELECT count(*) FILTER (WHERE level > 0), sum(pg_total_relation_size(relid)),"  # noqa: S608 - constants
    f" sum(pg_relation_size(relid)) FROM {inbox_load.LEAF_RELATIONS}"
)


@dataclass
class InboxPlan:
    """The inbox's size, whether to rebuild or keep it, and how often each query runs."""

    events: int = 5_000_000
    configs: int = 20
    rebuild: bool = False
    # Kept for the next run unless told otherwise (the tests drop theirs).
    keep: bool = True
    # Appended to the database's name: a test's database is never a run's.
    label: str = ""
    warmup: int = 20
    repeats: int = 300


def database_for(servers: Servers, plan: InboxPlan) -> BenchDatabase:
    """B8's database for the plan's size: one per size, so sizes do not evict each other."""
    name = f"leadgate_bench_b8_{plan.events}{plan.label}"
    return BenchDatabase(servers.database_server_url, name)


def _reusable(database: BenchDatabase, plan: InboxPlan, head: str) -> dict[str, Any] | None:
    if plan.rebuild:
        return None
    meta = inbox_load.build_meta(database)
    if meta is None or meta.get("events") != plan.events or meta.get("head") != head:
        return None
    # The comment is written last, but a migration run by hand since would change the schema.
    return meta if inbox_load.applied_revision(database) == head else None


def _make_partitions(database: BenchDatabase, shape: InboxShape, built: dt.datetime) -> None:
    # The service makes each month's partition as the month comes (worker.inbox_partitions);
    # rows of past months copied into a young inbox would all land in the default partition.
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from worker.inbox_partitions import ensure_partitions

    first = built - dt.timedelta(days=31 * (shape.months + 1))
    engine = create_engine(database.sqlalchemy_url)
    try:
        with Session(engine) as session, session.begin():
            ensure_partitions(session, first, months_ahead=shape.months + 3)
    finally:
        engine.dispose()


def _build(
    database: BenchDatabase, plan: InboxPlan, head: str, say: Callable[[str], None]
) -> dict[str, Any]:
    from models.migrate import upgrade_database

    database.drop()
    with psycopg.connect(database.server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database.name}"')
    upgrade_database(database.sqlalchemy_url)
    tenant = inbox_load.create_tenant(database.sqlalchemy_url, plan.configs)
    built = dt.datetime.now(dt.UTC)
    shape = InboxShape(plan.events, configs=plan.configs)
    _make_partitions(database, shape, built)
    say(f"B8: copying {plan.events:,} events into {database.name}")
    copied = inbox_load.copy_inbox(database.url, shape, tenant, built, say)
    say(f"B8: copied in {copied['copy_s']} s; VACUUM (ANALYZE)")
    meta = {
        "events": plan.events,
        "head": head,
        "built": built.isoformat(),
        "organization_id": tenant.organization_id,
        **copied,
        "vacuum_analyze_s": inbox_load.vacuum_analyze(database.url),
    }
    inbox_load.record_meta(database, meta)
    return meta


def table_facts(database_url: str) -> dict[str, Any]:
    """Rows, leaf partitions (0 when not partitioned) and bytes of the inbox and its indexes."""
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT count(*) FROM ingestion_events").fetchone()
        sizes = connection.execute(_LEAF_SIZES, {"table": inbox_load.EVENTS_TABLE}).fetchone()
        default = connection.execute(
            "SELECT to_regclass('ingestion_events_default') IS NOT NULL"
        ).fetchone()
        in_default = (
            connection.execute("SELECT count(*) FROM ingestion_events_default").fetchone()
            if default and default[0]
            else None
        )
        side = inbox_load.idempotency_table(connection)
        side_bytes = None
        if side is not None:
            found = connection.execute(_LEAF_SIZES, {"table": side}).fetchone()
            side_bytes = int(found[1]) if found and found[1] is not None else None
        settings = {
            name: connection.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in SERVER_SETTINGS
        }
    assert rows is not None and sizes is not None
    partitions, total, heap = sizes
    return {
        "rows": rows[0],
        "partitions": partitions,
        # Rows no month's partition took: none when the months were made ahead, as they are.
        "default_partition_rows": None if in_default is None else in_default[0],
        "table_and_indexes_mb": round(int(total) / 2**20),
        "heap_mb": round(int(heap) / 2**20),
        "idempotency_table": side,
        "idempotency_table_mb": None if side_bytes is None else round(side_bytes / 2**20),
        "server_settings": settings,
    }


def run(servers: Servers, plan: InboxPlan, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Fill (or reuse) the inbox, then time each query; the figures and the build's."""
    database = database_for(servers, plan)
    head = inbox_load.migration_head(database.sqlalchemy_url)
    meta = _reusable(database, plan, head)
    reused = meta is not None
    if meta is None:
        meta = _build(database, plan, head, say)
    else:
        say(f"B8: reusing {database.name} (built {meta['built']}; --b8-rebuild to build afresh)")
    try:
        token = inbox_load.new_token(database.sqlalchemy_url, meta["organization_id"])
        facts = table_facts(database.url)
        probe = Probe(
            database.url, servers.redis_url, database.sqlalchemy_url, token, meta["built"],
            plan.repeats, plan.warmup,
        )  # fmt: skip
        # A process of its own: the settings, engine and app read the B8 database from the
        # environment, as a deployment's do, without touching this process's.
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            measured = pool.submit(measure, probe).result()
    finally:
        if not plan.keep:
            database.drop()
    return {
        "events": plan.events,
        "database": database.name,
        "reused": reused,
        "build": {key: meta.get(key) for key in
                  ("built", "copy_s", "copy_rows_per_s", "vacuum_analyze_s", "idempotency_rows")},
        **facts,
        "target_p99_ms": TARGET_P99_MS,
        **measured,
        "all_met": all(query["met"] for query in measured["queries"].values()),
    }  # fmt: skip
