"""Migration 0008_lead_types on a database that already holds configs, events and leads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

from common.settings import to_sqlalchemy_url
from models.migrate import alembic_config, upgrade_database
from tests.support.migration_rows import insert_organization_and_campaign
from tests.support.services import ServiceUrls, _create_database, _with_database

CONFIG_ID = uuid.uuid4()


@pytest.fixture
def database_at_0003(services: ServiceUrls) -> Iterator[str]:
    """A database migrated to 0003 holding a config with a lead type saved before lead types."""
    server = _with_database(services.database_url, "postgres")
    name = f"leadgate_migration_{uuid.uuid4().hex[:8]}"
    url = to_sqlalchemy_url(_create_database(server, name))
    upgrade_database(url, "0003")
    engine = create_engine(url)
    with engine.begin() as connection:
        insert_organization_and_campaign(connection)
        connection.execute(
            text(
                "INSERT INTO ingestion_configs (id, organization_id, campaign_id, name, mapping,"
                " default_lead_type, auth_mode, match_keys, active, version, created_time,"
                " modified_time) VALUES (:id, 1, 1, 'acme', '{}', 7, 'token',"
                " ARRAY['external_id','phone_number','email'], true, 1, now(), now())"
            ),
            {"id": CONFIG_ID},
        )
    engine.dispose()
    yield url
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(
            f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)'
        )


def _engine(url: str) -> Engine:
    return create_engine(url)


def test_existing_configs_survive_the_upgrade_and_the_new_rules_hold(database_at_0003: str) -> None:
    upgrade_database(database_at_0003, "0008_lead_types")
    engine = _engine(database_at_0003)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT campaign_id, default_lead_type, standard_api FROM ingestion_configs"
                    " WHERE id = :id"
                ),
                {"id": CONFIG_ID},
            ).one()
            assert tuple(row) == (1, 7, False)
            # Only the standard API's config may go without a campaign.
            with pytest.raises(Exception, match="ck_ingestion_configs_campaign_required"):
                connection.execute(text("UPDATE ingestion_configs SET campaign_id = NULL"))
            connection.rollback()
            # The new endpoints are stored by their values.
            with pytest.raises(Exception, match="ck_ingestion_events_endpoint"):
                _insert_event(connection, "leads_create")
            connection.rollback()
            _insert_event(connection, "leads.patch")
            connection.commit()
    finally:
        engine.dispose()
    command.downgrade(alembic_config(database_at_0003), "0003")


def _insert_event(connection: Connection, endpoint: str) -> None:
    connection.execute(
        text(
            "INSERT INTO ingestion_events (id, config_id, organization_id, endpoint, received_time,"
            " content_type, raw_body, query_string, body_sha256, status, attempts, errors,"
            " warnings) VALUES (:id, :config, 1, :endpoint, now(), 'application/json', '{}', '',"
            " :digest, 'queued', 0, '[]', '[]')"
        ),
        {"id": uuid.uuid4(), "config": CONFIG_ID, "endpoint": endpoint, "digest": "0" * 64},
    )
