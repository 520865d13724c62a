"""File uploads: a CSV of leads sent to a signed URL and imported row by row as events."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import BigInteger, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class UploadStatus(enum.StrEnum):
    """Where an upload stands: waiting for its file, being imported, or finished."""

    awaiting_upload = "awaiting_upload"
    processing = "processing"
    done = "done"
    failed = "failed"


class Upload(Base):
    """One file sent through the upload flow, with the import's progress and its counts."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    config_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ingestion_configs.id"))
    filename: Mapped[str] = mapped_column(String(255))  # "may-leads.csv", as the client named it
    status: Mapped[UploadStatus] = mapped_column(
        Enum(UploadStatus, native_enum=False, create_constraint=True, length=16,
             name="upload_status"),
        default=UploadStatus.awaiting_upload,
    )  # fmt: skip
    # The signed URL's end of validity; the URL is single use besides (file_received_time).
    expires_time: Mapped[dt.datetime]
    # Set by the one PUT that claimed the signed URL: a second PUT finds it set and gets a 403.
    file_received_time: Mapped[dt.datetime | None]
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))  # of the file's bytes, as received
    delimiter: Mapped[str | None] = mapped_column(String(1))  # ",", ";" or "\t", sniffed
    # The header row's column names, in file order: ["phone", "email", "first name"]
    header: Mapped[list[Any] | None]
    # Where the next unread row starts, in bytes from the file's start; committed per chunk.
    next_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_total: Mapped[int | None]
    rows_done: Mapped[int] = mapped_column(default=0)
    rows_failed: Mapped[int] = mapped_column(default=0)
    # Rows by what they did: {"created": 980, "updated": 12, "failed": 8, "already_imported": 0}
    actions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Failed rows by the field named first in their error: {"phone_number": 6, "row": 2}
    failed_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The error file's committed length: a chunk redone after a crash truncates it back to this.
    errors_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    # Why the whole upload failed, for a person: "the file has no header row"
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_time: Mapped[dt.datetime | None]
    finished_time: Mapped[dt.datetime | None]
    # Last time a chunk committed; an import silent for longer than the lease is restarted.
    progress_time: Mapped[dt.datetime | None]
