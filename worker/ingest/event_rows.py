"""Guarding claimed events' rows, so only the attempt that still holds an event records it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IngestionEvent
from models.enums import EventStatus
from models.ingestion_event import events_id_conditions
from worker.ingest.claims import Claim


def lock_event_rows(session: Session, claims: Sequence[Claim]) -> set[uuid.UUID]:
    """Lock the events' rows; the ids still held by these claims (not taken over, not finished)."""
    attempts = {claim.event_id: claim.attempt for claim in claims}
    # The batch's receive-time span (from its UUIDv7 ids): only those months' partitions are read.
    rows = session.execute(
        select(IngestionEvent.id, IngestionEvent.status, IngestionEvent.attempts)
        .where(
            *events_id_conditions(IngestionEvent.id, IngestionEvent.received_time, sorted(attempts))
        )
        # A fixed order, so two transactions locking overlapping sets cannot deadlock.
        .order_by(IngestionEvent.id)
        .with_for_update()
    ).all()
    return {
        row.id
        for row in rows
        if row.status == EventStatus.processing and row.attempts == attempts[row.id]
    }
