"""Index of fresh queued events per config, in receive order, for claiming them in batches.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the partial index the batch claim reads."""
    op.create_index(
        "ix_ingestion_events_config_id_seq_fresh",
        "ingestion_events",
        ["config_id", "seq"],
        unique=False,
        postgresql_where=sa.text("status = 'queued' AND attempts = 0"),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_ingestion_events_config_id_seq_fresh", table_name="ingestion_events")
