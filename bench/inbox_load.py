"""B8's database: migrated, one organization with its configs, the inbox filled with ``COPY``.

Filling millions of rows takes minutes, so the database is kept (``leadgate_bench_b8_<N>``) and
reused while it holds a complete build of N events at the migrations' current head; a build
that stopped half way, another head (a new migration), or ``rebuild`` start it afresh. The rows
are copied by the live table's column names, and the idempotency side table, when the schema
has one, is filled for the keyed events from the same values, so the benchmark follows the
schema rather than one version of it.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import psycopg
from psycopg import sql

from bench.inbox_rows import InboxShape, inbox_rows
from bench.stack import BenchDatabase

EVENTS_TABLE = "ingestion_events"
# The relations that hold a table's rows, as a FROM item: its leaf partitions, or the table itself
# when it is not partitioned (pg_partition_tree has no rows for a plain table). psycopg's
# parameter style: the table's name is bound as %(table)s.
LEAF_RELATIONS = """(
    SELECT relid, level FROM pg_partition_tree(CAST(%(table)s AS regclass)) WHERE isleaf
    UNION ALL SELECT CAST(%(table)s AS regclass), 0
    WHERE NOT EXISTS (SELECT FROM pg_partition_tree(CAST(%(table)s AS regclass)))
) AS leaves"""
# Rows per COPY statement and transaction: progress is committed, and no transaction is huge.
CHUNK_ROWS = 50_000


@dataclass
class Tenant:
    """The organization the inbox belongs to, its configs and a token of its own."""

    organization_id: int
    config_ids: list[uuid.UUID]
    token: str


@dataclass(frozen=True)
class LiveColumn:
    """A column of the live table, and whether a row may leave it out."""

    name: str
    optional: bool


def migration_head(sqlalchemy_url: str) -> str:
    """The newest revision of the project's migrations."""
    from alembic.script import ScriptDirectory

    from models.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(sqlalchemy_url)).get_current_head()
    assert head is not None
    return head


def live_columns(connection: psycopg.Connection[Any], table: str) -> list[LiveColumn]:
    """The table's columns in order; optional when nullable, defaulted, identity or generated."""
    rows = connection.execute(
        "SELECT column_name, is_nullable = 'YES' OR column_default IS NOT NULL"
        " OR is_identity = 'YES' OR is_generated <> 'NEVER'"
        " FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [LiveColumn(name, optional) for name, optional in rows]


def columns_to_copy(live: list[LiveColumn], known: Iterable[str], table: str) -> list[str]:
    """The live columns a generated row has values for; an unknown required column is an error."""
    known = set(known)
    missing = [column.name for column in live if column.name not in known and not column.optional]
    if missing:
        raise RuntimeError(
            f"{table} has required column(s) {', '.join(missing)} that bench/inbox_rows.py"
            " does not generate; add them there"
        )
    return [column.name for column in live if column.name in known]


def idempotency_table(connection: psycopg.Connection[Any]) -> str | None:
    """The idempotency side table's name, when the schema keeps keys apart from the events."""
    row = connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        " AND table_name LIKE %s ORDER BY table_name LIMIT 1",
        ("%idempotenc%",),
    ).fetchone()
    return row[0] if row else None


def side_values(event: dict[str, Any]) -> dict[str, Any]:
    """A keyed event's values under the names an idempotency table is likely to give them."""
    return {
        **event,
        "event_id": event["id"],
        "event_received_time": event["received_time"],
        "created_time": event["received_time"],
    }


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _copy(
    connection: psycopg.Connection[Any], table: str, columns: list[str], rows: list[dict[str, Any]]
) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with connection.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])


def copy_inbox(
    database_url: str,
    shape: InboxShape,
    tenant: Tenant,
    built: dt.datetime,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """COPY the events (and their idempotency keys, if kept apart) in chunks; rows/s and seconds."""
    rows = inbox_rows(shape, tenant.organization_id, tenant.config_ids, built)
    started = time.perf_counter()
    copied = keys = 0
    with psycopg.connect(database_url) as connection:
        side = idempotency_table(connection)
        columns: list[str] = []
        side_columns: list[str] = []
        for chunk in _chunks(rows, CHUNK_ROWS):
            if not columns:
                live = live_columns(connection, EVENTS_TABLE)
                columns = columns_to_copy(live, chunk[0], EVENTS_TABLE)
                if side is not None:
                    side_live = live_columns(connection, side)
                    side_columns = columns_to_copy(side_live, side_values(chunk[0]), side)
            _copy(connection, EVENTS_TABLE, columns, chunk)
            if side is not None:
                keyed = [side_values(row) for row in chunk if row["idempotency_key"] is not None]
                _copy(connection, side, side_columns, keyed)
                keys += len(keyed)
            connection.commit()
            copied += len(chunk)
            if copied % (CHUNK_ROWS * 20) == 0:
                rate = copied / (time.perf_counter() - started)
                say(f"B8: {copied:,} events copied, {rate:,.0f}/s")
    seconds = time.perf_counter() - started
    return {
        "copied": copied,
        "idempotency_table": side,
        "idempotency_rows": keys,
        "copy_s": round(seconds, 1),
        "copy_rows_per_s": round(copied / seconds) if seconds else None,
    }


def vacuum_analyze(database_url: str) -> float:
    """VACUUM (ANALYZE) the whole database, as autovacuum would have by then; the seconds."""
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
    return round(time.perf_counter() - started, 1)


def create_tenant(sqlalchemy_url: str, configs: int) -> Tenant:
    """An organization, a campaign, a lead type and ``configs`` configs, as the CLI makes them."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from bench.payloads import NESTED_MAPPING
    from leadgate.cli import lead_type_records, records

    engine = create_engine(sqlalchemy_url)
    try:
        with Session(engine) as session, session.begin():
            organization = records.create_organization(session, "bench-b8")
            _, token = records.create_token(session, organization.id, "bench-b8")
            campaign = records.create_campaign(session, organization.id, "bench-b8")
            lead_type = lead_type_records.create_lead_type(
                session,
                organization.id,
                lead_type_records.LeadTypeOptions(name="bench-b8", campaign_id=campaign.id),
            )
            config_ids = [
                records.create_config(
                    session,
                    campaign.id,
                    records.ConfigOptions(
                        name=f"provider {number}", mapping=NESTED_MAPPING, lead_type=lead_type.id
                    ),
                ).id
                for number in range(configs)
            ]
            return Tenant(organization.id, config_ids, token)
    finally:
        engine.dispose()


def new_token(sqlalchemy_url: str, organization_id: int) -> str:
    """A fresh token of the organization (a reused database's token was shown once, then lost)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from leadgate.cli import records

    engine = create_engine(sqlalchemy_url)
    try:
        with Session(engine) as session, session.begin():
            return records.create_token(session, organization_id, "bench-b8")[1]
    finally:
        engine.dispose()


def build_meta(database: BenchDatabase) -> dict[str, Any] | None:
    """What a complete build recorded on the database; None when it does not exist or is partial."""
    with psycopg.connect(database.server_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (database.name,),
        ).fetchone()
    if row is None or not row[0]:
        return None
    try:
        meta: dict[str, Any] = json.loads(row[0])
    except ValueError:
        return None
    return meta


def record_meta(database: BenchDatabase, meta: dict[str, Any]) -> None:
    """Mark the build complete: read back by ``build_meta`` on the next run."""
    with psycopg.connect(database.url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(database.name), sql.Literal(json.dumps(meta))
            )
        )


def applied_revision(database: BenchDatabase) -> str | None:
    """The migration revision the database is at."""
    with psycopg.connect(database.url) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None
