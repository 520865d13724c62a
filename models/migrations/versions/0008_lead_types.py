"""Lead types; the standard lead API's endpoints and its per-organization config.

Existing configs keep working: their campaign stays required (a check constraint says so for
every config that is not a standard-API one), and their ``default_lead_type`` is not tied to the
new table (a value saved before lead types existed names no row, and new events still take it).

Revision ID: 0008_lead_types
Revises: 0006_outbound_webhooks
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008_lead_types"
down_revision: str | None = "0006_outbound_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_ENDPOINTS = "endpoint IN ('create', 'upsert')"
_NEW_ENDPOINTS = (
    "endpoint IN ('create', 'upsert', 'leads.create', 'leads.bulk', 'leads.update', 'leads.patch')"
)


def upgrade() -> None:
    """Add lead types, the standard-API config flag, the PATCH target and the new endpoints."""
    op.create_table(
        "lead_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column(
            "lead_metadata_fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_lead_types_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_lead_types_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_types")),
    )
    op.create_index(
        op.f("ix_lead_types_organization_id"), "lead_types", ["organization_id"], unique=False
    )
    op.create_index(
        "uq_lead_types_organization_id_default",
        "lead_types",
        ["organization_id"],
        unique=True,
        postgresql_where=sa.text("is_default"),
    )

    op.add_column(
        "ingestion_configs",
        sa.Column("standard_api", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.alter_column("ingestion_configs", "campaign_id", existing_type=sa.Integer(), nullable=True)
    op.create_check_constraint(
        op.f("ck_ingestion_configs_campaign_required"),
        "ingestion_configs",
        "standard_api OR campaign_id IS NOT NULL",
    )
    op.create_index(
        "uq_ingestion_configs_organization_id_standard_api",
        "ingestion_configs",
        ["organization_id"],
        unique=True,
        postgresql_where=sa.text("standard_api"),
    )

    op.add_column("ingestion_events", sa.Column("target_lead_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_ingestion_events_target_lead_id_leads"),
        "ingestion_events",
        "leads",
        ["target_lead_id"],
        ["id"],
    )
    op.drop_constraint(op.f("ck_ingestion_events_endpoint"), "ingestion_events", type_="check")
    op.create_check_constraint(
        op.f("ck_ingestion_events_endpoint"), "ingestion_events", _NEW_ENDPOINTS
    )


def downgrade() -> None:
    """Drop them; standard-API events and configs go with them (they cannot be represented)."""
    op.execute("DELETE FROM ingestion_events WHERE endpoint LIKE 'leads.%'")
    op.drop_constraint(op.f("ck_ingestion_events_endpoint"), "ingestion_events", type_="check")
    op.create_check_constraint(
        op.f("ck_ingestion_events_endpoint"), "ingestion_events", _OLD_ENDPOINTS
    )
    op.drop_constraint(
        op.f("fk_ingestion_events_target_lead_id_leads"), "ingestion_events", type_="foreignkey"
    )
    op.drop_column("ingestion_events", "target_lead_id")
    op.execute(
        "DELETE FROM ingestion_events WHERE config_id IN "
        "(SELECT id FROM ingestion_configs WHERE standard_api)"
    )
    op.execute("DELETE FROM ingestion_configs WHERE standard_api")
    op.drop_index("uq_ingestion_configs_organization_id_standard_api", "ingestion_configs")
    op.drop_constraint(
        op.f("ck_ingestion_configs_campaign_required"), "ingestion_configs", type_="check"
    )
    op.alter_column("ingestion_configs", "campaign_id", existing_type=sa.Integer(), nullable=False)
    op.drop_column("ingestion_configs", "standard_api")
    op.drop_index("uq_lead_types_organization_id_default", table_name="lead_types")
    op.drop_index(op.f("ix_lead_types_organization_id"), table_name="lead_types")
    op.drop_table("lead_types")
