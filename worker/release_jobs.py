"""Releasing a held config: a replay job over its held events, one at a time in receive order.

A release is a replay job (``worker.replay_jobs``) whose filter is the config and the status
``held``; it is followed and cancelled like any other. The config stays held while the job
walks, so events that arrive meanwhile are parked and walked after the older ones; only when no
held event is left does the job lift the hold, under the same row lock parking reads it with.
The events are claimed and applied in turn by one worker process, a run of fresh ones in one
batch (applied in receive order), so no two events of a lead run at once and none is applied
before an older one (I3 without ``stale``).

A chunk's events go back to queued (held ones by a compare-and-set) in the commit that moves the
job on; their next check is a sweep interval away, so the sweeper leaves them to the job. When
the job's worker dies mid-chunk, the sweeper sends the chunk's unfinished events on later (the
config is still held, so they are parked again), and the next run of the job, its chunk task
redelivered or a new job that took over from it on a second release, first takes what the dead
one left queued or processing under a lease that ran out: each still reaches a terminal state
once (I1).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent, ReplayJob
from models.base import utcnow
from models.enums import EventStatus
from models.ingestion_event import HELD_EVENTS, UNFINISHED_EVENTS
from models.replay_job import ReplayJobStatus
from worker.attempts import attempt_event
from worker.configs import Author
from worker.database import task_session
from worker.replay_jobs import (
    CHUNK_SIZE,
    cancel_replay_job,
    fail_replay_job,
    merge_counts,
    tally_outcomes,
)

RELEASED = EventStatus.held.value
_EVENTS = cast(Table, IngestionEvent.__table__)
_COLUMNS = (_EVENTS.c.id, _EVENTS.c.seq, _EVENTS.c.status, _EVENTS.c.attempts)

# The config's held events in receive order. The partial index's own predicate, not a
# parameter, so a prepared statement's generic plan can still use that index.
HELD_PAGE = (
    select(*_COLUMNS)
    .where(_EVENTS.c.config_id == bindparam("of_config"), text(HELD_EVENTS))
    .order_by(_EVENTS.c.seq)
    .limit(bindparam("limit"))
)
# What a dead release worker left on the way: events it walked that are still queued, or
# processing under a lease that ran out. Read through the sweeper's index of unfinished events.
LEFT_BEHIND = select(*_COLUMNS).where(
    text(UNFINISHED_EVENTS),
    _EVENTS.c.config_id == bindparam("of_config"),
    _EVENTS.c.seq <= bindparam("walked_to"),
    (_EVENTS.c.status != EventStatus.processing.value)
    | (_EVENTS.c.next_attempt_time < bindparam("now")),
)
ABANDONED = "the release stopped moving (its worker died?) and was taken over after"


def release_filter(config_id: uuid.UUID) -> dict[str, Any]:
    """The filter a release job records: the config's held events."""
    return {"config": str(config_id), "status": [RELEASED]}


def is_release_job(job: ReplayJob) -> bool:
    """True for a job that releases a held config rather than replaying failed events."""
    return job.filter.get("status") == [RELEASED]


def _count_held(session: Session, config_id: uuid.UUID) -> int:
    statement = select(func.count()).where(
        IngestionEvent.config_id == config_id, IngestionEvent.status == EventStatus.held
    )
    return session.scalar(statement) or 0


def running_release(session: Session, config_id: uuid.UUID) -> ReplayJob | None:
    """The config's release under way, if there is one."""
    statement = (
        select(ReplayJob)
        .where(
            ReplayJob.status == ReplayJobStatus.running,
            ReplayJob.filter["config"].as_string() == str(config_id),
        )
        .order_by(ReplayJob.seq.desc())
    )
    for job in session.scalars(statement):
        if is_release_job(job):
            return job
    return None


def stop_release(session: Session, config_id: uuid.UUID) -> ReplayJob | None:
    """Cancel the config's release under way, if any: a new hold keeps the rest held."""
    under_way = running_release(session, config_id)
    if under_way is None:
        return None
    return cancel_replay_job(session, under_way.id)


def start_release(
    session: Session, config: IngestionConfig, author: Author, abandoned_after_seconds: float
) -> tuple[ReplayJob, bool]:
    """The job releasing the config (locked by the caller), and True when it is a new one.

    A release under way is answered with its own job, unless it has not moved for
    ``abandoned_after_seconds`` (its worker died): that one is closed as failed and a new job
    walks what it left, so its chunk task, should it come back, stops at once. The hold stays
    until the job has walked every held event; the drift alarm is cleared now, since the
    operator has looked. The caller commits, then enqueues a new job.
    """
    config.drift_alarm = None
    walked_to = 0
    under_way = running_release(session, config.id)
    if under_way is not None:
        idle = utcnow() - under_way.modified_time
        if idle < dt.timedelta(seconds=abandoned_after_seconds):
            return under_way, False
        fail_replay_job(session, under_way.id, f"{ABANDONED} {idle.total_seconds():.0f} s")
        # The new job starts with what the dead one left behind on its way.
        walked_to = under_way.last_seq
    job = ReplayJob(
        organization_id=config.organization_id,
        filter=release_filter(config.id),
        status=ReplayJobStatus.running,
        total=_count_held(session, config.id),
        done=0,
        by_action={},
        failed_fields={},
        last_seq=walked_to,
        started_by=author.label,
        started_by_token_id=author.token_id,
    )
    session.add(job)
    session.flush()
    return job, True


@dataclass(frozen=True)
class Step:
    """One event of a chunk, and the last seq its claim may batch along with it."""

    event_id: uuid.UUID
    up_to_seq: int


def batch_steps(rows: list[Any]) -> list[Step]:
    """Each event with the end of the run of fresh events that follows it in the chunk.

    A batch claims only fresh events (queued, never tried): one that was tried before splits the
    chunk, so no batch reaches past an event it would leave for later.
    """
    steps: list[Step] = []
    up_to = 0
    for index in range(len(rows) - 1, -1, -1):
        row = rows[index]
        follows_fresh = index + 1 < len(rows) and rows[index + 1].attempts == 0
        follows_fresh = follows_fresh and rows[index + 1].status != EventStatus.processing
        up_to = up_to if follows_fresh else row.seq
        steps.append(Step(row.id, up_to))
    return steps[::-1]


def _take_chunk(session: Session, job: ReplayJob, recheck_after_seconds: float) -> list[Step]:
    """The next events to release, oldest first, set back to queued in the caller's commit."""
    now = utcnow()
    values: dict[str, Any] = {"of_config": uuid.UUID(job.filter["config"]), "now": now}
    left = session.execute(LEFT_BEHIND, values | {"walked_to": job.last_seq}).all()
    held = session.execute(HELD_PAGE, values | {"limit": CHUNK_SIZE}).all()
    rows = sorted([*left, *held], key=lambda row: row.seq)[:CHUNK_SIZE]
    requeue = [row.id for row in rows if row.status == EventStatus.held]
    if requeue:
        session.execute(
            update(IngestionEvent)
            .where(IngestionEvent.id.in_(requeue), IngestionEvent.status == EventStatus.held)
            .values(
                status=EventStatus.queued,
                next_attempt_time=now + dt.timedelta(seconds=recheck_after_seconds),
                replayed_time=now,
            )
            .execution_options(synchronize_session=False)
        )
    if rows:
        job.last_seq = max(job.last_seq, rows[-1].seq)
    return batch_steps(rows)


def lift_hold_if_drained(session: Session, config_id: uuid.UUID) -> bool:
    """Lift the hold when no event of the config is held any more; True if it was lifted."""
    # The update lock waits for any parking that read the hold (a share lock) to commit, so an
    # event parked just now is counted here, and one claimed after this sees the hold lifted.
    config = session.get(IngestionConfig, config_id, with_for_update=True)
    if config is None or _count_held(session, config_id):
        return False
    config.held, config.held_reason, config.held_time = False, None, None
    return True


def advance_release_job(
    job_id: uuid.UUID,
    schedule_retry: Callable[[uuid.UUID, float], None],
    recheck_after_seconds: float,
) -> bool:
    """Release the job's next chunk of held events; True when there is more to do."""
    with task_session() as session:
        job = session.get(ReplayJob, job_id, with_for_update=True)
        if job is None or job.status != ReplayJobStatus.running:
            return False
        steps = _take_chunk(session, job, recheck_after_seconds)
        job.modified_time = utcnow()
    for step in steps:
        # In turn: the first claim of a run of fresh events takes the rest of the run along (a
        # batch, applied in receive order), and their own steps then find them done.
        verdict = attempt_event(step.event_id, releasing=True, up_to_seq=step.up_to_seq)
        for retry in verdict.others:
            schedule_retry(retry.claim.event_id, retry.seconds)
        if verdict.retry_in is not None:
            schedule_retry(step.event_id, verdict.retry_in)
    chunk = [step.event_id for step in steps]
    with task_session() as session:
        by_action, failed_fields = tally_outcomes(session, chunk)
        job = session.get(ReplayJob, job_id, with_for_update=True)
        assert job is not None
        config_id = uuid.UUID(job.filter["config"])
        job.done += len(chunk)
        job.by_action = merge_counts(job.by_action, by_action)
        job.failed_fields = merge_counts(job.failed_fields, failed_fields)
        job.modified_time = utcnow()
        more = len(chunk) == CHUNK_SIZE
        if job.status != ReplayJobStatus.running:
            return False  # cancelled between chunks: the rest stays held
        if not more and not lift_hold_if_drained(session, config_id):
            more = True  # parked while this chunk ran: walked next
        job.total = max(job.total, job.done + _count_held(session, config_id))
        if not more:
            job.status = ReplayJobStatus.done
            job.finished_time = utcnow()
        return more
