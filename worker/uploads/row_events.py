"""A chunk of rows stored as ingestion events in one INSERT, keyed by file digest and row number.

The key makes a row's event unique on its config within the idempotency window (the
idempotency_keys table), so a chunk redone after a crash, a redelivered task or the same file
uploaded again that week finds its rows' events already there and adds none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.settings import get_settings
from models import IdempotencyKey
from models.base import utcnow
from models.enums import Endpoint
from models.inbox_writes import insert_new_events
from models.ingestion_event import new_event_id

_JSON = "application/json"


@dataclass(frozen=True)
class RowEvent:
    """The event of one row, and whether it was there before this chunk stored it."""

    event_id: uuid.UUID
    received_time: dt.datetime
    new: bool


def row_key(file_sha256: str, row_number: int) -> str:
    """A row's idempotency key: the file's digest and the row's number (1 under the header)."""
    return f"file:{file_sha256}:{row_number}"


def _body_digest(raw_body: bytes) -> str:
    # As the inbox digests a body with an empty query string: a later request that reuses a
    # row's key with another body is then told apart the same way.
    return hashlib.sha256(raw_body + b"\0?").hexdigest()


def store_row_events(
    session: Session,
    config_id: uuid.UUID,
    organization_id: int,
    endpoint: Endpoint,
    file_sha256: str,
    rows: list[tuple[int, dict[str, str]]],
    is_test: bool = False,
) -> dict[int, RowEvent]:
    """Each row's event by row number: inserted now in file order, or found from before.

    ``is_test``: the rows are test-mode events (their config is marked test).
    """
    if not rows:
        return {}
    now = utcnow()
    values = []
    for number, row in rows:
        body = json.dumps(row, ensure_ascii=False).encode("utf-8")
        values.append(
            {
                # Minted from the chunk's receive time, so a lookup by id finds its partition.
                "id": new_event_id(now),
                "config_id": config_id,
                "organization_id": organization_id,
                "endpoint": endpoint,
                "received_time": now,
                "content_type": _JSON,
                "raw_body": body,
                "query_string": "",
                "body_sha256": _body_digest(body),
                "idempotency_key": row_key(file_sha256, number),
                "is_test": is_test,
            }
        )
    # One statement; its rows take their seq values in list order: seq follows file order,
    # and the worker applies one person's rows in the order the file has them.
    ours = insert_new_events(session.connection(), values, get_settings().stuck_after)
    keys = {row_key(file_sha256, number): number for number, _ in rows}
    found = session.execute(
        select(
            IdempotencyKey.event_id, IdempotencyKey.idempotency_key, IdempotencyKey.received_time
        ).where(
            IdempotencyKey.config_id == config_id,
            IdempotencyKey.idempotency_key.in_(list(keys)),
        )
    ).all()
    return {
        keys[row.idempotency_key]: RowEvent(row.event_id, row.received_time, row.event_id in ours)
        for row in found
    }
