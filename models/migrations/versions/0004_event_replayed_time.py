"""When an event was last replayed, so that a replay is timed from it rather than from receipt.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the nullable replay time; events never replayed keep null."""
    op.add_column(
        "ingestion_events",
        sa.Column("replayed_time", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_column("ingestion_events", "replayed_time")
