"""Migration 0020_partitioned_inbox on an inbox holding three months of events, both ways."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, create_engine, text

from models.migrate import alembic_config, upgrade_database
from tests.support.migration_rows import insert_config, insert_organization_and_campaign
from tests.support.scratch_database import scratch_database
from tests.support.services import ServiceUrls

pytestmark = pytest.mark.integration

CONFIG_ID = uuid.uuid4()
UTC = dt.UTC
# Three months, the key "k-1" on the first two events.
RECEIVED = {
    uuid.uuid4(): (dt.datetime(2025, 10, 31, 23, 59, 59, 999000, tzinfo=UTC), "k-1"),
    uuid.uuid4(): (dt.datetime(2025, 11, 1, tzinfo=UTC), "k-2"),
    uuid.uuid4(): (dt.datetime(2025, 12, 15, 12, 0, tzinfo=UTC), None),
}
_INSERT_EVENT = text(
    "INSERT INTO ingestion_events (id, config_id, organization_id, endpoint, received_time,"
    " content_type, raw_body, query_string, body_sha256, idempotency_key, status, attempts,"
    " errors, warnings) VALUES (:id, :config, 1, 'upsert', :received, 'application/json',"
    " '{}', '', :digest, :key, 'done', 1, '[]', '[]')"
)


def _fill(connection: Connection) -> None:
    insert_organization_and_campaign(connection)
    insert_config(connection, CONFIG_ID)
    for event_id, (received, key) in RECEIVED.items():
        connection.execute(
            _INSERT_EVENT,
            {
                "id": event_id,
                "config": CONFIG_ID,
                "received": received,
                "digest": "d" * 64,
                "key": key,
            },
        )


@pytest.fixture
def at_0019(services: ServiceUrls) -> Iterator[Engine]:
    """A database at 0019 whose plain inbox holds events of three months."""
    with scratch_database(services, "0019_history_no_foreign_keys") as url:
        engine = create_engine(url)
        with engine.begin() as connection:
            _fill(connection)
        yield engine
        engine.dispose()


def _partitions(connection: Connection) -> dict[uuid.UUID, str]:
    rows = connection.execute(text("SELECT id, tableoid::regclass::text FROM ingestion_events"))
    return {row[0]: row[1] for row in rows}


def test_the_inbox_is_partitioned_by_month_and_converted_back(at_0019: Engine) -> None:
    url = at_0019.url.render_as_string(hide_password=False)
    with at_0019.connect() as connection:
        old_max = connection.scalar(text("SELECT max(seq) FROM ingestion_events"))
    upgrade_database(url, "0020_partitioned_inbox")

    with at_0019.begin() as connection:
        assert (
            connection.scalar(
                text("SELECT relkind FROM pg_class WHERE relname = 'ingestion_events'")
            )
            == "p"
        )
        months = [received.strftime("ingestion_events_y%Ym%m") for received, _ in RECEIVED.values()]
        assert _partitions(connection) == dict(zip(RECEIVED, months, strict=True))
        keys = connection.execute(
            text("SELECT idempotency_key, event_id, received_time FROM idempotency_keys ORDER BY 1")
        ).all()
        assert [(key, event_id) for key, event_id, _ in keys] == [
            (key, event_id) for event_id, (_, key) in RECEIVED.items() if key
        ]
        # seq carries on after the old rows' highest value.
        new_id = uuid.uuid4()
        connection.execute(
            _INSERT_EVENT,
            {
                "id": new_id,
                "config": CONFIG_ID,
                "received": dt.datetime.now(UTC),
                "digest": "e" * 64,
                "key": None,
            },
        )
        assert (
            connection.scalar(
                text("SELECT seq FROM ingestion_events WHERE id = :id"), {"id": new_id}
            )
            == old_max + 1
        )
        # A default partition takes a row no month's partition covers.
        far = uuid.uuid4()
        connection.execute(
            _INSERT_EVENT,
            {
                "id": far,
                "config": CONFIG_ID,
                "received": dt.datetime(2040, 1, 1, tzinfo=UTC),
                "digest": "f" * 64,
                "key": None,
            },
        )
        assert _partitions(connection)[far] == "ingestion_events_default"

    command.downgrade(alembic_config(url), "0019_history_no_foreign_keys")
    with at_0019.connect() as connection:
        assert (
            connection.scalar(
                text("SELECT relkind FROM pg_class WHERE relname = 'ingestion_events'")
            )
            == "r"
        )
        assert set(_partitions(connection)) == {*RECEIVED, new_id, far}
        assert connection.scalar(text("SELECT to_regclass('idempotency_keys')")) is None
        unique = connection.scalar(
            text(
                "SELECT indexdef FROM pg_indexes WHERE indexname ="
                " 'uq_ingestion_events_config_id_idempotency_key'"
            )
        )
        assert unique is not None and "UNIQUE" in unique
    with at_0019.begin() as connection:
        again = uuid.uuid4()
        connection.execute(
            text(
                "INSERT INTO ingestion_events (id, config_id, organization_id, endpoint,"
                " received_time, content_type, raw_body, query_string, body_sha256, status,"
                " attempts, errors, warnings) VALUES (:id, :config, 1, 'upsert', now(),"
                " 'application/json', '{}', '', 'x', 'queued', 0, '[]', '[]')"
            ),
            {"id": again, "config": CONFIG_ID},
        )
        # The identity takes over after the two rows added while partitioned.
        assert (
            connection.scalar(
                text("SELECT seq FROM ingestion_events WHERE id = :id"), {"id": again}
            )
            == old_max + 3
        )
    # And up again, on rows the downgrade left.
    upgrade_database(url, "0020_partitioned_inbox")
