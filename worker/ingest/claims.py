"""Claiming events for processing: the event a message names, and fresh ones queued behind it.

A claim marks an event ``processing`` under a lease and counts the attempt. A message's own
event is claimed when it is queued, retrying, or processing under a lease that ran out (its
worker died). When that is the event's first attempt, up to ``batch_size - 1`` more events of
the same config that are queued and were never tried are claimed with it, oldest first, skipping
rows another worker is claiming: under a backlog one transaction then carries many events, while
an idle service still handles each event the moment it arrives. Their own messages, delivered
later, find them claimed and do nothing. Events on a second or later attempt are never batched,
so an event whose processing kills the worker cannot take other events' attempts with it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.orm import Session

from common.payloads import PayloadError, merge_query, read_body
from models import IngestionConfig, IngestionEvent
from models.base import utcnow
from models.enums import Endpoint, EventStatus
from models.ingestion_event import FRESH_EVENTS, event_time_bounds
from worker.health.holds import park_if_held
from worker.ingest.hygiene import OFF, Hygiene
from worker.ingest.jsonb import fits_jsonb
from worker.ingest.mapping import compiled_mapping_for
from worker.ingest.prepare import prepare_lead
from worker.ingest.standard import without_read_only
from worker.ingest.types import FieldError, PreparedLead
from worker.outbound.callbacks import declare_dead

_CLAIMABLE = (EventStatus.queued, EventStatus.retrying)

_RETURNED = tuple(
    IngestionEvent.__table__.c[name]
    for name in (
        "id", "attempts", "seq", "endpoint", "organization_id", "received_time", "config_id",
        "raw_body", "content_type", "query_string", "replayed_time", "target_lead_id",
        "is_test",
    )
)  # fmt: skip


_EVENTS = cast(Table, IngestionEvent.__table__)

_CLAIM_NAMED = (
    update(_EVENTS)
    .where(
        _EVENTS.c.id == bindparam("event_id"),
        # The id's time range (models.ingestion_event.event_time_bounds): PostgreSQL then
        # reads one month's partition, even with a generic plan (pruned at executor start).
        _EVENTS.c.received_time >= bindparam("received_from"),
        _EVENTS.c.received_time < bindparam("received_until"),
        (_EVENTS.c.status.in_(_CLAIMABLE))
        | (
            (_EVENTS.c.status == EventStatus.processing)
            & (_EVENTS.c.next_attempt_time < bindparam("now"))
        ),
    )
    .values(
        status=EventStatus.processing,
        attempts=_EVENTS.c.attempts + 1,
        next_attempt_time=bindparam("lease_end"),
    )
    .returning(*_RETURNED)
)

_FRESH = (
    select(_EVENTS.c.id)
    .where(
        _EVENTS.c.config_id == bindparam("of_config"),
        # The partial index's own predicate, not parameters: a prepared statement's generic plan
        # can use that index only when the query states the same condition. With parameters,
        # once the planner went generic each claim walked the table from its first row (a 600 s
        # soak fell behind after about 100,000 events). models/db.py also asks for custom
        # plans; this keeps the claim cheap where that option is lost (a pooler, say).
        text(FRESH_EVENTS),
        _EVENTS.c.id != bindparam("besides"),
    )
    .order_by(_EVENTS.c.seq)
    .limit(bindparam("limit"))
    # Rows another worker is claiming right now are theirs: pass over them, never wait.
    .with_for_update(skip_locked=True)
    .cte("fresh")
)
_CLAIM_FRESH = (
    update(_EVENTS)
    .where(_EVENTS.c.id == _FRESH.c.id)
    .values(status=EventStatus.processing, attempts=1, next_attempt_time=bindparam("lease_end"))
    .returning(*_RETURNED)
)
# A release's batch: only the fresh events between its own and the end of the run of released
# events it was given, so nothing newer than an event still held is applied before it.
_FRESH_IN_RANGE = (
    select(_EVENTS.c.id)
    .where(
        _EVENTS.c.config_id == bindparam("of_config"),
        text(FRESH_EVENTS),
        _EVENTS.c.seq > bindparam("after_seq"),
        _EVENTS.c.seq <= bindparam("up_to_seq"),
    )
    .order_by(_EVENTS.c.seq)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
    .cte("fresh_in_range")
)
_CLAIM_FRESH_IN_RANGE = (
    update(_EVENTS)
    .where(_EVENTS.c.id == _FRESH_IN_RANGE.c.id)
    .values(status=EventStatus.processing, attempts=1, next_attempt_time=bindparam("lease_end"))
    .returning(*_RETURNED)
)


@dataclass
class Claim:
    """An event this worker now holds, with what processing it needs."""

    event_id: uuid.UUID
    attempt: int
    seq: int
    endpoint: Endpoint
    organization_id: int
    received_time: dt.datetime
    config: IngestionConfig
    # Set when the event was replayed: its latency counts from then, not from receipt.
    replayed_time: dt.datetime | None = None
    payload_error: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    # How the body was read (say, JSON labelled as a form), for the event's warnings.
    body_warnings: list[dict[str, Any]] = field(default_factory=list)
    # The lead a PATCH of the standard API names.
    target_lead_id: int | None = None
    # A test-mode event: it reaches and creates test leads only.
    is_test: bool = False


def claim_events(
    session: Session,
    event_id: uuid.UUID,
    lease_seconds: float,
    max_attempts: int,
    batch_size: int = 1,
    releasing: bool = False,
    up_to_seq: int | None = None,
) -> list[Claim]:
    """Claim the named event and, on its first attempt, fresh events queued behind it.

    Empty when the named event is not ours to process (done, or held by a live lease), or when
    its config is held: the event is parked as ``held`` then, unless this claim is the
    release's own (``releasing``, worker.release_jobs), which runs it while the hold lasts and
    batches only the fresh events after it up to ``up_to_seq``. An event
    past its attempts (say, one whose processing kills the worker every time) is declared dead
    here, since no attempt of it ever got to record an error.
    """
    now = utcnow()
    lease_end = now + dt.timedelta(seconds=lease_seconds)
    received_from, received_until = event_time_bounds(event_id)
    # Most messages under a backlog find their event claimed already: this statement is all
    # they cost, so it is built once and runs without the ORM's per-statement work.
    row = (
        session.connection()
        .execute(
            _CLAIM_NAMED,
            {
                "event_id": event_id,
                "now": now,
                "lease_end": lease_end,
                "received_from": received_from,
                "received_until": received_until,
            },
        )
        .one_or_none()
    )
    if row is None:
        return []
    if row.attempts > max_attempts:
        # Its outcome callback, if the config has one, is left to the sweeper to publish.
        declare_dead(session, event_id, f"gave up after {max_attempts} attempts; the last died")
        return []
    config = session.get(IngestionConfig, row.config_id)
    assert config is not None  # a foreign key guarantees it
    # A held config's events wait, unprocessed, for its release (worker.health.holds).
    if config.held and not releasing and park_if_held(session, event_id, config.id, row.attempts):
        return []
    rows = [row]
    if row.attempts == 1 and batch_size > 1 and not config.held:
        rows += _claim_fresh(session, row.config_id, event_id, lease_end, batch_size - 1)
    elif row.attempts == 1 and batch_size > 1 and releasing and up_to_seq is not None:
        values = {
            "of_config": row.config_id, "after_seq": row.seq, "up_to_seq": up_to_seq,
            "lease_end": lease_end, "limit": batch_size - 1,
        }  # fmt: skip
        rows += session.connection().execute(_CLAIM_FRESH_IN_RANGE, values).all()
    return [_claim_from(found, config) for found in rows]


def _claim_fresh(
    session: Session, config_id: uuid.UUID, besides: uuid.UUID, lease_end: dt.datetime, limit: int
) -> list[Any]:
    values = {"of_config": config_id, "besides": besides, "lease_end": lease_end, "limit": limit}
    return list(session.connection().execute(_CLAIM_FRESH, values).all())


def _claim_from(row: Any, config: IngestionConfig) -> Claim:
    claim = Claim(
        event_id=row.id,
        attempt=row.attempts,
        seq=row.seq,
        endpoint=row.endpoint,
        organization_id=row.organization_id,
        received_time=row.received_time,
        config=config,
        replayed_time=row.replayed_time,
        target_lead_id=row.target_lead_id,
        is_test=row.is_test,
    )
    try:
        body = read_body(row.raw_body, row.content_type)
        claim.payload = merge_query(body.payload, row.query_string)
        claim.body_warnings = body.warnings
    except PayloadError as error:
        claim.payload_error = str(error)
    return claim


def claim_of_event(event: IngestionEvent, config: IngestionConfig) -> Claim:
    """The claim the worker would make of ``event``, without claiming it (for reading only)."""
    return _claim_from(event, config)


def claim_event(
    session: Session, event_id: uuid.UUID, lease_seconds: float, max_attempts: int
) -> Claim | None:
    """Claim the named event alone; None if it is not ours to process."""
    claims = claim_events(session, event_id, lease_seconds, max_attempts, batch_size=1)
    return claims[0] if claims else None


def searchable_payload(claim: Claim) -> dict[str, Any] | None:
    """The claim's parsed payload to keep on its event; None when it has none jsonb can hold."""
    if claim.payload_error is not None or not fits_jsonb(claim.payload):
        return None
    return claim.payload


def prepare_claim(claim: Claim, hygiene: Hygiene = OFF) -> PreparedLead:
    """Map and normalize the claimed event's payload with the config's current mapping.

    ``hygiene`` is the organization's placeholders and blocked identifiers.
    """
    if claim.payload_error is not None:
        return PreparedLead(errors=[FieldError("body", claim.payload_error)])
    config = claim.config
    mapping = compiled_mapping_for(config.id, config.version, config.mapping)
    payload, dropped = claim.payload, list[dict[str, Any]]()
    if config.standard_api:
        payload, dropped = without_read_only(payload)
    prepared = prepare_lead(mapping, payload, hygiene)
    prepared.warnings[:0] = [*claim.body_warnings, *dropped]
    return prepared
