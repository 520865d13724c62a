"""The one statement that stores new events in the inbox together with their idempotency keys."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from enum import Enum

from sqlalchemy import Connection, text

# Each column given per row, with its type in the table.
_COLUMNS = (
    ("id", "uuid"),
    ("config_id", "uuid"),
    ("organization_id", "integer"),
    ("endpoint", "varchar"),
    ("received_time", "timestamptz"),
    ("content_type", "varchar"),
    ("raw_body", "bytea"),
    ("query_string", "text"),
    ("body_sha256", "varchar"),
    ("idempotency_key", "varchar"),
    ("target_lead_id", "integer"),
    ("is_test", "boolean"),
)
_NAMES = ", ".join(name for name, _ in _COLUMNS)
# JSON carries every column as it is but the body's bytes, which travel as base64 text.
_RECORD = ", ".join(f"{name} {'text' if kind == 'bytea' else kind}" for name, kind in _COLUMNS)
_DECODED = ", ".join(
    f"decode({name}, 'base64') AS {name}" if kind == "bytea" else name for name, kind in _COLUMNS
)

# The rows arrive as one JSON array of objects, so the text is the same for any batch size (one
# prepared statement), encoding them costs one json.dumps (a parameter array per column cost
# twice the client's CPU: psycopg inspects each list to find its type), and the whole batch is
# ONE statement: the keys that are new are claimed in idempotency_keys and exactly their events
# (and every unkeyed one) enter the inbox, or nothing does. Two rows of one batch with one key:
# the first takes it, the second is left out. ORDER BY position keeps seq (the sequence
# default) in the order the rows were given. Built from the constant column list above, never
# from input.
_INSERT_EVENTS = text(
    f"""
WITH incoming AS (
    SELECT {_DECODED}, position
    FROM json_to_recordset(CAST(:rows AS json)) AS incoming ({_RECORD}, position integer)
), keyed AS (
    INSERT INTO idempotency_keys (config_id, idempotency_key, event_id, received_time,
                                  body_sha256)
    SELECT config_id, idempotency_key, id, received_time, body_sha256
    FROM incoming WHERE idempotency_key IS NOT NULL ORDER BY position
    ON CONFLICT DO NOTHING
    RETURNING event_id
)
INSERT INTO ingestion_events ({_NAMES}, status, attempts, errors, warnings, next_attempt_time)
SELECT {_NAMES}, 'queued', 0, '[]', '[]', received_time + CAST(:first_check_after AS interval)
FROM incoming
WHERE idempotency_key IS NULL OR id IN (SELECT event_id FROM keyed)
ORDER BY position
RETURNING id
"""  # noqa: S608
)


def _json_value(value: object) -> object:
    # Only what json cannot write itself comes here.
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"an event column cannot hold {type(value).__name__}")


def insert_new_events(
    connection: Connection, rows: Sequence[Mapping[str, object]], first_check_after: dt.timedelta
) -> set[uuid.UUID]:
    """Store queued events whose keys are free; the ids of those stored.

    Each row names the columns above (``target_lead_id`` may be left out); a row whose
    ``idempotency_key`` another event holds is not stored, and the caller looks that one up.
    Each event's next check is ``first_check_after`` its receipt: the sweeper re-enqueues it
    then if no worker has taken it (its wake-up was lost), finding it by that time alone.
    """
    if not rows:
        return set()
    records = [
        {**{name: row.get(name) for name, _ in _COLUMNS}, "position": position}
        for position, row in enumerate(rows)
    ]
    values = {
        "rows": json.dumps(records, default=_json_value),
        "first_check_after": first_check_after,
    }
    return set(connection.execute(_INSERT_EVENTS, values).scalars())
