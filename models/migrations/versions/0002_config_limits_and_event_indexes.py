"""Per-config body size limit and rate limit; indexes for dead letters and recent events.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the limit columns and their checks."""
    op.add_column("ingestion_configs", sa.Column("max_body_bytes", sa.Integer(), nullable=True))
    op.add_column(
        "ingestion_configs", sa.Column("rate_limit_per_second", sa.Float(), nullable=True)
    )
    op.add_column("ingestion_configs", sa.Column("rate_limit_burst", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_ingestion_configs_max_body_bytes_positive"),
        "ingestion_configs",
        "max_body_bytes IS NULL OR max_body_bytes > 0",
    )
    op.create_check_constraint(
        op.f("ck_ingestion_configs_rate_limit_per_second_positive"),
        "ingestion_configs",
        "rate_limit_per_second IS NULL OR rate_limit_per_second > 0",
    )
    op.create_check_constraint(
        op.f("ck_ingestion_configs_rate_limit_burst_positive"),
        "ingestion_configs",
        "rate_limit_burst IS NULL OR rate_limit_burst > 0",
    )

    op.create_index(
        "ix_ingestion_events_config_id_dead",
        "ingestion_events",
        ["config_id"],
        postgresql_where=sa.text("status = 'dead'"),
    )
    op.create_index("ix_ingestion_events_received_time", "ingestion_events", ["received_time"])


def downgrade() -> None:
    """Drop the indexes and the limit columns (their checks go with them)."""
    op.drop_index("ix_ingestion_events_received_time", table_name="ingestion_events")
    op.drop_index("ix_ingestion_events_config_id_dead", table_name="ingestion_events")
    op.drop_column("ingestion_configs", "rate_limit_burst")
    op.drop_column("ingestion_configs", "rate_limit_per_second")
    op.drop_column("ingestion_configs", "max_body_bytes")
