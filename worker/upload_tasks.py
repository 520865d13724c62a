"""Celery tasks of file ingestion: import an upload chunk by chunk, restart stalled imports."""

from __future__ import annotations

import logging
import uuid

from celery import Task

from common.settings import get_settings
from worker.celery_app import app
from worker.database import task_session
from worker.retry import backoff_seconds, describe, is_transient
from worker.tasks import process_event
from worker.uploads.importing import import_next_chunk, stop_import
from worker.uploads.stalled import claim_stalled_uploads

log = logging.getLogger(__name__)

IMPORT_UPLOAD_TASK = "leadgate.import_upload"


@app.task(name=IMPORT_UPLOAD_TASK, bind=True, max_retries=None)
def import_upload(self: Task, upload_id: str) -> None:
    """Import the upload's next chunk, then ask for the one after it (one chunk per message)."""
    settings = get_settings()
    try:
        outcome = import_next_chunk(uuid.UUID(upload_id), settings.upload_dir)
    except Exception as error:
        if not is_transient(error):
            # Running it again would fail alike (and the sweeper would keep restarting it).
            log.error("upload %s: import stopped", upload_id, exc_info=error)
            stop_import(
                uuid.UUID(upload_id),
                f"the import stopped at an unexpected error ({describe(error)}); "
                "upload the file again, and tell the service's operator if it recurs",
            )
            return
        log.warning("upload %s: chunk not imported (%s); retrying", upload_id, describe(error))
        raise self.retry(
            countdown=backoff_seconds(
                self.request.retries + 1, settings.retry_base_seconds, settings.retry_max_seconds
            )
        ) from None
    for event_id, seconds in outcome.retries:
        process_event.apply_async((str(event_id),), countdown=seconds)
    if outcome.more:
        import_upload.delay(upload_id)


@app.task(name="leadgate.sweep_uploads")
def sweep_uploads() -> int:
    """Restart imports whose worker died mid-file (their message waits out its visibility)."""
    with task_session() as session:
        stalled = claim_stalled_uploads(session, get_settings().stuck_after_seconds)
    for upload_id in stalled:
        import_upload.delay(str(upload_id))
    return len(stalled)
