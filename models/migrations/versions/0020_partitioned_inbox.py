"""The inbox partitioned by received month; idempotency keys in a table of their own.

Revision ID: 0020_partitioned_inbox
Revises: 0019_history_no_foreign_keys

Upgrade: the old inbox is renamed, a partitioned one takes its name (a partition per month of
its rows, the current and the next month, and a DEFAULT partition), the rows are copied, the
keyed ones fill idempotency_keys, the indexes are built on the parent and seq continues after
the old maximum. Downgrade converts back; a key that two events share (the older one past the
window) is kept on the newest event only, as the old unique index demands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0020_partitioned_inbox"
down_revision: str | None = "0019_history_no_foreign_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQUENCE = "ingestion_events_seq_seq"
# seq carries on after the highest value the rows hold.
_CONTINUE_SEQ = (
    "SELECT setval('ingestion_events_seq_seq',"
    " coalesce((SELECT max(seq) FROM ingestion_events), 0) + 1, false)"
)

# The indexes both shapes share, as of this revision (migrations keep their own copies).
_COMMON_INDEXES = (
    "INDEX ix_ingestion_events_status_next_attempt_time ON ingestion_events (status, next_attempt_time)"
    " WHERE status IN ('queued', 'processing', 'retrying')",
    "INDEX ix_ingestion_events_organization_id_received_time"
    " ON ingestion_events (organization_id, received_time)",
    "INDEX ix_ingestion_events_lead_id ON ingestion_events (lead_id)",
    "INDEX ix_ingestion_events_target_lead_id ON ingestion_events (target_lead_id)"
    " WHERE target_lead_id IS NOT NULL",
    "INDEX ix_ingestion_events_config_id_dead ON ingestion_events (config_id) WHERE status = 'dead'",
    "INDEX ix_ingestion_events_received_time ON ingestion_events (received_time)",
    "INDEX ix_ingestion_events_config_id_received_time ON ingestion_events (config_id, received_time)",
    "INDEX ix_ingestion_events_config_id_seq_held ON ingestion_events (config_id, seq)"
    " WHERE status = 'held'",
    "INDEX ix_ingestion_events_organization_id_seq ON ingestion_events (organization_id, seq)",
    "INDEX ix_ingestion_events_payload ON ingestion_events USING gin (payload jsonb_path_ops)",
    "INDEX ix_ingestion_events_config_id_seq_fresh ON ingestion_events (config_id, seq)"
    " WHERE status = 'queued' AND attempts = 0",
)
_PARTITIONED_INDEXES = (
    "INDEX ix_ingestion_events_config_id_idempotency_key"
    " ON ingestion_events (config_id, idempotency_key) WHERE idempotency_key IS NOT NULL",
    "INDEX ix_ingestion_events_seq ON ingestion_events (seq)",
    "INDEX ix_ingestion_events_received_time_unpurged_done ON ingestion_events (received_time)"
    " WHERE status = 'done' AND raw_body_purged_time IS NULL",
)
_PLAIN_INDEXES = (
    "UNIQUE INDEX uq_ingestion_events_config_id_idempotency_key"
    " ON ingestion_events (config_id, idempotency_key) WHERE idempotency_key IS NOT NULL",
)
_FOREIGN_KEYS = (
    ("config_id", "ingestion_configs"),
    ("organization_id", "organizations"),
    ("lead_id", "leads"),
    ("target_lead_id", "leads"),
)


def _month_start(moment: dt.datetime) -> dt.date:
    utc = moment.astimezone(dt.UTC)
    return dt.date(utc.year, utc.month, 1)


def _next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _create_month_partition(month: dt.date) -> None:
    # As worker.inbox_partitions names and bounds them: a calendar month in UTC.
    op.execute(
        f"CREATE TABLE ingestion_events_y{month.year:04d}m{month.month:02d}"
        " PARTITION OF ingestion_events"
        f" FOR VALUES FROM ('{month.isoformat()} 00:00:00+00')"
        f" TO ('{_next_month(month).isoformat()} 00:00:00+00')"
    )


def _drop_indexes(table: str) -> None:
    # The new table's indexes take these names; the old ones go with their table anyway.
    connection = op.get_bind()
    names = connection.execute(
        text(
            "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " JOIN pg_class t ON t.oid = x.indrelid"
            " WHERE t.relname = :table AND NOT x.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
        ),
        {"table": table},
    ).scalars()
    for name in list(names):
        op.execute(f'DROP INDEX "{name}"')


def _add_keys_and_indexes(indexes: Sequence[str]) -> None:
    for column, referred in _FOREIGN_KEYS:
        op.execute(
            f"ALTER TABLE ingestion_events ADD CONSTRAINT fk_ingestion_events_{column}_{referred}"
            f" FOREIGN KEY ({column}) REFERENCES {referred} (id)"
        )
    for index in indexes:
        op.execute(f"CREATE {index}")


def upgrade() -> None:
    """Convert the inbox into a table partitioned by month of received_time."""
    connection = op.get_bind()
    op.execute("ALTER TABLE ingestion_events RENAME TO ingestion_events_old")
    op.execute("ALTER TABLE ingestion_events_old RENAME CONSTRAINT pk_ingestion_events TO pk_old")
    op.execute("ALTER TABLE ingestion_events_old DROP CONSTRAINT uq_ingestion_events_seq")
    _drop_indexes("ingestion_events_old")
    # Drops the identity's own sequence, whose name the new one takes.
    op.execute("ALTER TABLE ingestion_events_old ALTER COLUMN seq DROP IDENTITY")
    op.execute(f"CREATE SEQUENCE {_SEQUENCE} AS bigint")
    op.execute(
        "CREATE TABLE ingestion_events"
        " (LIKE ingestion_events_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        " PARTITION BY RANGE (received_time)"
    )
    op.execute("ALTER TABLE ingestion_events ADD COLUMN raw_body_purged_time timestamptz")
    op.execute(f"ALTER TABLE ingestion_events ALTER COLUMN seq SET DEFAULT nextval('{_SEQUENCE}')")
    op.execute(f"ALTER SEQUENCE {_SEQUENCE} OWNED BY ingestion_events.seq")

    oldest, newest = connection.execute(
        text("SELECT min(received_time), max(received_time) FROM ingestion_events_old")
    ).one()
    now = dt.datetime.now(dt.UTC)
    month = _month_start(min(oldest or now, now))
    last = max(_next_month(_month_start(now)), _month_start(newest or now))
    while month <= last:
        _create_month_partition(month)
        month = _next_month(month)
    # Nothing is ever refused for want of a partition; worker.inbox_partitions moves such rows.
    op.execute("CREATE TABLE ingestion_events_default PARTITION OF ingestion_events DEFAULT")

    # Copied before the indexes exist: each partition's indexes are then built in one pass.
    op.execute("INSERT INTO ingestion_events SELECT *, NULL FROM ingestion_events_old")
    op.execute(
        "ALTER TABLE ingestion_events ADD CONSTRAINT pk_ingestion_events"
        " PRIMARY KEY (id, received_time)"
    )
    _add_keys_and_indexes(_COMMON_INDEXES + _PARTITIONED_INDEXES)
    op.execute(_CONTINUE_SEQ)

    op.execute(
        "CREATE TABLE idempotency_keys ("
        " config_id uuid NOT NULL,"
        " idempotency_key varchar(255) NOT NULL,"
        " event_id uuid NOT NULL,"
        " received_time timestamptz NOT NULL,"
        " body_sha256 varchar(64) NOT NULL,"
        " CONSTRAINT pk_idempotency_keys PRIMARY KEY (config_id, idempotency_key),"
        " CONSTRAINT fk_idempotency_keys_config_id_ingestion_configs FOREIGN KEY (config_id)"
        " REFERENCES ingestion_configs (id))"
    )
    # The old unique index held each key once, so every keyed row is its key's holder.
    op.execute(
        "INSERT INTO idempotency_keys"
        " SELECT config_id, idempotency_key, id, received_time, body_sha256"
        " FROM ingestion_events_old WHERE idempotency_key IS NOT NULL"
    )
    op.execute("CREATE INDEX ix_idempotency_keys_received_time ON idempotency_keys (received_time)")
    op.execute("DROP TABLE ingestion_events_old")


def downgrade() -> None:
    """Convert the inbox back into one plain table; idempotency keys back on the events."""
    op.execute("ALTER TABLE ingestion_events RENAME TO ingestion_events_partitioned")
    op.execute(
        "ALTER TABLE ingestion_events_partitioned RENAME CONSTRAINT pk_ingestion_events TO pk_old"
    )
    _drop_indexes("ingestion_events_partitioned")
    op.execute(
        "CREATE TABLE ingestion_events"
        " (LIKE ingestion_events_partitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    )
    op.execute("ALTER TABLE ingestion_events ALTER COLUMN seq DROP DEFAULT")
    op.execute("ALTER TABLE ingestion_events DROP COLUMN raw_body_purged_time")
    columns = ", ".join(
        op.get_bind()
        .execute(
            text(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'ingestion_events'::regclass"
                " AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
            )
        )
        .scalars()
    )
    op.execute(
        f"INSERT INTO ingestion_events ({columns})"  # noqa: S608 (the table's own columns)
        f" SELECT {columns} FROM ingestion_events_partitioned"
    )
    # A released key may name two events now; the old unique index holds the newest only.
    op.execute(
        "UPDATE ingestion_events SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM ingestion_events newer"
        " WHERE newer.config_id = ingestion_events.config_id"
        " AND newer.idempotency_key = ingestion_events.idempotency_key"
        " AND newer.seq > ingestion_events.seq)"
    )
    # Drops the partitions and the sequence it owns, whose name the identity's takes.
    op.execute("DROP TABLE ingestion_events_partitioned")
    op.execute("DROP TABLE idempotency_keys")
    op.execute("ALTER TABLE ingestion_events ALTER COLUMN seq ADD GENERATED BY DEFAULT AS IDENTITY")
    op.execute(_CONTINUE_SEQ)
    op.execute("ALTER TABLE ingestion_events ADD CONSTRAINT pk_ingestion_events PRIMARY KEY (id)")
    op.execute("ALTER TABLE ingestion_events ADD CONSTRAINT uq_ingestion_events_seq UNIQUE (seq)")
    _add_keys_and_indexes(_COMMON_INDEXES + _PLAIN_INDEXES)
