"""Replay jobs: start, follow, cancel and advance a background replay of a filter's events.

The HTTP API and the CLI both go through here. A job walks the matching failed and dead events in
receive order, a chunk at a time by keyset (the seq after the last one walked), and each chunk is
one task run: the events are set back to queued by the same compare-and-set as a single replay,
then run through the worker's attempt policy, so a replayed event is exactly as idempotent as a
first delivery. Cancelling takes effect between chunks. A job is resumable by starting the same
filter again: the events it already replayed are no longer failed or dead, so they do not match.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import IngestionEvent, ReplayJob
from models.base import utcnow
from models.enums import EventStatus
from models.replay_job import ReplayJobStatus
from worker.attempts import attempt_event
from worker.configs import Author
from worker.database import task_session
from worker.dry_run import WOULD, WOULD_FAIL
from worker.event_filter_parser import filter_as_json, parse_event_filter, texts_from_json
from worker.event_search import EventFilter
from worker.replay import requeue_events
from worker.replay_plan import count_matching, matching_events, replay_filter

log = logging.getLogger(__name__)

CHUNK_SIZE = 200
# What a replayed event that has not finished yet counts as: a transient error sent it back to
# the usual retry path (it ends done or dead there), or another worker holds it right now.
PENDING = "pending"
DEAD = "dead"


class ReplayJobNotFound(LookupError):
    """No such job in the organization (another organization's job is not found either)."""


def start_replay_job(
    session: Session, organization_id: int, wanted: EventFilter, author: Author
) -> ReplayJob:
    """Add a running job for what ``wanted`` matches; the caller commits, then enqueues it.

    FilterError when the filter names a status a replay does not run.
    """
    wanted = replay_filter(wanted)
    job = ReplayJob(
        organization_id=organization_id,
        filter=filter_as_json(wanted),
        status=ReplayJobStatus.running,
        total=count_matching(session, organization_id, wanted),
        done=0,
        by_action={},
        failed_fields={},
        last_seq=0,
        started_by=author.label,
        started_by_token_id=author.token_id,
    )
    session.add(job)
    session.flush()
    return job


def get_replay_job(
    session: Session, job_id: uuid.UUID, organization_id: int | None = None
) -> ReplayJob:
    """The job; ReplayJobNotFound when there is none (in ``organization_id``, when given)."""
    job = session.get(ReplayJob, job_id)
    if job is None or organization_id not in (None, job.organization_id):
        raise ReplayJobNotFound(f"no replay job {job_id}")
    return job


def cancel_replay_job(
    session: Session, job_id: uuid.UUID, organization_id: int | None = None
) -> ReplayJob:
    """Mark a running job cancelled; it stops before its next chunk. A finished job is as it was."""
    job = get_replay_job(session, job_id, organization_id)
    session.execute(
        update(ReplayJob)
        .where(ReplayJob.id == job.id, ReplayJob.status == ReplayJobStatus.running)
        .values(status=ReplayJobStatus.cancelled, finished_time=utcnow(), modified_time=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(job)
    return job


def replay_job_as_dict(job: ReplayJob) -> dict[str, Any]:
    """The job as the API and the CLI show it."""
    return {
        "id": str(job.id),
        "status": job.status.value,
        "filter": job.filter,
        "total": job.total,
        "done": job.done,
        "by_action": job.by_action,
        "failed_fields": job.failed_fields,
        "started_by": job.started_by,
        "started_time": job.started_time.isoformat(),
        "modified_time": job.modified_time.isoformat(),
        "finished_time": job.finished_time.isoformat() if job.finished_time else None,
        "error": job.error,
    }


def _outcome(status: EventStatus, action: Any) -> str:
    if status == EventStatus.done and action is not None:
        return WOULD[action]
    if status == EventStatus.failed:
        return WOULD_FAIL
    if status == EventStatus.dead:
        return DEAD
    return PENDING


def tally_outcomes(
    session: Session, event_ids: list[uuid.UUID]
) -> tuple[Counter[str], Counter[str]]:
    """What the replayed events did: counts by action, and failures by the field they name."""
    by_action: Counter[str] = Counter()
    failed_fields: Counter[str] = Counter()
    if not event_ids:
        return by_action, failed_fields
    rows = session.execute(
        select(IngestionEvent.status, IngestionEvent.action, IngestionEvent.errors).where(
            IngestionEvent.id.in_(event_ids)
        )
    )
    for status, action, errors in rows:
        outcome = _outcome(status, action)
        by_action[outcome] += 1
        if outcome == WOULD_FAIL:
            failed_fields.update({error.get("field", "?") for error in errors or []})
    return by_action, failed_fields


def merge_counts(counts: dict[str, Any], more: Counter[str]) -> dict[str, int]:
    """The counts so far with ``more`` added, largest first."""
    total = Counter({key: int(value) for key, value in counts.items()})
    total.update(more)
    return dict(total.most_common())


def advance_replay_job(
    job_id: uuid.UUID, schedule_retry: Callable[[uuid.UUID, float], None]
) -> bool:
    """Replay the job's next chunk; True when there is more to do and the job still runs.

    ``schedule_retry(event_id, seconds)`` sends an event that met a transient error back to the
    queue, as the ingestion task does; the job does not wait for it (it counts as pending).
    """
    with task_session() as session:
        job = session.get(ReplayJob, job_id, with_for_update=True)
        if job is None or job.status != ReplayJobStatus.running:
            return False
        wanted = replay_filter(parse_event_filter(texts_from_json(job.filter)))
        chunk = matching_events(session, job.organization_id, wanted, job.last_seq, CHUNK_SIZE)
        # Moved on with the requeue, in one commit: a second delivery of this task (or the
        # next chunk's) starts after this chunk even while it is still being processed, and a
        # chunk whose worker dies is left to the sweeper, which recovers queued events.
        if chunk:
            job.last_seq = chunk[-1].seq
        # The compare-and-set: an event another replay took meanwhile is left to it.
        requeued = requeue_events(session, [event.id for event in chunk])
        walked = len(chunk)
    for event_id in requeued:
        # The first attempt claims the fresh events queued behind it too (a batch), so most of
        # the chunk goes in one transaction and the later attempts find their events done.
        verdict = attempt_event(event_id)
        for retry in verdict.others:
            schedule_retry(retry.claim.event_id, retry.seconds)
        if verdict.retry_in is not None:
            schedule_retry(event_id, verdict.retry_in)
    with task_session() as session:
        by_action, failed_fields = tally_outcomes(session, requeued)
        job = session.get(ReplayJob, job_id, with_for_update=True)
        assert job is not None
        job.done += walked
        job.by_action = merge_counts(job.by_action, by_action)
        job.failed_fields = merge_counts(job.failed_fields, failed_fields)
        job.modified_time = utcnow()
        more = walked == CHUNK_SIZE
        if job.status == ReplayJobStatus.running and not more:
            job.status = ReplayJobStatus.done
            job.finished_time = utcnow()
        return more and job.status == ReplayJobStatus.running


def fail_replay_job(session: Session, job_id: uuid.UUID, reason: str) -> None:
    """Mark a running job failed with a reason (an error of the job, not of its events)."""
    session.execute(
        update(ReplayJob)
        .where(ReplayJob.id == job_id, ReplayJob.status == ReplayJobStatus.running)
        .values(
            status=ReplayJobStatus.failed,
            error=reason,
            finished_time=utcnow(),
            modified_time=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
