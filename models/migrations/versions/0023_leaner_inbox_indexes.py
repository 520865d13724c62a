"""Three inbox indexes that every new, claimed and swept event paid for, made lean.

Each insert, claim and sweep of an event writes a new entry in every index whose predicate the
new row version meets (those updates change indexed columns, so none is HOT). Three indexes took
an entry from every such write and served none of those rows:

- the lead index held a NULL for every event without a lead, which is every unfinished one; its
  users look a lead up by equality, so it keeps only rows that have one;
- the payload index (GIN) held a NULL placeholder for every event not yet parsed; only finished
  events have a parsed payload, and ``@>`` implies the predicate;
- the receive-time B-tree served only whole-service time ranges (`leadgate status`'s last hour,
  a replay's --since). Events arrive in time order, so a BRIN index answers those from one
  summary per range of pages, and an insert into the newest pages, not yet summarized, writes
  nothing to it.

Revision ID: 0023_leaner_inbox_indexes
Revises: 0022_failed_events_index
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import TextClause, text

revision: str = "0023_leaner_inbox_indexes"
down_revision: str | None = "0022_failed_events_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "ingestion_events"
_LEAD_INDEX = "ix_ingestion_events_lead_id"
_PAYLOAD_INDEX = "ix_ingestion_events_payload"
_TIME_INDEX = "ix_ingestion_events_received_time"
_TIME_BRIN_INDEX = "ix_ingestion_events_received_time_brin"


def _create_payload_index(where: TextClause | None) -> None:
    # jsonb_path_ops serves @> and is a third the size of the default operator class.
    op.create_index(
        _PAYLOAD_INDEX,
        _TABLE,
        ["payload"],
        postgresql_using="gin",
        postgresql_ops={"payload": "jsonb_path_ops"},
        postgresql_where=where,
    )


def upgrade() -> None:
    """Partial lead and payload indexes; the receive-time B-tree becomes a BRIN index."""
    op.drop_index(_LEAD_INDEX, table_name=_TABLE)
    op.create_index(_LEAD_INDEX, _TABLE, ["lead_id"], postgresql_where=text("lead_id IS NOT NULL"))
    op.drop_index(_PAYLOAD_INDEX, table_name=_TABLE)
    _create_payload_index(where=text("payload IS NOT NULL"))
    op.drop_index(_TIME_INDEX, table_name=_TABLE)
    op.create_index(_TIME_BRIN_INDEX, _TABLE, ["received_time"], postgresql_using="brin")


def downgrade() -> None:
    """Back to full lead and payload indexes and the receive-time B-tree."""
    op.drop_index(_TIME_BRIN_INDEX, table_name=_TABLE)
    op.create_index(_TIME_INDEX, _TABLE, ["received_time"])
    op.drop_index(_PAYLOAD_INDEX, table_name=_TABLE)
    _create_payload_index(where=None)
    op.drop_index(_LEAD_INDEX, table_name=_TABLE)
    op.create_index(_LEAD_INDEX, _TABLE, ["lead_id"])
