"""Migration 0019: field history without foreign keys, fan-in claims without a redundant index."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from models.migrate import alembic_config
from tests.support.migration_rows import insert_organization_and_campaign
from tests.support.scratch_database import scratch_database
from tests.support.services import ServiceUrls

_FOREIGN_KEYS = (
    "SELECT conname FROM pg_constraint"
    " WHERE conrelid = 'lead_field_changes'::regclass AND contype = 'f' ORDER BY conname"
)
_CLAIMS_INDEXES = "SELECT indexname FROM pg_indexes WHERE tablename = 'identifier_claims'"


@pytest.fixture
def migrated(services: ServiceUrls) -> Iterator[str]:
    """A database of its own at 0019."""
    with scratch_database(services, "0019_history_no_foreign_keys") as url:
        yield url


def _seed(engine: Engine) -> None:
    with engine.begin() as connection:
        insert_organization_and_campaign(connection)
        for lead_id in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO leads (id, organization_id, campaign_id, phone_number,"
                    " metadata, status, sms_dnc, call_dnc, created_time, modified_time,"
                    " received_time, reengagements_count, version)"
                    " VALUES (:id, 1, 1, :phone, '{}', 'NEW', false, false, now(), now(), now(),"
                    " 0, 1)"
                ),
                {"id": lead_id, "phone": f"+1202555{lead_id:04d}"},
            )
            connection.execute(
                text(
                    "INSERT INTO lead_field_changes (organization_id, lead_id, field, new_value,"
                    " changed_time) VALUES (1, :id, 'email', '\"a@b.co\"', now())"
                ),
                {"id": lead_id},
            )


def test_history_rows_outlive_a_deleted_lead_until_the_downgrade_drops_them(
    migrated: str,
) -> None:
    engine = create_engine(migrated)
    try:
        _seed(engine)
        with engine.begin() as connection:
            assert connection.execute(text(_FOREIGN_KEYS)).scalars().all() == []
            indexes = set(connection.execute(text(_CLAIMS_INDEXES)).scalars())
            assert indexes == {"pk_identifier_claims"}
            # Without the foreign key nothing cascades: the deleting code deletes the history.
            connection.execute(text("DELETE FROM leads WHERE id = 2"))
            left = connection.execute(text("SELECT lead_id FROM lead_field_changes ORDER BY 1"))
            assert left.scalars().all() == [1, 2]
        command.downgrade(alembic_config(migrated), "0018_test_mode")
        with engine.begin() as connection:
            assert connection.execute(text(_FOREIGN_KEYS)).scalars().all() == [
                "fk_lead_field_changes_lead_id_leads",
                "fk_lead_field_changes_organization_id_organizations",
            ]
            assert "ix_identifier_claims_identifier" in set(
                connection.execute(text(_CLAIMS_INDEXES)).scalars()
            )
            left = connection.execute(text("SELECT lead_id FROM lead_field_changes"))
            assert left.scalars().all() == [1]
            # The cascade is back.
            connection.execute(text("DELETE FROM leads WHERE id = 1"))
            assert connection.execute(text("SELECT count(*) FROM lead_field_changes")).scalar() == 0
        command.upgrade(alembic_config(migrated), "head")
    finally:
        engine.dispose()
