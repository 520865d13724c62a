"""The attempt policy: claim, batch, fall back one by one, record a failed attempt."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import worker.attempts
import worker.batches
from common.settings import get_settings
from models import IngestionConfig, IngestionEvent, WebhookDelivery
from models.enums import Endpoint, EventStatus
from tests.support.factories import Tenant, make_tenant
from worker.attempts import Verdict, attempt_event, failed_attempt
from worker.callback_settings import CallbackOptions, apply_callback
from worker.ingest.claims import Claim
from worker.ingest.pipeline import process_claims


def _queued(session: Session, tenant: Tenant, phone: str) -> uuid.UUID:
    event = IngestionEvent(
        config_id=tenant.config_id,
        organization_id=tenant.organization_id,
        endpoint=Endpoint.upsert,
        content_type="application/json",
        raw_body=json.dumps({"phone_number": phone}).encode(),
        body_sha256="0" * 64,
    )
    session.add(event)
    session.flush()
    return event.id


def _transient() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("connection lost"))


def test_an_unclaimable_event_asks_for_nothing(services: Any) -> None:
    assert attempt_event(uuid.uuid4()) == Verdict()


def test_a_database_down_at_claim_time_asks_for_the_message_again(
    services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*_: Any, **__: Any) -> Any:
        raise _transient()

    monkeypatch.setattr(worker.attempts, "claim_events", down)

    verdict = attempt_event(uuid.uuid4(), deliveries=3)

    settings = get_settings()
    ceiling = min(settings.retry_max_seconds, settings.retry_base_seconds * 2**3)
    assert verdict.others == []
    assert verdict.retry_in is not None and ceiling / 2 <= verdict.retry_in <= ceiling


def test_a_batch_answers_for_its_own_event_and_names_the_others_to_run_again(
    committed_session: Session, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = make_tenant(committed_session)
    named, fine, poisoned = (
        _queued(committed_session, tenant, f"+1202458{n:04d}") for n in range(3)
    )
    committed_session.commit()
    failing = {named, poisoned}

    def process(session: Session, items: list[Any], **options: Any) -> Any:
        if any(claim.event_id in failing for claim, _ in items):
            raise _transient()
        return process_claims(session, items, **options)

    monkeypatch.setattr(worker.batches, "process_claims", process)

    with caplog.at_level(logging.INFO, logger="worker.events"):
        verdict = attempt_event(named)

    assert verdict.retry_in is not None and verdict.retry_in > 0
    assert [retry.claim.event_id for retry in verdict.others] == [poisoned]
    claimed = [r for r in caplog.records if getattr(r, "change", None) == "claimed"]
    assert [vars(r)["event_id"] for r in claimed] == [str(named), str(fine), str(poisoned)]
    assert all((vars(r)["status"], vars(r)["attempt"]) == ("processing", 1) for r in claimed)
    committed_session.expire_all()
    assert committed_session.get_one(IngestionEvent, fine).status == EventStatus.done


def _claim(session: Session, tenant: Tenant, event_id: uuid.UUID, attempt: int) -> Claim:
    event = session.get_one(IngestionEvent, event_id)
    event.status, event.attempts = EventStatus.processing, attempt
    session.commit()
    return Claim(
        event_id=event_id,
        attempt=attempt,
        seq=event.seq,
        endpoint=Endpoint.upsert,
        organization_id=tenant.organization_id,
        received_time=event.received_time,
        config=session.get_one(IngestionConfig, tenant.config_id),
    )


def test_a_failed_attempt_is_recorded_as_a_retry_then_as_dead(
    committed_session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    tenant = make_tenant(committed_session)
    event_id = _queued(committed_session, tenant, "+12024590001")
    committed_session.commit()
    last = get_settings().task_max_attempts

    with caplog.at_level(logging.INFO, logger="worker.events"):
        retry = failed_attempt(_claim(committed_session, tenant, event_id, 1), _transient())
        dead = failed_attempt(_claim(committed_session, tenant, event_id, last), _transient())

    assert retry is not None and retry.recorded and retry.seconds > 0
    assert dead is None
    committed_session.expire_all()
    event = committed_session.get_one(IngestionEvent, event_id)
    assert event.status == EventStatus.dead
    assert event.processed_time is not None
    changes = [(r.change, r.levelno) for r in caplog.records if hasattr(r, "change")]
    assert changes == [("retrying", logging.WARNING), ("dead", logging.ERROR)]


def test_an_attempt_taken_over_records_nothing(committed_session: Session) -> None:
    tenant = make_tenant(committed_session)
    event_id = _queued(committed_session, tenant, "+12024590002")
    committed_session.commit()
    claim = _claim(committed_session, tenant, event_id, 1)
    # Its lease ran out and another worker claimed the event again.
    committed_session.get_one(IngestionEvent, event_id).attempts = 2
    committed_session.commit()

    assert failed_attempt(claim, _transient()) is None
    committed_session.expire_all()
    event = committed_session.get_one(IngestionEvent, event_id)
    assert (event.status, event.last_error) == (EventStatus.processing, None)


def test_a_dead_event_s_callback_commits_with_its_dead_state(committed_session: Session) -> None:
    tenant = make_tenant(committed_session)
    config = committed_session.get_one(IngestionConfig, tenant.config_id)
    apply_callback(
        config,
        CallbackOptions(
            url="https://provider.example.com/o", secret_keys=get_settings().secret_keys
        ),
    )
    event_id = _queued(committed_session, tenant, "+12024590003")
    committed_session.commit()
    last = get_settings().task_max_attempts

    failed_attempt(_claim(committed_session, tenant, event_id, 1), _transient())
    committed_session.expire_all()
    assert _callbacks_of(committed_session, event_id) == []  # retrying is not an outcome
    failed_attempt(_claim(committed_session, tenant, event_id, last), _transient())

    committed_session.expire_all()
    [callback] = _callbacks_of(committed_session, event_id)
    body = json.loads(callback.body)
    assert (body["event_id"], body["status"]) == (str(event_id), "dead")


def _callbacks_of(session: Session, event_id: uuid.UUID) -> list[WebhookDelivery]:
    return list(
        session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.ingestion_event_id == event_id)
        )
    )
