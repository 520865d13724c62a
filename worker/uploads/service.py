"""The upload service: create an upload, take its file in, and describe its progress.

The API and the CLI both go through these functions; none of them commits (the caller's
transaction does), so each step and its effects land together.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import IngestionConfig, Upload, UploadStatus
from models.base import utcnow
from worker.uploads.csv_rows import FileLayout
from worker.uploads.signing import URL_LIFETIME_SECONDS
from worker.uploads.storage import ReceivedFile

MAX_FILENAME_LENGTH = 255


class UploadRefused(ValueError):
    """A request the upload service will not carry out; says which field and why."""

    def __init__(self, message: str, field: str, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


def source_config(session: Session, organization_id: int, source: object) -> IngestionConfig:
    """The organization's ingestion config named by ``source``: its id, or else its name."""
    if not isinstance(source, str) or not source.strip():
        raise UploadRefused("source must be the id or the name of an ingestion config", "source")
    query = select(IngestionConfig).where(
        IngestionConfig.organization_id == organization_id, ~IngestionConfig.standard_api
    )
    try:
        by_id = uuid.UUID(source.strip())
    except ValueError:
        found = list(session.scalars(query.where(IngestionConfig.name == source.strip())))
    else:
        found = list(session.scalars(query.where(IngestionConfig.id == by_id)))
    if not found:
        raise UploadRefused(f"no ingestion config of yours is named {source!r}", "source", 404)
    if len(found) > 1:
        raise UploadRefused(
            f"{len(found)} of your configs are named {source!r}; give the config's id", "source"
        )
    return found[0]


def create_upload(
    session: Session, organization_id: int, source: object, filename: object
) -> Upload:
    """A new upload awaiting its file, for a config of the organization."""
    config = source_config(session, organization_id, source)
    if not isinstance(filename, str) or not filename.strip():
        raise UploadRefused("filename must be the file's name, such as may-leads.csv", "filename")
    if len(filename) > MAX_FILENAME_LENGTH or "\x00" in filename:
        raise UploadRefused(
            f"filename must be at most {MAX_FILENAME_LENGTH} characters, without NUL", "filename"
        )
    now = utcnow()
    upload = Upload(
        id=uuid.uuid4(),
        organization_id=organization_id,
        config_id=config.id,
        filename=filename.strip(),
        status=UploadStatus.awaiting_upload,
        expires_time=now + dt.timedelta(seconds=URL_LIFETIME_SECONDS),
        created_time=now,
        next_offset=0,
        rows_done=0,
        rows_failed=0,
        actions={},
        failed_fields={},
        errors_bytes=0,
    )
    session.add(upload)
    session.flush()
    return upload


def upload_of(session: Session, organization_id: int, upload_id: uuid.UUID) -> Upload | None:
    """The upload if it belongs to the organization; None otherwise (as if there were none)."""
    upload = session.get(Upload, upload_id)
    if upload is None or upload.organization_id != organization_id:
        return None
    return upload


def claim_signed_url(session: Session, upload_id: uuid.UUID) -> bool:
    """Mark the upload's URL used, if it is still unused and unexpired; False otherwise.

    One UPDATE decides it, so of two PUTs racing with the same URL exactly one wins.
    """
    now = utcnow()
    claimed = session.execute(
        update(Upload)
        .where(
            Upload.id == upload_id,
            Upload.status == UploadStatus.awaiting_upload,
            Upload.file_received_time.is_(None),
            Upload.expires_time > now,
        )
        .values(file_received_time=now)
        .returning(Upload.id)
    ).scalar_one_or_none()
    return claimed is not None


def accept_file(
    session: Session, upload: Upload, received: ReceivedFile, layout: FileLayout
) -> None:
    """Record the stored file and its layout; the upload is now processing."""
    now = utcnow()
    upload.size_bytes = received.size_bytes
    upload.sha256 = received.sha256
    upload.delimiter = layout.delimiter
    upload.header = layout.header
    upload.next_offset = layout.data_offset
    upload.rows_total = layout.rows_total
    upload.status = UploadStatus.processing
    upload.started_time = now
    upload.progress_time = now


def fail_upload(
    session: Session, upload: Upload, reason: str, received: ReceivedFile | None = None
) -> None:
    """The whole upload failed, for ``reason`` (a sentence a person can act on)."""
    if received is not None:
        upload.size_bytes = received.size_bytes
        upload.sha256 = received.sha256
    upload.status = UploadStatus.failed
    upload.failure_reason = reason
    upload.finished_time = utcnow()


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def upload_summary(upload: Upload, error_file: Path | None = None) -> dict[str, Any]:
    """The upload as the API shows it: status, row counts, counts by action and field, timings."""
    end = upload.finished_time or (utcnow() if upload.started_time else None)
    seconds = (end - upload.started_time).total_seconds() if end and upload.started_time else None
    rows_per_second = round(upload.rows_done / seconds, 1) if seconds and upload.rows_done else None
    return {
        "id": str(upload.id),
        "source": str(upload.config_id),
        "filename": upload.filename,
        "status": upload.status.value,
        "failure_reason": upload.failure_reason,
        "size_bytes": upload.size_bytes,
        "sha256": upload.sha256,
        "rows_total": upload.rows_total,
        "rows_done": upload.rows_done,
        "rows_failed": upload.rows_failed,
        "actions": dict(sorted(upload.actions.items())),
        "failed_fields": dict(sorted(upload.failed_fields.items())),
        "timings": {
            "created_time": _iso(upload.created_time),
            "expires_time": _iso(upload.expires_time),
            "file_received_time": _iso(upload.file_received_time),
            "started_time": _iso(upload.started_time),
            "finished_time": _iso(upload.finished_time),
            "seconds": round(seconds, 3) if seconds is not None else None,
            "rows_per_second": rows_per_second,
        },
    }
