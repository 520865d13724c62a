"""Finding imports that stopped: processing, with no chunk committed for longer than the lease."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Upload, UploadStatus
from models.base import utcnow


def claim_stalled_uploads(session: Session, stuck_after_seconds: float) -> list[uuid.UUID]:
    """Uploads whose import went silent (its worker died, its message was lost); restart each.

    Their progress time moves forward, so the next sweep leaves them alone while the restarted
    chunk runs; a chunk still running elsewhere keeps its row lock and the restart skips it.
    """
    now = utcnow()
    stalled = list(
        session.scalars(
            select(Upload.id)
            .where(
                Upload.status == UploadStatus.processing,
                Upload.progress_time < now - dt.timedelta(seconds=stuck_after_seconds),
            )
            .with_for_update(skip_locked=True)
        )
    )
    if stalled:
        session.execute(update(Upload).where(Upload.id.in_(stalled)).values(progress_time=now))
    return stalled
