"""A chunk of rows stored as ingestion events in one INSERT, keyed by file digest and row number.

The key makes a row's event unique on its config (the inbox's unique index), so a chunk redone
after a crash, a redelivered task or the same file uploaded again finds its rows' events
already there and adds none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models import IngestionEvent
from models.base import utcnow
from models.enums import Endpoint, EventStatus

_EVENTS = cast(Table, IngestionEvent.__table__)
_JSON = "application/json"
_INSERT_UNLESS_KEY_TAKEN = insert(_EVENTS).on_conflict_do_nothing(
    index_elements=["config_id", "idempotency_key"],
    index_where=_EVENTS.c.idempotency_key.is_not(None),
)


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
                "id": uuid.uuid4(),
                "config_id": config_id,
                "organization_id": organization_id,
                "endpoint": endpoint,
                "received_time": now,
                "content_type": _JSON,
                "raw_body": body,
                "query_string": "",
                "body_sha256": _body_digest(body),
                "idempotency_key": row_key(file_sha256, number),
                "status": EventStatus.queued,
                "attempts": 0,
                "errors": [],
                "warnings": [],
                "is_test": is_test,
            }
        )
    # One statement, compiled once and cached; SQLAlchemy sends the rows as multi-row VALUES
    # batches in list order, which take their identity values in that order: seq follows file
    # order, and the worker applies one person's rows in the order the file has them.
    session.execute(_INSERT_UNLESS_KEY_TAKEN, values)
    ours = {value["id"] for value in values}
    keys = {row_key(file_sha256, number): number for number, _ in rows}
    found = session.execute(
        select(_EVENTS.c.id, _EVENTS.c.idempotency_key, _EVENTS.c.received_time).where(
            _EVENTS.c.config_id == config_id, _EVENTS.c.idempotency_key.in_(list(keys))
        )
    ).all()
    return {
        keys[row.idempotency_key]: RowEvent(row.id, row.received_time, row.id in ours)
        for row in found
    }
