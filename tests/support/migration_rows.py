"""Rows a migration test puts in by SQL: the schema of a past revision has no models to use."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.engine import Connection


def insert_organization_and_campaign(connection: Connection) -> None:
    """Organization 1 and its campaign 1, in any revision's schema."""
    connection.execute(
        text("INSERT INTO organizations (id, name, created_time) VALUES (1, 'o', now())")
    )
    connection.execute(
        text(
            "INSERT INTO campaigns (id, organization_id, name, created_time)"
            " VALUES (1, 1, 'c', now())"
        )
    )


def insert_config(connection: Connection, config_id: uuid.UUID) -> None:
    """A token config of organization 1 named acme, with the columns every revision has."""
    connection.execute(
        text(
            "INSERT INTO ingestion_configs (id, organization_id, campaign_id, name, mapping,"
            " auth_mode, match_keys, active, version, created_time, modified_time)"
            " VALUES (:id, 1, 1, 'acme', '{}', 'token',"
            " ARRAY['external_id','phone_number','email'], true, 1, now(), now())"
        ),
        {"id": config_id},
    )
