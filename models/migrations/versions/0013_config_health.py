"""Config health: the held event status, holds and drift alarms on configs, per-config indexes.

Revision ID: 0013_config_health
Revises: 0007_config_versions
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013_config_health"
down_revision: str | None = "0015_provider_callbacks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONFIGS = "ingestion_configs"
_EVENTS = "ingestion_events"
_OLD_STATUSES = "status IN ('queued', 'processing', 'retrying', 'done', 'failed', 'dead')"
_NEW_STATUSES = "status IN ('queued', 'processing', 'retrying', 'done', 'failed', 'dead', 'held')"


def upgrade() -> None:
    """Add the held status, the hold and drift columns and the indexes health reads through."""
    op.drop_constraint(op.f("ck_ingestion_events_event_status"), _EVENTS, type_="check")
    op.create_check_constraint(op.f("ck_ingestion_events_event_status"), _EVENTS, _NEW_STATUSES)
    op.add_column(
        _CONFIGS, sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(_CONFIGS, sa.Column("held_reason", sa.String(length=16), nullable=True))
    op.add_column(_CONFIGS, sa.Column("held_time", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        _CONFIGS,
        sa.Column("hold_on_drift", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        _CONFIGS,
        sa.Column(
            "drift_alarm",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True), "postgresql"
            ),
            nullable=True,
        ),
    )
    op.add_column(
        _CONFIGS,
        sa.Column(
            "drift_limits",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True), "postgresql"
            ),
            nullable=True,
        ),
    )
    op.create_check_constraint(
        op.f("ck_ingestion_configs_held_reason_known"),
        _CONFIGS,
        "held_reason IS NULL OR held_reason IN ('manual', 'drift')",
    )
    op.create_index(
        op.f("ix_ingestion_events_config_id_received_time"),
        _EVENTS,
        ["config_id", "received_time"],
    )
    op.create_index(
        op.f("ix_ingestion_events_config_id_seq_held"),
        _EVENTS,
        ["config_id", "seq"],
        postgresql_where=sa.text("status = 'held'"),
    )


def downgrade() -> None:
    """Drop them again; held events go back to queued so that nothing waits for a release."""
    op.drop_index(op.f("ix_ingestion_events_config_id_seq_held"), table_name=_EVENTS)
    op.drop_index(op.f("ix_ingestion_events_config_id_received_time"), table_name=_EVENTS)
    op.drop_constraint(op.f("ck_ingestion_configs_held_reason_known"), _CONFIGS, type_="check")
    for column in (
        "drift_limits",
        "drift_alarm",
        "hold_on_drift",
        "held_time",
        "held_reason",
        "held",
    ):
        op.drop_column(_CONFIGS, column)
    op.execute("UPDATE ingestion_events SET status = 'queued' WHERE status = 'held'")
    op.drop_constraint(op.f("ck_ingestion_events_event_status"), _EVENTS, type_="check")
    op.create_check_constraint(op.f("ck_ingestion_events_event_status"), _EVENTS, _OLD_STATUSES)
