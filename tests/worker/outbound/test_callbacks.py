"""Queuing outcome callbacks: which events get one, what it says, and a dead event's atomicity."""

from __future__ import annotations

import json
import uuid

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IngestionConfig, WebhookDelivery
from models.base import utcnow
from models.enums import AuthMode, EventAction, EventStatus
from tests.support.factories import Tenant, make_event, make_tenant
from worker.callback_settings import CallbackOptions, apply_callback
from worker.outbound.callback_keys import callback_keys
from worker.outbound.callbacks import (
    TerminalEvent,
    callback_document,
    declare_dead,
    queue_callbacks,
)

KEY = Fernet.generate_key().decode()
URL = "https://provider.example.com/outcomes"


def _with_callback(session: Session, tenant: Tenant) -> str:
    config = session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    options = CallbackOptions(url=URL, secret_keys=(KEY,))
    apply_callback(config, options)
    session.flush()
    assert options.issued_secret is not None
    return options.issued_secret


def _callbacks(session: Session, tenant: Tenant) -> list[WebhookDelivery]:
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.ingestion_config_id.is_not(None),
                WebhookDelivery.organization_id == tenant.organization_id,
            )
            .order_by(WebhookDelivery.id)
        )
    )


@pytest.fixture
def tenant(db_session: Session) -> Tenant:
    return make_tenant(db_session)


def test_only_terminal_events_of_configs_with_a_callback_are_queued(
    db_session: Session, tenant: Tenant
) -> None:
    without = make_tenant(db_session)
    _with_callback(db_session, tenant)
    done = make_event(db_session, tenant, status=EventStatus.done, action=EventAction.created)
    queued = make_event(db_session, tenant)
    elsewhere = make_event(db_session, without, status=EventStatus.failed)

    ids = queue_callbacks(db_session, [done.id, queued.id, elsewhere.id])

    assert list(ids) == [done.id]
    [delivery] = _callbacks(db_session, tenant)
    assert delivery.id == ids[done.id]
    assert (delivery.url, delivery.webhook_id, delivery.trigger) == (URL, None, None)
    assert delivery.ingestion_event_id == done.id
    assert json.loads(delivery.body)["status"] == "done"


def test_a_dead_event_and_its_callback_are_written_together(
    db_session: Session, tenant: Tenant
) -> None:
    _with_callback(db_session, tenant)
    event = make_event(db_session, tenant, status=EventStatus.processing, attempts=9)

    assert declare_dead(db_session, event.id, "gave up after 8 attempts; the last died")

    db_session.refresh(event)
    assert event.status == EventStatus.dead and event.processed_time is not None
    [delivery] = _callbacks(db_session, tenant)
    body = json.loads(delivery.body)
    assert (body["event_id"], body["status"], body["errors"]) == (str(event.id), "dead", [])
    assert body["processed_time"] == event.processed_time.isoformat()
    assert delivery.attempts == [] and delivery.message_id.startswith("msg_")
    assert not declare_dead(db_session, uuid.uuid4(), "no such event")


def test_a_dead_event_of_a_config_without_a_callback_queues_nothing(
    db_session: Session, tenant: Tenant
) -> None:
    event = make_event(db_session, tenant, status=EventStatus.processing)
    assert declare_dead(db_session, event.id, "gave up")
    db_session.refresh(event)
    assert event.status == EventStatus.dead
    assert _callbacks(db_session, tenant) == []


@pytest.mark.parametrize("mode", [AuthMode.open, AuthMode.payload_key, AuthMode.signature])
def test_a_tokenless_config_s_callback_names_no_lead(mode: AuthMode) -> None:
    event = TerminalEvent(
        uuid.uuid4(),
        EventStatus.failed,
        None,
        41,
        [{"field": "email", "message": "already used by lead 41"}],
        "key-1",
        utcnow(),
        utcnow(),
    )
    document = callback_document(event, mode)
    assert document["lead_id"] is None
    assert document["errors"] == [{"field": "email", "message": "already used by another lead"}]
    shown = callback_document(event, AuthMode.token)
    assert shown["lead_id"] == 41 and "lead 41" in shown["errors"][0]["message"]


def test_the_keys_sign_until_the_url_is_removed(db_session: Session, tenant: Tenant) -> None:
    secret = _with_callback(db_session, tenant)
    config = db_session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    keys, refusal = callback_keys(db_session, config.id, (KEY,), utcnow())
    assert (keys, refusal) == ([secret], None)
    rotation = CallbackOptions(rotate_secret=True, secret_keys=(KEY,))
    apply_callback(config, rotation)
    keys, _ = callback_keys(db_session, config.id, (KEY,), utcnow())
    assert keys == [rotation.issued_secret, secret]
    _, refusal = callback_keys(db_session, config.id, (Fernet.generate_key().decode(),), utcnow())
    assert refusal is not None and "LEADGATE_SECRET_KEY" in refusal
    apply_callback(config, CallbackOptions(clear=True))
    assert callback_keys(db_session, config.id, (KEY,), utcnow()) == (
        [],
        "the config no longer has a callback URL",
    )
