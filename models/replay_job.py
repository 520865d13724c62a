"""Replay jobs: a filter's failed and dead events run again in the background, chunk by chunk."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import BigInteger, Enum, ForeignKey, Identity, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class ReplayJobStatus(enum.StrEnum):
    """Where a replay job stands; only ``running`` changes again."""

    running = "running"
    done = "done"
    cancelled = "cancelled"
    failed = "failed"


class ReplayJob(Base):
    """One replay of the events a filter matched, with its progress and outcomes so far."""

    __tablename__ = "replay_jobs"
    __table_args__ = (
        # The jobs list: an organization's jobs, newest first, by cursor.
        Index("ix_replay_jobs_organization_id_seq", "organization_id", "seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Start order, for the cursor pages of the jobs list.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    # The events list's filters as given: {"config": "2b7c...", "status": ["failed", "dead"]}
    filter: Mapped[dict[str, Any]]
    status: Mapped[ReplayJobStatus] = mapped_column(
        Enum(ReplayJobStatus, native_enum=False, create_constraint=True, length=16,
             name="replay_job_status"),
        default=ReplayJobStatus.running,
    )  # fmt: skip
    # Matching events when the job started; done counts the ones walked so far.
    total: Mapped[int]
    done: Mapped[int] = mapped_column(default=0)
    # What the replayed events did, by the dry run's verbs: {"create": 3, "fail": 1}
    by_action: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Replayed events that failed again, by the field their errors name: {"phone_number": 1}
    failed_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The seq of the last event walked: the next chunk starts after it (keyset, not offset).
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # Who started it, for people: "token 12 (lg_3fa9c1)" or "cli alice".
    started_by: Mapped[str] = mapped_column(String(255))
    started_by_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    started_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    modified_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_time: Mapped[dt.datetime | None]
    # Why a job failed (an error of the job itself, not of its events).
    error: Mapped[str | None] = mapped_column(Text)
