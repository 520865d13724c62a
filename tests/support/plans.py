"""Query plans of the partitioned inbox told in the parent's index names."""

from __future__ import annotations

import re

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
