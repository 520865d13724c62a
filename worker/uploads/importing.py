"""Importing an upload one chunk at a time: rows to events, processed in file order, counted.

Each chunk runs under a row lock on its upload (another runner of the same upload skips it) and
commits its progress (the offset of the next row, the counts, the error file's length) at the
end, in one transaction. A chunk cut short by a crash is redone from the committed offset; its
rows' events are found by their keys, so no row is applied twice and none is counted twice.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent, Upload, UploadStatus
from models.base import utcnow
from models.enums import Endpoint, EventStatus
from worker.attempts import attempt_event
from worker.database import task_session
from worker.uploads.csv_rows import Row, read_rows, row_object, row_problem
from worker.uploads.error_file import FailedRow, append_failed_rows
from worker.uploads.row_events import RowEvent, store_row_events
from worker.uploads.storage import errors_path, upload_path

# Rows per chunk: one INSERT, a few claim batches and one progress commit each; well inside
# the task's time limit even at a hundred rows a second on a busy machine.
CHUNK_ROWS = 500
# The action a row's event already had when another upload of the same file applied it.
ALREADY_IMPORTED = "already_imported"
FAILED = "failed"
# Events still being retried when their chunk was counted (a transient error).
RETRYING = "retrying"
# Events claimed and applied per transaction. Larger batches save round trips, but matching
# within a batch compares each row with the batch's leads: past about a hundred that costs more.
CLAIM_BATCH = 100


@dataclass
class ChunkOutcome:
    """What the task does next: run the next chunk, and events to run again later."""

    more: bool
    # (event id, seconds): events of the chunk to process again after a transient error.
    retries: list[tuple[uuid.UUID, float]] = field(default_factory=list)


@dataclass
class _Tally:
    actions: Counter[str] = field(default_factory=Counter)
    fields: Counter[str] = field(default_factory=Counter)
    failed: list[FailedRow] = field(default_factory=list)

    def fail(self, row: Row, field_name: str, message: str) -> None:
        self.actions[FAILED] += 1
        self.fields[field_name] += 1
        self.failed.append(FailedRow(row.number, row.values, field_name, message))


def _locked_upload(session: Session, upload_id: uuid.UUID) -> Upload | None:
    # SKIP LOCKED: a second runner of the same upload (a redelivered message) leaves the chunk
    # to the one holding it; a runner that died released the lock with its connection.
    return session.scalars(
        select(Upload).where(Upload.id == upload_id).with_for_update(skip_locked=True)
    ).one_or_none()


def _process_in_order(events: list[RowEvent]) -> list[tuple[uuid.UUID, float]]:
    """Run the chunk's events through the normal pipeline, oldest first.

    Claiming the first fresh event takes the fresh ones queued behind it (in receive order) as
    one batch of up to CLAIM_BATCH; the next claim starts where it ended.
    """
    retries: list[tuple[uuid.UUID, float]] = []
    ids = [event.event_id for event in events]
    tried: set[uuid.UUID] = set()
    while True:
        fresh = [event_id for event_id in _fresh(ids) if event_id not in tried]
        if not fresh:
            return retries
        tried.add(fresh[0])
        verdict = attempt_event(fresh[0], batch_size=min(len(fresh), CLAIM_BATCH))
        retries += [(retry.claim.event_id, retry.seconds) for retry in verdict.others]
        if verdict.retry_in is not None:
            # Scheduled like any retry, by a message of its own; the chunk does not wait.
            retries.append((fresh[0], verdict.retry_in))


def _fresh(event_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    with task_session() as session:
        return list(
            session.scalars(
                select(IngestionEvent.id)
                .where(
                    IngestionEvent.id.in_(event_ids),
                    IngestionEvent.status == EventStatus.queued,
                )
                .order_by(IngestionEvent.seq)
            )
        )


def _tally_events(
    session: Session,
    upload: Upload,
    rows: dict[int, Row],
    events: dict[int, RowEvent],
    tally: _Tally,
) -> None:
    states = {
        state.id: state
        for state in session.execute(
            select(
                IngestionEvent.id, IngestionEvent.status, IngestionEvent.action,
                IngestionEvent.errors, IngestionEvent.last_error,
            ).where(IngestionEvent.id.in_([event.event_id for event in events.values()]))
        )
    }  # fmt: skip
    received = upload.file_received_time
    for number, event in sorted(events.items()):
        state = states[event.event_id]
        earlier_upload = not event.new and received is not None and event.received_time < received
        if state.status in (EventStatus.failed, EventStatus.dead):
            first = (state.errors or [{}])[0]
            tally.fail(
                rows[number],
                str(first.get("field") or "event"),
                str(first.get("message") or state.last_error or "the row could not be applied"),
            )
        elif state.status != EventStatus.done:
            tally.actions[RETRYING] += 1
        elif earlier_upload:
            tally.actions[ALREADY_IMPORTED] += 1
        else:
            tally.actions[state.action.value if state.action else "done"] += 1


def _merged(counts: dict[str, Any], more: Counter[str]) -> dict[str, Any]:
    merged = Counter({key: int(value) for key, value in counts.items()})
    merged.update(more)
    return dict(merged)


def import_next_chunk(
    upload_id: uuid.UUID, upload_dir: Path, chunk_rows: int = CHUNK_ROWS
) -> ChunkOutcome:
    """Import the upload's next chunk of rows and commit its progress; whether more remain."""
    with task_session() as session:
        upload = _locked_upload(session, upload_id)
        if upload is None or upload.status != UploadStatus.processing:
            return ChunkOutcome(more=False)
        assert upload.sha256 is not None and upload.header is not None and upload.delimiter
        config = session.get(IngestionConfig, upload.config_id)
        assert config is not None
        rows = read_rows(
            upload_path(upload_dir, upload.id),
            upload.delimiter,
            upload.next_offset,
            upload.rows_done + 1,
            chunk_rows,
        )
        tally = _Tally()
        by_number = {row.number: row for row in rows}
        applicable: list[tuple[int, dict[str, str]]] = []
        for row in rows:
            problem = row_problem(upload.header, row.values)
            if problem is None:
                applicable.append((row.number, row_object(upload.header, row.values)))
            else:
                tally.fail(row, "row", problem)
        # The events commit on their own before processing: the pipeline claims them in its
        # own transactions.
        with task_session() as events_session:
            events = store_row_events(
                events_session, config.id, config.organization_id,
                Endpoint(config.file_endpoint), upload.sha256, applicable, config.test,
            )  # fmt: skip
        ordered = [events[number] for number, _ in applicable]
        retries = _process_in_order(ordered)
        _tally_events(session, upload, by_number, events, tally)
        # Failed rows in file order, whichever way they failed.
        tally.failed.sort(key=lambda failed: failed.number)
        upload.errors_bytes = append_failed_rows(
            errors_path(upload_dir, upload.id), upload.errors_bytes, upload.header,
            upload.delimiter, tally.failed,
        )  # fmt: skip
        now = utcnow()
        if rows:
            upload.next_offset = rows[-1].end_offset
        upload.rows_done += len(rows)
        upload.rows_failed += len(tally.failed)
        upload.actions = _merged(upload.actions, tally.actions)
        upload.failed_fields = _merged(upload.failed_fields, tally.fields)
        upload.progress_time = now
        more = len(rows) == chunk_rows
        if not more:
            upload.status = UploadStatus.done
            upload.finished_time = now
    return ChunkOutcome(more=more, retries=retries)


def stop_import(upload_id: uuid.UUID, reason: str) -> None:
    """Fail an upload whose import cannot go on (its file is gone or unreadable, say)."""
    with task_session() as session:
        upload = session.get(Upload, upload_id, with_for_update=True)
        if upload is not None and upload.status == UploadStatus.processing:
            upload.status = UploadStatus.failed
            upload.failure_reason = reason
            upload.finished_time = utcnow()
