"""Migration 0018_test_mode on a database that already holds leads and events, both ways."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from common.settings import to_sqlalchemy_url
from models.migrate import alembic_config, upgrade_database
from tests.support.migration_rows import insert_config, insert_organization_and_campaign
from tests.support.services import ServiceUrls, _create_database, _with_database

CONFIG_ID = uuid.uuid4()
EVENT_ID = uuid.uuid4()


@pytest.fixture
def database_at_0017(services: ServiceUrls) -> Iterator[str]:
    """A database migrated to 0017 holding a config, a lead with an external id and its event."""
    server = _with_database(services.database_url, "postgres")
    name = f"leadgate_migration_{uuid.uuid4().hex[:8]}"
    url = to_sqlalchemy_url(_create_database(server, name))
    upgrade_database(url, "0017_blocked_identifiers")
    engine = create_engine(url)
    with engine.begin() as connection:
        insert_organization_and_campaign(connection)
        insert_config(connection, CONFIG_ID)
        _insert_lead(connection, 1)
    engine.dispose()
    yield url
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(
            f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)'
        )


_LEAD_COLUMNS = (
    "INSERT INTO leads (id, organization_id, campaign_id, phone_number, external_id, metadata,"
    " status, sms_dnc, call_dnc, created_time, modified_time, received_time,"
    " reengagements_count, version"
)
_LEAD_VALUES = (
    " VALUES (:id, 1, 1, '+12024561111', 'X-1', '{}', 'NEW', false, false, now(), now(), now(),"
    " 0, 1"
)
# Before 0018 leads have no is_test column; after it, each lead says which mode it is.
_INSERT_LEAD = text(_LEAD_COLUMNS + ")" + _LEAD_VALUES + ")")
_INSERT_LEAD_WITH_MODE = text(_LEAD_COLUMNS + ", is_test)" + _LEAD_VALUES + ", :is_test)")


def _insert_lead(connection: Connection, lead_id: int, test: bool | None = None) -> None:
    if test is None:
        connection.execute(_INSERT_LEAD, {"id": lead_id})
    else:
        connection.execute(_INSERT_LEAD_WITH_MODE, {"id": lead_id, "is_test": test})


def test_external_ids_become_unique_per_mode_and_a_downgrade_drops_the_test_leads(
    database_at_0017: str,
) -> None:
    upgrade_database(database_at_0017, "0018_test_mode")
    engine = create_engine(database_at_0017)
    try:
        with engine.begin() as connection:
            assert connection.execute(text("SELECT is_test FROM leads")).scalar_one() is False
            # A test lead may reuse a real lead's external id; a second real one may not.
            _insert_lead(connection, 2, test=True)
            connection.execute(
                text(
                    "INSERT INTO ingestion_events (id, config_id, organization_id, endpoint,"
                    " received_time, content_type, raw_body, query_string, body_sha256, status,"
                    " attempts, errors, warnings, lead_id, is_test) VALUES (:id, :config, 1,"
                    " 'upsert', now(), 'application/json', '\\x7b7d', '', 'x', 'done', 1, '[]',"
                    " '[]', 2, true)"
                ),
                {"id": EVENT_ID, "config": CONFIG_ID},
            )
            assert (
                connection.execute(text("SELECT test FROM ingestion_configs")).scalar_one() is False
            )
        with engine.connect() as connection:
            with pytest.raises(Exception, match="uq_leads_organization_id_is_test_external_id"):
                _insert_lead(connection, 3, test=False)
            connection.rollback()

        command.downgrade(alembic_config(database_at_0017), "0017_blocked_identifiers")

        with engine.connect() as connection:
            assert connection.execute(text("SELECT id FROM leads")).scalars().all() == [1]
            lead_id = connection.execute(
                text("SELECT lead_id FROM ingestion_events WHERE id = :id"), {"id": EVENT_ID}
            ).scalar_one()
            assert lead_id is None
            with pytest.raises(Exception, match="uq_leads_organization_id_external_id"):
                _insert_lead(connection, 3)
    finally:
        engine.dispose()
