"""Indexes for the events list by status and by config, counts included, on a large inbox.

The list answers a count beside its page: exact up to 10,000 matching rows. Filtered by status
(failed, dead, queued...) the count found no index and read the partitions' heaps (150 ms on a
million events; 350 ms with a config as well), and a config's count fetched every row from the
heap for its organization. A partial index of the events not done, by organization, status and
receive order, with the config beside each entry, serves those pages and counts from the index
alone; the config's index carries the organization for the same reason.

Revision ID: 0021_status_list_indexes
Revises: 0020_partitioned_inbox
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0021_status_list_indexes"
down_revision: str | None = "0020_partitioned_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "ingestion_events"
_CONFIG_INDEX = "ix_ingestion_events_config_id_received_time"
_STATUS_INDEX = "ix_ingestion_events_organization_id_status_seq_not_done"


def upgrade() -> None:
    """Add the not-done status index; the config index carries the organization."""
    op.drop_index(_CONFIG_INDEX, table_name=_TABLE)
    op.create_index(
        _CONFIG_INDEX,
        _TABLE,
        ["config_id", "received_time"],
        postgresql_include=["organization_id"],
    )
    op.create_index(
        _STATUS_INDEX,
        _TABLE,
        ["organization_id", "status", "seq"],
        postgresql_include=["config_id"],
        postgresql_where=text("status <> 'done'"),
    )


def downgrade() -> None:
    """Back to the config index without the organization, and no status index."""
    op.drop_index(_STATUS_INDEX, table_name=_TABLE)
    op.drop_index(_CONFIG_INDEX, table_name=_TABLE)
    op.create_index(_CONFIG_INDEX, _TABLE, ["config_id", "received_time"])
