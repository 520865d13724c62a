"""Storing accepted payloads in the inbox, with idempotency keys honoured."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from common.settings import get_settings
from models import IdempotencyKey
from models.base import utcnow
from models.enums import Endpoint
from models.idempotency_key import IDEMPOTENCY_WINDOW
from models.inbox_writes import insert_new_events
from models.ingestion_event import new_event_id
from webhook.auth import EndpointConfig
from webhook.broker import wake_config
from webhook.db import release_connection
from webhook.errors import ApiError
from webhook.group_commit import BatchFailed, Row, Ticket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredEvent:
    """The event that answers a request, and whether this request created it."""

    event_id: uuid.UUID
    created: bool
    # True when its batch's leader already woke a worker for it (see ``_wake_batch``).
    woken: bool = False


def body_digest(raw_body: bytes, query_string: str) -> str:
    """SHA-256 over the body and the payload part of the query string."""
    digest = hashlib.sha256(raw_body)
    digest.update(b"\0?")
    digest.update(query_string.encode("utf-8"))
    return digest.hexdigest()


def _insert(session: Session, values: dict[str, object]) -> uuid.UUID | None:
    inserted = insert_new_events(session.connection(), [values], get_settings().stuck_after)
    return cast(uuid.UUID, values["id"]) if inserted else None


def _insert_batch(session: Session) -> Callable[[list[Row]], set[object]]:
    engine = session.get_bind()
    assert isinstance(engine, Engine)  # the request's autocommit session: see request_session

    def run(rows: list[Row]) -> set[object]:
        # One statement on an autocommit connection: one transaction, one commit for all. The
        # engine's own connection, not the session's: no session transaction to begin and end
        # around it, and the connection goes back to the pool before the answers and wake-ups.
        with engine.connect() as connection:
            return set(insert_new_events(connection, rows, get_settings().stuck_after))

    return run


def _wake_batch(rows: list[Row]) -> None:
    # One wake-up per config of the batch, sent once every member has its answer.
    first_of_config: dict[object, object] = {}
    for row in rows:
        first_of_config.setdefault(row["config_id"], row["id"])
    for config_id, event_id in first_of_config.items():
        wake_config(cast(uuid.UUID, config_id), cast(uuid.UUID, event_id))


def _insert_grouped(session: Session, values: Row, ticket: Ticket) -> uuid.UUID | None:
    # Every row of a batch has the same columns; none can conflict but on an idempotency key.
    row = {**values, "target_lead_id": values.get("target_lead_id")}
    # Hand back a connection an earlier read of this request checked out (a config or token
    # missing from the cache) before waiting for the batch: web threads outnumber the pool's
    # connections, and a batch's leader must never wait for one its own members hold.
    release_connection(session)
    try:
        inserted = ticket.insert(row, _insert_batch(session), _wake_batch)
    except BatchFailed as error:
        log.warning("a batch of events failed: %s", type(error.__cause__).__name__)
        raise ApiError(
            503, "The event could not be stored; retry later.", headers={"Retry-After": "1"}
        ) from error
    return cast(uuid.UUID, values["id"]) if inserted else None


def store_event(
    session: Session,
    config: EndpointConfig,
    endpoint: Endpoint,
    raw_body: bytes,
    content_type: str,
    query_string: str,
    idempotency_key: str | None,
    target_lead_id: int | None = None,
    ticket: Ticket | None = None,
    is_test: bool = False,
) -> StoredEvent:
    """Insert the event (committed by the caller), or return the first one with the same key.

    The key is as ``webhook.idempotency`` derives it, ready for the column. The same key with a
    different body is a 409; a key older than the window is released and the new payload takes
    it. With a ``ticket`` (an autocommit session only) the first insert joins this process's
    group commit and is durable when this returns, and the batch's leader wakes a worker for
    it; a batch that fails is a 503. ``is_test`` stores a test-mode event (the header asked,
    or the config is marked test); a resend of a stored event keeps the first one's mode.
    """
    # No statement below relies on an earlier one in the same transaction (each re-reads what
    # it needs and the loop absorbs races), so this also holds in an autocommit session.
    digest = body_digest(raw_body, query_string)
    # One clock reading for both: the id's millisecond tells a lookup which partition to read.
    received_time = utcnow()
    values: dict[str, object] = {
        "id": new_event_id(received_time),
        "config_id": config.id,
        "organization_id": config.organization_id,
        "endpoint": endpoint,
        "received_time": received_time,
        "content_type": content_type,
        "raw_body": raw_body,
        "query_string": query_string,
        "body_sha256": digest,
        "idempotency_key": idempotency_key,
        # Always present, so every row of a group commit has the same columns.
        "is_test": is_test or config.test,
    }
    if target_lead_id is not None:
        # Only a PATCH of the standard API names its lead; the other inserts keep their shape.
        values["target_lead_id"] = target_lead_id
    for attempt in range(3):
        grouped = ticket is not None and attempt == 0
        if grouped:
            assert ticket is not None
            inserted = _insert_grouped(session, values, ticket)
        else:
            inserted = _insert(session, values)
        if inserted is not None:
            return StoredEvent(inserted, created=True, woken=grouped)
        first = session.execute(
            select(
                IdempotencyKey.event_id.label("id"),
                IdempotencyKey.body_sha256,
                IdempotencyKey.received_time,
            ).where(
                IdempotencyKey.config_id == config.id,
                IdempotencyKey.idempotency_key == idempotency_key,
            )
        ).one_or_none()
        if first is None:
            continue  # the holder was released between our insert and select; try again
        if first.received_time < utcnow() - IDEMPOTENCY_WINDOW:
            # Released only if it is still that holder: of two requests releasing it at once,
            # one deletes it and both race for the key on the next turn.
            session.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.config_id == config.id,
                    IdempotencyKey.idempotency_key == idempotency_key,
                    IdempotencyKey.event_id == first.id,
                )
            )
            continue
        if first.body_sha256 != digest:
            raise ApiError(
                409,
                "This Idempotency-Key was already used with a different payload on this endpoint.",
            )
        return StoredEvent(first.id, created=False)
    raise ApiError(409, "This Idempotency-Key is in use by a concurrent request; retry.")
