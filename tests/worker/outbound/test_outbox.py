"""The outbox: an applied change queues its deliveries in its own transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from models import Lead, WebhookDelivery
from models.webhook import PayloadFormat, WebhookTrigger
from tests.support.factories import Tenant, make_event, make_tenant, make_webhook
from worker.ingest.claims import claim_event, claim_events, prepare_claim
from worker.ingest.pipeline import Outcome, process_claim, process_claims
from worker.lead_payload import lead_json
from worker.outbound.subscriptions import forget_subscriptions

URL = "http://127.0.0.1:9/hooks/{{external_id}}"


@pytest.fixture(autouse=True)
def _fresh_subscriptions() -> Iterator[None]:
    forget_subscriptions()
    yield
    forget_subscriptions()


def _apply(session: Session, tenant: Tenant, payload: dict[str, Any]) -> Outcome:
    event_row = make_event(session, tenant, json.dumps(payload).encode())
    claim = claim_event(session, event_row.id, lease_seconds=60, max_attempts=8)
    assert claim is not None
    outcome = process_claim(session, claim, prepare_claim(claim))
    assert outcome is not None
    return outcome


def _deliveries(session: Session, webhook_id: int) -> list[WebhookDelivery]:
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(WebhookDelivery.id)
        )
    )


def test_a_created_lead_queues_its_body_exactly_as_the_lead_api_shows_it(
    db_session: Session,
) -> None:
    tenant = make_tenant(db_session)
    hook = make_webhook(db_session, tenant.organization_id, URL)

    outcome = _apply(db_session, tenant, {"phone_number": "2024561111", "external_id": "crm/1"})

    [delivery] = _deliveries(db_session, hook.id)
    lead = db_session.get(Lead, outcome.lead_id)
    assert lead is not None
    assert json.loads(delivery.body) == json.loads(json.dumps(lead_json(lead)))
    assert delivery.url == "http://127.0.0.1:9/hooks/crm%2F1"
    assert delivery.trigger == WebhookTrigger.LEAD_CREATED
    assert delivery.message_id.startswith("msg_")
    assert outcome.delivery_ids == [delivery.id]


def test_triggers_filters_and_formats_choose_what_is_queued(db_session: Session) -> None:
    tenant = make_tenant(db_session)
    org = tenant.organization_id
    created_ca = make_webhook(db_session, org, URL, filter_condition="us_state == 'CA'")
    closed = make_webhook(
        db_session,
        org,
        URL,
        trigger=WebhookTrigger.LEAD_CLOSED,
        payload_format=PayloadFormat.standard,
    )
    sms_dnc = make_webhook(db_session, org, URL, trigger=WebhookTrigger.SMS_DNC)
    updated = make_webhook(db_session, org, URL, trigger=WebhookTrigger.LEAD_UPDATED)
    disabled = make_webhook(db_session, org, URL, disabled=True, disabled_reason="off")

    _apply(db_session, tenant, {"phone_number": "2024561111", "us_state": "NY"})
    _apply(db_session, tenant, {"phone_number": "2024561111", "status": "closed"})
    _apply(db_session, tenant, {"phone_number": "2024561111", "status": "closed"})  # unchanged
    _apply(db_session, tenant, {"phone_number": "2024561111", "sms_dnc": True})

    assert _deliveries(db_session, created_ca.id) == []  # NY: the filter was false
    assert _deliveries(db_session, disabled.id) == []
    [close] = _deliveries(db_session, closed.id)
    envelope = json.loads(close.body)
    assert envelope["type"] == "lead.closed"
    assert envelope["data"]["status"] == "CLOSED"
    assert set(envelope) == {"type", "timestamp", "data"}
    assert len(_deliveries(db_session, sms_dnc.id)) == 1
    # Two changes, two updates; the unchanged event between them queued nothing.
    bodies = [json.loads(d.body) for d in _deliveries(db_session, updated.id)]
    assert [(b["status"], b["sms_dnc"]) for b in bodies] == [("CLOSED", False), ("CLOSED", True)]


def test_two_changes_of_one_lead_in_a_batch_each_send_their_own_state(
    db_session: Session,
) -> None:
    tenant = make_tenant(db_session)
    hook = make_webhook(
        db_session, tenant.organization_id, URL, trigger=WebhookTrigger.LEAD_UPDATED
    )
    _apply(db_session, tenant, {"phone_number": "2024561111"})
    first = make_event(db_session, tenant, b'{"phone_number": "2024561111", "lead_source": "a"}')
    make_event(db_session, tenant, b'{"phone_number": "2024561111", "lead_source": "b"}')
    claims = claim_events(db_session, first.id, lease_seconds=60, max_attempts=8, batch_size=8)
    assert len(claims) == 2

    process_claims(db_session, [(claim, prepare_claim(claim)) for claim in claims])

    sources = [json.loads(d.body)["lead_source"] for d in _deliveries(db_session, hook.id)]
    assert sources == ["a", "b"]


def test_an_organization_without_webhooks_costs_one_cached_lookup(
    db_session: Session,
) -> None:
    tenant = make_tenant(db_session)
    _apply(db_session, tenant, {"phone_number": "2024561111"})  # warms the cache
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    bind = db_session.connection()
    event.listen(bind, "before_cursor_execute", record)
    try:
        _apply(db_session, tenant, {"phone_number": "2024561111", "lead_source": "x"})
    finally:
        event.remove(bind, "before_cursor_execute", record)

    assert statements, "the listener saw the pipeline's statements"
    assert not [s for s in statements if "webhook" in s.lower()]
