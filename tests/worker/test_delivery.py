"""Delivery semantics with a real worker: at-most-once effect, order, replay (I3, I4)."""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from models import IngestionConfig, IngestionEvent, Lead
from models.base import utcnow
from models.enums import EventStatus
from tests.support.api import get_lead, post_payload, wait_for_event
from tests.support.factories import Tenant, make_tenant
from tests.support.processes import ServiceProcess
from webhook.broker import enqueue_event

pytestmark = pytest.mark.integration

PHONE = "(646) 200-3311"


def _post_and_wait(client: FlaskClient, tenant: Tenant, endpoint: str, body: dict) -> dict:
    answer = post_payload(client, tenant.config_id, endpoint, body, tenant.token)
    assert answer.status_code == 202, answer.get_json()
    return wait_for_event(client, tenant.token, answer.get_json()["id"])


def _post_without_enqueue(
    client: FlaskClient, tenant: Tenant, endpoint: str, body: dict, monkeypatch: pytest.MonkeyPatch
) -> str:
    with monkeypatch.context() as patch:
        patch.setattr("webhook.inbox.wake_config", lambda *_: True)
        answer = post_payload(client, tenant.config_id, endpoint, body, tenant.token)
    assert answer.status_code == 202
    event_id: str = answer.get_json()["id"]
    return event_id


def test_event_delivered_many_times_at_once_applies_once(
    client: FlaskClient,
    committed_session: Session,
    celery_worker: ServiceProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    created = _post_and_wait(client, tenant, "create", {"phone_number": PHONE})
    body = {"phone_number": PHONE, "min_reengagement_days": 0}
    event_id = _post_without_enqueue(client, tenant, "create", body, monkeypatch)
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda _: enqueue_event(uuid.UUID(event_id)), range(6)))
    event = wait_for_event(client, tenant.token, event_id)
    assert event["action"] == "reengaged"
    assert event["attempts"] == 1
    lead = get_lead(client, tenant.token, created["lead_id"])
    assert lead["reengagements_count"] == 1


def test_older_event_processed_late_is_stale_and_only_fills(
    client: FlaskClient,
    committed_session: Session,
    celery_worker: ServiceProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    older = _post_without_enqueue(
        client,
        tenant,
        "upsert",
        {
            "external_id": "S1",
            "phone_number": PHONE,
            "lead_source": "old",
            "email": "e@example.com",
        },
        monkeypatch,
    )
    # Its first attempt failed (say the database blinked): it waits for its retry, so the
    # newer event's batch, which takes only fresh events, leaves it alone.
    _fail_first_attempt(committed_session, older)
    newer = _post_and_wait(
        client, tenant, "upsert", {"external_id": "S1", "phone_number": PHONE, "lead_source": "new"}
    )
    assert newer["action"] == "created"
    enqueue_event(uuid.UUID(older))
    late = wait_for_event(client, tenant.token, older)
    assert late["action"] == "stale"
    assert late["lead_id"] == newer["lead_id"]
    lead = get_lead(client, tenant.token, newer["lead_id"])
    assert lead["lead_source"] == "new"
    assert lead["email"] == "e@example.com"


def test_an_event_whose_message_was_lost_rides_with_the_next_one_in_order(
    client: FlaskClient,
    committed_session: Session,
    celery_worker: ServiceProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    body = {"external_id": "B1", "phone_number": PHONE, "lead_source": "old", "email": "b@x.io"}
    older = _post_without_enqueue(client, tenant, "upsert", body, monkeypatch)
    newer = _post_and_wait(
        client, tenant, "upsert", {"external_id": "B1", "phone_number": PHONE, "lead_source": "new"}
    )
    # The newer event's message claimed the older, fresh one with it; receive order decides.
    late = wait_for_event(client, tenant.token, older)
    assert (late["action"], newer["action"]) == ("created", "updated")
    assert late["lead_id"] == newer["lead_id"]
    lead = get_lead(client, tenant.token, newer["lead_id"])
    assert (lead["lead_source"], lead["email"]) == ("new", "b@x.io")


def _fail_first_attempt(session: Session, event_id: str) -> None:
    session.execute(
        update(IngestionEvent)
        .where(IngestionEvent.id == uuid.UUID(event_id))
        .values(
            status=EventStatus.retrying,
            attempts=1,
            next_attempt_time=utcnow() + dt.timedelta(hours=1),
        )
    )
    session.commit()


def test_failed_event_replays_with_the_fixed_mapping_once(
    client: FlaskClient, committed_session: Session, celery_worker: ServiceProcess
) -> None:
    tenant = make_tenant(committed_session, {"fields": {"phone_number": "contact.tel"}})
    committed_session.commit()
    failed = _post_and_wait(client, tenant, "upsert", {"contact": {"phone": PHONE}})
    assert failed["status"] == "failed"
    assert [error["field"] for error in failed["errors"]] == ["phone_number"]
    config = committed_session.get(IngestionConfig, tenant.config_id)
    assert config is not None
    config.mapping = {"fields": {"phone_number": "contact.phone"}}
    config.version += 1
    committed_session.commit()
    headers = {"Authorization": f"Token {tenant.token}"}
    url = f"/api/ingestion-events/{failed['id']}/replay/"
    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(lambda _: client.post(url, headers=headers).status_code, range(4)))
    assert codes[0] == 202
    replayed = wait_for_event(client, tenant.token, failed["id"])
    assert replayed["status"] == "done" and replayed["action"] == "created"
    again = client.post(url, headers=headers)
    assert again.status_code == 409
    assert "twice" in again.get_json()["detail"]
    committed_session.expire_all()
    leads = committed_session.query(Lead).filter_by(organization_id=tenant.organization_id).count()
    assert leads == 1


def test_conflicts_are_explained_in_warnings(
    client: FlaskClient, committed_session: Session, celery_worker: ServiceProcess
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    first = _post_and_wait(client, tenant, "upsert", {"external_id": "A1", "phone_number": PHONE})
    second = _post_and_wait(client, tenant, "upsert", {"external_id": "A2", "phone_number": PHONE})
    assert second["action"] == "created"
    assert second["warnings"] == [
        {
            "lead_id": first["lead_id"],
            "key": "phone_number",
            "reason": second["warnings"][0]["reason"],
        }
    ]


def test_unknown_representative_fails_the_event(
    client: FlaskClient, committed_session: Session, celery_worker: ServiceProcess
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    event = _post_and_wait(
        client, tenant, "upsert", {"phone_number": PHONE, "representative": 999999}
    )
    assert event["status"] == "failed"
    assert [error["field"] for error in event["errors"]] == ["representative"]


def test_upsert_reengages_when_days_given(
    client: FlaskClient, committed_session: Session, celery_worker: ServiceProcess
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    created = _post_and_wait(client, tenant, "upsert", {"phone_number": PHONE, "status": "lost"})
    plain = _post_and_wait(client, tenant, "upsert", {"phone_number": PHONE, "lead_source": "x"})
    assert plain["action"] == "updated"
    again = _post_and_wait(
        client, tenant, "upsert", {"phone_number": PHONE, "min_reengagement_days": 0}
    )
    assert again["action"] == "reengaged"
    lead = get_lead(client, tenant.token, created["lead_id"])
    assert lead["reengagements_count"] == 1
    assert lead["status"] == "NEW" and lead["status_reason"] == "REENGAGEMENT"
    assert "min_reengagement_days" not in lead["metadata"]


def test_create_without_phone_fails_but_duplicate_by_external_id_does_not_need_one(
    client: FlaskClient, committed_session: Session, celery_worker: ServiceProcess
) -> None:
    tenant = make_tenant(committed_session)
    committed_session.commit()
    missing = _post_and_wait(client, tenant, "create", {"external_id": "Z"})
    assert missing["status"] == "failed"
    assert [error["field"] for error in missing["errors"]] == ["phone_number"]
    _post_and_wait(client, tenant, "create", {"external_id": "Z", "phone_number": PHONE})
    duplicate = _post_and_wait(client, tenant, "create", {"external_id": "Z"})
    assert duplicate["action"] == "duplicate"
    assert duplicate["matched_by"] == "external_id"


def test_metadata_growing_past_the_limit_fails_and_changes_nothing(
    client: FlaskClient, committed_session: Session, celery_worker: ServiceProcess
) -> None:
    tenant = make_tenant(committed_session, max_body_bytes=2_000_000)
    committed_session.commit()
    first = _post_and_wait(
        client, tenant, "upsert", {"phone_number": PHONE, "metadata": {"a": "x" * 600_000}}
    )
    assert first["action"] == "created"
    second = _post_and_wait(
        client,
        tenant,
        "upsert",
        {"phone_number": PHONE, "lead_source": "new", "metadata": {"b": "y" * 600_000}},
    )
    assert second["status"] == "failed"
    assert [error["field"] for error in second["errors"]] == ["metadata"]
    lead = get_lead(client, tenant.token, first["lead_id"])
    assert "b" not in lead["metadata"] and lead["lead_source"] is None
