"""Provider outcome callbacks: a config's callback URL and key, and its deliveries in the outbox.

A callback's delivery shares the lead webhooks' outbox (one sender, one retry schedule, one
sweeper): it names its config and event instead of a webhook, and has no trigger.

Revision ID: 0015_provider_callbacks
Revises: 0007_config_versions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_provider_callbacks"
down_revision: str | None = "0007_config_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the callback columns to configs and a second kind of destination to deliveries."""
    op.add_column(
        "ingestion_configs", sa.Column("callback_url", sa.String(length=2048), nullable=True)
    )
    op.add_column("ingestion_configs", sa.Column("callback_secret", sa.Text(), nullable=True))
    op.add_column(
        "ingestion_configs", sa.Column("previous_callback_secret", sa.Text(), nullable=True)
    )
    op.add_column(
        "ingestion_configs",
        sa.Column(
            "previous_callback_secret_expires_time", sa.DateTime(timezone=True), nullable=True
        ),
    )
    op.create_check_constraint(
        op.f("ck_ingestion_configs_callback_secret_required"),
        "ingestion_configs",
        "callback_url IS NULL OR callback_secret IS NOT NULL",
    )
    op.alter_column("webhook_deliveries", "webhook_id", existing_type=sa.Integer(), nullable=True)
    op.alter_column(
        "webhook_deliveries", "trigger", existing_type=sa.String(length=32), nullable=True
    )
    op.add_column("webhook_deliveries", sa.Column("ingestion_config_id", sa.Uuid(), nullable=True))
    op.add_column("webhook_deliveries", sa.Column("ingestion_event_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_webhook_deliveries_ingestion_config_id_ingestion_configs"),
        "webhook_deliveries",
        "ingestion_configs",
        ["ingestion_config_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_check_constraint(
        op.f("ck_webhook_deliveries_one_destination"),
        "webhook_deliveries",
        "(webhook_id IS NULL) <> (ingestion_config_id IS NULL)",
    )
    op.create_index(
        "ix_webhook_deliveries_ingestion_config_id_id",
        "webhook_deliveries",
        ["ingestion_config_id", "id"],
        postgresql_where=sa.text("ingestion_config_id IS NOT NULL"),
    )


def downgrade() -> None:
    """Drop the callbacks' deliveries and columns."""
    op.execute("DELETE FROM webhook_deliveries WHERE ingestion_config_id IS NOT NULL")
    op.drop_index("ix_webhook_deliveries_ingestion_config_id_id", "webhook_deliveries")
    op.drop_constraint(
        op.f("ck_webhook_deliveries_one_destination"), "webhook_deliveries", type_="check"
    )
    op.drop_constraint(
        op.f("fk_webhook_deliveries_ingestion_config_id_ingestion_configs"),
        "webhook_deliveries",
        type_="foreignkey",
    )
    op.drop_column("webhook_deliveries", "ingestion_event_id")
    op.drop_column("webhook_deliveries", "ingestion_config_id")
    op.alter_column(
        "webhook_deliveries", "trigger", existing_type=sa.String(length=32), nullable=False
    )
    op.alter_column("webhook_deliveries", "webhook_id", existing_type=sa.Integer(), nullable=False)
    op.drop_constraint(
        op.f("ck_ingestion_configs_callback_secret_required"), "ingestion_configs", type_="check"
    )
    op.drop_column("ingestion_configs", "previous_callback_secret_expires_time")
    op.drop_column("ingestion_configs", "previous_callback_secret")
    op.drop_column("ingestion_configs", "callback_secret")
    op.drop_column("ingestion_configs", "callback_url")
