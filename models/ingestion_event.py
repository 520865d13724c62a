"""The inbox: every accepted payload, kept as the audit log and the source for replay."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    Select,
    Sequence,
    String,
    Text,
    Uuid,
    any_,
    bindparam,
    false,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import InstrumentedAttribute, Mapped, Session, defer, mapped_column
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
# Done and its raw body still kept: what the raw-body retention purges, oldest first.
UNPURGED_DONE_EVENTS = "status = 'done' AND raw_body_purged_time IS NULL"
# Queued and never tried: what a batch claim takes along with the event it was asked for.
FRESH_EVENTS = "status = 'queued' AND attempts = 0"
# Failed and dead: what an operator looks at per config, and the dead letters counted per config.
# Terminal, and entered only when an event fails or dies, so the hot path never writes its index.
FAILED_OR_DEAD_EVENTS = "status IN ('failed', 'dead')"
# Parked while their config is held; a release takes them in receive order.
HELD_EVENTS = "status = 'held'"
# Anything but done: the events an operator lists by status (failed, dead, queued...), a few
# percent of an inbox that is almost all done events.
NOT_DONE_EVENTS = "status <> 'done'"


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


def new_event_id(at: dt.datetime | None = None) -> uuid.UUID:
    """A time-ordered id (UUIDv7): new events land at the right edge of the primary key index.

    ``at`` mints the id of an event received then (its millisecond, random bits below it).
    """
    # A random UUID would scatter every insert across the whole index, dirtying a page each.
    if at is None:
        return uuid.UUID(int=uuid7().int)
    milliseconds = int(at.timestamp() * 1000) & (1 << 48) - 1
    random_bits = uuid.uuid4().int & ((1 << 12) - 1 << 64 | (1 << 62) - 1)
    return uuid.UUID(int=milliseconds << 80 | 0x7 << 76 | 0b10 << 62 | random_bits)


# How far an event's received_time may lie from its id's millisecond. The inbox sets both from
# one clock reading, microseconds apart; the margin only keeps a lookup right for ids minted
# elsewhere (a factory's row) while still pruning every partition but one or two.
_ID_TIME_MARGIN = dt.timedelta(days=1)


def event_time_range(event_id: uuid.UUID) -> tuple[dt.datetime, dt.datetime] | None:
    """The span an event's received_time lies in, read from its UUIDv7 id; None for other ids."""
    # Events stored before ids were time-ordered have random (version 4) ids: no hint there.
    if event_id.version != 7:
        return None
    return _span_around(event_id.int >> 80)


def _span_around(milliseconds: int) -> tuple[dt.datetime, dt.datetime]:
    minted = dt.datetime.fromtimestamp(milliseconds / 1000, dt.UTC)
    return minted - _ID_TIME_MARGIN, minted + _ID_TIME_MARGIN


# Bounds that hold every event, for an id that carries no time.
_ALL_TIME = (dt.datetime.min.replace(tzinfo=dt.UTC), dt.datetime.max.replace(tzinfo=dt.UTC))


def event_time_bounds(event_id: uuid.UUID) -> tuple[dt.datetime, dt.datetime]:
    """As event_time_range, as parameters for a prepared statement: all time for other ids."""
    return event_time_range(event_id) or _ALL_TIME


def events_time_bounds(event_ids: Iterable[uuid.UUID]) -> tuple[dt.datetime, dt.datetime]:
    """The span holding every one of these events' receive times (all time if one has no hint)."""
    # The ids' milliseconds first, two datetimes at the end: a sweep asks this of hundreds of ids.
    minted: list[int] = []
    for event_id in event_ids:
        if event_id.version != 7:
            return _ALL_TIME
        minted.append(event_id.int >> 80)
    if not minted:
        return _ALL_TIME
    return _span_around(min(minted))[0], _span_around(max(minted))[1]


def event_id_conditions(
    id_column: ColumnElement[uuid.UUID] | InstrumentedAttribute[uuid.UUID],
    time_column: ColumnElement[dt.datetime] | InstrumentedAttribute[dt.datetime],
    event_id: uuid.UUID,
) -> list[ColumnElement[bool]]:
    """WHERE terms finding one event by id, with the receive-time range that prunes partitions."""
    conditions: list[ColumnElement[bool]] = [id_column == event_id]
    span = event_time_range(event_id)
    if span is not None:
        conditions += [time_column >= span[0], time_column < span[1]]
    return conditions


def events_time_conditions(
    time_column: ColumnElement[dt.datetime] | InstrumentedAttribute[dt.datetime],
    event_ids: Iterable[uuid.UUID],
) -> list[ColumnElement[bool]]:
    """WHERE terms keeping a statement to these events' receive-time span (pruning months)."""
    received_from, received_until = events_time_bounds(event_ids)
    return [time_column >= received_from, time_column < received_until]


def events_id_conditions(
    id_column: ColumnElement[uuid.UUID] | InstrumentedAttribute[uuid.UUID],
    time_column: ColumnElement[dt.datetime] | InstrumentedAttribute[dt.datetime],
    event_ids: Collection[uuid.UUID],
) -> list[ColumnElement[bool]]:
    """WHERE terms finding these events by id, within their receive-time span (pruning months)."""
    # One array parameter, not one parameter per id: the statement's text stays the same for any
    # number of ids, so neither SQLAlchemy nor psycopg rebuilds it (for a sweep of 182 events
    # that rebuilding was a third of its client CPU).
    ids = bindparam(None, list(event_ids), type_=ARRAY(Uuid()))
    return [id_column == any_(ids), *events_time_conditions(time_column, event_ids)]


def find_event(session: Session, event_id: uuid.UUID) -> IngestionEvent | None:
    """One event by id, reading only the partitions its id's time can fall in."""
    found = session.scalars(
        select(IngestionEvent).where(
            *event_id_conditions(IngestionEvent.id, IngestionEvent.received_time, event_id)
        )
    ).one_or_none()
    if found is None and event_time_range(event_id) is not None:
        # A row written with a received_time far from its id's (by hand, say) is still found;
        # only a miss, usually a 404, pays for reading every partition's key index.
        found = session.scalars(
            select(IngestionEvent).where(IngestionEvent.id == event_id)
        ).one_or_none()
    return found


def _id_from_received_time(context: DefaultExecutionContext) -> uuid.UUID:
    # A row given its received_time (an import, a test's old event) gets an id of that moment.
    received = context.get_current_parameters().get("received_time")  # type: ignore[no-untyped-call]
    return new_event_id(received if isinstance(received, dt.datetime) else None)


def _received_time_from_id(context: DefaultExecutionContext) -> dt.datetime:
    # A row given only its id is received at the id's moment, so lookups by id prune right.
    event_id = context.get_current_parameters().get("id")  # type: ignore[no-untyped-call]
    if isinstance(event_id, uuid.UUID) and event_id.version == 7:
        span = event_time_range(event_id)
        assert span is not None
        return span[0] + _ID_TIME_MARGIN
    return utcnow()


# Receive order across the whole service. A partitioned table cannot hold an identity column
# before PostgreSQL 17, so seq takes its values from a sequence of its own.
EVENT_SEQ = Sequence("ingestion_events_seq_seq", metadata=Base.metadata)


class IngestionEvent(Base):
    """One accepted payload and what became of it."""

    __tablename__ = "ingestion_events"
    __table_args__ = (
        # Looking an event up by its key (the events list's filter); the key's uniqueness within
        # the window lives in idempotency_keys, since a unique index cannot span partitions.
        Index(
            "ix_ingestion_events_config_id_idempotency_key",
            "config_id",
            "idempotency_key",
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
        # The events list by lead, and deleting a lead: equality lookups only, which imply the
        # predicate. A new, claimed or swept event has no lead yet, so none of them writes here.
        Index(
            "ix_ingestion_events_lead_id",
            "lead_id",
            postgresql_where=text("lead_id IS NOT NULL"),
        ),
        # Deleting a test lead (worker.test_leads) finds the PATCH events naming it, and so does
        # the foreign key's own check; only PATCH events have one, hence partial.
        Index(
            "ix_ingestion_events_target_lead_id",
            "target_lead_id",
            postgresql_where=text("target_lead_id IS NOT NULL"),
        ),
        # The events list by config and status failed or dead, page and count from one range
        # (the organization beside each entry), and `leadgate status`'s dead letters per config.
        Index(
            "ix_ingestion_events_config_id_status_seq_failed_or_dead",
            "config_id",
            "status",
            "seq",
            postgresql_include=["organization_id"],
            postgresql_where=text(FAILED_OR_DEAD_EVENTS),
        ),
        # `leadgate status`'s last hour and a replay's --since across organizations. A BRIN
        # index: events arrive in time order, so a summary per range of pages answers a time
        # range, and an insert into pages not yet summarized (the newest) writes nothing to it.
        Index(
            "ix_ingestion_events_received_time_brin",
            "received_time",
            postgresql_using="brin",
        ),
        # A config's health over a window (worker.health.stats); with the organization beside
        # each entry, the events list's count of a config's events reads the index alone.
        Index(
            "ix_ingestion_events_config_id_received_time",
            "config_id",
            "received_time",
            postgresql_include=["organization_id"],
        ),
        # The events list by status (all but done) in receive order, and its count, which with
        # the config beside each entry reads the index alone, with or without a config filter.
        Index(
            "ix_ingestion_events_organization_id_status_seq_not_done",
            "organization_id",
            "status",
            "seq",
            postgresql_include=["config_id"],
            postgresql_where=text(NOT_DONE_EVENTS),
        ),
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
        # Only a finished event has a parsed payload (and @> implies the predicate), so the
        # insert, the claim and the sweep write nothing here.
        Index(
            "ix_ingestion_events_payload",
            "payload",
            postgresql_using="gin",
            postgresql_ops={"payload": "jsonb_path_ops"},
            postgresql_where=text("payload IS NOT NULL"),
        ),
        # Claiming in batches: the oldest fresh events of a config (worker.ingest.claims).
        Index(
            "ix_ingestion_events_config_id_seq_fresh",
            "config_id",
            "seq",
            postgresql_where=text(FRESH_EVENTS),
        ),
        # Receive order alone (replays and exports walk it; seq is no longer unique on its own).
        Index("ix_ingestion_events_seq", "seq"),
        # The raw-body retention: done events still holding their bodies, oldest first.
        Index(
            "ix_ingestion_events_received_time_unpurged_done",
            "received_time",
            postgresql_where=text(UNPURGED_DONE_EVENTS),
        ),
        # One partition per calendar month (UTC) of receive time; see worker.inbox_partitions.
        {"postgresql_partition_by": "RANGE (received_time)"},
    )

    # The key includes received_time because a partitioned table's keys must hold its partition
    # key; find_event reads the time range back from the (UUIDv7) id.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=_id_from_received_time)
    # The ORM knows an event by its id alone, unique by construction: session.get(id) still works
    # (reading every partition's key index; find_event prunes them).
    __mapper_args__ = {"primary_key": [id]}
    # Receive order across the whole service; I3 compares it with leads.last_event_seq. Unique
    # because only the sequence writes it, though no index can say so across partitions.
    seq: Mapped[int] = mapped_column(BigInteger, EVENT_SEQ, server_default=EVENT_SEQ.next_value())
    config_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ingestion_configs.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    endpoint: Mapped[Endpoint] = mapped_column(_enum(Endpoint, "endpoint"))
    received_time: Mapped[dt.datetime] = mapped_column(
        primary_key=True, default=_received_time_from_id
    )
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
    # When the raw-body retention emptied raw_body (LEADGATE_RAW_BODY_RETENTION_DAYS); None
    # while the body is kept. A purged event cannot be replayed or its body shown.
    raw_body_purged_time: Mapped[dt.datetime | None]


def listed_events() -> Select[IngestionEvent]:
    """Events as a list shows them: without the raw body and the parsed payload.

    A page of fifty read both for every row and parsed every payload, to show neither; reaching
    for either on a listed event raises rather than loading it row by row.
    """
    return select(IngestionEvent).options(
        defer(IngestionEvent.raw_body, raiseload=True),
        defer(IngestionEvent.payload, raiseload=True),
    )
