"""Retention inside the inbox: raw bodies of old done events, idempotency keys past the window.

Whole months are dropped by worker.inbox_partitions; these trim what a month keeps until then.
Each function deletes or rewrites a bounded batch and never commits, like prune_history.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, text, tuple_, update
from sqlalchemy.orm import Session

from models import IdempotencyKey, IngestionEvent
from models.idempotency_key import IDEMPOTENCY_WINDOW
from models.ingestion_event import UNPURGED_DONE_EVENTS

# Rows one sweep rewrites or deletes at most: a backlog is cleared over several sweeps, never
# in one long statement holding its locks (and a purge rewrites whole rows).
PURGE_BATCH = 1000
KEY_PRUNE_BATCH = 5000


def purge_raw_bodies(
    session: Session, received_before: dt.datetime, now: dt.datetime, limit: int = PURGE_BATCH
) -> int:
    """Empty the raw bodies of done events received before ``received_before``; how many.

    Only done events: a failed or dead one keeps its body until it is replayed (a replay reads
    it again) or its month's partition is dropped. raw_body_purged_time says when it went.
    """
    oldest = (
        select(IngestionEvent.id, IngestionEvent.received_time)
        # The partial index's own predicate as text, so the plan can use it.
        .where(text(UNPURGED_DONE_EVENTS), IngestionEvent.received_time < received_before)
        .order_by(IngestionEvent.received_time)
        .limit(limit)
        # An event a replay or an operator is changing right now waits for the next sweep.
        .with_for_update(skip_locked=True)
    )
    result = session.execute(
        update(IngestionEvent)
        .where(
            tuple_(IngestionEvent.id, IngestionEvent.received_time).in_(oldest),
            # Re-checked on the row itself, in case it changed since the subquery saw it.
            IngestionEvent.status == "done",
        )
        .values(raw_body=b"", raw_body_purged_time=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def prune_idempotency_keys(session: Session, now: dt.datetime, limit: int = KEY_PRUNE_BATCH) -> int:
    """Delete idempotency keys older than the window (they answer nothing any more); how many."""
    oldest = (
        select(IdempotencyKey.config_id, IdempotencyKey.idempotency_key)
        .where(IdempotencyKey.received_time < now - IDEMPOTENCY_WINDOW)
        .order_by(IdempotencyKey.received_time)
        .limit(limit)
    )
    result = session.execute(
        delete(IdempotencyKey).where(
            tuple_(IdempotencyKey.config_id, IdempotencyKey.idempotency_key).in_(oldest)
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
