"""An index of the failed and dead events by config, replacing the dead letters' own.

The events list by config and status (an operator's "what failed on this config?") had no index
of its own: its count read every failed entry of the organization's not-done index to keep the
config's (21 ms for 8,550 of 123,169 on a 5,000,000-event inbox), and its page intersected two
indexes or walked that one. An index of the failed and dead events by config, status and receive
order, with the organization beside each entry, answers both from one range. Only an event that
fails or dies enters it (a new event is queued, a claimed one processing, a finished one done),
so the insert, the claim and the sweep do not pay for it. It also answers what the dead letters'
index (config, where dead) did, the dead events per config, so that one goes.

Revision ID: 0022_failed_events_index
Revises: 0021_status_list_indexes
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0022_failed_events_index"
down_revision: str | None = "0021_status_list_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "ingestion_events"
_FAILED_INDEX = "ix_ingestion_events_config_id_status_seq_failed_or_dead"
_DEAD_INDEX = "ix_ingestion_events_config_id_dead"


def upgrade() -> None:
    """Index the failed and dead events by config, status and seq; drop the dead-only index."""
    op.create_index(
        _FAILED_INDEX,
        _TABLE,
        ["config_id", "status", "seq"],
        postgresql_include=["organization_id"],
        postgresql_where=text("status IN ('failed', 'dead')"),
    )
    op.drop_index(_DEAD_INDEX, table_name=_TABLE)


def downgrade() -> None:
    """Back to the dead letters' own index."""
    op.create_index(_DEAD_INDEX, _TABLE, ["config_id"], postgresql_where=text("status = 'dead'"))
    op.drop_index(_FAILED_INDEX, table_name=_TABLE)
