"""Outbound lead webhooks and their outbox of deliveries.

Revision ID: 0006_outbound_webhooks
Revises: 0005_provider_auth
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_outbound_webhooks"
down_revision: str | None = "0005_provider_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGERS = (
    "LEAD_CREATED", "LEAD_UPDATED", "LEAD_CLOSED", "LEAD_CLOSED_INCOMPLETE", "LEAD_LOST",
    "LEAD_SCHEDULE_COMPLETED", "LEAD_LATE_CALLBACK", "LEAD_OUT_OF_TERRITORY", "LEAD_BAD_NUMBER",
    "LEAD_CANCELLED", "LEAD_CALLBACK_TO_TRANSFER", "LEAD_BEFORE_REENGAGEMENT", "LEAD_REENGAGEMENT",
    "LEAD_FIRST_INBOUND", "CALL_COMPLETE", "BEFORE_CALLING", "CALL_FAILED", "CALL_ENDED",
    "CALL_TRANSFER_INITIATED", "SMS_DNC", "CALL_DNC",
)  # fmt: skip
_UNFINISHED = "status IN ('pending', 'sending')"


def _trigger() -> sa.Enum:
    return sa.Enum(
        *_TRIGGERS, name="webhook_trigger", native_enum=False, create_constraint=True, length=32
    )


def upgrade() -> None:
    """Create the webhooks and their deliveries."""
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("trigger", _trigger(), nullable=False),
        sa.Column("filter_condition", sa.Text(), nullable=True),
        sa.Column(
            "payload_format",
            sa.Enum(
                "sela",
                "standard",
                name="payload_format",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("previous_secret", sa.String(length=64), nullable=True),
        sa.Column("previous_secret_expires_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_webhooks_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index(
        op.f("ix_webhooks_organization_id"), "webhooks", ["organization_id"], unique=False
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("trigger", _trigger(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "delivered",
                "failed",
                name="delivery_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column(
            "attempts",
            sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("next_attempt_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_time", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "attempt_count >= 0", name=op.f("ck_webhook_deliveries_attempt_count_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_webhook_deliveries_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_webhook_deliveries_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("message_id", name=op.f("uq_webhook_deliveries_message_id")),
    )
    op.create_index(
        "ix_webhook_deliveries_status_next_attempt_time",
        "webhook_deliveries",
        ["status", "next_attempt_time"],
        postgresql_where=sa.text(_UNFINISHED),
    )
    op.create_index(
        "ix_webhook_deliveries_webhook_id_lead_id_id_unfinished",
        "webhook_deliveries",
        ["webhook_id", "lead_id", "id"],
        postgresql_where=sa.text(_UNFINISHED),
    )
    op.create_index(
        "ix_webhook_deliveries_webhook_id_id", "webhook_deliveries", ["webhook_id", "id"]
    )


def downgrade() -> None:
    """Drop the deliveries, then the webhooks."""
    op.drop_table("webhook_deliveries")
    op.drop_index(op.f("ix_webhooks_organization_id"), table_name="webhooks")
    op.drop_table("webhooks")
