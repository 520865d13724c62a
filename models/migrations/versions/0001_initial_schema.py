"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 07:06:18.762842

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_time", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_tokens_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_api_tokens_organization_id"), "api_tokens", ["organization_id"], unique=False
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_campaigns_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(
        op.f("ix_campaigns_organization_id"), "campaigns", ["organization_id"], unique=False
    )
    op.create_table(
        "representatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_representatives_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_representatives")),
    )
    op.create_index(
        op.f("ix_representatives_organization_id"),
        "representatives",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "ingestion_configs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "mapping",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("default_lead_type", sa.Integer(), nullable=True),
        sa.Column(
            "auth_mode",
            sa.Enum(
                "token",
                "open",
                name="auth_mode",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("match_keys", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("min_reengagement_days", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_time", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "match_keys <@ ARRAY['external_id', 'phone_number', 'email']::varchar[]",
            name=op.f("ck_ingestion_configs_match_keys_known"),
        ),
        sa.CheckConstraint(
            "min_reengagement_days IS NULL OR min_reengagement_days >= 0",
            name=op.f("ck_ingestion_configs_min_reengagement_days_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_ingestion_configs_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_ingestion_configs_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingestion_configs")),
    )
    op.create_index(
        op.f("ix_ingestion_configs_organization_id"),
        "ingestion_configs",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("representative_id", sa.Integer(), nullable=True),
        sa.Column("phone_number", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("us_state", sa.String(length=2), nullable=True),
        sa.Column("lead_source", sa.String(length=255), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "UNKNOWN",
                "NEW",
                "OPEN",
                "CALLBACK_TO_TRANSFER",
                "CLOSED",
                "CLOSED_INCOMPLETE",
                "LOST",
                "SCHEDULE_COMPLETED",
                "OUT_OF_TERRITORY",
                "BAD_NUMBER",
                "CANCELLED",
                name="lead_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status_outcome",
            sa.Enum(
                "blind_transfer",
                "warm_transfer",
                "appointment_booked",
                "live_handoff_unavailable",
                "escalation",
                "has_call_dnc",
                "tcpa_litigator",
                "LEAD_ASSIGNED",
                name="status_outcome",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "status_reason",
            sa.Enum(
                "UNKNOWN",
                "WEBHOOK",
                "MANUAL",
                "CHAT",
                "REENGAGEMENT",
                name="status_reason",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("lead_type", sa.Integer(), nullable=True),
        sa.Column("sms_dnc", sa.Boolean(), nullable=False),
        sa.Column("call_dnc", sa.Boolean(), nullable=False),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reengagements_count", sa.Integer(), nullable=False),
        sa.Column("last_reengagement_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_call_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_call_time_reason", sa.String(length=255), nullable=True),
        sa.Column("call_schedule_start_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("last_event_seq", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "us_state IS NULL OR us_state IN ('AL', 'AK', 'AS', 'AZ', 'AR', 'AA', 'AE', 'AP', 'CA', 'CO', 'CT', 'DE', 'DC', 'FL', 'GA', 'GU', 'HI', 'ID', 'IL', 'IN', 'IA', 'KS', 'KY', 'LA', 'ME', 'MD', 'MA', 'MI', 'MN', 'MS', 'MO', 'MT', 'NE', 'NV', 'NH', 'NJ', 'NM', 'NY', 'NC', 'ND', 'MP', 'OH', 'OK', 'OR', 'PA', 'PR', 'RI', 'SC', 'SD', 'TN', 'TX', 'UT', 'VT', 'VI', 'VA', 'WA', 'WV', 'WI', 'WY')",
            name=op.f("ck_leads_us_state_known"),
        ),
        sa.CheckConstraint(
            "reengagements_count >= 0", name=op.f("ck_leads_reengagements_count_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_leads_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_leads_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["representative_id"],
            ["representatives.id"],
            name=op.f("fk_leads_representative_id_representatives"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
    )
    op.create_index(
        "ix_leads_organization_id_email",
        "leads",
        ["organization_id", "email"],
        unique=False,
        postgresql_where=sa.text("email IS NOT NULL"),
    )
    op.create_index(
        "ix_leads_organization_id_modified_time",
        "leads",
        ["organization_id", "modified_time"],
        unique=False,
    )
    op.create_index(
        "ix_leads_organization_id_phone_number",
        "leads",
        ["organization_id", "phone_number"],
        unique=False,
    )
    op.create_index(
        "uq_leads_organization_id_external_id",
        "leads",
        ["organization_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "ingestion_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("config_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column(
            "endpoint",
            sa.Enum(
                "create",
                "upsert",
                name="endpoint",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("received_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("raw_body", sa.LargeBinary(), nullable=False),
        sa.Column("query_string", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "processing",
                "retrying",
                "done",
                "failed",
                "dead",
                name="event_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "action",
            sa.Enum(
                "created",
                "updated",
                "unchanged",
                "reengaged",
                "duplicate",
                "stale",
                name="event_action",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("matched_by", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "errors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "warnings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("processed_time", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["config_id"],
            ["ingestion_configs.id"],
            name=op.f("fk_ingestion_events_config_id_ingestion_configs"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_ingestion_events_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_ingestion_events_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingestion_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_ingestion_events_seq")),
    )
    op.create_index("ix_ingestion_events_lead_id", "ingestion_events", ["lead_id"], unique=False)
    op.create_index(
        "ix_ingestion_events_organization_id_received_time",
        "ingestion_events",
        ["organization_id", "received_time"],
        unique=False,
    )
    op.create_index(
        "ix_ingestion_events_status_next_attempt_time",
        "ingestion_events",
        ["status", "next_attempt_time"],
        unique=False,
        postgresql_where=sa.text("status IN ('queued', 'processing', 'retrying')"),
    )
    op.create_index(
        "uq_ingestion_events_config_id_idempotency_key",
        "ingestion_events",
        ["config_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(
        "uq_ingestion_events_config_id_idempotency_key",
        table_name="ingestion_events",
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.drop_index(
        "ix_ingestion_events_status_next_attempt_time",
        table_name="ingestion_events",
        postgresql_where=sa.text("status IN ('queued', 'processing', 'retrying')"),
    )
    op.drop_index(
        "ix_ingestion_events_organization_id_received_time", table_name="ingestion_events"
    )
    op.drop_index("ix_ingestion_events_lead_id", table_name="ingestion_events")
    op.drop_table("ingestion_events")
    op.drop_index(
        "uq_leads_organization_id_external_id",
        table_name="leads",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index("ix_leads_organization_id_phone_number", table_name="leads")
    op.drop_index("ix_leads_organization_id_modified_time", table_name="leads")
    op.drop_index(
        "ix_leads_organization_id_email",
        table_name="leads",
        postgresql_where=sa.text("email IS NOT NULL"),
    )
    op.drop_table("leads")
    op.drop_index(op.f("ix_ingestion_configs_organization_id"), table_name="ingestion_configs")
    op.drop_table("ingestion_configs")
    op.drop_index(op.f("ix_representatives_organization_id"), table_name="representatives")
    op.drop_table("representatives")
    op.drop_index(op.f("ix_campaigns_organization_id"), table_name="campaigns")
    op.drop_table("campaigns")
    op.drop_index(op.f("ix_api_tokens_organization_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("organizations")
