"""Identifier hygiene: blocked identifiers and placeholders; fan-in claims and quarantine.

Revision ID: 0017_blocked_identifiers
Revises: 0007_config_versions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017_blocked_identifiers"
down_revision: str | None = "0012_replay_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the hygiene lists, the reserved-identifier switch, fan-in claims and quarantine."""
    op.add_column(
        "organizations",
        sa.Column(
            "blocks_reserved_identifiers",
            sa.Boolean(),
            server_default=sa.true(),
            nullable=False,
        ),
    )
    op.create_table(
        "blocked_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_blocked_identifiers_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocked_identifiers")),
        sa.UniqueConstraint(
            "organization_id",
            "kind",
            "value",
            name=op.f("uq_blocked_identifiers_organization_id_kind_value"),
        ),
    )
    op.create_index(
        op.f("ix_blocked_identifiers_organization_id"),
        "blocked_identifiers",
        ["organization_id"],
        unique=False,
    )

    op.add_column(
        "ingestion_events",
        sa.Column(
            "match_explanation",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
    )
    op.add_column(
        "leads",
        sa.Column(
            "field_times",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
    )
    op.add_column("ingestion_configs", sa.Column("fan_in_limit", sa.Integer(), nullable=True))
    op.add_column("ingestion_configs", sa.Column("fan_in_window_days", sa.Integer(), nullable=True))
    op.create_table(
        "identifier_claims",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("claimed_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_identifier_claims_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "kind", "value", "external_id", name=op.f("pk_identifier_claims")
        ),
    )
    op.create_index(
        "ix_identifier_claims_identifier",
        "identifier_claims",
        ["organization_id", "kind", "value"],
        unique=False,
    )
    op.create_table(
        "quarantined_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("claimants", sa.Integer(), nullable=False),
        sa.Column("quarantined_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_quarantined_identifiers_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_identifiers")),
        sa.UniqueConstraint(
            "organization_id",
            "kind",
            "value",
            name=op.f("uq_quarantined_identifiers_organization_id_kind_value"),
        ),
    )
    op.create_index(
        op.f("ix_quarantined_identifiers_organization_id"),
        "quarantined_identifiers",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "lead_field_changes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("old_value", postgresql.JSONB(none_as_null=True), nullable=True),
        sa.Column("new_value", postgresql.JSONB(none_as_null=True), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("mapping_version", sa.Integer(), nullable=True),
        sa.Column("changed_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_lead_field_changes_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_lead_field_changes_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_field_changes")),
    )
    op.create_index(
        "ix_lead_field_changes_lead_id_id", "lead_field_changes", ["lead_id", "id"], unique=False
    )
    op.create_index(
        "ix_lead_field_changes_changed_time",
        "lead_field_changes",
        ["changed_time"],
        unique=False,
    )
    op.create_table(
        "dnc_changes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("old_value", sa.Boolean(), nullable=True),
        sa.Column("new_value", sa.Boolean(), nullable=False),
        sa.Column("door", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("changed_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_dnc_changes_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_dnc_changes_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_changes")),
    )
    op.create_index("ix_dnc_changes_lead_id_id", "dnc_changes", ["lead_id", "id"], unique=False)
    op.create_table(
        "consent_records",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("trustedform_cert_url", sa.Text(), nullable=True),
        sa.Column("jornaya_leadid", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("ip", sa.Text(), nullable=True),
        sa.Column("consent_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_consent_records_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_consent_records_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    op.create_index(
        "ix_consent_records_lead_id_id", "consent_records", ["lead_id", "id"], unique=False
    )


def downgrade() -> None:
    """Drop the hygiene, fan-in, provenance, consent and DNC ledger tables and columns."""
    op.drop_index("ix_consent_records_lead_id_id", table_name="consent_records")
    op.drop_table("consent_records")
    op.drop_index("ix_dnc_changes_lead_id_id", table_name="dnc_changes")
    op.drop_table("dnc_changes")
    op.drop_index("ix_lead_field_changes_changed_time", table_name="lead_field_changes")
    op.drop_index("ix_lead_field_changes_lead_id_id", table_name="lead_field_changes")
    op.drop_table("lead_field_changes")
    op.drop_index(
        op.f("ix_quarantined_identifiers_organization_id"), table_name="quarantined_identifiers"
    )
    op.drop_table("quarantined_identifiers")
    op.drop_index("ix_identifier_claims_identifier", table_name="identifier_claims")
    op.drop_table("identifier_claims")
    op.drop_column("ingestion_configs", "fan_in_window_days")
    op.drop_column("ingestion_configs", "fan_in_limit")
    op.drop_column("ingestion_events", "match_explanation")
    op.drop_column("leads", "field_times")
    op.drop_index(op.f("ix_blocked_identifiers_organization_id"), table_name="blocked_identifiers")
    op.drop_table("blocked_identifiers")
    op.drop_column("organizations", "blocks_reserved_identifiers")
