"""The replay job's task (releases are replay jobs too): runs one chunk and sends the next."""

from __future__ import annotations

import logging
import uuid

from celery import Task

from common.settings import get_settings
from models import ReplayJob
from worker.celery_app import app
from worker.database import task_session
from worker.release_jobs import advance_release_job, is_release_job
from worker.replay_jobs import advance_replay_job, fail_replay_job
from worker.retry import describe, is_transient

log = logging.getLogger(__name__)
# A job whose database is away tries again at this pace; its events wait in the inbox meanwhile.
TRANSIENT_RETRY_SECONDS = 5.0


def advance_job(job_id: uuid.UUID) -> bool:
    """Run the job's next chunk, a release's or a replay's; True when there is more to do."""
    with task_session() as session:
        job = session.get(ReplayJob, job_id)
        releasing = job is not None and is_release_job(job)
    if releasing:
        recheck = get_settings().stuck_after_seconds
        return advance_release_job(job_id, _schedule_retry, recheck)
    return advance_replay_job(job_id, _schedule_retry)


def _schedule_retry(event_id: uuid.UUID, seconds: float) -> None:
    from worker.tasks import process_event

    try:
        process_event.apply_async((str(event_id),), countdown=seconds)
    except Exception as error:  # the sweeper re-enqueues retries that come due unsent
        log.warning("event %s: retry not scheduled (%s)", event_id, type(error).__name__)


@app.task(name="leadgate.replay_chunk", bind=True, max_retries=None)
def replay_chunk(self: Task, job_id: str) -> None:
    """Replay the job's next chunk of events; send the task for the chunk after, if any."""
    parsed = uuid.UUID(job_id)
    try:
        more = advance_job(parsed)
    except Exception as error:
        if is_transient(error):
            log.warning("replay job %s: %s; trying again", job_id, describe(error))
            raise self.retry(countdown=TRANSIENT_RETRY_SECONDS) from None
        log.error("replay job %s failed", job_id, exc_info=error)
        with task_session() as session:
            fail_replay_job(session, parsed, describe(error))
        return
    if more:
        replay_chunk.delay(job_id)
