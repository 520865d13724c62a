"""Safe test mode: test leads and events, test configs, external ids unique per mode.

Revision ID: 0018_test_mode
Revises: 0017_blocked_identifiers
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_test_mode"
down_revision: str | None = "0017_blocked_identifiers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the is_test and test flags; external ids become unique per organization and mode."""
    for table in ("leads", "ingestion_events"):
        op.add_column(
            table,
            sa.Column("is_test", sa.Boolean(), server_default=sa.false(), nullable=False),
        )
    op.add_column(
        "ingestion_configs",
        sa.Column("test", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # The new index is built before the old one goes, so external ids are never unguarded.
    op.create_index(
        "uq_leads_organization_id_is_test_external_id",
        "leads",
        ["organization_id", "is_test", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(
        "uq_leads_organization_id_external_id",
        table_name="leads",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_index(
        "ix_leads_created_time_test",
        "leads",
        ["created_time"],
        unique=False,
        postgresql_where=sa.text("is_test"),
    )
    op.create_index(
        "ix_ingestion_events_target_lead_id",
        "ingestion_events",
        ["target_lead_id"],
        unique=False,
        postgresql_where=sa.text("target_lead_id IS NOT NULL"),
    )


def downgrade() -> None:
    """Delete the test leads, then drop the flags; external ids are unique per organization."""
    # A test lead may share an external id with a real one; the old index would refuse them.
    op.execute(
        "UPDATE ingestion_events SET lead_id = NULL "
        "WHERE lead_id IN (SELECT id FROM leads WHERE is_test)"
    )
    op.execute(
        "UPDATE ingestion_events SET target_lead_id = NULL "
        "WHERE target_lead_id IN (SELECT id FROM leads WHERE is_test)"
    )
    op.execute(
        "UPDATE webhook_deliveries SET lead_id = NULL "
        "WHERE lead_id IN (SELECT id FROM leads WHERE is_test)"
    )
    op.execute("DELETE FROM leads WHERE is_test")
    op.drop_index(
        "ix_ingestion_events_target_lead_id",
        table_name="ingestion_events",
        postgresql_where=sa.text("target_lead_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_leads_created_time_test", table_name="leads", postgresql_where=sa.text("is_test")
    )
    op.create_index(
        "uq_leads_organization_id_external_id",
        "leads",
        ["organization_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(
        "uq_leads_organization_id_is_test_external_id",
        table_name="leads",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_column("ingestion_configs", "test")
    op.drop_column("ingestion_events", "is_test")
    op.drop_column("leads", "is_test")
