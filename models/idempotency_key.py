"""Idempotency keys within their window, one table beside the partitioned inbox."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

# How long a key answers with its first event; past it, the key is free again (SPEC: 7 days).
IDEMPOTENCY_WINDOW = dt.timedelta(days=7)


class IdempotencyKey(Base):
    """A config's idempotency key and the event that took it first.

    A unique index of the partitioned inbox would have to hold received_time, so it could not
    stop one key from landing twice in two months; this small table holds the key alone as
    its primary key and is written in the same statement as the event (models.inbox_writes).
    Rows older than the window are pruned by the sweeper (worker.inbox_retention).
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        # Pruning the keys past the window, oldest first.
        Index("ix_idempotency_keys_received_time", "received_time"),
    )

    config_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ingestion_configs.id"), primary_key=True
    )
    # As webhook.idempotency derives it: "abc", "sha256:…", or "file:<sha256>:<row>".
    idempotency_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # The first event with this key; with received_time, the inbox row's whole primary key.
    event_id: Mapped[uuid.UUID]
    received_time: Mapped[dt.datetime]
    # The first event's body digest, to tell a resend from a reused key without reading it.
    body_sha256: Mapped[str] = mapped_column(String(64))
