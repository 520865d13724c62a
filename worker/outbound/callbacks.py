"""Provider outcome callbacks: an event's terminal state, queued in the outbox with the change.

When an event of a config with a ``callback_url`` becomes done, failed or dead, one delivery is
inserted in the transaction that wrote that state, so each state change is sent exactly once
as one message (a replayed event that ends again is a new change: a new ``webhook-id``). The
sender, the retry schedule and the sweeper are the lead webhooks' own.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import insert, literal, select, update
from sqlalchemy.orm import Session, defer

from models import IngestionConfig, IngestionEvent
from models.base import utcnow
from models.enums import AuthMode, EventAction, EventStatus
from models.webhook import DeliveryStatus, WebhookDelivery
from worker.anonymity import TOKENLESS_MODES, without_lead_ids
from worker.outbound.outbox import new_message_id


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class TerminalEvent:
    """What a callback reports of an event, as it stands once terminal."""

    id: uuid.UUID
    status: EventStatus
    action: EventAction | None
    lead_id: int | None
    errors: list[dict[str, str]]
    idempotency_key: str | None
    received_time: dt.datetime
    processed_time: dt.datetime | None

    @classmethod
    def of(cls, event: IngestionEvent) -> TerminalEvent:
        """The event row's values."""
        return cls(
            event.id,
            event.status,
            event.action,
            event.lead_id,
            list(event.errors or []),
            event.idempotency_key,
            event.received_time,
            event.processed_time,
        )


def callback_document(event: TerminalEvent, auth_mode: AuthMode) -> dict[str, Any]:
    """The callback's JSON for a terminal event.

    On a config a sender may post to without a token (open, payload-key, signature) the sender
    is not the organization: the document carries no lead id, and its errors name no other
    lead, as the answer to that sender does (webhook.outcome).
    """
    anonymous = auth_mode in TOKENLESS_MODES
    return {
        "event_id": str(event.id),
        "status": event.status.value,
        "action": event.action.value if event.action is not None else None,
        "lead_id": None if anonymous else event.lead_id,
        "errors": without_lead_ids(event.errors) if anonymous else event.errors,
        # The sender's own key from its request: how it finds which of its posts this was.
        "idempotency_key": event.idempotency_key,
        "received_time": _iso(event.received_time),
        "processed_time": _iso(event.processed_time),
    }


def callback_body(event: TerminalEvent, auth_mode: AuthMode) -> bytes:
    """The exact bytes to sign and send, fixed once so every retry sends the same."""
    document = callback_document(event, auth_mode)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _delivery_row(
    event: TerminalEvent,
    config_id: uuid.UUID,
    organization_id: int,
    url: str,
    auth_mode: AuthMode,
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "message_id": new_message_id(),
        "webhook_id": None,
        "ingestion_config_id": config_id,
        "ingestion_event_id": event.id,
        "organization_id": organization_id,
        "lead_id": None,
        "trigger": None,
        "url": url,
        "body": callback_body(event, auth_mode),
        "status": DeliveryStatus.pending,
        "attempt_count": 0,
        "attempts": [],
        "next_attempt_time": now,
        "created_time": now,
    }


def queue_callbacks(session: Session, event_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Insert a callback delivery for each terminal event whose config has a callback URL.

    Call in the transaction that wrote the events' terminal state, after writing it; returns
    the new deliveries' ids by event, to publish once that transaction has committed.
    """
    if not event_ids:
        return {}
    rows = session.execute(
        select(IngestionEvent, IngestionConfig.callback_url, IngestionConfig.auth_mode)
        .join(IngestionConfig, IngestionConfig.id == IngestionEvent.config_id)
        .where(
            IngestionEvent.id.in_(event_ids),
            IngestionConfig.callback_url.is_not(None),
        )
        .order_by(IngestionEvent.seq)
        # The raw body is not needed; the state was just written by a bulk statement.
        .options(defer(IngestionEvent.raw_body))
        .execution_options(populate_existing=True)
    ).all()
    now = utcnow()
    values = [
        _delivery_row(
            TerminalEvent.of(event), event.config_id, event.organization_id, url, auth_mode, now
        )
        for event, url, auth_mode in rows
        if event.status.is_terminal and url is not None
    ]
    if not values:
        return {}
    statement = insert(WebhookDelivery).returning(WebhookDelivery.id, sort_by_parameter_order=True)
    ids = list(session.scalars(statement, values))
    return {
        row["ingestion_event_id"]: delivery_id for row, delivery_id in zip(values, ids, strict=True)
    }


def declare_dead(session: Session, event_id: uuid.UUID, reason: str) -> bool:
    """Mark the event dead and queue its callback, in one statement; False if it is gone.

    One statement, because the claim path runs without a transaction (each statement commits
    on its own): the dead state and its callback must still commit together.
    """
    found = session.execute(
        select(IngestionEvent, IngestionConfig.callback_url, IngestionConfig.auth_mode)
        .join(IngestionConfig, IngestionConfig.id == IngestionEvent.config_id)
        .where(IngestionEvent.id == event_id)
        .options(defer(IngestionEvent.raw_body))
        .execution_options(populate_existing=True)
    ).one_or_none()
    if found is None:
        return False
    event, url, auth_mode = found
    now = utcnow()
    dead = (
        update(IngestionEvent)
        .where(IngestionEvent.id == event_id)
        .values(
            status=EventStatus.dead, last_error=reason, next_attempt_time=None, processed_time=now
        )
        .returning(IngestionEvent.id)
    )
    if url is None:
        session.execute(dead)
        return True
    ended = replace(TerminalEvent.of(event), status=EventStatus.dead, processed_time=now)
    row = _delivery_row(ended, event.config_id, event.organization_id, url, auth_mode, now)
    written = dead.cte("dead")
    table = WebhookDelivery.__table__
    values = [literal(value, table.c[name].type) for name, value in row.items()]
    # The insert reads from the update: no row is inserted unless the event was marked dead.
    session.execute(
        insert(WebhookDelivery).from_select(list(row), select(*values).select_from(written))
    )
    return True
