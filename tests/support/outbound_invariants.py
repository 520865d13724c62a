"""The reliability checker's outbound part: after any fault, every lead change was delivered.

Checked against the database and what a receiver got: each change that fires a subscribed
trigger has exactly one delivery (none lost, none queued twice); every delivery was answered 2xx
at least once on the wire; each ``webhook-id`` always carried the same body; and for one webhook
and one lead, no delivery was sent before the one queued before it had succeeded.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter, defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import IngestionEvent, LeadFieldChange, WebhookDelivery
from models.enums import EventAction
from models.webhook import DeliveryStatus, WebhookTrigger
from tests.support.invariants import Verdict, engine_for, session_on
from tests.support.receiver import Received

# The trigger each action fires (a scenario subscribes a webhook to each).
ACTION_TRIGGERS = {
    EventAction.created: WebhookTrigger.LEAD_CREATED,
    EventAction.updated: WebhookTrigger.LEAD_UPDATED,
    EventAction.reengaged: WebhookTrigger.LEAD_REENGAGEMENT,
}


def wait_for_deliveries(database_url: str, organization_id: int, timeout: float) -> None:
    """Wait up to ``timeout`` s until none of the organization's deliveries is still to be sent.

    Returns either way: the checks that follow say what was left, if anything.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_on(database_url) as session:
            unfinished = session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(
                    WebhookDelivery.organization_id == organization_id,
                    WebhookDelivery.status.in_((DeliveryStatus.pending, DeliveryStatus.sending)),
                )
            )
        if not unfinished:
            return
        time.sleep(0.25)


def check_deliveries(
    database_url: str, organization_id: int, received: list[Received], subscribed: bool = True
) -> Verdict:
    """The outbound invariants for one organization, given everything its receiver got.

    ``subscribed``: the scenario subscribed a webhook to each of ``ACTION_TRIGGERS``, so each
    such change must have its delivery (a callbacks-only scenario passes False).
    """
    verdict = Verdict()
    engine = engine_for(database_url)
    try:
        with Session(engine) as session:
            actions = dict(
                session.execute(
                    select(IngestionEvent.action, func.count())
                    .where(IngestionEvent.organization_id == organization_id)
                    .group_by(IngestionEvent.action)
                ).all()
            )
            # A late event that still wrote a field no newer event had written fires
            # LEAD_UPDATED too (worker.outbound.triggers); its field history shows it wrote.
            stale_writes = session.scalar(
                select(func.count(func.distinct(IngestionEvent.id))).where(
                    IngestionEvent.organization_id == organization_id,
                    IngestionEvent.action == EventAction.stale,
                    IngestionEvent.id.in_(select(LeadFieldChange.event_id)),
                )
            )
            deliveries = list(
                session.scalars(
                    select(WebhookDelivery)
                    .where(WebhookDelivery.organization_id == organization_id)
                    .order_by(WebhookDelivery.id)
                )
            )
    finally:
        engine.dispose()
    queued = Counter(delivery.trigger for delivery in deliveries)
    expected = {action: actions.get(action, 0) for action in ACTION_TRIGGERS}
    expected[EventAction.updated] += stale_writes or 0
    for action, trigger in ACTION_TRIGGERS.items() if subscribed else ():
        if queued[trigger] != expected[action]:
            stale = (
                f" (of them {stale_writes} late ones that wrote)"
                if stale_writes and action == EventAction.updated
                else ""
            )
            verdict.violations.append(
                f"lost or doubled: {expected[action]} {action.value} events{stale}, "
                f"{queued[trigger]} {trigger.value} deliveries"
            )
    by_message: dict[str, list[int]] = defaultdict(list)
    for index, request in enumerate(received):
        by_message[request.message_id].append(index)
    for delivery in deliveries:
        arrivals = [received[i] for i in by_message.get(delivery.message_id, [])]
        if delivery.status != DeliveryStatus.delivered:
            verdict.violations.append(f"delivery {delivery.id} ended {delivery.status.value}")
        if not any(200 <= r.answered < 300 for r in arrivals):
            verdict.violations.append(f"delivery {delivery.id} never answered 2xx")
        if any(r.body != delivery.body for r in arrivals):
            verdict.violations.append(f"{delivery.message_id} arrived with another body")
        if any(not r.verified_by for r in arrivals):
            verdict.violations.append(f"{delivery.message_id} arrived without a valid signature")
    _check_order(deliveries, by_message, received, verdict)
    verdict.counts.update(
        deliveries=len(deliveries),
        stale_writes=stale_writes or 0,
        requests_received=len(received),
        resent=len(received) - len(by_message),
    )
    return verdict


def _check_order(
    deliveries: list[WebhookDelivery],
    by_message: dict[str, list[int]],
    received: list[Received],
    verdict: Verdict,
) -> None:
    """Per webhook and lead: a delivery's first arrival follows its predecessor's first 2xx."""
    lines: dict[tuple[int | None, int | None], list[WebhookDelivery]] = defaultdict(list)
    for delivery in deliveries:
        if delivery.webhook_id is None:
            continue  # a provider callback follows an event, not a lead's line
        lines[(delivery.webhook_id, delivery.lead_id)].append(delivery)
    for line in lines.values():
        for before, after in itertools.pairwise(line):
            succeeded = [
                i for i in by_message.get(before.message_id, []) if received[i].answered < 300
            ]
            arrived = by_message.get(after.message_id, [])
            if succeeded and arrived and min(arrived) < min(succeeded):
                verdict.violations.append(
                    f"order: delivery {after.id} went out before {before.id} had succeeded"
                )


def check_callbacks(database_url: str, organization_id: int) -> Verdict:
    """Outcome callbacks: each terminal event has exactly one, reporting the state it ended in.

    For a scenario without replays, where each event reaches a terminal state once; the wire
    (delivered, 2xx, same body per ``webhook-id``, signed) is ``check_deliveries``'s.
    """
    verdict = Verdict()
    engine = engine_for(database_url)
    try:
        with Session(engine) as session:
            events = dict(
                session.execute(
                    select(IngestionEvent.id, IngestionEvent.status).where(
                        IngestionEvent.organization_id == organization_id
                    )
                ).all()
            )
            callbacks = list(
                session.scalars(
                    select(WebhookDelivery).where(
                        WebhookDelivery.organization_id == organization_id,
                        WebhookDelivery.ingestion_config_id.is_not(None),
                    )
                )
            )
    finally:
        engine.dispose()
    per_event = Counter(callback.ingestion_event_id for callback in callbacks)
    for event_id, status in events.items():
        expected = 1 if status.is_terminal else 0
        if per_event[event_id] != expected:
            verdict.violations.append(
                f"event {event_id} ({status.value}) has {per_event[event_id]} callbacks"
            )
    for callback in callbacks:
        reported = json.loads(callback.body)["status"]
        actual = events.get(callback.ingestion_event_id)  # type: ignore[arg-type]
        if actual is None or reported != actual.value:
            verdict.violations.append(f"callback {callback.id} reports {reported}, not {actual}")
    verdict.counts.update(callbacks=len(callbacks), terminal_events=len(per_event))
    return verdict
