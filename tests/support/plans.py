"""Query plans of the partitioned inbox told in the parent's index names."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import Connection, text

# Each partition's index and the parent's index it belongs to.
_PARTITION_INDEXES = text(
    "SELECT child.relname, parent.relname FROM pg_inherits"
    " JOIN pg_class child ON child.oid = pg_inherits.inhrelid"
    " JOIN pg_class parent ON parent.oid = pg_inherits.inhparent"
    " WHERE parent.relkind = 'I'"
)


def with_parent_index_names(connection: Connection, plan: str) -> str:
    """``plan`` with each partition's index named as the index declared on its parent."""
    # A plan over a partitioned table scans the partitions' own indexes (one per month), whose
    # names PostgreSQL makes up; the tests ask about the indexes the model declares.
    for child, parent in connection.execute(_PARTITION_INDEXES).all():
        plan = re.sub(rf"\b{re.escape(child)}\b", parent, plan)
    return plan


# Events of an organization, most of them done (2.5% failed, 0.2% dead), ``spacing`` seconds
# apart: enough rows and statistics for the planner to choose as it would on a real inbox.
_FILL = """
INSERT INTO ingestion_events (id, config_id, organization_id, endpoint, received_time,
    content_type, raw_body, query_string, body_sha256, status, attempts, errors, warnings,
    processed_time)
SELECT gen_random_uuid(), :config, :organization, 'upsert',
       now() - (n * :spacing * interval '1 second'), 'application/json', '{}'::bytea, '', 'x',
       CASE WHEN n % 500 = 0 THEN 'dead' WHEN n % 40 = 0 THEN 'failed' WHEN n < 20 THEN 'queued'
            ELSE 'done' END,
       CASE WHEN n < 20 THEN 0 ELSE 1 END, '[]', '[]', now()
FROM generate_series(1, :rows) AS n
"""


def fill_inbox(
    connection: Connection, tenant: Mapping[str, object], rows: int, spacing: float
) -> None:
    """Insert ``rows`` events of ``tenant`` (its ``config`` and ``organization``), mostly done."""
    connection.execute(text(_FILL), {**tenant, "rows": rows, "spacing": spacing})
