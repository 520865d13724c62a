"""The inbox: every accepted payload, kept as the audit log and the source for replay."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from uuid6 import uuid7

from models.base import Base, utcnow
from models.enums import Endpoint, EventAction, EventStatus

# The partial indexes' conditions, each stated once. The statements that must use one of these
# indexes (worker.ingest.claims, worker.sweeper) put the same text in their WHERE clause, as
# constants: a prepared statement's generic plan can use a partial index only when the query
# states the index's predicate without parameters. The migrations keep their own copies (they
# are history); tests/models/test_ingestion_event.py checks the live indexes against these.

# Not finished yet: what the sweeper looks through.
UNFINISHED_EVENTS = "status IN ('queued', 'processing', 'retrying')"
# Queued and never tried: what a batch claim takes along with the event it was asked for.
FRESH_EVENTS = "status = 'queued' AND attempts = 0"
# Dead letters, counted per config.
DEAD_EVENTS = "status = 'dead'"
# Parked while their config is held; a release takes them in receive order.
HELD_EVENTS = "status = 'held'"


def _enum(cls: type, name: str) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        create_constraint=True,
        length=16,
        name=name,
        # Stored as the values ("leads.create"), which the API shows too; for the other enums
        # names and values are the same.
        values_callable=lambda members: [member.value for member in members],
    )


def new_event_id() -> uuid.UUID:
    """A time-ordered id (UUIDv7): new events land at the right edge of the primary key index."""
    # A random UUID would scatter every insert across the whole index, dirtying a page each.
    return uuid.UUID(int=uuid7().int)


class IngestionEvent(Base):
    """One accepted payload and what became of it."""

    __tablename__ = "ingestion_events"
    __table_args__ = (
        Index(
            "uq_ingestion_events_config_id_idempotency_key",
            "config_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        # The sweeper's question: which unfinished events are due?
        Index(
            "ix_ingestion_events_status_next_attempt_time",
            "status",
            "next_attempt_time",
            postgresql_where=text(UNFINISHED_EVENTS),
        ),
        Index(
            "ix_ingestion_events_organization_id_received_time", "organization_id", "received_time"
        ),
        Index("ix_ingestion_events_lead_id", "lead_id"),
        # Deleting a test lead (worker.test_leads) finds the PATCH events naming it, and so does
        # the foreign key's own check; only PATCH events have one, hence partial.
        Index(
            "ix_ingestion_events_target_lead_id",
            "target_lead_id",
            postgresql_where=text("target_lead_id IS NOT NULL"),
        ),
        # Dead letters per config, for /metrics and `leadgate status`.
        Index(
            "ix_ingestion_events_config_id_dead",
            "config_id",
            postgresql_where=text(DEAD_EVENTS),
        ),
        Index("ix_ingestion_events_received_time", "received_time"),
        # A config's health over a window (worker.health.stats).
        Index("ix_ingestion_events_config_id_received_time", "config_id", "received_time"),
        # Releasing a held config: its held events in receive order.
        Index(
            "ix_ingestion_events_config_id_seq_held",
            "config_id",
            "seq",
            postgresql_where=text(HELD_EVENTS),
        ),
        # The events list pages by receive order within an organization (keyset pagination).
        Index("ix_ingestion_events_organization_id_seq", "organization_id", "seq"),
        # payload_contains: jsonb_path_ops serves @> and is a third the size of the default.
        Index(
            "ix_ingestion_events_payload",
            "payload",
            postgresql_using="gin",
            postgresql_ops={"payload": "jsonb_path_ops"},
        ),
        # Claiming in batches: the oldest fresh events of a config (worker.ingest.claims).
        Index(
            "ix_ingestion_events_config_id_seq_fresh",
            "config_id",
            "seq",
            postgresql_where=text(FRESH_EVENTS),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_event_id)
    # Receive order across the whole service; I3 compares it with leads.last_event_seq.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    config_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ingestion_configs.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    endpoint: Mapped[Endpoint] = mapped_column(_enum(Endpoint, "endpoint"))
    received_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # "application/json" or "application/x-www-form-urlencoded"
    content_type: Mapped[str] = mapped_column(String(255))
    raw_body: Mapped[bytes] = mapped_column(LargeBinary)
    # The POST's query string, merged into the payload under the body's keys: "lead_source=x"
    query_string: Mapped[str] = mapped_column(Text, default="")
    # SHA-256 of the body and query string, to tell a resend from a reused idempotency key.
    body_sha256: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[EventStatus] = mapped_column(
        _enum(EventStatus, "event_status"), default=EventStatus.queued
    )
    action: Mapped[EventAction | None] = mapped_column(_enum(EventAction, "event_action"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    matched_by: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_time: Mapped[dt.datetime | None]
    # [{"field": "phone_number", "message": "..."}]
    errors: Mapped[list[Any]] = mapped_column(default=list)
    # [{"lead_id": 7, "key": "phone_number", "reason": "..."}]
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    # Each match key tried: [{"key", "skipped"?, "candidates": [{"lead_id", "taken", "reason"}]}]
    match_explanation: Mapped[list[Any] | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_time: Mapped[dt.datetime | None]
    # When it was last replayed; null for an event never replayed. A replay is timed from here,
    # not from received_time, which may be days old by then.
    replayed_time: Mapped[dt.datetime | None]
    # The lead a PATCH /api/leads/{id}/ names; None for every other endpoint.
    target_lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    # The body parsed (query string merged), written by the worker when it reads the body, so
    # the accept path stays one plain INSERT; None until then, or when the body did not parse.
    payload: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
    )
    # The config's mapping version the event was processed with (models.mapping_version).
    mapping_version: Mapped[int | None]
    # A test-mode event (Leadgate-Test: true, or its config marked test when it was received):
    # it creates and changes test leads only, and its fan-in claims are not counted.
    is_test: Mapped[bool] = mapped_column(default=False, server_default=false())
